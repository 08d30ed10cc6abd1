"""RFC 8707 §2: "is this URI the resource we serve" has one home (tokens.resources), and every
caller answers the same for every spelling: the authorization endpoint (invalid_target), the
token endpoint (invalid_target) and the token API's `oauth.resource` (400 Validation)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    query_of,
)
from tests.factories import UserFactory
from tokens.models import OAuthToken
from tokens.resources import resource_served

SERVED = "http://testserver/api"

# (spelling, served?)
RESOURCES = [
    ("http://testserver/api", True),
    ("http://testserver/api/", True),
    ("HTTP://TESTSERVER/api", True),
    ("http://TestServer/api//", True),
    ("http://testserver/API", False),  # the path is case-sensitive (RFC 3986 §6.2.2.1)
    ("http://testserver/api?x=1", False),
    ("http://testserver/api#frag", False),
    ("http://testserver/api#", False),
    ("https://testserver/api", False),
    ("http://testserver:8000/api", False),
    ("http://testserver/api/me", False),
    ("https://other.example/api", False),
    ("/api", False),
    ("testserver/api", False),
    ("http://[bad", False),
    ("", False),
]


@pytest.mark.parametrize(("value", "served"), RESOURCES)
def test_the_rule_itself(value, served):
    assert resource_served(value) == (SERVED if served else None)


@pytest.mark.parametrize(("value", "served"), RESOURCES)
def test_authorization_endpoint_follows_the_rule(user, client_app, value, served):
    _, challenge = pkce_pair()
    params = authorize_params(client_app, challenge, resource=value)
    response = logged_in(user).get(authorize_url(params))
    if served:
        assert response.status_code == 200
        assert "signed_request" in response.context
    else:
        assert response.status_code == 302
        assert query_of(response["Location"])["error"] == "invalid_target"


@pytest.mark.parametrize(("value", "served"), RESOURCES)
def test_token_endpoint_follows_the_rule(user, client_app, value, served):
    verifier, challenge = pkce_pair()
    query = consent(logged_in(user), authorize_params(client_app, challenge, resource=SERVED))
    result = exchange(Client(), client_app, query["code"], verifier, resource=value)
    if served:
        assert result["status"] == 200, result["body"]
        assert OAuthToken.objects.get().access_tokens.get().resource == [SERVED]
    else:
        assert result["status"] == 400
        assert result["body"]["error"] == "invalid_target"
        assert OAuthToken.objects.get().is_pending


@pytest.mark.parametrize(("value", "served"), RESOURCES)
def test_token_api_follows_the_rule(api, api_bearer, client_app, value, served):
    owner = UserFactory()
    body = {
        "name": "Resource rule",
        "scope": ["only.User.read"],
        "oauth": {
            "client_id": client_app.client_id,
            "redirect_uri": client_app.redirect_uris[0],
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "resource": [value, SERVED],
        },
    }
    response = api.post("/me/oauth-tokens", token=api_bearer(owner, ["all.User"]), body=body)
    if served:
        assert response.status_code == 201, response.json()
        assert response.json()["oauth"]["resource"] == [SERVED]
    else:
        assert response.status_code == 400
        assert response.json() == {
            "type": "Validation",
            "message": "oauth.resource[0] is not a resource this server serves",
        }
        assert not OAuthToken.objects.exists()
