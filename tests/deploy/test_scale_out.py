"""Scale-out, proven here (issue 17): two web instances, separate gunicorn processes on their
own ports, run as the containers run them (JSON logs, a real ALLOWED_HOSTS, Prometheus in
multiprocess mode), against one PostgreSQL and one Redis.

What is shown: a token deactivated through one instance is refused by the other on the very
next request; the rate limits count across both; no cache, the token list's page cache
included, serves a stale answer across them; and scheduled work cannot run twice at once,
whichever process starts it (the purge's PostgreSQL advisory lock). What is not shown here:
that compose runs one beat (that is `replicas: 1` in docker-compose.yml, checked by
tests/deploy/test_image.py); a second beat would only send the task twice, and the lock makes
the second run a no-op.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from accounts.principals import session_principal
from tests.consent.helpers import tokens_for
from tests.security.live import LiveServer, gunicorn_server, server_env
from tests.tokens.test_purge import _token
from tokens.models import OAuthToken
from tokens.services.api_tokens import api_token_create
from tokens.services.purge import PURGE_LOCK

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HOST = "testserver"  # the one public host; PUBLIC_URL is http://testserver in tests
METRICS_TOKEN = "scrape-0123456789abcdef"


@pytest.fixture
def instances(tmp_path, settings) -> Iterator[tuple[LiveServer, LiveServer]]:
    with ExitStack() as stack:
        servers = tuple(
            stack.enter_context(
                gunicorn_server(
                    workers=2,
                    PUBLIC_URL="http://testserver",
                    ALLOWED_HOSTS=HOST,
                    LOG_FORMAT="json",
                    PROMETHEUS_MULTIPROC_DIR=str(tmp_path / f"prometheus-{name}"),
                    METRICS_TOKEN=METRICS_TOKEN,
                    RATE_LIMIT_TOKEN="4/3600",
                )
            )
            for name in ("a", "b")
        )
        yield servers


def _call(server: LiveServer, method: str, path: str, token: str | None = None, **kwargs):
    headers = {"Host": HOST, "Connection": "close", **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


def test_a_token_deactivated_through_one_instance_is_refused_by_the_other(
    instances, user, client_app
):
    a, b = instances
    access = tokens_for(user, client_app)["access_token"]
    _, manager = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="ops", scope=["all.User"]
    )
    oauth_token = OAuthToken.objects.get(user=user)
    assert _call(b, "GET", "/api/me", access).status_code == 200
    # B builds (and keeps, in its per-process page cache) the token list.
    before = _call(b, "GET", "/api/me/oauth-tokens", manager).json()
    assert [(t["id"], t["status"]) for t in before["items"]] == [(oauth_token.pk, "active")]

    changed = _call(
        a,
        "PATCH",
        f"/api/me/oauth-tokens/{oauth_token.pk}",
        manager,
        json={"status": "inactive", "name": "Renamed on A"},
    )
    assert changed.status_code == 200, changed.text

    refused = _call(b, "GET", "/api/me", access)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    after = _call(b, "GET", "/api/me/oauth-tokens", manager).json()
    assert [(t["name"], t["status"]) for t in after["items"]] == [("Renamed on A", "inactive")]
    assert _call(a, "GET", "/api/me", access).status_code == 401

    deleted = _call(b, "DELETE", f"/api/me/oauth-tokens/{oauth_token.pk}", manager)
    assert deleted.status_code in (200, 204)
    assert _call(a, "GET", "/api/me/oauth-tokens", manager).json()["items"] == []


def test_rate_limits_count_across_both_instances(instances):
    a, b = instances
    data = {"grant_type": "authorization_code", "code": "x", "client_id": "nope"}
    statuses = [
        _call(server, "POST", "/oauth/token", data=data).status_code for server in (a, b, a, b)
    ]
    assert 429 not in statuses
    assert _call(a, "POST", "/oauth/token", data=data).status_code == 429
    assert _call(b, "POST", "/oauth/token", data=data).status_code == 429


def test_instances_run_as_the_containers_do(instances):
    """Probes with the container's own address pass a real ALLOWED_HOSTS; every log line is
    JSON; /metrics sums the instance's two workers."""
    a, _ = instances
    probe = requests.get(a.url + "/healthz", timeout=5)  # Host: 127.0.0.1:<port>
    assert probe.status_code == 200
    assert requests.get(a.url + "/readyz", timeout=10).json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
    }
    assert (
        requests.get(a.url + "/.well-known/oauth-authorization-server", timeout=5).status_code
        == 400
    )
    for _ in range(6):  # new connections: both workers take some
        assert _call(a, "GET", "/.well-known/oauth-authorization-server").status_code == 200
    scrape = requests.get(
        a.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    )
    assert scrape.status_code == 200
    line = next(
        line
        for line in scrape.text.splitlines()
        if line.startswith("http_requests_total{")
        and 'route="/.well-known/oauth-authorization-server"' in line
        and 'status="200"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) == 6
    assert requests.get(a.url + "/metrics", timeout=5).status_code == 404

    entries = [json.loads(line) for line in a.log().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message", "request_id"} <= set(entries[-1])
    assert any(e["logger"] == "gunicorn.error" for e in entries)
    served = [e for e in entries if e["logger"] == "http.request"]
    assert len(served) == 6 + 1  # the disallowed host's request is logged too; probes are not
    assert not [e for e in entries if "healthz" in e["message"] or "readyz" in e["message"]]
    assert not [e for e in entries if e["logger"] == "gunicorn.access"]  # http.request instead


def _purge_command() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "purge_pending_tokens"],
        cwd=ROOT,
        env={**server_env(), "LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scheduled_work_runs_once_whichever_process_starts_it(db):
    stale = [_token(age=timedelta(hours=30)) for _ in range(5)]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as beat_elsewhere:
        # Another process (a beat-triggered worker) is purging: this one must not.
        beat_elsewhere.execute("SELECT pg_advisory_lock(hashtext(%s))", [PURGE_LOCK])
        refused = _purge_command()
        assert refused.returncode == 1
        assert "Another purge is running" in refused.stderr
        assert OAuthToken.objects.filter(pk__in=[t.pk for t in stale]).count() == 5
        beat_elsewhere.execute("SELECT pg_advisory_unlock(hashtext(%s))", [PURGE_LOCK])
    # Two purges started at once: one does the work, the other refuses or finds nothing left.
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "purge_pending_tokens"],
            cwd=ROOT,
            env={**os.environ, **server_env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    purged = [int(out.split("Purged ", 1)[1].split()[0]) for out, _ in outputs if "Purged " in out]
    assert sum(purged) == 5
    assert not OAuthToken.objects.filter(pk__in=[t.pk for t in stale]).exists()
