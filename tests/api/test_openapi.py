"""/api/openapi.json is generated from the routes, and /api/docs renders it without a CDN."""

import re

from apikit.scopes import ACCEPTED_SCOPES
from apikit.views import ROUTES


def test_document_lists_every_operation_with_its_scopes(api, db):
    response = api.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://testserver/api"}]
    operations = {
        op["operationId"]: (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }
    assert set(operations) == set(ACCEPTED_SCOPES)
    expected_paths = {
        "/me", "/orgs", "/orgs/{orgId}", "/applications", "/applications/{applicationId}",
        "/me/oauth-tokens", "/me/oauth-tokens/{oauthTokenId}", "/me/tokens",
        "/me/tokens/{apiTokenId}", "/applications/{applicationId}/tokens",
        "/applications/{applicationId}/tokens/{apiTokenId}",
    }  # fmt: skip
    assert set(document["paths"]) == expected_paths
    for action, (_path, _method, op) in operations.items():
        assert set(op["x-scopes"]) == ACCEPTED_SCOPES[action]
        assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    path, method, post = operations["userOauthTokens.post"]
    assert (path, method) == ("/me/oauth-tokens", "post")
    assert "201" in post["responses"] and "415" in post["responses"]
    assert "Never allowed for OAuth-issued tokens." in post["description"]
    schema = document["components"]["schemas"]["UserOAuthTokenPost"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "oauth"]
    assert schema["properties"]["oauth"]["required"] == [
        "client_id", "redirect_uri", "code_challenge", "code_challenge_method",
    ]  # fmt: skip
    listing = operations["userApiTokens.get"][2]
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params["sortField"]["enum"] == [
        "name", "status", "id", "creationDate", "lastUpdated", "expirationDate",
    ]  # fmt: skip
    assert params["filterField"]["enum"] == ["name", "status"]
    assert params["perPage"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_document_is_public_and_not_the_api_error_shape(api, db):
    assert api.get("/openapi.json").status_code == 200
    assert api.get("/docs").status_code == 200


def test_docs_page_renders_every_operation_without_external_resources(api, db):
    response = api.get("/docs")
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for route in ROUTES:
        assert f"<code>/api{route.path}</code>" in html
    assert 'href="/static/apidocs/apidocs.css"' in html
    # The viewer is our own static file; nothing loads from another origin.
    assert '<script src="/static/apidocs/redoc-2.5.1/redoc.standalone.js">' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "userOauthTokens.post" in html  # anchors by operation id


def test_docs_page_escapes_text(api, db):
    html = api.get("/docs").content.decode()
    assert "&quot;additionalProperties&quot;: false" in html
