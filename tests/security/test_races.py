"""Concurrency on real PostgreSQL, through the HTTP views (each thread its own test client and
its own database connection): parallel redemptions of one code, parallel refreshes of one
refresh token, the purge running during exchanges, and concurrent edits of one token's caps.
tests/tokens/test_grants.py races the redemption service itself."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier, Event

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.principals import session_principal
from tests.consent.helpers import (
    RFC7636_CHALLENGE,
    RFC7636_VERIFIER,
    authorize_params,
    consent,
    logged_in,
    pkce_pair,
    tokens_for,
)
from tests.factories import MembershipFactory, OAuthClientFactory, UserFactory
from tokens.authentication import principal_from_bearer
from tokens.models import AccessToken, AuthorizationStatus, OAuthToken, RefreshToken, TokenEvent
from tokens.services.api_tokens import api_token_create
from tokens.services.grants import authorization_code_issue
from tokens.services.oauth_tokens import oauth_token_create
from tokens.services.purge import token_purge_pending

# The PostgreSQL server is shared with other test runs (max_connections 100): 16 at once.
WORKERS = 16
pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    # Every request of a race comes from 127.0.0.1: the limits are not what is tested here.
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "off")


def _in_parallel(count: int, task) -> list:
    """Run task(index) `count` times on WORKERS threads; the first WORKERS start together."""
    barrier = Barrier(min(WORKERS, count))

    def run(index: int):
        try:
            if index < WORKERS:
                barrier.wait(timeout=30)
            return task(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(run, range(count)))


def _post_token(data: dict) -> tuple[int, dict]:
    response = Client().post("/oauth/token", data)
    return response.status_code, response.json()


def test_100_parallel_redemptions_of_one_code_yield_exactly_one_token():
    user, client_app = UserFactory(), OAuthClientFactory()
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client_app.redirect_uris[0],
        "client_id": client_app.client_id,
        "code_verifier": verifier,
    }
    results = _in_parallel(100, lambda _: _post_token(data))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 400: 99}, statuses
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    # The 99 replays were otherwise valid: the grant and the one issued token are revoked.
    winner = next(body for status, body in results if status == 200)
    assert principal_from_bearer(winner["access_token"]) is None
    assert not OAuthToken.objects.exists()
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()


def test_50_parallel_refreshes_yield_exactly_one_success_and_revoke_the_family():
    user, client_app = UserFactory(), OAuthClientFactory()
    issued = tokens_for(user, client_app)
    data = {
        "grant_type": "refresh_token",
        "refresh_token": issued["refresh_token"],
        "client_id": client_app.client_id,
    }
    results = _in_parallel(50, lambda _: _post_token(data))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 400: 49}, statuses
    winner = next(body for status, body in results if status == 200)
    for token in (issued["access_token"], winner["access_token"]):
        assert principal_from_bearer(token) is None
    assert not OAuthToken.objects.exists()
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    assert TokenEvent.objects.filter(kind="deleted").count() == 1


def test_the_purge_running_during_exchanges_never_deletes_a_just_authorized_token():
    """30 day-old pending tokens (purgeable) are exchanged while the purge runs in a loop in
    small batches. Every exchange that succeeded keeps a working token; every token the purge
    took had not been exchanged; nothing is left half-done."""
    client_app, user = OAuthClientFactory(), UserFactory()
    codes: dict[str, str] = {}
    for index in range(30):
        grant = oauth_token_create(
            user=user,
            actor=session_principal(user),
            client=client_app,
            name=f"Grant {index}",
            scope=["only.User.read"],
            redirect_uri=client_app.redirect_uris[0],
            code_challenge=RFC7636_CHALLENGE,
        )
        _, codes[grant.pk] = authorization_code_issue(oauth_token=grant)
    OAuthToken.objects.update(creation_date=timezone.now() - timedelta(days=1))
    grant_ids = list(codes)
    done = Event()
    purged = Counter()

    def purge_loop() -> None:
        try:
            while not done.is_set():
                purged["tokens"] += token_purge_pending(
                    now=timezone.now(), batch_size=3
                ).pending_tokens
                purged["runs"] += 1
        finally:
            connection.close()

    def exchange(index: int) -> tuple[int, dict]:
        return _post_token(
            {
                "grant_type": "authorization_code",
                "code": codes[grant_ids[index]],
                "redirect_uri": client_app.redirect_uris[0],
                "client_id": client_app.client_id,
                "code_verifier": RFC7636_VERIFIER,
            }
        )

    with ThreadPoolExecutor(max_workers=1) as purger:
        running = purger.submit(purge_loop)
        results = _in_parallel_limited(len(grant_ids), exchange, workers=8)
        done.set()
        running.result(timeout=60)

    exchanged = 0
    for grant_id, (status, body) in zip(grant_ids, results, strict=True):
        grant = OAuthToken.objects.filter(pk=grant_id).first()
        if status == 200:
            exchanged += 1
            assert grant is not None, "the purge deleted a token that had just been authorized"
            assert grant.authorization_status == AuthorizationStatus.AUTHORIZED
            assert principal_from_bearer(body["access_token"]) is not None
        else:
            assert (status, body["error"]) == (400, "invalid_grant")
            assert grant is None, "an exchange failed although its token was not purged"
    assert exchanged + purged["tokens"] == len(grant_ids)
    assert purged["runs"] >= 1
    assert OAuthToken.objects.filter(authorization_status="pending").count() == 0
    assert AccessToken.objects.count() == exchanged == RefreshToken.objects.count()
    print(
        f"RACE purge-vs-exchange: exchanged={exchanged} purged={purged['tokens']} runs={purged['runs']}"
    )


def _in_parallel_limited(count: int, task, *, workers: int) -> list:
    def run(index: int):
        try:
            return task(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(count)))


def test_two_concurrent_cap_edits_never_leave_a_mix():
    """Round after round, one editor PATCHes the token over the API while another saves the
    My Account form with different caps. The result is always exactly one of the two."""
    user = UserFactory()
    first = MembershipFactory(user=user, role="admin").organization
    second = MembershipFactory(user=user, role="admin").organization
    grant = oauth_token_create(
        user=user,
        actor=session_principal(user),
        client=OAuthClientFactory(),
        name="Shared",
        scope=["only.User.read"],
        redirect_uri="https://client.example/callback",
        code_challenge=RFC7636_CHALLENGE,
    )
    _, api_secret = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="editor", scope=["all.User"]
    )
    caps_a = ("view", {(first.pk, "admin"), (second.pk, "none")})
    caps_b = ("admin", {(first.pk, "none"), (second.pk, "edit")})

    def by_api() -> int:
        body = {
            "defaultRole": caps_a[0],
            "orgRoles": [{"orgId": org, "role": role} for org, role in sorted(caps_a[1])],
        }
        return (
            Client()
            .patch(
                f"/api/me/oauth-tokens/{grant.pk}",
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {api_secret}",
            )
            .status_code
        )

    browser = Client()
    browser.force_login(user)  # before the races: both editors start at the same moment

    def by_page() -> int:
        form = {
            "name": "Shared",
            "description": "",
            "status": "active",
            "default_role": caps_b[0],
            **{f"org_{org}": role for org, role in caps_b[1]},
        }
        return browser.post(f"/me/oauth-tokens/{grant.pk}", form).status_code

    outcomes = Counter()
    for _ in range(20):
        barrier = Barrier(2)

        def edit(which: int, barrier: Barrier = barrier):
            barrier.wait(timeout=30)
            return by_api() if which == 0 else by_page()

        assert _in_parallel_limited(2, edit, workers=2) == [200, 302]
        grant.refresh_from_db()
        caps = (grant.default_role, {(e["orgId"], e["role"]) for e in grant.org_roles})
        assert caps in (caps_a, caps_b), caps
        last = TokenEvent.objects.filter(token_id=grant.pk, kind="caps_changed").first()
        assert last.detail["defaultRole"] == grant.default_role
        assert {(e["orgId"], e["role"]) for e in last.detail["orgRoles"]} == caps[1]
        outcomes["api" if caps == caps_a else "page"] += 1
    print(f"RACE cap edits: 20 rounds, last writer api={outcomes['api']} page={outcomes['page']}")
