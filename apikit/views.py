"""The JSON API's one front door: routes declare operations; `ApiRoute.view` authenticates,
checks the action's scopes, parses ids, list parameters and the JSON body, calls the handler, and
maps every `ApiError` to `{"type", "message"}`.

Authentication (RFC 6750 §2.1): a bearer token in the `Authorization` header only, never in the
query string (OAuth 2.1 §5.1.1); without one, the signed-in user's session, CSRF-checked for
unsafe methods. Every 401 carries a `WWW-Authenticate` challenge pointing at the protected
resource metadata (RFC 9728 §5.1); a scope failure is 403 `insufficient_scope` (RFC 6750 §3.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from apikit.errors import ApiError, forbidden, not_found, validation_error
from apikit.ids import is_object_id
from apikit.lists import ListParams, ListSpec, list_params_parse
from apikit.schemas import Schema, schema_validate
from apikit.scopes import oauth_denied, scope_challenge, scope_permits

RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/api"
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PATH_PARAM = re.compile(r"\{(\w+)\}")

# What a malformed or unknown id in the path is reported as ("Application was not found").
PATH_PARAM_LABELS: dict[str, str] = {
    "applicationId": "Application",
    "orgId": "Organization",
    "oauthTokenId": "OAuth token",
    "apiTokenId": "API token",
}


class Principal(Protocol):
    """What the framework needs of a caller (accounts.principals.Principal is one)."""

    user: Any
    scope: frozenset[str] | None

    @property
    def is_oauth(self) -> bool: ...


@dataclass(frozen=True)
class Hooks:
    """What the domain plugs in (config/api_urls.py calls `configure`), so that this framework
    imports no domain app (issue 16): who a bearer credential or a signed-in user is, and which
    exception the domain raises. Its `kind` is the API error type and `message` the text."""

    principal_from_bearer: Callable[[str], Principal | None]
    session_principal: Callable[[Any], Principal]
    domain_error: type[Exception]


# The HTTP status of each domain error kind (reference: Error schema).
DOMAIN_ERROR_STATUS = {"Validation": 400, "Forbidden": 403, "NotFound": 404}
_hooks: Hooks | None = None


def configure(hooks: Hooks) -> None:
    """Plug the domain in; called once, when the URLconf is loaded."""
    global _hooks
    _hooks = hooks


def _plugged() -> Hooks:
    if _hooks is None:
        raise RuntimeError("apikit is not configured: config/api_urls.py calls configure()")
    return _hooks


class Unauthorized(ApiError):
    """401. `error` is None when no credential was sent (RFC 6750 §3.1: no error code then)."""

    def __init__(self, message: str, *, error: str | None) -> None:
        super().__init__("Unauthorized", message, status=401)
        self.error = error


class InsufficientScope(ApiError):
    def __init__(self, action: str) -> None:
        super().__init__("Forbidden", "Insufficient scope for this operation", status=403)
        self.scope = scope_challenge(action)


def _challenge(**params: str) -> str:
    metadata = settings.PUBLIC_URL + RESOURCE_METADATA_PATH
    parts = [f'resource_metadata="{metadata}"'] + [f'{k}="{v}"' for k, v in params.items()]
    return "Bearer " + ", ".join(parts)


def error_response(error: ApiError) -> JsonResponse:
    """The `{"type", "message"}` body, with the RFC 6750 challenge where one applies."""
    response = JsonResponse(error.to_dict(), status=error.status)
    if isinstance(error, Unauthorized):
        extra = {"error": error.error} if error.error else {}
        response["WWW-Authenticate"] = _challenge(**extra)
    elif isinstance(error, InsufficientScope):
        response["WWW-Authenticate"] = _challenge(error="insufficient_scope", scope=error.scope)
    return response


@dataclass(frozen=True)
class ApiCall:
    """Everything a handler needs: who calls, the validated path ids, list params and body."""

    request: HttpRequest
    principal: Principal
    ids: dict[str, str]
    params: ListParams | None
    body: dict[str, Any]

    @property
    def user(self) -> Any:
        """The calling user; application API tokens have none and are refused."""
        if self.principal.user is None:
            raise forbidden("Application API tokens cannot access user resources")
        return self.principal.user


Handler = Callable[[ApiCall], "dict[str, Any]"]


@dataclass(frozen=True)
class Operation:
    method: str
    action: str
    handler: Handler
    summary: str
    response: Schema
    status: int = 200
    request: Schema | None = None
    list_spec: ListSpec | None = None


@dataclass
class ApiRoute:
    """One path under /api and its operations (one per HTTP method)."""

    path: str  # OpenAPI template, e.g. "/applications/{applicationId}/tokens"
    name: str
    tag: str
    operations: dict[str, Operation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ROUTES.append(self)

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    def operation(
        self,
        method: str,
        *,
        action: str,
        summary: str,
        response: Schema,
        status: int = 200,
        request: Schema | None = None,
        list_spec: ListSpec | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations[method] = Operation(
                method, action, handler, summary, response, status, request, list_spec
            )
            return handler

        return register

    def url_pattern(self) -> URLPattern:
        route = _PATH_PARAM.sub(r"<str:\1>", self.path).lstrip("/")
        return path(route, csrf_exempt(self.view), name=self.name)

    def view(self, request: HttpRequest, **kwargs: str) -> HttpResponse:
        method = "GET" if request.method == "HEAD" else request.method
        operation = self.operations.get(method or "")
        if operation is None:
            response = method_not_allowed(request, allowed=sorted(self.operations))
        else:
            try:
                response = json_response(
                    operation.handler(_call(request, operation, kwargs)), status=operation.status
                )
            except ApiError as error:
                response = error_response(error)
            except _plugged().domain_error as error:
                response = error_response(domain_error_to_api(error))
        response["Cache-Control"] = "no-store"
        return response


ROUTES: list[ApiRoute] = []


def domain_error_to_api(error: Exception) -> ApiError:
    """A service's domain error as the API answers it: same type and message, its status."""
    kind = str(error.kind)  # type: ignore[attr-defined]
    return ApiError(kind, error.message, status=DOMAIN_ERROR_STATUS[kind])  # type: ignore[attr-defined]


class RawJson(str):
    """JSON text already encoded (by the database: tokens.selectors.oauth_tokens_json), to be
    written into a response as it is rather than decoded and encoded again."""


def json_response(data: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """`JsonResponse(data)`, with the top-level RawJson values written in first, verbatim."""
    raw = {key: value for key, value in data.items() if isinstance(value, RawJson)}
    if not raw:
        return JsonResponse(data, status=status)
    rest = json.dumps({k: v for k, v in data.items() if k not in raw}, cls=DjangoJSONEncoder)
    members = [f"{json.dumps(key)}: {value}" for key, value in raw.items()]
    if rest != "{}":
        members.append(rest[1:-1])
    return HttpResponse(
        "{" + ", ".join(members) + "}", content_type="application/json", status=status
    )


def method_not_allowed(request: HttpRequest, *, allowed: list[str]) -> JsonResponse:
    response = JsonResponse(
        {"type": "MethodNotAllowed", "message": f"Method {request.method} is not allowed here"},
        status=405,
    )
    response["Allow"] = ", ".join(allowed + (["HEAD"] if "GET" in allowed else []))
    return response


def _call(request: HttpRequest, operation: Operation, kwargs: dict[str, str]) -> ApiCall:
    principal = authenticate(request)
    authorize(principal, operation.action)
    ids = {}
    for name, value in kwargs.items():
        if not is_object_id(value):
            raise not_found(PATH_PARAM_LABELS.get(name, "Resource"))
        ids[name] = value.lower()
    params = (
        list_params_parse(request.GET, spec=operation.list_spec) if operation.list_spec else None
    )
    body = schema_validate(operation.request, json_body(request)) if operation.request else {}
    return ApiCall(request=request, principal=principal, ids=ids, params=params, body=body)


def authenticate(request: HttpRequest) -> Principal:
    """The bearer token of the Authorization header, else the session user, else 401.

    A token in the query string or form body is never looked at (OAuth 2.1 §5.1.1).
    """
    scheme, _, credential = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer":
        credential = credential.strip()
        principal = (
            _plugged().principal_from_bearer(credential)
            if credential and " " not in credential
            else None
        )
        if principal is None:
            raise Unauthorized("Authentication token is invalid or expired", error="invalid_token")
        return principal
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if request.method not in SAFE_METHODS and _csrf_rejects(request):
            raise forbidden("CSRF verification failed")
        return _plugged().session_principal(user)
    raise Unauthorized("Authentication is required", error=None)


def _csrf_rejects(request: HttpRequest) -> bool:
    """Run Django's CSRF check for a session-authenticated unsafe request (the view itself is
    exempt so that bearer requests, which carry no ambient credential, need no token)."""
    return (
        CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {}) is not None
    )


def authorize(principal: Principal, action: str) -> None:
    """Scope check: OAuth tokens never manage tokens; otherwise any one accepted scope."""
    if principal.scope is None:
        return
    if principal.is_oauth and oauth_denied(action):
        raise forbidden("OAuth tokens cannot create, change or delete API tokens or OAuth tokens")
    if not scope_permits(principal.scope, action):
        raise InsufficientScope(action)


def json_body(request: HttpRequest) -> object:
    """The request body as JSON: 413 if too large, 415 if not JSON, 400 if malformed."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise _too_large()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    if not raw.strip():
        raise validation_error("The request body must be a JSON object")
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if not _is_json_type(request.content_type or "") or charset not in ("utf-8", "utf8"):
        raise ApiError(
            "UnsupportedMediaType",
            "The request body must be JSON (Content-Type: application/json)",
            status=415,
        )
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise validation_error("The request body is not valid JSON") from None
    _check_values(body)
    return body


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _too_large() -> ApiError:
    return ApiError(
        "PayloadTooLarge", f"The request body must be at most {MAX_BODY_BYTES} bytes", status=413
    )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _check_values(body: object) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings PostgreSQL cannot store (NUL,
    lone surrogates), so no input reaches the database as an error."""
    stack: list[tuple[object, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise validation_error(f"The request body is nested deeper than {MAX_JSON_DEPTH}")
            children = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in children:
                if isinstance(key, str):
                    _check_string(key)
                stack.append((child, depth + 1))
        elif isinstance(value, str):
            _check_string(value)


def _check_string(value: str) -> None:
    if "\x00" in value:
        raise validation_error("Strings must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise validation_error("Strings must be valid Unicode") from None


def api_not_found(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    """Unknown paths under /api answer in the API's error shape too."""
    response = JsonResponse({"type": "NotFound", "message": "Endpoint was not found"}, status=404)
    response["Cache-Control"] = "no-store"
    return response
