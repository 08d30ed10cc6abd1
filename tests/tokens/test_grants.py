"""tokens.services.grants: single-use codes under concurrency, rotation, audit events."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from accounts.principals import session_principal
from tests.factories import OAuthClientFactory, UserFactory
from tokens.models import AccessToken, AuthorizationStatus, OAuthToken, TokenEvent
from tokens.services.grants import (
    GrantError,
    authorization_code_issue,
    authorization_code_redeem,
    refresh_token_rotate,
)
from tokens.services.oauth_tokens import oauth_token_create

PARALLEL = 100
WORKERS = 16  # connections are shared with other test runs on the same server


def _pending_grant():
    client = OAuthClientFactory()
    user = UserFactory()
    grant = oauth_token_create(
        user=user,
        actor=session_principal(user),
        client=client,
        name=client.client_name,
        scope=["only.User.read"],
        redirect_uri=client.redirect_uris[0],
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    )
    return grant


@pytest.mark.django_db(transaction=True)
def test_parallel_redemptions_of_one_code_yield_exactly_one_success():
    grant = _pending_grant()
    code, _ = authorization_code_issue(oauth_token=grant)
    barrier = Barrier(WORKERS)

    def redeem(index: int) -> str:
        try:
            if index < WORKERS:
                barrier.wait(timeout=30)
            authorization_code_redeem(code=code, resource=None, include_refresh_token=True)
            return "ok"
        except GrantError:
            return "invalid_grant"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(redeem, range(PARALLEL)))
    assert results.count("ok") == 1
    assert results.count("invalid_grant") == PARALLEL - 1
    # The replays were otherwise valid, so the grant and what it issued are revoked.
    assert not OAuthToken.objects.filter(pk=grant.pk).exists()
    assert not AccessToken.objects.exists()


def test_redemption_authorizes_and_records_the_event(db, settings):
    grant = _pending_grant()
    code, _ = authorization_code_issue(oauth_token=grant)
    issued = authorization_code_redeem(code=code, resource=None, include_refresh_token=True)
    grant.refresh_from_db()
    assert grant.authorization_status == AuthorizationStatus.AUTHORIZED
    assert grant.status == "active"
    assert issued.resource == [settings.API_RESOURCE_URL]
    assert issued.access_token.startswith("oat_") and issued.refresh_token.startswith("ort_")
    event = TokenEvent.objects.get(token_id=grant.pk, kind="authorized")
    assert event.client_id == grant.client.client_id
    assert issued.access_token not in str(event.detail)


def test_rotation_records_refreshed_and_reuse_deletes_via_the_service(db):
    grant = _pending_grant()
    code, _ = authorization_code_issue(oauth_token=grant)
    issued = authorization_code_redeem(code=code, resource=None, include_refresh_token=True)
    from tokens.models import RefreshToken

    first = RefreshToken.objects.get()
    refresh_token_rotate(refresh_token=first, scope=None, resource=None)
    assert TokenEvent.objects.filter(token_id=grant.pk, kind="refreshed").count() == 1
    with pytest.raises(GrantError):
        refresh_token_rotate(refresh_token=first, scope=None, resource=None)
    assert not OAuthToken.objects.filter(pk=grant.pk).exists()
    assert TokenEvent.objects.filter(token_id=grant.pk, kind="deleted").exists()
    assert issued.oauth_token.pk == grant.pk
