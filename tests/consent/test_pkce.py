"""PKCE, S256 only (RFC 7636; RFC 9700 §2.1.1; OAuth 2.1 §4.1)."""

import base64
import hashlib

import pytest
from django.test import Client

from accounts.principals import session_principal
from consent.oauth import authorization_response_url  # noqa: F401 - the module must import
from tests.consent.helpers import (
    RFC7636_CHALLENGE,
    RFC7636_VERIFIER,
    authorize_params,
    authorize_url,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    query_of,
)
from tokens.models import AuthorizationStatus, OAuthToken
from tokens.services.grants import authorization_code_issue
from tokens.services.oauth_tokens import oauth_token_create


def test_rfc7636_appendix_b_vector_is_accepted_end_to_end(user, client_app):
    digest = hashlib.sha256(RFC7636_VERIFIER.encode("ascii")).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == RFC7636_CHALLENGE
    query = consent(logged_in(user), authorize_params(client_app, RFC7636_CHALLENGE))
    result = exchange(Client(), client_app, query["code"], RFC7636_VERIFIER)
    assert result["status"] == 200
    assert OAuthToken.objects.get(user=user).code_challenge == RFC7636_CHALLENGE


@pytest.mark.parametrize(
    ("overrides", "case"),
    [
        ({"code_challenge": None}, "missing code_challenge"),
        ({"code_challenge_method": None}, "missing code_challenge_method"),
        ({"code_challenge_method": "plain"}, "plain"),
        ({"code_challenge": "short"}, "malformed challenge"),
    ],
)
def test_authorization_endpoint_refuses_anything_but_s256(
    user, client_app, settings, overrides, case
):
    _, challenge = pkce_pair()
    response = logged_in(user).get(
        authorize_url(authorize_params(client_app, challenge, **overrides))
    )
    assert response.status_code == 302, case
    query = query_of(response["Location"])
    assert query["error"] == "invalid_request"
    assert query["state"] == "state-123"
    assert query["iss"] == settings.PUBLIC_URL
    assert not OAuthToken.objects.exists()


def test_token_request_with_wrong_verifier_is_invalid_grant(user, client_app):
    _, challenge = pkce_pair()
    query = consent(logged_in(user), authorize_params(client_app, challenge))
    other_verifier, _ = pkce_pair()
    result = exchange(Client(), client_app, query["code"], other_verifier)
    assert result["status"] == 400
    assert result["body"]["error"] == "invalid_grant"
    assert OAuthToken.objects.get(user=user).authorization_status == AuthorizationStatus.PENDING


def test_token_request_without_verifier_is_refused(user, client_app):
    _, challenge = pkce_pair()
    query = consent(logged_in(user), authorize_params(client_app, challenge))
    result = exchange(Client(), client_app, query["code"], None)
    assert result["status"] == 400
    assert result["body"]["error"] == "invalid_request"
    assert OAuthToken.objects.get(user=user).is_pending


def test_verifier_for_a_code_issued_without_challenge_is_refused(user, client_app):
    """RFC 9700 §4.8.2: code_verifier present iff code_challenge was present."""
    grant = oauth_token_create(
        user=user,
        actor=session_principal(user),
        client=client_app,
        name="No PKCE",
        scope=["only.User.read"],
        redirect_uri=client_app.redirect_uris[0],
        code_challenge="",
    )
    _, code = authorization_code_issue(oauth_token=grant)
    result = exchange(Client(), client_app, code, RFC7636_VERIFIER)
    assert result["status"] == 400
    assert result["body"]["error"] == "invalid_request"
    grant.refresh_from_db()
    assert grant.is_pending
