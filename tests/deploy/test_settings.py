"""Settings for a real domain (issue 17): an https PUBLIC_URL turns on HSTS, secure cookies and
the https redirect, the CSRF origin follows PUBLIC_URL, and `check --deploy` stays clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k7Qw-production-like-secret-9fJ2xLr0Vb8nT3sYp6Hd1Gc4Ze5Mu7Aq2Wx0Nk",
    "PUBLIC_URL": "https://auth.example.com",
    "ALLOWED_HOSTS": "auth.example.com",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "ENV_FILE": "/nonexistent",
}


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settings(*names: str, **env: str) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = _run(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_with_an_https_public_url():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_https_public_url_turns_on_hsts_secure_cookies_and_redirect():
    values = _settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
    )
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://auth.example.com"],
    }


def test_plain_http_keeps_them_off_and_the_proxy_header_is_opt_in():
    values = _settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        PUBLIC_URL="http://127.0.0.1:8000",
        SECURE_PROXY_SSL_HEADER="",
    )
    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", ["https://auth.example.com"]),  # an empty line copied from an env file = unset
        ("https://a.example,https://b.example", ["https://a.example", "https://b.example"]),
    ],
)
def test_csrf_trusted_origins_follow_public_url_unless_set(given, expected):
    values = _settings("CSRF_TRUSTED_ORIGINS", CSRF_TRUSTED_ORIGINS=given)
    assert values["CSRF_TRUSTED_ORIGINS"] == expected


def test_env_example_pins_no_csrf_origin_and_lists_the_new_settings():
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = {line.split("=", 1)[0] for line in lines if "=" in line and line[0] != "#"}
    assert "CSRF_TRUSTED_ORIGINS" not in assigned
    assert {"LOG_FORMAT", "TRUST_X_REQUEST_ID", "METRICS_TOKEN", "SECURE_PROXY_SSL_HEADER"} <= (
        assigned
    )
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD"} <= assigned


def test_the_env_example_settings_load_as_documented():
    values = _settings(
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_SSL_REDIRECT",
        "LOG_FORMAT",
        "METRICS_ALLOWED_NETWORKS",
        ENV_FILE=str(ROOT / ".env.example"),
        # .env.example's PUBLIC_URL, as a fresh copy would have it; the environment wins over it
        PUBLIC_URL="https://auth.example.com",
    )
    assert values == {
        "CSRF_TRUSTED_ORIGINS": ["https://auth.example.com"],
        "SECURE_SSL_REDIRECT": True,
        "LOG_FORMAT": "text",
        "METRICS_ALLOWED_NETWORKS": [],
    }


def _login_post(user, origin: str):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="auth.example.com")
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    return browser.post(
        "/accounts/login/",
        {"username": user.email, "email": user.email, "password": PASSWORD},
        HTTP_ORIGIN=origin,
        HTTP_X_CSRFTOKEN=page.cookies["csrftoken"].value,
    )


def test_login_post_from_the_public_https_origin_passes_csrf(user, settings):
    """The issue's 403: behind a TLS proxy (no proxy header configured) Django sees http while
    the browser sends `Origin: https://auth.example.com`; .env.example pinned
    http://127.0.0.1:8000 as the trusted origin, so every login failed CSRF. The default now
    follows PUBLIC_URL."""
    settings.ALLOWED_HOSTS = ["auth.example.com"]
    settings.CSRF_TRUSTED_ORIGINS = _settings("CSRF_TRUSTED_ORIGINS")["CSRF_TRUSTED_ORIGINS"]
    assert _login_post(user, "https://auth.example.com").status_code == 302
    assert _login_post(user, "https://evil.example").status_code == 403
    settings.CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8000"]  # the old .env.example line
    assert _login_post(user, "https://auth.example.com").status_code == 403
