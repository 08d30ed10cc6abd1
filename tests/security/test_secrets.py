"""Rule 11: every secret (codes, access, refresh and API tokens, client secrets) is stored
hashed, compared in constant time and never logged, and carries a prefix secret scanners can
spot (RFC 9700 §4.14, §4.2.4; RFC 6749 §10.3). The storage of single kinds is also checked in
tests/consent/test_token.py and tests/consent/test_registration.py."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.consent.helpers import basic_auth, confidential_client, pkce_pair, query_of
from tests.factories import PASSWORD, ApplicationFactory, MembershipFactory, UserFactory
from tokens.secrets import SecretKind, secret_digest, secret_generate

SCANNER_PATTERN = re.compile(r"\b(?:oat|ort|oac|uat|aat|ocs)_[A-Za-z0-9_-]{43}\b")


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text} {record.args!r}")


@contextmanager
def every_log_line() -> Iterator[list[str]]:
    """Every log record of every logger at DEBUG, SQL with its parameters included."""
    handler = _Everything()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
    ]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    connection.force_debug_cursor = True
    try:
        yield handler.lines
    finally:
        connection.force_debug_cursor = False
        logging.getLogger().removeHandler(handler)
        for lg, level in levels:
            lg.setLevel(level)


def _world():
    user = UserFactory()
    membership = MembershipFactory(user=user, role="admin")
    return user, ApplicationFactory(organization=membership.organization)


def _full_flow(user, application) -> dict[str, str]:
    """Registration, login, consent, exchange, refresh, API, introspection, revocation and
    both kinds of API token, over HTTP; returns every raw secret that came back."""
    secrets: dict[str, str] = {}
    anonymous = Client()
    registered = anonymous.post(
        "/oauth/register",
        json.dumps(
            {
                "client_name": "Secret Keeper",
                "redirect_uris": ["https://tool.example/cb"],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "client_secret_basic",
            }
        ),
        content_type="application/json",
    ).json()
    client_id, secrets["client_secret"] = registered["client_id"], registered["client_secret"]
    auth = {"HTTP_AUTHORIZATION": basic_auth(client_id, secrets["client_secret"])}

    browser = Client()
    assert browser.post(
        "/accounts/login/", {"username": user.email, "password": PASSWORD}
    ).status_code == (302)
    verifier, challenge = pkce_pair()
    secrets["code_verifier"] = verifier
    page = browser.get(
        "/oauth/authorize",
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "https://tool.example/cb",
            "scope": "only.User.read",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    decision = browser.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "authorize",
            "default_role": "view",
        },
    )
    secrets["code"] = query_of(decision["Location"])["code"]
    token = anonymous.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": secrets["code"],
            "redirect_uri": "https://tool.example/cb",
            "code_verifier": verifier,
        },
        **auth,
    ).json()
    secrets["access_token"], secrets["refresh_token"] = (
        token["access_token"],
        token["refresh_token"],
    )
    refreshed = anonymous.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        **auth,
    ).json()
    secrets["access_token_2"] = refreshed["access_token"]
    secrets["refresh_token_2"] = refreshed["refresh_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {refreshed['access_token']}"}
    assert anonymous.get("/api/me", **bearer).status_code == 200
    introspected = anonymous.post("/oauth/introspect", {"token": refreshed["access_token"]}, **auth)
    assert introspected.json()["active"] is True
    # Failures too: a wrong secret, a replayed code, a spent refresh token.
    assert (
        anonymous.post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": "ort_" + "x" * 43},
            HTTP_AUTHORIZATION=basic_auth(client_id, secrets["client_secret"] + "x"),
        ).status_code
        == 401
    )
    user_token = browser.post(
        "/api/me/tokens",
        json.dumps({"name": "CI", "scope": ["all.User.read"]}),
        content_type="application/json",
    ).json()
    secrets["user_api_token"] = user_token["token"]
    app_token = browser.post(
        f"/api/applications/{application.pk}/tokens",
        json.dumps({"name": "Gateway", "scope": ["all.Application.read"]}),
        content_type="application/json",
    ).json()
    secrets["application_api_token"] = app_token["token"]
    assert (
        anonymous.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {user_token['token']}").status_code
        == 200
    )
    assert (
        anonymous.post("/oauth/revoke", {"token": refreshed["refresh_token"]}, **auth).status_code
        == 200
    )
    secrets["password"] = PASSWORD
    return secrets


def _database_text() -> str:
    """Every row of every table of the project, as JSON text."""
    tables = connection.introspection.table_names()
    chunks = []
    with connection.cursor() as cursor:
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT coalesce(json_agg(t)::text, '') FROM {quoted} t")
            chunks.append(cursor.fetchone()[0])
    return "\n".join(chunks)


def test_no_raw_secret_is_ever_logged_stored_or_sent_to_the_database(db):
    user, application = _world()
    with every_log_line() as lines, CaptureQueriesContext(connection) as queries:
        secrets = _full_flow(user, application)
    logged = "\n".join(lines)
    sql = "\n".join(query["sql"] for query in queries.captured_queries)
    stored = _database_text()
    assert len(lines) > 50 and len(queries.captured_queries) > 50
    for name, raw in secrets.items():
        body = raw.split("_", 1)[-1] if name != "password" else raw
        assert body not in logged, f"{name} appears in the logs"
        assert body not in sql, f"{name} reaches the database in a query"
        assert body not in stored, f"{name} is stored in clear"
    # What is stored is the SHA-256 digest (passwords: Django's slow hasher).
    for name in ("client_secret", "user_api_token", "application_api_token"):
        assert secret_digest(secrets[name]) in stored, name


def test_every_secret_kind_carries_its_scanner_prefix(db):
    prefixes = [kind.value for kind in SecretKind]
    assert len(set(prefixes)) == len(prefixes)
    assert not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)
    for kind in SecretKind:
        raw = secret_generate(kind)
        assert SCANNER_PATTERN.fullmatch(raw), raw
        assert raw.startswith(kind.value)
    secrets = _full_flow(*_world())
    expected = {
        "client_secret": "ocs_",
        "code": "oac_",
        "access_token": "oat_",
        "access_token_2": "oat_",
        "refresh_token": "ort_",
        "refresh_token_2": "ort_",
        "user_api_token": "uat_",
        "application_api_token": "aat_",
    }
    for name, prefix in expected.items():
        assert secrets[name].startswith(prefix), name
        assert SCANNER_PATTERN.fullmatch(secrets[name]), name


def test_secrets_are_compared_in_constant_time(db, monkeypatch):
    """Client secrets are checked with hmac.compare_digest on their digests; every other
    credential is found by the SHA-256 digest of the presented value, so no comparison ever
    runs on the raw secret's bytes."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    client, secret = confidential_client()
    response = Client().post(
        "/oauth/introspect",
        {"token": "oat_unknown"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == 200
    assert (secret_digest(secret), client.client_secret_digest) in calls
    wrong = Client().post(
        "/oauth/introspect",
        {"token": "oat_unknown"},
        HTTP_AUTHORIZATION=basic_auth(
            client.client_id, secret[:-1] + ("B" if secret[-1] == "A" else "A")
        ),
    )
    assert wrong.status_code == 401
    assert all(secret not in pair for pair in calls)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/oauth/token", {"grant_type": "authorization_code", "code": "{s}", "client_id": "x"}),
        ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "{s}", "client_id": "x"}),
        ("/oauth/revoke", {"token": "{s}", "client_id": "x"}),
        ("/oauth/introspect", {"token": "{s}"}),
    ],
)
def test_error_answers_never_echo_the_presented_secret(db, path, data):
    presented = secret_generate(SecretKind.REFRESH_TOKEN)
    response = Client().post(path, {k: v.format(s=presented) for k, v in data.items()})
    assert response.status_code < 500
    assert presented.encode() not in response.content
    api = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {presented}")
    assert presented.encode() not in api.content
    assert presented not in api.get("WWW-Authenticate", "")
