"""`manage.py purge_pending_tokens` (the beat task's service, with progress), its run-once lock,
and expired sessions on the beat schedule (issue 17)."""

from __future__ import annotations

import io
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.tasks import clear_expired_sessions
from tests.tokens.test_purge import _token
from tokens.models import OAuthToken
from tokens.services.purge import PURGE_LOCK
from tokens.tasks import purge_pending_tokens


@pytest.fixture
def other_session():
    """A second PostgreSQL session on the test database, as another process would have."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        yield conn


def test_purge_command_deletes_stale_pending_tokens_with_progress(db):
    stale = [_token(age=timedelta(hours=30)) for _ in range(3)]
    young = _token(age=timedelta(hours=1))
    out = io.StringIO()
    call_command("purge_pending_tokens", stdout=out)
    text = out.getvalue()
    assert text.startswith("Purging stale pending OAuth tokens and expired codes...\n")
    assert "  pending tokens: 3 deleted so far\n" in text
    assert "Purged 3 pending OAuth tokens and 0 expired codes in " in text
    assert not OAuthToken.objects.filter(pk__in=[t.pk for t in stale]).exists()
    assert OAuthToken.objects.filter(pk=young.pk).exists()


def test_purge_command_refuses_while_another_purge_holds_the_lock(db, other_session):
    stale = _token(age=timedelta(hours=30))
    other_session.execute("SELECT pg_advisory_lock(hashtext(%s))", [PURGE_LOCK])
    with pytest.raises(CommandError, match="Another purge is running"):
        call_command("purge_pending_tokens", stdout=io.StringIO())
    assert purge_pending_tokens() is None  # the beat task skips too
    assert OAuthToken.objects.filter(pk=stale.pk).exists()
    other_session.execute("SELECT pg_advisory_unlock(hashtext(%s))", [PURGE_LOCK])
    assert purge_pending_tokens() == {"pendingTokens": 1, "codes": 0}
    assert not OAuthToken.objects.filter(pk=stale.pk).exists()


def test_the_lock_is_released_after_a_purge(db, other_session):
    call_command("purge_pending_tokens", stdout=io.StringIO())
    row = other_session.execute(
        "SELECT pg_try_advisory_lock(hashtext(%s))", [PURGE_LOCK]
    ).fetchone()
    assert row == (True,)
    other_session.execute("SELECT pg_advisory_unlock(hashtext(%s))", [PURGE_LOCK])


def test_expired_sessions_are_cleared_by_a_daily_beat_task(db):
    from config.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]
    assert entry["task"] == "accounts.tasks.clear_expired_sessions"
    assert entry["schedule"] == timedelta(days=1)
    app.loader.import_default_modules()
    assert "accounts.tasks.clear_expired_sessions" in app.tasks
    now = timezone.now()
    Session.objects.create(session_key="expired", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="current", session_data="", expire_date=now + timedelta(1))
    clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]
