"""The authorization server: the one module that imports Authlib.

Authlib supplies the protocol machinery: request parsing, client authentication (RFC 6749
§2.3), grant dispatch, authorization-request validation, PKCE (RFC 7636, restricted to S256),
refresh-token requests (RFC 6749 §6), revocation (RFC 7009), introspection (RFC 7662) and
RFC 6749 §5.2 error bodies. Everything that writes goes through `tokens.services.grants` and
`consent.services`; the models stay free of Authlib through small adapter classes.

Views call the plain functions at the bottom (`authorization_request_validate`,
`token_response`, ...) and never see an Authlib type.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    RefreshTokenGrant,
    TokenMixin,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone

from consent import selectors
from consent.cimd import MetadataFetchBusy, is_metadata_document_url
from consent.forms import ClientMetadataError
from consent.models import ClientAuthMethod, ClientRegistration, OAuthClient
from consent.redirects import redirect_uri_matches
from consent.services import metadata_document_client_resolve
from tokens.authentication import active_access_token
from tokens.models import (
    AccessToken,
    AuthorizationCode,
    RefreshToken,
)
from tokens.scopes import OAUTH_SCOPES
from tokens.secrets import SecretKind, secret_matches
from tokens.services.grants import (
    GrantError,
    IssuedTokens,
    access_token_revoke,
    authorization_code_redeem,
    refresh_token_revoke,
    refresh_token_rotate,
)
from tokens.services.oauth_tokens import MAX_RESOURCES

TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
INTROSPECTION_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


# --- Adapters: models seen through Authlib's mixins ------------------------------------------


class _Client(ClientMixin):
    def __init__(self, model: OAuthClient) -> None:
        self.model = model

    def get_client_id(self) -> str:
        return self.model.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1 §4.1.1: redirect_uri may be omitted only when exactly one is registered.
        uris = self.model.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope; when none was requested (RFC 6749 §3.3 lets the server pick a
        default, and MCP clients often send none), the client's registered scope, else
        OAUTH_DEFAULT_SCOPE. None (invalid_scope) when it asks beyond its registration
        (OAuth 2.1 §7.9) or for a scope this server does not know."""
        registered = self.model.scope.split()
        requested = (
            list(dict.fromkeys((scope or "").split()))
            or registered
            or settings.OAUTH_DEFAULT_SCOPE.split()
        )
        if not requested or (registered and not set(requested) <= set(registered)):
            return None
        if not set(requested) <= set(OAUTH_SCOPES):
            return None
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return isinstance(redirect_uri, str) and redirect_uri_matches(
            self.model.redirect_uris, redirect_uri
        )

    def check_client_secret(self, client_secret: str) -> bool:
        digest = self.model.client_secret_digest
        return bool(digest) and secret_matches(client_secret, digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Public clients only as `none`; confidential ones with either secret method.
        if method == ClientAuthMethod.NONE:
            return self.model.is_public
        return not self.model.is_public

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "code" in (self.model.response_types or ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.model.grant_types or ["authorization_code"])


class _Code(AuthorizationCodeMixin):
    def __init__(self, model: AuthorizationCode) -> None:
        self.model = model
        self.code_challenge = model.code_challenge
        self.code_challenge_method = model.oauth_token.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.model.redirect_uri

    def get_scope(self) -> str:
        return " ".join(self.model.oauth_token.scope)


class _Credential(TokenMixin):
    """An access or refresh token for revocation, introspection and refresh requests."""

    def __init__(self, model: AccessToken | RefreshToken, *, active: bool) -> None:
        self.model = model
        self.grant = model.oauth_token
        self.active = active

    def check_client(self, client: _Client) -> bool:
        return self.grant.client_id == client.model.pk

    def get_scope(self) -> str:
        return " ".join(self.model.scope)

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active

    def revoke(self) -> None:
        if isinstance(self.model, AccessToken):
            access_token_revoke(access_token=self.model)
        else:
            refresh_token_revoke(refresh_token=self.model)

    def introspection(self) -> dict:
        """RFC 7662 §2.2 for an active token."""
        body = {
            "active": True,
            "scope": self.get_scope(),
            "client_id": self.grant.client.client_id,
            "sub": self.grant.user_id,
            "aud": list(self.model.resource),
            "iss": settings.PUBLIC_URL,
            "iat": int(self.model.creation_date.timestamp()),
            "token_type": "Bearer" if isinstance(self.model, AccessToken) else "refresh_token",
        }
        if isinstance(self.model, AccessToken):
            body["exp"] = int(self.model.expires_at.timestamp())
        elif self.grant.expiration_date is not None:
            body["exp"] = int(self.grant.expiration_date.timestamp())
        return body


def _credential_find(raw: str, *, active_only: bool) -> _Credential | None:
    """Find an access or refresh token by value; `active_only` applies the API's rules."""
    if raw.startswith(SecretKind.ACCESS_TOKEN.value):
        if active_only:
            access = active_access_token(raw)
            return _Credential(access, active=True) if access else None
        access = selectors.access_token_by_value(raw)
        return _Credential(access, active=True) if access else None
    refresh = selectors.refresh_token_by_value(raw)
    if refresh is None:
        return None
    # The grant's usability comes with the lookup (tokens.selectors.GRANT_USABLE).
    return _Credential(refresh, active=refresh.used_at is None and refresh.oauth_token.usable)


# --- Requests -----------------------------------------------------------------------------


class _Payload(OAuth2Payload):
    def __init__(self, query: QueryDict, form: QueryDict) -> None:
        self._query, self._form = query, form

    @property
    def data(self) -> dict:
        return {**self._query.dict(), **self._form.dict()}

    @property
    def datalist(self) -> defaultdict[str, list]:
        values: defaultdict[str, list] = defaultdict(list)
        for source in (self._query, self._form):
            for key in source:
                values[key].extend(source.getlist(key))
        return values


class _Request(OAuth2Request):
    def __init__(self, *, method: str, headers, query: QueryDict, form: QueryDict) -> None:
        # OAuth2Request.__init__ is skipped on purpose: its only extra is an https check of the
        # request URI, which is plain http behind a TLS-terminating proxy. Transport security
        # belongs to the deployment (PUBLIC_URL is https in production).
        self.method = method
        self.uri = settings.PUBLIC_URL
        self.headers = headers
        self._body = None
        self.payload = _Payload(query, form)
        self._query, self._form = query, form
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.resource: list[str] = []

    @property
    def args(self) -> QueryDict:
        return self._query

    @property
    def form(self) -> QueryDict:
        return self._form


def _canonical_resource(value: str) -> str | None:
    """RFC 8707 §2 / MCP: compare with lower-case scheme and host and no trailing slash."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc or parts.fragment:
        return None
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def resource_targets(values: list[str]) -> list[str]:
    """The resources asked for, as this server names them; `invalid_target` for any other."""
    if len(values) > MAX_RESOURCES:
        raise InvalidTargetError(f"At most {MAX_RESOURCES} resource values are accepted")
    served = {_canonical_resource(settings.API_RESOURCE_URL): settings.API_RESOURCE_URL}
    targets = []
    for value in values:
        target = served.get(_canonical_resource(value))
        if target is None:
            raise InvalidTargetError("This server does not issue tokens for the requested resource")
        targets.append(target)
    return list(dict.fromkeys(targets))


def _token_request_resources(request: _Request, *, allowed: list[str]) -> list[str] | None:
    """Resources of a token request: within what the grant was bound to (RFC 8707 §2.2)."""
    targets = resource_targets(request.payload.datalist.get("resource", []))
    if allowed and not set(targets) <= set(allowed):
        raise InvalidTargetError("The resource was not part of the authorization")
    return targets or None


def _token_body(issued: IssuedTokens) -> dict:
    """RFC 6749 §5.1 successful response."""
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": " ".join(issued.scope),
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body


# --- Grants and endpoints -------------------------------------------------------------------


class _S256CodeChallenge(CodeChallenge):
    """RFC 7636 with S256 only (RFC 9700 §2.1.1): a missing challenge, a missing method or
    `plain` is refused at the authorization endpoint."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}

    def validate_code_challenge(self, grant, redirect_uri) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("code_challenge is required (PKCE, RFC 7636)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result) -> None:
        # RFC 9700 §2.1.1: PKCE for confidential clients too. Authlib lets a code without a
        # challenge through when no verifier is sent; such a code is never redeemable here.
        if not self.get_authorization_code_challenge(grant.request.authorization_code):
            raise InvalidRequestError("The authorization request had no code_challenge (PKCE)")
        super().validate_code_verifier(grant, result)


class _AuthorizationCodeGrant(AuthorizationCodeGrant):
    """RFC 6749 §4.1 with PKCE; codes are issued by the consent view, redeemed here."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: _Request, client: _Client) -> str:
        # Like Authlib's, without echoing the URI into the description (it may hold quotes).
        uri = request.payload.redirect_uri
        if uri:
            if not client.check_redirect_uri(uri):
                raise InvalidRequestError("The redirect_uri is not registered for this client")
            return uri
        default = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError("redirect_uri is required")
        return default

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()
        try:
            self.request.resource = resource_targets(
                self.request.payload.datalist.get("resource", [])
            )
        except InvalidTargetError as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        model = selectors.authorization_code_by_value(code)
        if (
            model is None
            or model.oauth_token.client_id != client.model.pk
            or model.expires_at <= timezone.now()
        ):
            return None
        # A used code is still returned: its replay is detected once PKCE has passed.
        return _Code(model)

    def create_token_response(self):
        """RFC 6749 §4.1.4; the code's single use is enforced by the redemption service."""
        code = self.request.authorization_code.model
        resource = _token_request_resources(self.request, allowed=list(code.resource))
        try:
            issued = authorization_code_redeem(
                code=code,
                resource=resource,
                include_refresh_token=self.request.client.check_grant_type("refresh_token"),
            )
        except GrantError as error:
            raise InvalidGrantError(error.description) from None
        return 200, _token_body(issued), JSON_HEADERS


class _RefreshTokenGrant(RefreshTokenGrant):
    """RFC 6749 §6 with rotation and reuse detection (OAuth 2.1 §4.3.1)."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _Credential | None:
        # Rotated tokens are returned too, so that their reuse can revoke the family.
        model = selectors.refresh_token_by_value(refresh_token)
        return _Credential(model, active=True) if model else None

    def create_token_response(self):
        refresh = self.request.refresh_token.model
        scope = self.request.payload.scope
        resource = _token_request_resources(self.request, allowed=list(refresh.resource))
        try:
            issued = refresh_token_rotate(
                refresh_token=refresh,
                scope=list(dict.fromkeys(scope.split())) if scope and scope.strip() else None,
                resource=resource,
            )
        except GrantError as error:
            raise InvalidGrantError(error.description) from None
        return 200, _token_body(issued), JSON_HEADERS


def _token_param_check(request: _Request) -> None:
    # RFC 7009 §2.1 / RFC 7662 §2.1: an unknown hint is ignored and every type searched.
    if not request.form.get("token"):
        raise InvalidRequestError("token is required")


class _RevocationEndpoint(RevocationEndpoint):
    CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def check_params(self, request, client) -> None:
        _token_param_check(request)

    def query_token(self, token_string: str, token_type_hint: str | None):
        return _credential_find(token_string, active_only=False)

    def revoke_token(self, token: _Credential, request) -> None:
        token.revoke()


class _IntrospectionEndpoint(IntrospectionEndpoint):
    """RFC 7662. Callers authenticate as confidential clients. An admin-created client is a
    vetted resource server and may introspect any token; other clients only their own."""

    CLIENT_AUTH_METHODS = INTROSPECTION_AUTH_METHODS

    def check_params(self, request, client) -> None:
        _token_param_check(request)

    def query_token(self, token_string: str, token_type_hint: str | None):
        # Access tokens follow exactly the API's validity rules (active_access_token).
        return _credential_find(token_string, active_only=True)

    def check_permission(self, token: _Credential, client: _Client, request) -> bool:
        return client.model.registration == ClientRegistration.ADMIN or token.check_client(client)

    def introspect_token(self, token: _Credential) -> dict:
        return token.introspection()


class _Server(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__(scopes_supported=list(OAUTH_SCOPES))
        self.register_grant(_AuthorizationCodeGrant, [_S256CodeChallenge(required=True)])
        self.register_grant(_RefreshTokenGrant)
        self.register_endpoint(_RevocationEndpoint)
        self.register_endpoint(_IntrospectionEndpoint)

    def query_client(self, client_id) -> _Client | None:
        model = selectors.client_by_client_id(client_id)
        return _Client(model) if model else None

    def create_oauth2_request(self, request) -> _Request:
        if isinstance(request, _Request):
            return request
        return _Request(
            method=request.method,
            headers=request.headers,
            query=request.GET,
            form=request.POST,
        )

    def handle_response(self, status_code: int, payload, headers) -> HttpResponse:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        response = HttpResponse(payload, status=status_code)
        for key, value in headers:
            response[key] = value
        return response

    def send_signal(self, name, *args, **kwargs) -> None:
        """Authlib's hook for framework signals; nothing listens here."""

    def get_authorization_grant(self, request: _Request):
        """Authlib's lookup, without echoing the response_type into the error description."""
        for grant_cls, extensions in self._authorization_grants:
            if grant_cls.check_authorization_endpoint(request):
                grant = grant_cls(request, self)
                for extension in extensions or ():
                    extension(grant)
                return grant
        redirect_uri = None
        client = self.query_client(request.payload.client_id)
        if client is not None:
            try:
                redirect_uri = _AuthorizationCodeGrant.validate_authorization_redirect_uri(
                    request, client
                )
            except InvalidRequestError:
                redirect_uri = None
        raise UnsupportedResponseTypeError(
            request.payload.response_type,
            description="Only response_type=code is supported",
            redirect_uri=redirect_uri,
        )


_server = _Server()


# --- What the views call -----------------------------------------------------------------


class AuthorizationRequestError(Exception):
    """An authorization request that failed. Without `redirect_uri` the client or its redirect
    URI could not be trusted: show an error page and never redirect (RFC 6749 §4.1.2.1)."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        redirect_uri: str | None,
        state: str | None,
        client: OAuthClient | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        self.client = client
        self.retry_after = retry_after

    def redirect_url(self) -> str:
        assert self.redirect_uri is not None
        params = [("error", self.error)]
        if self.description:
            params.append(("error_description", self.description))
        if self.state is not None:
            params.append(("state", self.state))
        return authorization_response_url(self.redirect_uri, params)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (RFC 6749 §4.1.1 + RFC 7636 + RFC 8707)."""

    client: OAuthClient
    redirect_uri: str
    redirect_uri_given: bool
    scope: list[str]
    state: str | None
    code_challenge: str
    resource: list[str]

    def to_params(self) -> dict:
        """The request as query parameters, to be re-validated after the consent POST."""
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "scope": " ".join(self.scope),
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "resource": self.resource,
        }
        if self.redirect_uri_given:
            params["redirect_uri"] = self.redirect_uri
        if self.state is not None:
            params["state"] = self.state
        return params

    def redirect_url(self, *, code: str | None = None, error: str | None = None) -> str:
        """RFC 6749 §4.1.2 (code) or §4.1.2.1 (error) response, with `state` and `iss`."""
        params = [("code", code)] if code else [("error", error or "access_denied")]
        if self.state is not None:
            params.append(("state", self.state))
        return authorization_response_url(self.redirect_uri, params)


def authorization_response_url(redirect_uri: str, params: list[tuple[str, str]]) -> str:
    """Add the response parameters and `iss` (RFC 9207 §2: in every authorization response,
    success or error, byte-equal to the metadata `issuer`)."""
    parts = urlsplit(redirect_uri)
    extra = urlencode([*params, ("iss", settings.PUBLIC_URL)])
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def authorization_request_validate(params: QueryDict, *, requester: str) -> AuthorizationRequest:
    """Validate an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2.1).

    A client_id that is an https URL is first resolved as a Client ID Metadata Document, within
    the fetch bounds of consent.cimd (`requester`: the caller's address).
    """
    state = params.get("state")
    client_id = params.get("client_id")
    if is_metadata_document_url(client_id) and len(params.getlist("client_id")) == 1:
        try:
            metadata_document_client_resolve(client_id=client_id, requester=requester)
        except MetadataFetchBusy as error:
            raise AuthorizationRequestError(
                "temporarily_unavailable",
                f"The client metadata document cannot be fetched now: {error}",
                redirect_uri=None,
                state=state,
                retry_after=error.retry_after,
            ) from None
        except ClientMetadataError as error:
            raise AuthorizationRequestError(
                "invalid_client",
                f"The client metadata document was refused: {error.description}",
                redirect_uri=None,
                state=state,
            ) from None
    request = _Request(method="GET", headers={}, query=params, form=QueryDict())
    try:
        grant = _server.get_authorization_grant(request)
        grant.validate_no_multiple_request_parameter(request)
        redirect_uri = grant.validate_consent_request()
    except OAuth2Error as error:
        client = request.client.model if request.client is not None else None
        if client is None and error.redirect_uri:
            client = selectors.client_by_client_id(client_id)
        raise AuthorizationRequestError(
            error.error,
            error.description or "",
            redirect_uri=error.redirect_uri,
            state=state,
            client=client,
        ) from None
    except ValueError:
        # Authlib refuses to build an error description from hostile input.
        raise AuthorizationRequestError(
            "invalid_request", "The request is malformed", redirect_uri=None, state=state
        ) from None
    return AuthorizationRequest(
        client=request.client.model,
        redirect_uri=redirect_uri,
        redirect_uri_given=bool(request.payload.redirect_uri),
        scope=request.scope.split(),
        state=state,
        code_challenge=request.payload.data["code_challenge"],
        resource=request.resource,
    )


def _endpoint_call(request: HttpRequest, respond) -> HttpResponse:
    """Run an Authlib endpoint; hostile bytes (bad Basic credentials, odd descriptions) answer
    `invalid_request` instead of an exception."""
    try:
        response = respond(_server.create_oauth2_request(request))
    except ValueError:
        response = _server.handle_response(
            400,
            {"error": "invalid_request", "error_description": "The request is malformed"},
            JSON_HEADERS,
        )
    if response is None:
        response = _server.handle_response(200, {}, JSON_HEADERS)
    response["Cache-Control"] = "no-store"
    return response


def token_request_client_id(request: HttpRequest) -> str:
    """The client a token request speaks for, as the rate limiter keys it: the user name of
    HTTP Basic credentials (RFC 6749 §2.3.1, form-encoded), else the `client_id` field. Not
    authenticated; an unparsable header counts as the empty client."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    value = request.POST.get("client_id", "")
    return value if isinstance(value, str) else ""


TOKEN_FAILURE_ERRORS = frozenset({"invalid_client", "invalid_grant", "unauthorized_client"})


def token_response_failed(response: HttpResponse) -> bool:
    """A token response that signals guessing: failed client authentication or an invalid
    grant (RFC 6749 §5.2), the only answers a stolen-code or secret guesser gets."""
    if response.status_code not in (400, 401):
        return False
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError):
        return False
    return error in TOKEN_FAILURE_ERRORS


def token_response(request: HttpRequest) -> HttpResponse:
    """Token endpoint (RFC 6749 §3.2): authorization_code and refresh_token grants."""
    return _endpoint_call(request, _server.create_token_response)


def revocation_response(request: HttpRequest) -> HttpResponse:
    """Revocation endpoint (RFC 7009 §2)."""
    return _endpoint_call(
        request, lambda r: _server.create_endpoint_response(_RevocationEndpoint.ENDPOINT_NAME, r)
    )


def introspection_response(request: HttpRequest) -> HttpResponse:
    """Introspection endpoint (RFC 7662 §2)."""
    return _endpoint_call(
        request,
        lambda r: _server.create_endpoint_response(_IntrospectionEndpoint.ENDPOINT_NAME, r),
    )


def authorization_server_metadata() -> dict:
    """RFC 8414 §2 metadata; `issuer` is PUBLIC_URL byte for byte."""
    issuer = settings.PUBLIC_URL
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + reverse("consent:authorize"),
        "token_endpoint": issuer + reverse("consent:token"),
        "registration_endpoint": issuer + reverse("consent:register"),
        "revocation_endpoint": issuer + reverse("consent:revoke"),
        "introspection_endpoint": issuer + reverse("consent:introspect"),
        "scopes_supported": list(OAUTH_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": INTROSPECTION_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }


def protected_resource_metadata() -> dict:
    """RFC 9728 §2 metadata of the API; `authorization_servers` holds the identical issuer."""
    return {
        "resource": settings.API_RESOURCE_URL,
        "authorization_servers": [settings.PUBLIC_URL],
        "scopes_supported": list(OAUTH_SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "OAuth Consent Server API",
    }
