"""The OpenAPI 3.1 document of the JSON API, generated from the registered routes (their paths,
operations, scopes, list specs and reference schemas), and the `/api/docs` page that renders it
server-side (no CDN, no script)."""

from __future__ import annotations

import json
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from apikit import schemas
from apikit.lists import MAX_FILTER_LENGTH, MAX_PER_PAGE, ListSpec
from apikit.scopes import ACTIONS
from apikit.views import PATH_PARAM_LABELS, RESOURCE_METADATA_PATH, ROUTES, Operation

_NAMED_SCHEMAS = {
    "UserOAuthToken": schemas.USER_OAUTH_TOKEN,
    "UserOAuthTokenPost": schemas.USER_OAUTH_TOKEN_POST,
    "UserOAuthTokenPatch": schemas.USER_OAUTH_TOKEN_PATCH,
    "UserOAuthTokens": schemas.USER_OAUTH_TOKENS,
    "ApiToken": schemas.API_TOKEN,
    "ApiTokenPost": schemas.API_TOKEN_POST,
    "ApiTokenPatch": schemas.API_TOKEN_PATCH,
    "ApiTokens": schemas.API_TOKENS,
    "Me": schemas.ME,
    "Organization": schemas.ORG,
    "OrganizationPatch": schemas.ORG_PATCH,
    "Organizations": schemas.ORGS,
    "Application": schemas.APPLICATION,
    "ApplicationPatch": schemas.APPLICATION_PATCH,
    "Applications": schemas.APPLICATIONS,
    "Error": schemas.ERROR,
    "Success": schemas.SUCCESS,
}
_NAME_OF = {id(schema): name for name, schema in _NAMED_SCHEMAS.items()}
_ERRORS = {
    "400": "Validation: a malformed request (the message names the field)",
    "401": "Unauthorized: no valid bearer token or session (see WWW-Authenticate)",
    "403": "Forbidden: insufficient scope, role or ownership",
    "404": "NotFound",
    "413": "PayloadTooLarge",
    "415": "UnsupportedMediaType: the body is not JSON",
}


def _ref(schema: schemas.Schema) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{_NAME_OF[id(schema)]}"}


def _json(schema: schemas.Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _list_parameters(spec: ListSpec) -> list[dict[str, Any]]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }

    return [
        query(
            "sortField",
            {"type": "string", "enum": list(spec.sort_fields)},
            f"Default {spec.default_sort}",
        ),
        query("sortDirection", {"type": "string", "enum": ["asc", "desc"]}, "Default asc"),
        query("page", {"type": "integer", "minimum": 0, "maximum": 999999999}, "Default 0"),
        query("perPage", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "Default 100"),
        query(
            "filterField",
            {"type": "string", "enum": list(spec.filter_fields)},
            "Blank: no filtering",
        ),
        query(
            "filter",
            {"type": "string", "maxLength": MAX_FILTER_LENGTH},
            "Glob: * any run, ? one character, everything else literal",
        ),
    ]


def _operation(route_tag: str, operation: Operation, has_path_params: bool) -> dict[str, Any]:
    action = ACTIONS[operation.action]
    accepted = action.accepted_scopes()
    description = "Accepted scopes (any one): " + ", ".join(accepted) + "."
    if action.deny_oauth:
        description += " Never allowed for OAuth-issued tokens."
    responses: dict[str, Any] = {
        str(operation.status): _json(operation.response, "Success"),
        "400": _json(schemas.ERROR, _ERRORS["400"]),
        "401": {
            **_json(schemas.ERROR, _ERRORS["401"]),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        },
        "403": _json(schemas.ERROR, _ERRORS["403"]),
    }
    if has_path_params:
        responses["404"] = _json(schemas.ERROR, _ERRORS["404"])
    body: dict[str, Any] = {}
    if operation.request is not None:
        responses["413"] = _json(schemas.ERROR, _ERRORS["413"])
        responses["415"] = _json(schemas.ERROR, _ERRORS["415"])
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.request)}},
        }
    return {
        "operationId": operation.action,
        "summary": operation.summary,
        "description": description,
        "tags": [route_tag],
        "x-scopes": list(accepted),
        **({"parameters": _list_parameters(operation.list_spec)} if operation.list_spec else {}),
        **body,
        "responses": responses,
    }


@cache
def _document() -> dict[str, Any]:
    # The apps register their routes when the URLconf imports their api modules; make sure that
    # has happened before the document is built (and cached).
    import_module(settings.ROOT_URLCONF)
    paths: dict[str, Any] = {}
    for route in ROUTES:
        item: dict[str, Any] = {}
        if route.path_params:
            item["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": schemas.OBJECT_ID,
                    "description": f"ID of the {PATH_PARAM_LABELS.get(name, 'resource')}",
                }
                for name in route.path_params
            ]
        for method, operation in route.operations.items():
            item[method.lower()] = _operation(route.tag, operation, bool(route.path_params))
        paths[route.path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OAuth Consent Server API",
            "version": "1.0.0",
            "description": "User OAuth tokens, user and application API tokens, and the "
            "Losant-shaped resources their scopes and role caps guard. Errors are "
            '`{"type", "message"}`.',
        },
        "paths": paths,
        "components": {
            "schemas": _NAMED_SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A user OAuth access token, user API token or application "
                    "API token, in the Authorization header only.",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sessionid",
                    "description": "The signed-in user's session; unsafe methods need the "
                    "X-CSRFToken header.",
                },
            },
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    }


def openapi_document() -> dict[str, Any]:
    """The document, with this deployment's server URL and protected resource metadata."""
    return {
        **_document(),
        "servers": [{"url": settings.API_RESOURCE_URL}],
        "externalDocs": {
            "description": "Protected resource metadata (RFC 9728)",
            "url": settings.PUBLIC_URL + RESOURCE_METADATA_PATH,
        },
    }


@require_GET
def openapi_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 1})


def _docs_operation(path: str, method: str, operation: dict[str, Any]) -> str:
    parameters = format_html_join(
        "",
        "<li><code>{}</code> ({}) {}</li>",
        ((p["name"], p["in"], p.get("description", "")) for p in operation.get("parameters", [])),
    )
    request = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    request_name = request.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
    request_html = (
        format_html(
            "<details><summary>Body: {}</summary><pre>{}</pre></details>",
            request_name,
            json.dumps(_NAMED_SCHEMAS[request_name], indent=1),
        )
        if request_name
        else ""
    )
    responses = format_html_join(
        ", ", "<code>{}</code>", ((code,) for code in operation["responses"])
    )
    return format_html(
        '<section class="op" id="{}"><h3><span class="method {}">{}</span> <code>/api{}</code></h3>'
        "<p>{}</p><p class=scopes>{}</p><ul>{}</ul>{}<p>Responses: {}</p></section>",
        operation["operationId"],
        method,
        method.upper(),
        path,
        operation["summary"],
        operation["description"],
        parameters,
        request_html,
        responses,
    )


REDOC = "apidocs/redoc-2.5.1/redoc.standalone.js"  # vendored, see static/apidocs/README.md
# The viewer runs from our own origin only: no CDN script, font or image can load (Redoc's
# attribution logo points at its CDN; under this policy it is simply not shown).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


@require_GET
def docs_view(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document in Redoc (vendored in static/, no CDN), with a plain HTML
    rendering for browsers without JavaScript."""
    document = openapi_document()
    # Every fragment is built by format_html, so joining them keeps the escaping.
    operations = mark_safe(
        "".join(
            _docs_operation(path, method, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if method != "parameters"
        )
    )
    html = format_html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{}</title><link rel="icon" href="{}" type="image/svg+xml">'
        '<link rel="stylesheet" href="{}"></head><body>'
        '<header class="docs-top"><a href="/">OAuth Consent Server</a>'
        '<a href="/api/openapi.json">openapi.json</a></header>'
        '<div id="redoc" data-spec-url="/api/openapi.json"></div>'
        "<noscript><main><h1>{}</h1><p>{}</p>"
        '<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a></p>{}'
        "</main></noscript>"
        '<script src="{}"></script><script src="{}"></script></body></html>',
        document["info"]["title"],
        static("favicon.svg"),
        static("apidocs/apidocs.css"),
        document["info"]["title"],
        document["info"]["description"],
        operations,
        static(REDOC),
        static("apidocs/init.js"),
    )
    response = HttpResponse(html)
    response["Content-Security-Policy"] = DOCS_CSP
    return response
