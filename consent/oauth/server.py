"""The Authlib AuthorizationServer: grants, revocation (RFC 7009) and introspection
(RFC 7662) registered through its public `register_grant` / `register_endpoint`."""

from __future__ import annotations

import json

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from django.http import HttpResponse

from apikit.scopes import OAUTH_SCOPES
from consent import selectors
from consent.models import ClientRegistration
from consent.oauth.adapters import Client, Credential, credential_find
from consent.oauth.grants import (
    TOKEN_ENDPOINT_AUTH_METHODS,
    CodeGrant,
    RefreshGrant,
    S256CodeChallenge,
)
from consent.oauth.requests import Request

INTROSPECTION_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _token_param_check(request: Request) -> None:
    # RFC 7009 §2.1 / RFC 7662 §2.1: an unknown hint is ignored and every type searched.
    if not request.form.get("token"):
        raise InvalidRequestError("token is required")


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def check_params(self, request, client) -> None:
        _token_param_check(request)

    def query_token(self, token_string: str, token_type_hint: str | None):
        return credential_find(token_string, active_only=False)

    def revoke_token(self, token: Credential, request) -> None:
        token.revoke()


class Introspection(IntrospectionEndpoint):
    """RFC 7662. Callers authenticate as confidential clients. An admin-created client is a
    vetted resource server and may introspect any token; other clients only their own."""

    CLIENT_AUTH_METHODS = INTROSPECTION_AUTH_METHODS

    def check_params(self, request, client) -> None:
        _token_param_check(request)

    def query_token(self, token_string: str, token_type_hint: str | None):
        # Access tokens follow exactly the API's validity rules (active_access_token).
        return credential_find(token_string, active_only=True)

    def check_permission(self, token: Credential, client: Client, request) -> bool:
        return client.model.registration == ClientRegistration.ADMIN or token.check_client(client)

    def introspect_token(self, token: Credential) -> dict:
        return token.introspection()


class Server(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__(scopes_supported=list(OAUTH_SCOPES))
        self.authorization_grants: list[tuple[type, list]] = []
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id) -> Client | None:
        model = selectors.client_by_client_id(client_id)
        return Client(model) if model else None

    def create_oauth2_request(self, request) -> Request:
        if isinstance(request, Request):
            return request
        return Request(
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

    def register_grant(self, grant_cls, extensions=None) -> None:
        """Authlib's registration, also remembered here: the lookup below needs the grants that
        serve the authorization endpoint, which Authlib keeps only in a private list."""
        super().register_grant(grant_cls, extensions)
        if hasattr(grant_cls, "check_authorization_endpoint"):
            self.authorization_grants.append((grant_cls, extensions or []))

    def get_authorization_grant(self, request: Request):
        """Authlib's lookup (RFC 6749 §3.1.1), without echoing the response_type into the error
        description (Authlib's own puts the raw value there, and refuses hostile bytes with a
        ValueError before the client could be told)."""
        for grant_cls, extensions in self.authorization_grants:
            if grant_cls.check_authorization_endpoint(request):
                grant = grant_cls(request, self)
                for extension in extensions or ():
                    extension(grant)
                return grant
        redirect_uri = None
        client = self.query_client(request.payload.client_id)
        if client is not None:
            try:
                redirect_uri = CodeGrant.validate_authorization_redirect_uri(request, client)
            except InvalidRequestError:
                redirect_uri = None
        raise UnsupportedResponseTypeError(
            request.payload.response_type,
            description="Only response_type=code is supported",
            redirect_uri=redirect_uri,
        )


server = Server()
