"""Hostile input gets a 4xx, never a 500: oversized bodies, huge headers and request lines,
invalid UTF-8, deeply nested JSON, unparsable multipart, too many fields, NUL bytes. The JSON
API's own body checks are in tests/api/test_front_door.py; schemathesis runs are in
test_fuzz_oauth.py and tests/api/test_fuzz.py."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from django.test import Client

from consent.models import OAuthClient
from tests.factories import PASSWORD
from tests.security.live import gunicorn_server
from tokens.models import ApiToken

OVERSIZED = 300 * 1024  # over DATA_UPLOAD_MAX_MEMORY_SIZE (256 KiB)
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("path", "content_type", "dialect"),
    [
        ("/oauth/token", FORM, "oauth"),
        ("/oauth/revoke", FORM, "oauth"),
        ("/oauth/introspect", FORM, "oauth"),
        ("/oauth/register", "application/json", "oauth"),
        ("/api/me/tokens", "application/json", "api"),
        ("/accounts/login/", FORM, "html"),
        ("/oauth/authorize", FORM, "html"),
    ],
)
def test_an_oversized_body_is_413_before_it_is_read(user, path, content_type, dialect):
    body = b"name=" + b"x" * OVERSIZED
    response = Client().post(path, body, content_type=content_type)
    assert response.status_code == 413
    if dialect == "oauth":
        assert response.json()["error"] == "invalid_request"
    elif dialect == "api":
        assert response.json()["type"] == "PayloadTooLarge"
    else:
        assert response["Content-Type"].startswith("text/html")
        assert response["X-Frame-Options"] == "DENY"
    assert not OAuthClient.objects.exists() and not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=authorization_code&code=\xff\xfe&client_id=\xc3\x28&code_verifier=\x80",
        b"grant_type=refresh_token&refresh_token=ort_\xed\xa0\x80&client_id=\xf0\x28\x8c\x28",
        b"grant_type=\xff&client_id=%ff%fe",
        b"grant_type=authorization_code&code=oac_\x00\x00&client_id=\x00",
        b"\xff\xfe\xfd",
    ],
)
def test_invalid_utf8_and_nul_in_token_requests_are_rfc6749_errors(db, body):
    response = Client().post("/oauth/token", body, content_type=FORM)
    assert 400 <= response.status_code < 500
    assert set(response.json()) >= {"error"}


@pytest.mark.parametrize(
    "query",
    [
        "response_type=code&client_id=%ff%fe&redirect_uri=%c3%28",
        "response_type=code&client_id=%00&state=%ed%a0%80",
        # Raw non-UTF-8 bytes reach Django as latin-1 characters (PEP 3333).
        "response_type=%ff&client_id=\xff\xfe&redirect_uri=https://\xe9vil.example/",
    ],
)
def test_invalid_utf8_in_authorization_requests_is_an_error_page(user, query):
    response = Client().get("/oauth/authorize", QUERY_STRING=query)
    assert response.status_code in (400, 302)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


def test_invalid_utf8_elsewhere_is_a_4xx(user):
    assert Client().get("/oauth/%ff%fe").status_code == 404
    assert Client().get("/api/%ff").status_code == 404
    login = Client().post(
        "/accounts/login/", b"username=\xff%40x.y&password=\xfe", content_type=FORM
    )
    assert login.status_code == 200 and "_auth_user_id" not in login.client.session
    api = Client().get("/api/me", HTTP_AUTHORIZATION="Bearer oat_\xff\xfe")
    assert api.status_code == 401
    registered = Client().post(
        "/oauth/register",
        b'{"redirect_uris": ["https://a.example/\xff"]}',
        content_type="application/json",
    )
    assert registered.status_code == 400
    assert registered.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"redirect_uris": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"client_name": ' + b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"}",
        b'{"redirect_uris": ["https://a.example/cb"], "contacts": '
        + b"[" * 5000
        + b"]" * 5000
        + b"}",
    ],
)
def test_deeply_nested_json_is_refused(db, body):
    response = Client().post("/oauth/register", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_unparsable_bodies_are_rfc6749_400s(db, path):
    no_boundary = Client().post(path, b"--x\r\n", content_type="multipart/form-data")
    assert no_boundary.status_code == 400
    assert no_boundary.json()["error"] == "invalid_request"
    many_fields = "&".join(f"f{i}=1" for i in range(2000))
    too_many = Client().post(path, many_fields, content_type=FORM)
    assert too_many.status_code == 400
    assert too_many.json()["error"] == "invalid_request"


def test_a_json_body_on_the_token_endpoint_is_invalid_request(db):
    response = Client().post(
        "/oauth/token",
        json.dumps({"grant_type": "authorization_code", "code": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "unsupported_grant_type")


def test_repeated_parameters_in_a_token_request_are_invalid_request(db):
    response = Client().post(
        "/oauth/token",
        "grant_type=authorization_code&code=a&code=b&client_id=x",
        content_type=FORM,
    )
    assert response.status_code in (400, 401)
    assert "error" in response.json()


def _raw(url: str, payload: bytes) -> bytes:
    """Send raw bytes; return the status line (or b"" if the server just closed)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(payload)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return data.split(b"\r\n", 1)[0]


def _status(line: bytes) -> int:
    return int(line.split()[1]) if line.startswith(b"HTTP/") else 0


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_gunicorn_refuses_huge_headers_lines_and_bodies_with_4xx():
    with gunicorn_server(workers=1) as server:
        get = b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        cases = {
            "huge header": get + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n",
            "many headers": get + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
            "huge request line": b"GET /?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "huge cookie": get + b"Cookie: " + b"c=" * 20_000 + b"\r\n\r\n",
            "invalid header bytes": get + b"X-Bad: \xff\xfe\x00\r\n\r\n",
            "header without colon": get + b"NoColonHere\r\n\r\n",
            "raw bytes in the query": (
                b"GET /oauth/authorize?response_type=code&client_id=\xff\xfe&state=\xc3\x28 "
                b"HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            ),
            "raw bytes in the path": b"GET /api/\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "raw bytes in a bearer token": (
                b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer oat_\xff\xfe\xc3\x28\r\n\r\n"
            ),
            "oversized body": (
                b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 10000000\r\n\r\n" + b"a" * 1024
            ),
        }
        statuses = {name: _status(_raw(server.url, payload)) for name, payload in cases.items()}
        for name, status in statuses.items():
            assert 400 <= status < 500, (name, status)
        # A chunked 1 MB body (no Content-Length) is never read into memory whole.
        chunked = requests.post(
            server.url + "/oauth/register",
            data=iter([b"{" * 1024] * 1024),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert 400 <= chunked.status_code < 500
        # And the server is still fine.
        healthy = requests.get(server.url + "/.well-known/oauth-authorization-server", timeout=5)
        assert healthy.status_code == 200
        assert "Traceback" not in server.log()
    print(f"HOSTILE gunicorn: {statuses} chunked={chunked.status_code}")


def test_login_with_a_huge_password_is_a_form_error_not_a_slow_hash(user):
    response = Client().post(
        "/accounts/login/", {"username": user.email, "password": PASSWORD + "x" * 100_000}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_long_api_query_strings_get_the_api_error_shape_not_an_html_414():
    """Issue 15: a 10 000-character query string under /api was gunicorn's HTML 414. The line
    limit now lets any query an API call could make reach the API, which answers its own limit
    as `{"type","message"}`."""
    from accounts.principals import session_principal
    from tests.factories import UserFactory
    from tokens.services.api_tokens import api_token_create

    user = UserFactory()
    _, raw = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="t", scope=["all.User"]
    )
    with gunicorn_server(workers=1) as server:
        long_filter = "a" * 10_000
        listed = requests.get(
            server.url + "/api/me/tokens",
            params={"filterField": "name", "filter": long_filter},
            headers={"Authorization": f"Bearer {raw}"},
            timeout=10,
        )
        assert listed.status_code == 400, listed.text[:200]
        assert listed.headers["Content-Type"].startswith("application/json")
        assert listed.json() == {
            "type": "Validation",
            "message": "filter must be at most 1024 characters",
        }
        # Percent-encoded non-ASCII at the 1 024-character bound is about 9 KiB on the line.
        encoded = requests.get(
            server.url + "/api/me/tokens",
            params={"filterField": "name", "filter": "\U0001f600" * 1025},
            headers={"Authorization": f"Bearer {raw}"},
            timeout=10,
        )
        assert encoded.status_code == 400
        assert set(encoded.json()) == {"type", "message"}
        anonymous = requests.get(server.url + "/api/me?x=" + "b" * 10_000, timeout=10)
        assert anonymous.headers["Content-Type"].startswith("application/json")
        assert set(anonymous.json()) == {"type", "message"}
