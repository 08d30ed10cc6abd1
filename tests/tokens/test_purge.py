"""Purge of stale pending OAuth tokens and expired codes: the service, the beat schedule, and
the task through a real Celery worker on Redis."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from accounts.principals import session_principal
from tests.factories import OAuthClientFactory, UserFactory
from tokens.models import AuthorizationCode, AuthorizationStatus, OAuthToken
from tokens.services import purge
from tokens.services.grants import authorization_code_issue
from tokens.services.oauth_tokens import oauth_token_create
from tokens.services.purge import _next_batch_size, _pending_batch_delete, token_purge_pending

ROOT = Path(__file__).resolve().parents[2]


def _token(*, age: timedelta, status=AuthorizationStatus.PENDING, client=None, user=None):
    client = client or OAuthClientFactory()
    user = user or UserFactory()
    token = oauth_token_create(
        user=user,
        actor=session_principal(user),
        client=client,
        name="t",
        scope=["only.User.read"],
        redirect_uri=client.redirect_uris[0],
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    )
    OAuthToken.objects.filter(pk=token.pk).update(
        creation_date=timezone.now() - age, authorization_status=status
    )
    return token


def test_purge_deletes_exactly_the_old_pending_tokens_and_expired_codes(db):
    client, user = OAuthClientFactory(), UserFactory()
    old_pending = [_token(age=timedelta(hours=25), client=client, user=user) for _ in range(3)]
    young_pending = _token(age=timedelta(hours=23), client=client, user=user)
    old_authorized = _token(
        age=timedelta(days=30), status=AuthorizationStatus.AUTHORIZED, client=client, user=user
    )
    now = timezone.now()
    old_code, _ = authorization_code_issue(oauth_token=old_pending[0])
    expired_code, _ = authorization_code_issue(
        oauth_token=young_pending, now=now - timedelta(hours=1)
    )
    live_used_code, _ = authorization_code_issue(oauth_token=young_pending)
    AuthorizationCode.objects.filter(pk=live_used_code.pk).update(used_at=now)

    result = token_purge_pending(now=now, batch_size=2)

    assert result.pending_tokens == 3
    assert set(OAuthToken.objects.values_list("pk", flat=True)) == {
        young_pending.pk,
        old_authorized.pk,
    }
    assert set(AuthorizationCode.objects.values_list("pk", flat=True)) == {live_used_code.pk}
    assert not AuthorizationCode.objects.filter(pk__in=[old_code.pk, expired_code.pk]).exists()
    assert result.codes == 1


def test_a_slow_batch_halves_the_next_and_a_quick_one_doubles_it_up_to_the_largest():
    slow, quick, steady = purge.BATCH_SECONDS * 2, purge.BATCH_SECONDS / 10, purge.BATCH_SECONDS / 2
    assert _next_batch_size(2000, slow, 2000) == 1000
    assert _next_batch_size(purge.MIN_BATCH_SIZE, slow, 2000) == purge.MIN_BATCH_SIZE
    assert _next_batch_size(1000, quick, 2000) == 2000
    assert _next_batch_size(2000, quick, 2000) == 2000
    assert _next_batch_size(1000, steady, 2000) == 1000


def test_purge_with_shrinking_batches_still_deletes_every_stale_token(db, monkeypatch):
    """Every batch counts as slow: the sizes shrink to the minimum and the purge still ends
    only when nothing stale is left."""
    monkeypatch.setattr(purge, "BATCH_SECONDS", 0.0)
    monkeypatch.setattr(purge, "MIN_BATCH_SIZE", 1)
    client, user = OAuthClientFactory(), UserFactory()
    for _ in range(7):
        _token(age=timedelta(hours=25), client=client, user=user)
    kept = _token(age=timedelta(hours=1), client=client, user=user)

    result = token_purge_pending(now=timezone.now(), batch_size=4, workers=1)

    assert result.pending_tokens == 7
    assert list(OAuthToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_purge_never_deletes_a_token_authorized_after_it_was_selected(db):
    selected = _token(age=timedelta(hours=30))
    other = _token(age=timedelta(hours=30))
    # The exchange completes between the purge's SELECT and its DELETE.
    OAuthToken.objects.filter(pk=selected.pk).update(
        authorization_status=AuthorizationStatus.AUTHORIZED
    )
    assert _pending_batch_delete([selected.pk, other.pk]) == 1
    assert OAuthToken.objects.filter(pk=selected.pk).exists()
    assert not OAuthToken.objects.filter(pk=other.pk).exists()


def test_purge_respects_the_configured_max_age(db, settings):
    settings.OAUTH_PENDING_TOKEN_MAX_AGE = 3600
    _token(age=timedelta(hours=2))
    assert token_purge_pending(now=timezone.now()).pending_tokens == 1


def test_beat_schedule_runs_the_purge_task_hourly():
    from config.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-pending-oauth-tokens"]
    assert entry["task"] == "tokens.tasks.purge_pending_tokens"
    assert entry["schedule"] == timedelta(hours=1)
    app.loader.import_default_modules()
    assert "tokens.tasks.purge_pending_tokens" in app.tasks


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_purge_task_runs_through_a_real_celery_worker_on_redis():
    old = _token(age=timedelta(hours=48))
    young = _token(age=timedelta(minutes=5))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        from tokens.tasks import purge_pending_tokens

        purge_pending_tokens.delay()
        deadline = time.monotonic() + 60
        while OAuthToken.objects.filter(pk=old.pk).exists() and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read().decode()[-3000:]
            time.sleep(0.5)
        assert not OAuthToken.objects.filter(pk=old.pk).exists()
        assert OAuthToken.objects.filter(pk=young.pk).exists()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
