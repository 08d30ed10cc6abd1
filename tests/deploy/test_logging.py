"""Logs (issue 17): one JSON object per line with time, level, logger, message and request id;
OAuth events carry the client and grant type, never a token; expected 4xx without traceback."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest
from django.test import Client

from config.logging import ContextFilter, JsonFormatter, TextFormatter
from tests.consent.helpers import (
    authorize_params,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    refresh,
)


@pytest.fixture
def json_log():
    """The configured console handler (settings.LOGGING), writing JSON into a buffer."""
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, ContextFilter) for f in h.filters)
    ]
    stream, formatter = io.StringIO(), handler.formatter
    old_stream = handler.setStream(stream)
    handler.setFormatter(JsonFormatter())

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    handler.setStream(old_stream)
    handler.setFormatter(formatter)


def test_every_line_is_json_with_time_level_logger_message_and_request_id(db, json_log):
    response = Client().get("/.well-known/oauth-authorization-server")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (line,) = [entry for entry in json_log() if entry["logger"] == "http.request"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "INFO"
    assert line["message"] == "GET /.well-known/oauth-authorization-server 200"
    assert line["request_id"] == request_id
    assert line["route"] == "/.well-known/oauth-authorization-server"
    assert line["status"] == 200 and line["duration_ms"] >= 0


def test_a_proxy_request_id_is_used_only_when_trusted(db, settings):
    given = "edge-7f3a9c"
    assert Client().get("/healthz").get("X-Request-ID") is None  # probes are answered first
    untrusted = Client().get("/accounts/login/", HTTP_X_REQUEST_ID=given)
    assert untrusted["X-Request-ID"] != given
    settings.TRUST_X_REQUEST_ID = True
    assert Client().get("/accounts/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    junk = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="a b\nforged=1")
    assert re.fullmatch(r"[0-9a-f]{32}", junk["X-Request-ID"])


def test_an_expected_404_logs_a_warning_without_traceback(user, json_log):
    response = logged_in(user).get("/me/oauth-tokens/000000000000000000000000")
    assert response.status_code == 404
    (warning,) = [entry for entry in json_log() if entry["logger"] == "django.request"]
    assert warning["level"] == "WARNING"
    assert warning["message"].startswith("Not Found: /me/oauth-tokens/")
    assert "exception" not in warning
    assert warning["request_id"] == response["X-Request-ID"]


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: /x",
            (),
            sys.exc_info(),
            extra={"status_code": 500},
        )
    ContextFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in entry["exception"]


def test_oauth_events_carry_client_and_grant_type_and_never_a_token(user, client_app, json_log):
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge))["code"]
    issued = exchange(Client(), client_app, code, verifier)
    assert issued["status"] == 200
    refreshed = refresh(Client(), client_app, issued["body"]["refresh_token"])
    assert refreshed["status"] == 200
    replay = refresh(Client(), client_app, issued["body"]["refresh_token"])
    assert replay["body"]["error"] == "invalid_grant"
    events = [entry for entry in json_log() if entry["logger"] == "consent.oauth"]
    assert [(e["grant_type"], e["outcome"], e.get("error")) for e in events] == [
        ("authorization_code", "ok", None),
        ("refresh_token", "ok", None),
        ("refresh_token", "refused", "invalid_grant"),
    ]
    assert {e["client_id"] for e in events} == {client_app.client_id}
    everything = json.dumps(json_log())
    for secret in (code, issued["body"]["access_token"], issued["body"]["refresh_token"]):
        assert secret not in everything
    assert not re.search(r"\b(oat|ort|oac)_[A-Za-z0-9_-]{8,}", everything)


def test_a_secret_in_a_message_is_redacted(json_log):
    logging.getLogger("tokens").warning("bad token %s", "oat_" + "A" * 43)
    (entry,) = [e for e in json_log() if e["logger"] == "tokens"]
    assert entry["message"] == "bad token [redacted]"


def test_text_format_is_one_readable_line_with_the_fields():
    record = logging.getLogger("consent.oauth").makeRecord(
        "consent.oauth",
        logging.INFO,
        __file__,
        1,
        "OAuth %s answered",
        ("token",),
        None,
        extra={"client_id": "abc", "grant_type": "refresh_token"},
    )
    ContextFilter().filter(record)
    line = TextFormatter().format(record)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO consent\.oauth \[-\] OAuth token answered "
        r"client_id=abc grant_type=refresh_token",
        line,
    )
