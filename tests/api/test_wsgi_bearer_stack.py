"""config.wsgi: bearer-authenticated API calls take the short middleware stack and answer exactly
as the full stack does; everything else, session-authenticated API calls included, takes the
full stack. Requests go through the WSGI application itself (what gunicorn calls), not Django's
test client, which has a handler of its own."""

from __future__ import annotations

import io
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from config.wsgi import BearerApiHandler, application, is_bearer_api_call
from tests.factories import PASSWORD

BROWSER_ONLY = {
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
}


def wsgi_call(app, path: str, headers: dict[str, str], method: str = "GET"):
    """(status, headers, body) of one request made by calling the WSGI application."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "SERVER_NAME": "testserver",
        "wsgi.input": io.BytesIO(b""),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = response_headers

    # As Django's test client does: a request must not close the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = app(environ, start_response)
        body = b"".join(result)
        result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


@pytest.mark.parametrize(
    ("path", "authorization", "expected"),
    [
        ("/api/me", "Bearer oat_x", True),
        ("/api/me/oauth-tokens", "bearer oat_x", True),
        ("/api/me", "Bearer ", True),
        ("/api/me", "Basic dXNlcjpwYXNz", False),
        ("/api/me", "Bearer", False),
        ("/api/me", None, False),
        ("/me", "Bearer oat_x", False),
        ("/oauth/token", "Bearer oat_x", False),
        ("/apis", "Bearer oat_x", False),
    ],
)
def test_which_requests_take_the_bearer_stack(path, authorization, expected):
    environ = {"PATH_INFO": path}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    assert is_bearer_api_call(environ) is expected


def test_bearer_stack_is_the_full_stack_without_the_browser_middlewares(monkeypatch):
    # Building it reads API_BEARER_MIDDLEWARE and never touches MIDDLEWARE (issue 16: no
    # setting changed at run time): a write to it would fail here.
    full = list(settings.MIDDLEWARE)
    writes = []
    original_setattr = type(settings).__setattr__
    monkeypatch.setattr(
        type(settings),
        "__setattr__",
        lambda self, name, value: writes.append(name) or original_setattr(self, name, value),
    )
    handler = BearerApiHandler()
    monkeypatch.undo()
    assert writes == []
    assert full == settings.MIDDLEWARE
    assert [
        name for name in settings.MIDDLEWARE if name not in BROWSER_ONLY
    ] == settings.API_BEARER_MIDDLEWARE
    loaded = [
        type(getattr(m, "__self__", m)).__module__ + "." + type(getattr(m, "__self__", m)).__name__
        for m in handler._view_middleware + handler._exception_middleware
    ]
    assert not any(name in BROWSER_ONLY for name in loaded)
    assert loaded  # the short stack's own process_view / process_exception hooks are there
    assert WSGIHandler()._view_middleware  # the full stack still has CSRF's process_view


@pytest.mark.django_db
@pytest.mark.parametrize("origin", [None, "https://client.example"])
def test_bearer_call_answers_as_the_full_stack_does(user, oauth_bearer, origin):
    raw = oauth_bearer(user, ["all.User"])
    headers = {"Authorization": f"Bearer {raw}"}
    if origin:
        headers["Origin"] = origin
    short = wsgi_call(application, "/api/me", headers)
    full = wsgi_call(application.full, "/api/me", headers)
    assert short[0] == full[0] == 200
    assert short[2] == full[2]
    assert b'"email": "%s"' % user.email.encode() in short[2]
    # Every response has a request id of its own (config.logging); the rest is identical.
    assert sorted(h for h in short[1] if h[0] != "X-Request-ID") == sorted(
        h for h in full[1] if h[0] != "X-Request-ID"
    )
    assert "X-Request-ID" in dict(short[1]) and "X-Request-ID" in dict(full[1])
    names = {name.lower() for name, _ in short[1]}
    assert {"x-frame-options", "x-content-type-options", "cache-control", "content-length"} <= names


@pytest.mark.django_db
def test_bad_bearer_on_the_short_stack_is_the_same_401(user):
    headers = {"Authorization": "Bearer oat_not-a-real-token"}
    short = wsgi_call(application, "/api/me", headers)
    full = wsgi_call(application.full, "/api/me", headers)
    assert short[0] == full[0] == 401
    assert short[2] == full[2]
    assert dict(short[1])["WWW-Authenticate"] == dict(full[1])["WWW-Authenticate"]


@pytest.mark.django_db
def test_session_api_call_takes_the_full_stack(user):
    browser = Client()
    assert browser.login(email=user.email, password=PASSWORD)
    cookie = "; ".join(f"{key}={morsel.value}" for key, morsel in browser.cookies.items())
    status, _headers, body = wsgi_call(application, "/api/me", {"Cookie": cookie})
    assert status == 200
    assert b'"email": "%s"' % user.email.encode() in body
    # The short stack has no session: the same cookie there would be a 401.
    status, _headers, _body = wsgi_call(application.bearer_api, "/api/me", {"Cookie": cookie})
    assert status == 401


@pytest.mark.django_db
def test_pages_take_the_full_stack(user):
    status, headers, _body = wsgi_call(application, "/accounts/login/", {})
    assert status == 200
    assert any(name == "Set-Cookie" and "csrftoken" in value for name, value in headers)
