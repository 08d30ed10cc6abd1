"""Rule 12: rate limits (429 + Retry-After) on login, token, registration and introspection,
counted in the shared cache (Redis) per client IP and endpoint, so they hold across processes;
failing open, with one warning line, when the cache is unreachable."""

from __future__ import annotations

import json
import logging
import time

import pytest
import requests
from django.core.cache import cache
from django.test import Client

from config.ratelimit import Limit, client_ip, limit_parse, rate_limit_hit
from consent.models import OAuthClient
from tests.consent.helpers import basic_auth, confidential_client
from tests.factories import PASSWORD
from tests.security.live import gunicorn_server

LIMIT = 3
# Hour-long windows: a test never straddles a window boundary and sees its count reset.


def _token_post(http: Client, **extra):
    return http.post(
        "/oauth/token",
        {"grant_type": "authorization_code", "code": "oac_x", "client_id": "nope"},
        **extra,
    )


def _register_post(http: Client, name: str):
    body = {"client_name": name, "redirect_uris": ["https://tool.example/cb"]}
    return http.post("/oauth/register", json.dumps(body), content_type="application/json")


def _assert_oauth_429(response) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "temporarily_unavailable"
    assert response["Retry-After"] in body["error_description"]


def test_token_endpoint_answers_429_with_retry_after_past_the_limit(db, rate_limits):
    rate_limits(token=f"{LIMIT}/3600")
    http = Client()
    answers = [_token_post(http).status_code for _ in range(LIMIT)]
    assert 429 not in answers and all(status < 500 for status in answers)
    _assert_oauth_429(_token_post(http))


def test_a_refused_registration_never_reaches_the_view(db, rate_limits):
    rate_limits(register=f"{LIMIT}/3600")
    http = Client()
    for index in range(LIMIT):
        assert _register_post(http, f"Tool {index}").status_code == 201
    response = _register_post(http, "One too many")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert response.json()["error"] == "temporarily_unavailable"
    assert OAuthClient.objects.count() == LIMIT


def test_introspection_is_rate_limited(db, rate_limits):
    rate_limits(introspect=f"{LIMIT}/3600")
    client, secret = confidential_client()
    http = Client()
    auth = {"HTTP_AUTHORIZATION": basic_auth(client.client_id, secret)}
    for _ in range(LIMIT):
        response = http.post("/oauth/introspect", {"token": "oat_unknown"}, **auth)
        assert response.status_code == 200 and response.json() == {"active": False}
    _assert_oauth_429(http.post("/oauth/introspect", {"token": "oat_unknown"}, **auth))


def test_login_posts_get_a_429_page_without_redirect_and_no_session(user, rate_limits):
    rate_limits(login=f"{LIMIT}/3600")
    browser = Client()
    for _ in range(LIMIT):
        wrong = browser.post("/accounts/login/", {"username": user.email, "password": "wrong"})
        assert wrong.status_code == 200
    # Even the right password is refused now: guessing stops at the limit.
    response = browser.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 429
    assert "Location" not in response
    assert response["Content-Type"].startswith("text/html")
    assert 0 < int(response["Retry-After"]) <= 3600
    assert response["X-Frame-Options"] == "DENY"
    assert b"evil.example" not in response.content
    assert "_auth_user_id" not in browser.session
    # Viewing the login page is not counted.
    assert browser.get("/accounts/login/").status_code == 200


def test_limits_count_per_client_ip_and_per_endpoint(db, rate_limits):
    rate_limits(token=f"{LIMIT}/3600", register=f"{LIMIT}/3600")
    http = Client()
    for _ in range(LIMIT):
        _token_post(http)
    assert _token_post(http).status_code == 429
    assert _token_post(http, REMOTE_ADDR="192.0.2.7").status_code != 429
    assert _register_post(http, "Other endpoint").status_code == 201


def test_x_forwarded_for_is_only_trusted_behind_the_configured_proxies(db, rate_limits, settings):
    rate_limits(token=f"{LIMIT}/3600")
    http = Client()
    for index in range(LIMIT):
        # Without a trusted proxy, a forged header does not buy a fresh bucket.
        _token_post(http, HTTP_X_FORWARDED_FOR=f"198.51.100.{index}")
    assert _token_post(http, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429
    settings.RATE_LIMIT_PROXY_COUNT = 1
    # Behind one proxy, the address that proxy appended (the last one) is the client.
    forged = "203.0.113.1, 198.51.100.50"
    for _ in range(LIMIT):
        assert _token_post(http, HTTP_X_FORWARDED_FOR=forged).status_code != 429
    assert _token_post(http, HTTP_X_FORWARDED_FOR=forged).status_code == 429
    assert _token_post(http, HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.51").status_code != 429


def test_client_ip_never_lets_junk_into_the_cache_key(rf, settings):
    settings.RATE_LIMIT_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="x" * 5000, REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == "unknown"
    request = rf.get("/", HTTP_X_FORWARDED_FOR="2001:DB8:0:0::1")
    assert client_ip(request) == "2001:db8::1"


def test_fixed_window_counts_in_redis_and_resets_with_the_window(db):
    limit = Limit(requests=2, window=60)
    start = (time.time() // 60 + 10) * 60  # a window no other request of this test uses
    first = rate_limit_hit(scope="probe", key="192.0.2.1", limit=limit, now=start + 0.5)
    second = rate_limit_hit(scope="probe", key="192.0.2.1", limit=limit, now=start + 30)
    third = rate_limit_hit(scope="probe", key="192.0.2.1", limit=limit, now=start + 59.2)
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert third.retry_after == 1
    assert first.retry_after == 60
    assert cache.get(f"ratelimit:probe:192.0.2.1:{int(start)}") == 3
    assert rate_limit_hit(scope="probe", key="192.0.2.1", limit=limit, now=start + 60).allowed


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10/60", Limit(10, 60)), ("off", None), ("", None), ("0/60", None), (" 5/1 ", Limit(5, 1))],
)
def test_limit_syntax(value, expected):
    assert limit_parse(value) == expected


@pytest.mark.parametrize("value", ["10", "ten/60", "10/0", "10/-1", "-1/60"])
def test_bad_limit_syntax_is_a_configuration_error(value):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        limit_parse(value)


def test_an_unreachable_cache_fails_open_with_one_warning_line(db, rate_limits, settings, caplog):
    rate_limits(token="1/3600")
    # Nothing listens on port 1: every cache call fails at once, like a stopped Redis.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    http = Client()
    with caplog.at_level(logging.INFO, logger="config.ratelimit"):
        started = time.monotonic()
        statuses = [_token_post(http).status_code for _ in range(5)]
        elapsed = time.monotonic() - started
    assert 429 not in statuses and all(status < 500 for status in statuses)
    assert elapsed < 5
    warnings = [
        r for r in caplog.records if r.name == "config.ratelimit" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "failing open" in warnings[0].getMessage()
    assert warnings[0].exc_info is None  # one line, no traceback


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_between_processes(rate_limits, settings):
    """The test process spends part of the budget; gunicorn's two worker processes, with the
    same limit, see the same counter in Redis and refuse the rest."""
    rate_limits(token="5/3600")
    http = Client()
    for _ in range(3):
        assert _token_post(http).status_code != 429
    with gunicorn_server(workers=2, RATE_LIMIT_TOKEN="5/3600") as server:
        statuses = []
        for _ in range(4):
            # A new connection each time, so both workers take requests.
            response = requests.post(
                server.url + "/oauth/token",
                data={"grant_type": "authorization_code", "code": "x", "client_id": "nope"},
                headers={"Connection": "close"},
                timeout=10,
            )
            statuses.append(response.status_code)
        assert all(status < 500 for status in statuses[:2])
        assert 429 not in statuses[:2]
        assert statuses[2:] == [429, 429]
        assert response.json()["error"] == "temporarily_unavailable"
