"""What the views call: plain functions that never hand an Authlib type out (authorization
request validation, the token, revocation and introspection responses, RFC 8414 / RFC 9728
metadata)."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import (
    OAuth2Error,
)
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse

from apikit.scopes import OAUTH_SCOPES
from config import metrics
from consent import selectors
from consent.cimd import MetadataFetchBusy, is_metadata_document_url
from consent.forms import ClientMetadataError
from consent.models import OAuthClient
from consent.oauth.grants import JSON_HEADERS, TOKEN_ENDPOINT_AUTH_METHODS
from consent.oauth.requests import Request
from consent.oauth.server import INTROSPECTION_AUTH_METHODS, Introspection, Revocation, server
from consent.services import metadata_document_client_resolve

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
    request = Request(method="GET", headers={}, query=params, form=QueryDict())
    try:
        grant = server.get_authorization_grant(request)
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


def _endpoint_call(request: HttpRequest, respond, *, endpoint: str) -> HttpResponse:
    """Run an Authlib endpoint; hostile bytes (bad Basic credentials, odd descriptions) answer
    `invalid_request` instead of an exception."""
    oauth_request = None
    try:
        oauth_request = server.create_oauth2_request(request)
        response = respond(oauth_request)
    except ValueError:
        response = server.handle_response(
            400,
            {"error": "invalid_request", "error_description": "The request is malformed"},
            JSON_HEADERS,
        )
    if response is None:
        response = server.handle_response(200, {}, JSON_HEADERS)
    response["Cache-Control"] = "no-store"
    _endpoint_log(endpoint, oauth_request, response)
    return response


GRANT_TYPES = ("authorization_code", "refresh_token")


def _endpoint_log(endpoint: str, oauth_request: Request | None, response: HttpResponse) -> None:
    """One log line per token, revocation or introspection answer, with the authenticated
    client and the grant type (never a token), and the refusal counter (config.metrics)."""
    error = None
    if response.status_code >= 400:
        try:
            error = str(json.loads(response.content).get("error", "other"))
        except (ValueError, AttributeError):
            error = "other"
        if endpoint == "token":
            metrics.token_refused_count(endpoint=endpoint, error=error)
    client = getattr(oauth_request, "client", None)
    grant_type = None
    if endpoint == "token" and oauth_request is not None:
        given = oauth_request.form.get("grant_type")
        grant_type = given if given in GRANT_TYPES else "other"
    logger.log(
        logging.DEBUG if endpoint == "introspection" and error is None else logging.INFO,
        "OAuth %s %s",
        endpoint,
        "refused" if error else "answered",
        extra={
            "endpoint": endpoint,
            "outcome": "refused" if error else "ok",
            "error": error,
            "client_id": client.model.client_id if client is not None else None,
            "grant_type": grant_type,
            "status": response.status_code,
        },
    )


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


logger = logging.getLogger("consent.oauth")  # the name the log configuration and its tests use
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
    return _endpoint_call(request, server.create_token_response, endpoint="token")


def revocation_response(request: HttpRequest) -> HttpResponse:
    """Revocation endpoint (RFC 7009 §2)."""
    return _endpoint_call(
        request,
        lambda r: server.create_endpoint_response(Revocation.ENDPOINT_NAME, r),
        endpoint="revocation",
    )


def introspection_response(request: HttpRequest) -> HttpResponse:
    """Introspection endpoint (RFC 7662 §2)."""
    return _endpoint_call(
        request,
        lambda r: server.create_endpoint_response(Introspection.ENDPOINT_NAME, r),
        endpoint="introspection",
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
