"""Rules 3 and 4: authorization codes are single use, live at most 10 minutes, are bound to
client, redirect URI and PKCE challenge, and an otherwise valid replay revokes everything the
code issued (OAuth 2.1 §4.1.2-4.1.3, RFC 9700 §4.2.4); PKCE is S256 only and every malformed
challenge or verifier is refused (RFC 7636 §4.1-4.2, RFC 9700 §2.1.1). The basic cases are
in tests/consent/test_token.py and tests/consent/test_pkce.py."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from django.test import Client

from accounts.principals import session_principal
from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    basic_auth,
    confidential_client,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    query_of,
    refresh,
)
from tests.factories import OAuthClientFactory
from tokens.authentication import principal_from_bearer
from tokens.models import AuthorizationCode, OAuthToken
from tokens.services.grants import authorization_code_issue
from tokens.services.oauth_tokens import oauth_token_create


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _code_for(user, client_app, challenge: str) -> str:
    return consent(logged_in(user), authorize_params(client_app, challenge))["code"]


def test_the_code_lifetime_is_capped_at_ten_minutes_whatever_the_setting(
    user, client_app, settings
):
    settings.OAUTH_AUTHORIZATION_CODE_LIFETIME = 3600
    verifier, challenge = pkce_pair()
    _code_for(user, client_app, challenge)
    code = AuthorizationCode.objects.get()
    assert code.expires_at - code.creation_date == timedelta(minutes=10)


def test_an_otherwise_valid_replay_after_a_refresh_revokes_the_whole_family(user, client_app):
    verifier, challenge = pkce_pair()
    code = _code_for(user, client_app, challenge)
    first = exchange(Client(), client_app, code, verifier)["body"]
    refreshed = refresh(Client(), client_app, first["refresh_token"])["body"]
    assert principal_from_bearer(refreshed["access_token"]) is not None

    replay = exchange(Client(), client_app, code, verifier)
    assert replay["status"] == 400 and replay["body"]["error"] == "invalid_grant"
    for credential in (first["access_token"], refreshed["access_token"]):
        assert principal_from_bearer(credential) is None
    assert refresh(Client(), client_app, refreshed["refresh_token"])["status"] == 400
    assert not OAuthToken.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        {"code_verifier": pkce_pair()[0]},
        {"redirect_uri": "https://client.example/other"},
        {"client_id": "f" * 24},
    ],
    ids=["wrong-verifier", "wrong-redirect-uri", "other-client"],
)
def test_a_replay_that_is_not_otherwise_valid_revokes_nothing(user, client_app, tamper):
    """Revoking on an invalid replay would let anyone who saw a code kill the grant (DoS)."""
    verifier, challenge = pkce_pair()
    code = _code_for(user, client_app, challenge)
    issued = exchange(Client(), client_app, code, verifier)["body"]
    replay = exchange(Client(), client_app, code, verifier, **tamper)
    assert replay["status"] in (400, 401)
    assert principal_from_bearer(issued["access_token"]) is not None
    assert OAuthToken.objects.get().authorization_status == "authorized"


def test_a_code_of_one_client_cannot_be_redeemed_by_another_even_with_its_verifier(user):
    first, second = OAuthClientFactory(), OAuthClientFactory()
    verifier, challenge = pkce_pair()
    code = _code_for(user, first, challenge)
    stolen = exchange(Client(), second, code, verifier)
    assert stolen["status"] == 400 and stolen["body"]["error"] == "invalid_grant"
    # The rightful client still can: the failed attempt spent nothing.
    assert exchange(Client(), first, code, verifier)["status"] == 200


def test_a_code_is_no_other_credential(user, client_app):
    verifier, challenge = pkce_pair()
    code = _code_for(user, client_app, challenge)
    assert principal_from_bearer(code) is None
    as_refresh = refresh(Client(), client_app, code)
    assert as_refresh["status"] == 400 and as_refresh["body"]["error"] == "invalid_grant"
    api = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {code}")
    assert api.status_code == 401
    # Neither attempt used the code up.
    assert exchange(Client(), client_app, code, verifier)["status"] == 200


@pytest.mark.parametrize(
    "verifier",
    [
        "a" * 42,  # RFC 7636 §4.1: 43 to 128 characters
        "a" * 129,
        "a" * 42 + "+",  # unreserved characters only: [A-Za-z0-9-._~]
        "a" * 42 + "/",
        "a" * 42 + "=",
        "a" * 42 + " ",
        "a" * 42 + "\u00e9",
        "a" * 42 + "%",
    ],
    ids=["42", "129", "plus", "slash", "equals", "space", "non-ascii", "percent"],
)
def test_a_verifier_of_the_wrong_length_or_alphabet_is_refused_even_if_it_hashes_right(
    user, client_app, verifier
):
    code = _code_for(user, client_app, _challenge(verifier))
    result = exchange(Client(), client_app, code, verifier)
    assert result["status"] == 400
    assert result["body"]["error"] == "invalid_request"
    assert OAuthToken.objects.get().is_pending


@pytest.mark.parametrize("length", [43, 128])
def test_verifiers_at_the_length_bounds_are_accepted(user, client_app, length):
    verifier = ("abcXYZ019-._~" * 10)[:length]
    code = _code_for(user, client_app, _challenge(verifier))
    assert exchange(Client(), client_app, code, verifier)["status"] == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": "a" * 42},
        {"code_challenge": "a" * 129},
        {"code_challenge": base64.b64encode(b"x" * 32).decode()},  # standard alphabet, padded
        {"code_challenge_method": "s256"},
        {"code_challenge_method": "S256 "},
        {"code_challenge_method": "S512"},
        {"code_challenge_method": ["S256", "plain"]},
        {"code_challenge": [pkce_pair()[1], pkce_pair()[1]]},
    ],
    ids=["42", "129", "padded-base64", "lowercase", "trailing-space", "S512", "two", "two-c"],
)
def test_malformed_challenges_are_refused_at_the_authorization_endpoint(
    user, client_app, overrides
):
    _, challenge = pkce_pair()
    response = logged_in(user).get(
        authorize_url(authorize_params(client_app, challenge, **overrides))
    )
    if response.status_code == 302:
        assert query_of(response["Location"])["error"] == "invalid_request"
    else:
        assert response.status_code == 400 and "Location" not in response
    assert not OAuthToken.objects.exists()


def test_a_confidential_client_cannot_skip_pkce_either(user):
    """RFC 9700 §2.1.1: PKCE for every client. A code without a challenge (only the services
    can make one) is not redeemable with the client secret alone."""
    client, secret = confidential_client()
    grant = oauth_token_create(
        user=user,
        actor=session_principal(user),
        client=client,
        name="No PKCE",
        scope=["only.User.read"],
        redirect_uri=client.redirect_uris[0],
        code_challenge="",
    )
    _, code = authorization_code_issue(oauth_token=grant)
    response = Client().post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uris[0],
        },
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    grant.refresh_from_db()
    assert grant.is_pending
