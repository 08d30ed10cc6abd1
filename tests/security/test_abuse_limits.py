"""Issue 15 §2 rate limits: the admin login shares the login count; the token and registration
endpoints throttle what signals abuse (failed client authentication, invalid grants) per client
and address, so a client that behaves is never throttled by its neighbours; the counters work on
every shared cache (Redis and the database cache)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client

from config.ratelimit import Limit, limit_parse, rate_limit_hit
from consent.models import OAuthClient
from tests.consent.helpers import basic_auth, confidential_client, refresh, tokens_for
from tests.factories import PASSWORD, OAuthClientFactory, UserFactory

LIMIT = 3


@pytest.mark.parametrize(
    "order",
    [("/admin/login/",) * 4, ("/accounts/login/", "/admin/login/") * 2],
    ids=["admin-only", "alternating"],
)
def test_admin_login_is_rate_limited_in_the_same_count_as_the_login_page(db, rate_limits, order):
    rate_limits(login=f"{LIMIT}/3600")
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    for path in order[:LIMIT]:
        wrong = browser.post(path, {"username": admin.email, "password": "wrong"})
        assert wrong.status_code == 200, path
    # The right password is refused at the limit, on both doors.
    for path in ("/admin/login/", "/accounts/login/"):
        response = browser.post(path, {"username": admin.email, "password": PASSWORD})
        assert response.status_code == 429, path
        assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in browser.session
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.9")
    ok = other.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    assert ok.status_code == 302


def _bad_grant(http: Client, client_id: str, **extra):
    return http.post(
        "/oauth/token",
        {"grant_type": "authorization_code", "code": "oac_guess", "client_id": client_id},
        **extra,
    )


def test_a_misbehaving_client_is_throttled_and_its_neighbour_behind_the_same_ip_is_not(
    user, client_app, rate_limits
):
    """RFC 6749 §10.10 guessing is throttled per client and address; a neighbour's failures
    never cost a well-behaved client its exchanges or refreshes."""
    rate_limits(token_failures=f"{LIMIT}/3600", token_client_failures="off")
    noisy = OAuthClientFactory()
    http = Client()
    for _ in range(LIMIT):
        response = _bad_grant(http, noisy.client_id)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
    refused = _bad_grant(http, noisy.client_id)
    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_unavailable"
    assert 0 < int(refused["Retry-After"]) <= 3600
    # The neighbour, same address: a whole flow and several refreshes, never throttled.
    body = tokens_for(user, client_app)
    for _ in range(LIMIT + 2):
        result = refresh(http, client_app, body["refresh_token"])
        assert result["status"] == 200, result["body"]
        body = result["body"]
    # The noisy client from another address is not throttled by its own count here.
    assert _bad_grant(http, noisy.client_id, REMOTE_ADDR="198.51.100.20").status_code == 400


def test_failed_client_authentication_counts_per_client_and_address(db, rate_limits):
    rate_limits(token_failures=f"{LIMIT}/3600", token_client_failures="off")
    client, secret = confidential_client()
    http = Client()
    wrong = {"HTTP_AUTHORIZATION": basic_auth(client.client_id, "wrong-secret")}
    for _ in range(LIMIT):
        response = http.post(
            "/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}, **wrong
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
    # Even the right secret waits now, from this address.
    right = {"HTTP_AUTHORIZATION": basic_auth(client.client_id, secret)}
    response = http.post(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}, **right
    )
    assert response.status_code == 429


def test_failures_from_many_addresses_are_throttled_per_client(db, rate_limits):
    rate_limits(token_failures="off", token_client_failures=f"{LIMIT}/3600")
    target, other = OAuthClientFactory(), OAuthClientFactory()
    for index in range(LIMIT):
        assert (
            _bad_grant(Client(), target.client_id, REMOTE_ADDR=f"203.0.113.{index + 1}").status_code
            == 400
        )
    assert _bad_grant(Client(), target.client_id, REMOTE_ADDR="203.0.113.99").status_code == 429
    assert _bad_grant(Client(), other.client_id, REMOTE_ADDR="203.0.113.99").status_code == 400


def test_successful_exchanges_are_never_counted_as_failures(user, client_app, rate_limits):
    rate_limits(token_failures="1/3600", token_client_failures="1/3600")
    for _ in range(3):
        body = tokens_for(user, client_app)
        assert refresh(Client(), client_app, body["refresh_token"])["status"] == 200


def _register(http: Client, body: dict, **extra):
    return http.post("/oauth/register", json.dumps(body), content_type="application/json", **extra)


def test_refused_registrations_are_throttled_per_address_and_good_ones_are_not(db, rate_limits):
    rate_limits(register_failures=f"{LIMIT}/3600", register="off")
    http = Client()
    good = {"client_name": "Hosted tool", "redirect_uris": ["https://tool.example/cb"]}
    for index in range(LIMIT + 2):
        assert _register(http, {**good, "client_name": f"Tool {index}"}).status_code == 201
    for _ in range(LIMIT):
        assert (
            _register(
                http, {"client_name": "x", "redirect_uris": ["http://evil.example/"]}
            ).status_code
            == 400
        )
    refused = _register(http, good)
    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_unavailable"
    assert _register(http, good, REMOTE_ADDR="198.51.100.30").status_code == 201
    assert OAuthClient.objects.count() == LIMIT + 3


def test_the_defaults_fit_a_hosted_client(settings):
    """A hosted client's ordinary traffic from one address: hundreds of exchanges a minute pass
    the ceiling; only failures have small limits."""
    limits = {scope: limit_parse(value) for scope, value in settings.RATE_LIMITS.items()}
    assert limits["token"].requests / limits["token"].window >= 50
    assert limits["token_failures"].requests <= 30
    assert limits["register"].requests / limits["register"].window * 3600 >= 600


DB_CACHE_TABLE = "ratelimit_test_cache"


@pytest.fixture
def database_cache(settings, transactional_db):
    """The default cache is Django's database cache on the test PostgreSQL (what `make run`
    uses without Redis)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": DB_CACHE_TABLE,
            "OPTIONS": {"MAX_ENTRIES": 100000},
        }
    }
    call_command("createcachetable", verbosity=0)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DB_CACHE_TABLE}")


def test_the_database_cache_counts_concurrent_hits_exactly(database_cache):
    """Django's DatabaseCache.incr is read-then-write; without the row lock concurrent workers
    lose increments and let more requests through than the limit."""
    threads, hits = 8, 25
    limit = Limit(requests=10_000, window=3600)
    now = time.time()
    barrier = threading.Barrier(threads)
    counts: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(hits):
                verdict = rate_limit_hit(scope="race", key="k", limit=limit, now=now)
                assert verdict.allowed
            counts.append(1)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors, errors
    verdict = rate_limit_hit(scope="race", key="k", limit=limit, now=now)
    # The next hit is number threads * hits + 1: no increment was lost.
    assert verdict.allowed
    window_start = int(now // limit.window) * limit.window
    assert cache.get(f"ratelimit:race:k:{window_start}") == threads * hits + 1


def test_login_limits_work_on_the_database_cache(database_cache, rate_limits):
    rate_limits(login=f"{LIMIT}/3600")
    user = UserFactory()
    browser = Client()
    for _ in range(LIMIT):
        assert (
            browser.post("/accounts/login/", {"username": user.email, "password": "x"}).status_code
            == 200
        )
    assert (
        browser.post("/admin/login/", {"username": user.email, "password": "x"}).status_code == 429
    )
