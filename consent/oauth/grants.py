"""The two grants (RFC 6749 §4.1 with PKCE, RFC 7636 restricted to S256; §6 refresh with
rotation) and the token response body (§5.1). Writes go through tokens.services.grants."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    InvalidGrantError,
    InvalidRequestError,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from django.utils import timezone

from consent import selectors
from consent.oauth.adapters import Client, Code, Credential
from consent.oauth.requests import (
    InvalidTargetError,
    Request,
    resource_targets,
    token_request_resources,
)
from tokens.services.grants import (
    GrantError,
    IssuedTokens,
    authorization_code_redeem,
    refresh_token_rotate,
)

TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def token_body(issued: IssuedTokens) -> dict:
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


class S256CodeChallenge(CodeChallenge):
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


class CodeGrant(AuthorizationCodeGrant):
    """RFC 6749 §4.1 with PKCE; codes are issued by the consent view, redeemed here."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: Request, client: Client) -> str:
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

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        model = selectors.authorization_code_by_value(code)
        if (
            model is None
            or model.oauth_token.client_id != client.model.pk
            or model.expires_at <= timezone.now()
        ):
            return None
        # A used code is still returned: its replay is detected once PKCE has passed.
        return Code(model)

    def create_token_response(self):
        """RFC 6749 §4.1.4; the code's single use is enforced by the redemption service."""
        code = self.request.authorization_code.model
        resource = token_request_resources(self.request, allowed=list(code.resource))
        try:
            issued = authorization_code_redeem(
                code=code,
                resource=resource,
                include_refresh_token=self.request.client.check_grant_type("refresh_token"),
            )
        except GrantError as error:
            raise InvalidGrantError(error.description) from None
        return 200, token_body(issued), JSON_HEADERS


class RefreshGrant(RefreshTokenGrant):
    """RFC 6749 §6 with rotation and reuse detection (OAuth 2.1 §4.3.1)."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Credential | None:
        # Rotated tokens are returned too, so that their reuse can revoke the family.
        model = selectors.refresh_token_by_value(refresh_token)
        return Credential(model, active=True) if model else None

    def create_token_response(self):
        refresh = self.request.refresh_token.model
        scope = self.request.payload.scope
        resource = token_request_resources(self.request, allowed=list(refresh.resource))
        try:
            issued = refresh_token_rotate(
                refresh_token=refresh,
                scope=list(dict.fromkeys(scope.split())) if scope and scope.strip() else None,
                resource=resource,
            )
        except GrantError as error:
            raise InvalidGrantError(error.description) from None
        return 200, token_body(issued), JSON_HEADERS
