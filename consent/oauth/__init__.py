"""The authorization server: the one package that imports Authlib.

Authlib supplies the protocol machinery: request parsing, client authentication (RFC 6749
§2.3), grant dispatch, authorization-request validation, PKCE (RFC 7636, restricted to S256),
refresh-token requests (RFC 6749 §6), revocation (RFC 7009), introspection (RFC 7662) and
RFC 6749 §5.2 error bodies. Everything that writes goes through `tokens.services.grants` and
`consent.services`; the models stay free of Authlib through small adapter classes.

- `adapters`: our models through Authlib's mixins.
- `requests`: the OAuth2Request built from a Django request; RFC 8707 resource parameters.
- `grants`: authorization code with PKCE, refresh token; the token response body.
- `server`: the AuthorizationServer, revocation and introspection endpoints.
- `endpoints`: what the views call; they never see an Authlib type.
"""

from consent.oauth.endpoints import (
    AuthorizationRequest,
    AuthorizationRequestError,
    authorization_request_validate,
    authorization_response_url,
    authorization_server_metadata,
    introspection_response,
    protected_resource_metadata,
    revocation_response,
    token_request_client_id,
    token_response,
    token_response_failed,
)

__all__ = [
    "AuthorizationRequest",
    "AuthorizationRequestError",
    "authorization_request_validate",
    "authorization_response_url",
    "authorization_server_metadata",
    "introspection_response",
    "protected_resource_metadata",
    "revocation_response",
    "token_request_client_id",
    "token_response",
    "token_response_failed",
]
