"""The bearer fast path (tokens.authentication): one prepared statement, no `SELECT 1` health
check before it, and still the health check's recovery when a kept connection has died."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.consent.helpers import tokens_for
from tests.db import prepared_runs
from tests.factories import MembershipFactory, OAuthClientFactory, UserFactory


def _me(http: Client, raw: str):
    # Every real request starts with this (request_started); the test client leaves it out.
    close_old_connections()
    return http.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def _terminate(pid: int) -> None:
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_that_died_is_replaced_without_a_failed_request():
    user = UserFactory()
    MembershipFactory(user=user)
    raw = tokens_for(user, OAuthClientFactory())["access_token"]
    http = Client()
    assert _me(http, raw).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    _terminate(pid)  # as a PostgreSQL restart would, between two requests

    with CaptureQueriesContext(connection) as queries:
        response = _me(http, raw)
    assert response.status_code == 200
    assert response.json()["summary"]["orgCount"] == 1
    assert not any(q["sql"].strip().upper() == "SELECT 1" for q in queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


@pytest.mark.django_db(transaction=True)
def test_the_bearer_lookup_is_a_prepared_statement_and_skips_the_health_check():
    user = UserFactory()
    raw = tokens_for(user, OAuthClientFactory())["access_token"]
    http = Client()
    for _ in range(3):
        assert _me(http, raw).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert _me(http, raw).status_code == 200
    assert len(queries) == 1 and "tokens_accesstoken" in queries[0]["sql"]
    assert prepared_runs("tokens_accesstoken") >= 4
