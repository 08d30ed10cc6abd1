"""Prometheus metrics (issue 17): guarded /metrics, request latency by route, and counters of
tokens issued, refreshed, refused and revoked (by reason) and of rate-limit refusals."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from accounts.principals import session_principal
from tests.consent.helpers import refresh, tokens_for
from tokens.models import OAuthToken
from tokens.services.oauth_tokens import oauth_token_set_status


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """Sample values before and after a block."""

    def __init__(self, *samples: tuple) -> None:
        self.samples = samples

    def __enter__(self) -> Delta:
        self.before = [_value(name, **labels) for name, labels in self.samples]
        return self

    def __exit__(self, *exc) -> None:
        self.after = [_value(name, **labels) for name, labels in self.samples]

    @property
    def changes(self) -> list[float]:
        return [after - before for before, after in zip(self.before, self.after, strict=True)]


ISSUED = ("oauth_tokens_issued_total", {"grant_type": "authorization_code"})
REFRESHED = ("oauth_tokens_refreshed_total", {})


def _revoked(reason: str) -> tuple:
    return ("oauth_tokens_revoked_total", {"reason": reason})


def _refused(endpoint: str, reason: str) -> tuple:
    return ("oauth_tokens_refused_total", {"endpoint": endpoint, "reason": reason})


def test_metrics_are_not_public_by_default(db):
    response = Client().get("/metrics")
    assert response.status_code == 404
    assert b"oauth_tokens" not in response.content


def test_metrics_with_the_bearer_token(db, settings):
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain; version=")
    assert b"# TYPE oauth_tokens_issued_total counter" in ok.content
    assert b"# TYPE http_request_duration_seconds histogram" in ok.content
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert Client().get("/metrics").status_code == 404


def test_metrics_for_an_allowed_network_whatever_the_host(db, settings):
    settings.ALLOWED_HOSTS = ["auth.example.com"]
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client().get("/metrics", HTTP_HOST="web:8000").status_code == 404  # 127.0.0.1
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert Client().get("/metrics", HTTP_HOST="web:8000").status_code == 200


def test_issue_refresh_and_refresh_reuse_are_counted(user, client_app):
    with Delta(
        ISSUED, REFRESHED, _refused("token", "invalid_grant"), _revoked("refresh_reused")
    ) as d:
        body = tokens_for(user, client_app)
        assert refresh(Client(), client_app, body["refresh_token"])["status"] == 200
        assert refresh(Client(), client_app, body["refresh_token"])["status"] == 400
    assert d.changes == [1, 1, 1, 1]


def test_deactivation_revocation_and_deletion_are_counted_by_reason(user, client_app):
    body = tokens_for(user, client_app)
    token = OAuthToken.objects.get(user=user)
    with Delta(
        _revoked("deactivated"),
        _revoked("client_revoked_access_token"),
        _revoked("client_revoked_refresh_token"),
    ) as d:
        oauth_token_set_status(token=token, actor=session_principal(user), active=False)
        for raw in (body["access_token"], body["refresh_token"]):
            data = {"token": raw, "client_id": client_app.client_id}
            assert Client().post("/oauth/revoke", data).status_code == 200
    assert d.changes == [1, 1, 1]


def test_a_refused_bearer_token_and_a_rate_limit_refusal_are_counted(db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token": "1/3600"}
    token_route = ("rate_limit_refusals_total", {"route": "/oauth/token"})
    with Delta(
        _refused("api", "invalid_token"), token_route, _refused("token", "invalid_client")
    ) as d:
        assert Client().get("/api/me", HTTP_AUTHORIZATION="Bearer oat_unknown").status_code == 401
        assert Client().get("/api/me").status_code == 401  # no token sent: not a refusal
        data = {"grant_type": "authorization_code", "code": "x", "client_id": "nope"}
        assert Client().post("/oauth/token", data).status_code == 400
        assert Client().post("/oauth/token", data).status_code == 429
    assert d.changes == [1, 1, 1]


@pytest.mark.parametrize("path", ["/accounts/login/"])
def test_request_latency_is_recorded_by_route(db, path):
    count = ("http_request_duration_seconds_count", {"method": "GET", "route": path})
    with Delta(
        count, ("http_requests_total", {"method": "GET", "route": path, "status": "200"})
    ) as d:
        assert Client().get(path).status_code == 200
    assert d.changes == [1, 1]
    with Delta(
        ("http_requests_total", {"method": "GET", "route": "/healthz", "status": "200"})
    ) as d:
        Client().get("/healthz")
    assert d.changes == [0]  # probes are not requests the service serves
