"""/healthz and /readyz (issue 17): answered whatever the Host header, before the https
redirect, never logged at INFO; /readyz names the dependency that does not answer."""

from __future__ import annotations

import logging
import socket

import pytest
from django.test import Client


@pytest.fixture
def real_domain(settings):
    """The production shape: only the real host allowed, https enforced."""
    settings.ALLOWED_HOSTS = ["auth.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "web:8000", "not a host"])
def test_healthz_answers_whatever_the_host_header(real_domain, host):
    response = Client().get("/healthz", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_reports_database_cache_and_broker(db, real_domain):
    response = Client().get("/readyz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_other_paths_still_refuse_an_unknown_host_and_redirect_to_https(db, real_domain):
    assert Client().get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    response = Client().get("/accounts/login/", HTTP_HOST="auth.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://auth.example.com/accounts/login/"


def test_readyz_is_503_naming_an_unreachable_broker(db, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert body["checks"]["broker"] != "ok"


def test_readyz_is_503_naming_an_unreachable_cache(db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/1",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] != "ok"
    assert response.json()["checks"]["database"] == "ok"


def test_health_probes_are_not_logged_at_info_but_other_requests_are(db, caplog):
    with caplog.at_level(logging.INFO):
        Client().get("/healthz")
        Client().get("/readyz")
        Client().get("/.well-known/oauth-authorization-server")
    request_lines = [r for r in caplog.records if r.name == "http.request"]
    assert [r.route for r in request_lines] == ["/.well-known/oauth-authorization-server"]
    assert not [r for r in caplog.records if "healthz" in r.getMessage()]


def test_health_endpoints_take_only_get_and_head(db):
    response = Client().post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert Client().head("/healthz").status_code == 200
