"""The purge's fast path (bench W7): one statement per batch, batches on parallel connections
kept disjoint by SKIP LOCKED, and the database-level cascade from an OAuth token to its codes,
access and refresh tokens (tokens migration 0003)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import OAuthClientFactory, UserFactory
from tokens.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationStatus,
    OAuthToken,
    RefreshToken,
)
from tokens.secrets import SecretKind, secret_digest, secret_generate
from tokens.services.purge import token_purge_pending


def _grant(user, client, *, age: timedelta, status=AuthorizationStatus.PENDING) -> OAuthToken:
    return OAuthToken.objects.create(
        user=user,
        client=client,
        name="perf purge",
        scope=["only.User.read"],
        authorization_status=status,
        redirect_uri=client.redirect_uris[0],
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        creation_date=timezone.now() - age,
    )


def _code(grant: OAuthToken, *, expires_in: timedelta) -> AuthorizationCode:
    return AuthorizationCode.objects.create(
        oauth_token=grant,
        digest=secret_digest(secret_generate(SecretKind.AUTHORIZATION_CODE)),
        redirect_uri=grant.redirect_uri,
        code_challenge=grant.code_challenge,
        expires_at=timezone.now() + expires_in,
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_batches_purge_every_stale_pending_token_and_nothing_else():
    user, client = UserFactory(), OAuthClientFactory()
    stale = [_grant(user, client, age=timedelta(hours=25)) for _ in range(40)]
    for grant in stale:
        _code(grant, expires_in=timedelta(minutes=10))  # unexpired: goes with its token
    young = _grant(user, client, age=timedelta(hours=1))
    young_code = _code(young, expires_in=timedelta(minutes=10))
    authorized = _grant(user, client, age=timedelta(days=9), status=AuthorizationStatus.AUTHORIZED)

    result = token_purge_pending(now=timezone.now(), batch_size=7, workers=3)

    assert result.pending_tokens == 40
    assert set(OAuthToken.objects.values_list("pk", flat=True)) == {young.pk, authorized.pk}
    assert list(AuthorizationCode.objects.values_list("pk", flat=True)) == [young_code.pk]


@pytest.mark.django_db(transaction=True)
def test_purge_on_the_callers_connection_gives_back_synchronous_commit():
    """The batches commit with synchronous_commit off; the connection is handed back as found."""
    user, client = UserFactory(), OAuthClientFactory()
    for _ in range(5):
        _grant(user, client, age=timedelta(hours=25))
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        before = cursor.fetchone()[0]

    result = token_purge_pending(now=timezone.now(), batch_size=2, workers=1)

    assert result.pending_tokens == 5
    assert not OAuthToken.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == before == "on"


@pytest.mark.django_db
def test_deleting_an_oauth_token_in_sql_cascades_to_its_credentials():
    grant = _grant(UserFactory(), OAuthClientFactory(), age=timedelta(0))
    _code(grant, expires_in=timedelta(minutes=10))
    AccessToken.objects.create(
        oauth_token=grant, digest="a" * 64, expires_at=timezone.now() + timedelta(hours=1)
    )
    RefreshToken.objects.create(oauth_token=grant, digest="r" * 64)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tokens_oauthtoken WHERE id = %s", [grant.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked now, not at the test's end
    for model in (AuthorizationCode, AccessToken, RefreshToken):
        assert not model.objects.filter(oauth_token_id=grant.pk).exists()
