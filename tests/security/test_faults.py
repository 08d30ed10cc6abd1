"""Failing infrastructure (issue 7, Faults) against a live gunicorn and a live Celery worker.

PostgreSQL goes away while requests flow: requests in the gap get 503 (or succeed), never a
500 and never a hang; service resumes by itself; no token is lost or duplicated. Redis goes
away: login, consent, token exchange and the API keep working, rate limits fail open with a
log line, and a Celery task enqueued after Redis returns runs.

Each scenario runs twice. Through a TCP proxy that the test cuts and restores (every open
connection dropped, new ones refused), which disturbs nobody. And for real, marked `faults`:
`pg_ctlcluster ... restart` and `redis-cli shutdown nosave`; those restart servers that other
test runs share, so they are short, always restore the server (try/finally) and wait until it
answers again. Deselect them with `-m "not faults"`.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.principals import session_principal
from tests.consent.helpers import RFC7636_CHALLENGE, RFC7636_VERIFIER
from tests.factories import PASSWORD, OAuthClientFactory, UserFactory
from tests.security.live import ROOT, TcpProxy, database_url, gunicorn_server, server_env
from tokens.models import AccessToken, OAuthToken, RefreshToken
from tokens.secrets import secret_digest
from tokens.services.api_tokens import api_token_create
from tokens.services.grants import authorization_code_issue
from tokens.services.oauth_tokens import oauth_token_create

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REQUEST_BOUND_SECONDS = 12  # no request may take longer, outage or not
RECOVERY_BOUND_SECONDS = 30
CLUSTER = "main"


# --- Outages ----------------------------------------------------------------------------------


def _pg_ready() -> bool:
    return (
        subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-t", "2"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )


def _pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[0]


@contextlib.contextmanager
def _real_postgres_restart() -> Iterator[Callable[[], None]]:
    """Yields the action: restart the shared cluster (fast mode: sessions are terminated).
    Whatever happens, the cluster is running and accepting connections afterwards."""

    def restart() -> None:
        subprocess.run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                _pg_version(),
                CLUSTER,
                "restart",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert _wait_for(_pg_ready, 60), "PostgreSQL did not come back"
        # This process's own connection died with the restart.
        connection.close()

    try:
        yield restart
    finally:
        deadline = time.monotonic() + 60
        while not _pg_ready() and time.monotonic() < deadline:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), CLUSTER, "start"],
                capture_output=True,
                check=False,
                timeout=120,
            )
            time.sleep(1)
        assert _pg_ready(), "PostgreSQL did not come back"
        # This process's own connection died with the restart.
        connection.close()


def _redis_ping() -> bool:
    result = subprocess.run(
        ["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() == "PONG"


def _redis_start() -> None:
    os.makedirs("/var/lib/redis", exist_ok=True)
    os.makedirs("/var/log/redis", exist_ok=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=False,
        capture_output=True,
    )


def _wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@contextlib.contextmanager
def _real_redis_stop() -> Iterator[tuple[Callable[[], None], Callable[[], None]]]:
    """Yields (stop, start) of the shared Redis; it is running again afterwards, whatever
    happened."""

    def stop() -> None:
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False)
        assert _wait_for(lambda: not _redis_ping(), 10), "Redis did not stop"

    def start() -> None:
        _redis_start()
        assert _wait_for(_redis_ping, 30), "Redis did not come back"

    try:
        yield stop, start
    finally:
        if not _redis_ping():
            start()


# --- Traffic --------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    status: int
    seconds: float
    grant_id: str | None = None
    body: dict = field(default_factory=dict)
    error: str = ""


class Traffic:
    """Clients hammering the server from threads: the API, code exchanges, metadata."""

    def __init__(self, url: str, *, api_token: str, client_id: str, codes: dict[str, str]):
        self.url = url
        self.api_token = api_token
        self.client_id = client_id
        self.pending = list(codes.items())
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(3)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _next_code(self) -> tuple[str, str] | None:
        with self._lock:
            return self.pending.pop() if self.pending else None

    def _run(self, index: int) -> None:
        turn = index
        while not self._stop.is_set():
            turn += 1
            kind = ("api", "token", "metadata", "page")[turn % 4]
            self.request(kind)
            time.sleep(0.02)

    def request(self, kind: str, code: tuple[str, str] | None = None) -> Outcome | None:
        grant_id = None
        if kind == "api":
            method, path = "GET", "/api/me"
            kwargs: dict = {"headers": {"Authorization": f"Bearer {self.api_token}"}}
        elif kind == "token":
            code = code or self._next_code()
            if code is None:
                return None
            grant_id, raw = code
            method, path = "POST", "/oauth/token"
            kwargs = {
                "data": {
                    "grant_type": "authorization_code",
                    "code": raw,
                    "redirect_uri": "https://client.example/callback",
                    "client_id": self.client_id,
                    "code_verifier": RFC7636_VERIFIER,
                }
            }
        elif kind == "page":
            # The authorization endpoint looks the client up before sending anyone to login.
            method, path = "GET", "/oauth/authorize"
            kwargs = {
                "params": {"response_type": "code", "client_id": self.client_id},
                "allow_redirects": False,
            }
        else:
            method, path, kwargs = "GET", "/.well-known/oauth-authorization-server", {}
        started = time.monotonic()
        try:
            response = requests.request(method, self.url + path, timeout=(3, 30), **kwargs)
            body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
            outcome = Outcome(
                kind, response.status_code, time.monotonic() - started, grant_id, body
            )
            if response.status_code == 503:
                outcome.error = response.headers.get("Retry-After", "")
                outcome.body.setdefault("content_type", response.headers["Content-Type"])
                outcome.body.setdefault("frame", response.headers.get("X-Frame-Options", ""))
        except requests.RequestException as error:
            outcome = Outcome(kind, 0, time.monotonic() - started, grant_id, error=repr(error))
        with self._lock:
            self.outcomes.append(outcome)
        return outcome


def _fault_world(codes_count: int = 60):
    user = UserFactory()
    client = OAuthClientFactory(redirect_uris=["https://client.example/callback"])
    _, api_token = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="probe", scope=["all.User"]
    )
    codes = {}
    for index in range(codes_count):
        grant = oauth_token_create(
            user=user,
            actor=session_principal(user),
            client=client,
            name=f"Grant {index}",
            scope=["only.User.read"],
            redirect_uri=client.redirect_uris[0],
            code_challenge=RFC7636_CHALLENGE,
        )
        _, codes[grant.pk] = authorization_code_issue(oauth_token=grant)
    return user, client, api_token, codes


def _postgres_outage_scenario(*, database: str, outage: Callable[[], None]) -> dict:
    """Traffic before, during and after `outage`; returns figures for docs/security.md."""
    user, client, api_token, codes = _fault_world()
    with gunicorn_server(
        workers=2, DATABASE_URL=database, DB_CONNECT_TIMEOUT="2", RATE_LIMIT_TOKEN="off"
    ) as server:
        traffic = Traffic(server.url, api_token=api_token, client_id=client.client_id, codes=codes)
        with traffic:
            time.sleep(1.0)
            outage_started = time.monotonic()
            outage()
            outage_seconds = time.monotonic() - outage_started
            # Service resumes by itself: no restart of gunicorn, no manual reconnect.
            recovered = _wait_for(
                lambda: traffic.request("api").status == 200, RECOVERY_BOUND_SECONDS
            )
            time.sleep(1.0)
        assert recovered, "the API did not recover by itself"

        # Exchanges that got a 503 are retried once, as a client would.
        retries = [o for o in traffic.outcomes if o.kind == "token" and o.status == 503]
        for outcome in retries:
            traffic.request("token", code=(outcome.grant_id, codes[outcome.grant_id]))

        outcomes = traffic.outcomes
        statuses = Counter((o.kind, o.status) for o in outcomes)
        assert all(o.status in (200, 302, 400, 503) for o in outcomes), statuses
        assert all(o.status != 302 for o in outcomes if o.kind != "page")
        assert not [o for o in outcomes if o.status == 0], [o.error for o in outcomes if o.error]
        assert max(o.seconds for o in outcomes) < REQUEST_BOUND_SECONDS
        assert all(o.error.isdigit() for o in outcomes if o.status == 503)
        assert all(
            o.body.get("error") == "temporarily_unavailable"
            for o in outcomes
            if o.status == 503 and o.kind == "token"
        )
        assert all(
            o.body.get("type") == "ServiceUnavailable"
            for o in outcomes
            if o.status == 503 and o.kind == "api"
        )
        assert all(
            o.body["content_type"].startswith("text/html") and o.body["frame"] == "DENY"
            for o in outcomes
            if o.status == 503 and o.kind == "page"
        )

        # No token lost, none duplicated: the database holds exactly the access tokens that
        # clients received, one per authorized grant, and each of them works.
        received = [
            o.body["access_token"] for o in outcomes if o.kind == "token" and o.status == 200
        ]
        per_grant = Counter(o.grant_id for o in outcomes if o.kind == "token" and o.status == 200)
        assert all(count == 1 for count in per_grant.values()), per_grant
        stored = set(AccessToken.objects.values_list("digest", flat=True))
        assert {secret_digest(raw) for raw in received} == stored
        for grant in OAuthToken.objects.filter(authorization_status="authorized"):
            assert AccessToken.objects.filter(oauth_token=grant).count() == 1
            assert RefreshToken.objects.filter(oauth_token=grant).count() == 1
        for raw in received:
            me = requests.get(
                server.url + "/api/me", headers={"Authorization": f"Bearer {raw}"}, timeout=10
            )
            assert me.status_code == 200
        log = server.log()
        assert "Internal Server Error" not in log and "Traceback" not in log, log[-3000:]
    return {
        "requests": len(outcomes),
        "statuses": dict(sorted((f"{k}:{s}", n) for (k, s), n in statuses.items())),
        "outage_seconds": round(outage_seconds, 1),
        "max_request_seconds": round(max(o.seconds for o in outcomes), 2),
        "exchanges_ok": len(received),
        "retried_after_503": len(retries),
    }


def test_a_database_outage_answers_503_and_service_resumes_by_itself():
    """Through a proxy: every connection to PostgreSQL is dropped and new ones are refused
    for three seconds."""
    proxy = TcpProxy(target_port=int(connection.settings_dict.get("PORT") or 5432))
    proxy.start()
    parts = urlsplit(database_url())
    database = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()

    def outage() -> None:
        proxy.cut()
        time.sleep(3)
        proxy.start()

    try:
        figures = _postgres_outage_scenario(database=database, outage=outage)
    finally:
        proxy.cut()
    assert any(":503" in key for key in figures["statuses"]), figures
    print(f"\nFAULT postgres (proxy cut 3 s): {figures}")


@pytest.mark.faults
def test_a_real_postgresql_restart_while_requests_flow():
    with _real_postgres_restart() as restart:
        figures = _postgres_outage_scenario(database=database_url(), outage=restart)
    print(f"\nFAULT postgres (pg_ctlcluster restart): {figures}")


# --- Redis ------------------------------------------------------------------------------------


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return match.group(1).replace("&amp;", "&")


def _browser_flow(url: str, email: str, client_id: str) -> dict[str, float | int]:
    """Login, consent, exchange and the API, as a browser and a client would; returns the
    slowest request's duration."""
    slowest = 0.0
    browser = requests.Session()

    def timed(method, target, **kwargs):
        nonlocal slowest
        started = time.monotonic()
        response = getattr(browser, method)(target, allow_redirects=False, timeout=10, **kwargs)
        slowest = max(slowest, time.monotonic() - started)
        return response

    authorize = (
        url
        + "/oauth/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": "https://client.example/callback",
                "scope": "only.User.read",
                "state": "s",
                "code_challenge": RFC7636_CHALLENGE,
                "code_challenge_method": "S256",
            }
        )
    )
    to_login = timed("get", authorize)
    assert to_login.status_code == 302
    login_url = urljoin(url, to_login.headers["Location"])
    login_page = timed("get", login_url)
    assert login_page.status_code == 200
    logged_in = timed(
        "post",
        login_url,
        data={
            "csrfmiddlewaretoken": _hidden(login_page.text, "csrfmiddlewaretoken"),
            "username": email,
            "password": PASSWORD,
            "next": _hidden(login_page.text, "next"),
        },
    )
    assert logged_in.status_code == 302, logged_in.text[:300]
    consent_page = timed("get", urljoin(url, logged_in.headers["Location"]))
    assert consent_page.status_code == 200
    decided = timed(
        "post",
        url + "/oauth/authorize",
        data={
            "csrfmiddlewaretoken": _hidden(consent_page.text, "csrfmiddlewaretoken"),
            "request": _hidden(consent_page.text, "request"),
            "default_role": "view",
            "decision": "authorize",
        },
    )
    assert decided.status_code == 302
    code = parse_qs(urlsplit(decided.headers["Location"]).query)["code"][0]
    token = timed(
        "post",
        url + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://client.example/callback",
            "client_id": client_id,
            "code_verifier": RFC7636_VERIFIER,
        },
    )
    assert token.status_code == 200, token.text
    me = timed(
        "get", url + "/api/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 200
    return {"slowest_seconds": round(slowest, 2)}


@contextlib.contextmanager
def _celery_worker(broker_url: str) -> Iterator[subprocess.Popen]:
    env = server_env(CELERY_BROKER_URL=broker_url)
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
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True)
    reader.start()
    worker.lines = lines  # type: ignore[attr-defined]
    try:
        assert _wait_for(lambda: any("ready." in line for line in lines), 60), "".join(lines)
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _redis_outage_scenario(*, redis_url: str, stop: Callable[[], None], start: Callable[[], None]):
    user = UserFactory()
    client = OAuthClientFactory(redirect_uris=["https://client.example/callback"])
    db = _redis_db(settings.CELERY_BROKER_URL)
    broker = f"{redis_url}/{db}"
    cache = f"rediscache://{redis_url.removeprefix('redis://')}/{db + 1}"
    with (
        gunicorn_server(workers=2, CACHE_URL=cache, CELERY_BROKER_URL=broker) as server,
        _celery_worker(broker) as worker,
    ):
        before = _browser_flow(server.url, user.email, client.client_id)
        stop()
        try:
            started = time.monotonic()
            during = _browser_flow(server.url, user.email, client.client_id)
            during["flow_seconds"] = round(time.monotonic() - started, 2)
        finally:
            start()
        log = server.log()
        assert log.count("Rate limits are not enforced (failing open)") >= 1, log[-3000:]
        assert "Internal Server Error" not in log and "Traceback" not in log, log[-3000:]

        # After Redis is back: the limits count again, and a task enqueued now runs.
        after = _browser_flow(server.url, user.email, client.client_id)

        # Each gunicorn worker keeps its own outage state and reports recovery on its next
        # rate-limited request; new connections reach every worker sooner or later.
        def limits_enforced_again() -> bool:
            requests.post(
                server.url + "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": "x"},
                headers={"Connection": "close"},
                timeout=5,
            )
            return "Rate limits are enforced again" in server.log()

        assert _wait_for(limits_enforced_again, 15), server.log()[-3000:]
        stale = oauth_token_create(
            user=user,
            actor=session_principal(user),
            client=client,
            name="Stale",
            scope=["only.User.read"],
            redirect_uri=client.redirect_uris[0],
            code_challenge=RFC7636_CHALLENGE,
        )
        OAuthToken.objects.filter(pk=stale.pk).update(
            creation_date=timezone.now() - timedelta(days=2)
        )
        from celery import Celery

        app = Celery(broker=broker)
        app.send_task("tokens.tasks.purge_pending_tokens")
        purged = _wait_for(lambda: not OAuthToken.objects.filter(pk=stale.pk).exists(), 60)
        assert purged, "".join(worker.lines[-40:])  # type: ignore[attr-defined]
        assert worker.poll() is None
    return {"before": before, "during": during, "after": after}


def _redis_db(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def test_a_redis_outage_keeps_login_consent_token_and_api_working():
    """Through a proxy: every connection to Redis (cache and broker) is dropped and new ones
    are refused while a whole login-consent-token-API flow runs."""
    proxy = TcpProxy(target_port=6379)
    proxy.start()
    try:
        figures = _redis_outage_scenario(
            redis_url=f"redis://127.0.0.1:{proxy.port}", stop=proxy.cut, start=proxy.start
        )
    finally:
        proxy.cut()
    print(f"\nFAULT redis (proxy cut): {figures}")


@pytest.mark.faults
def test_a_real_redis_shutdown_keeps_the_service_working_and_celery_resumes():
    with _real_redis_stop() as (stop, start):
        figures = _redis_outage_scenario(redis_url="redis://127.0.0.1:6379", stop=stop, start=start)
    print(f"\nFAULT redis (redis-cli shutdown nosave): {figures}")


@pytest.fixture(autouse=True)
def _servers_are_healthy_afterwards():
    yield
    assert _pg_ready() and _redis_ping(), "a fault test left a shared server down"
