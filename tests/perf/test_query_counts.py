"""Query-count guards of the benchmark's workloads (docs/benchmarks.md): a regression here is a
regression in W1, W5 or W6 long before anyone runs `make bench`.

W1: a bearer-checked `GET /api/me` costs a fixed small number of queries, and no cache stands
in for them: deactivating the token fails the very next request.
W5: the OAuth token list costs the same number of queries whatever the number of tokens, and
every request builds its page (nothing is cached).
W6: the consent page costs the same number of queries for 1 and for 100 organizations.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.principals import session_principal
from tests.consent.helpers import authorize_params, authorize_url, logged_in, pkce_pair, tokens_for
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tokens.models import AccessToken, AuthorizationStatus, OAuthToken
from tokens.services.api_tokens import api_token_create
from tokens.services.oauth_tokens import oauth_token_set_status

# /api/me: one statement resolves the access token with its OAuth token, user, client id and
# the profile's two summary counts (tokens.authentication._OAUTH_SQL).
W1_MAX_QUERIES = 1
# The list: the API token lookup; the filtered count and the page's ids in one statement; the
# page's items with their clients, written as JSON by PostgreSQL (tokens.selectors).
W5_MAX_QUERIES = 3
# The consent page: client, session, user, memberships, application overrides, organizations,
# and the user's earlier consent to this client (incremental consent, issue 18).
W6_MAX_QUERIES = 7


def _bearer_me(http: Client, raw: str):
    return http.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_w1_api_me_costs_a_fixed_number_of_queries_and_revocation_is_immediate(user, client_app):
    for _ in range(3):
        MembershipFactory(user=user)
    raw = tokens_for(user, client_app)["access_token"]
    http = Client()
    assert _bearer_me(http, raw).status_code == 200  # first use records lastUsed
    with CaptureQueriesContext(connection) as queries:
        response = _bearer_me(http, raw)
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["summary"]["orgCount"] == 3
    assert 0 < len(queries) <= W1_MAX_QUERIES, [q["sql"] for q in queries]

    grant = AccessToken.objects.by_value(raw).get().oauth_token
    oauth_token_set_status(token=grant, actor=session_principal(grant.user), active=False)
    assert _bearer_me(http, raw).status_code == 401


def _list_user_with_tokens(n: int, client_app):
    owner = UserFactory()
    start = timezone.now() - timedelta(days=1)
    OAuthToken.objects.bulk_create(
        [
            OAuthToken(
                user=owner,
                client=client_app,
                name=f"{'echo' if i % 2 else 'golf'} client {i:04d}",
                scope=["only.User.read"],
                authorization_status=AuthorizationStatus.AUTHORIZED,
                redirect_uri=client_app.redirect_uris[0],
                code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                creation_date=start + timedelta(seconds=i),
            )
            for i in range(n)
        ]
    )
    _token, raw = api_token_create(
        owner=owner, creator=owner, actor=session_principal(owner), name="list", scope=["all.User"]
    )
    return raw


def _list_queries(raw: str) -> tuple[int, int, dict]:
    """Queries of the page, then of the same page again (built again, the same bytes), and
    the page."""
    http = Client()
    query = {"sortField": "name", "sortDirection": "asc", "filterField": "name", "filter": "echo*"}

    def get():
        with CaptureQueriesContext(connection) as queries:
            response = http.get("/api/me/oauth-tokens", query, HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 200, response.content[:300]
        return len(queries), response

    get()  # the API token's first use records lastUsed
    built, response = get()
    again_queries, again = get()
    assert again.content == response.content
    return built, again_queries, response.json()


@pytest.mark.django_db
def test_w5_token_list_query_count_does_not_grow_with_the_number_of_tokens(client_app):
    few, few_again, few_body = _list_queries(_list_user_with_tokens(6, client_app))
    many, many_again, many_body = _list_queries(_list_user_with_tokens(300, client_app))
    assert few_body["totalCount"] == 3 and many_body["totalCount"] == 150
    names = [item["name"] for item in many_body["items"]]
    assert names == sorted(names) and all(n.startswith("echo") for n in names)
    assert few == many == few_again == many_again <= W5_MAX_QUERIES


def _consent_page_queries(orgs: int, client_app) -> tuple[int, bytes]:
    user = UserFactory()
    for i in range(orgs):
        MembershipFactory(user=user, organization=OrganizationFactory(name=f"Fan-out org {i:03d}"))
    browser = logged_in(user)
    _verifier, challenge = pkce_pair()
    url = authorize_url(authorize_params(client_app, challenge))
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    assert response.status_code == 200
    return len(queries), response.content


@pytest.mark.django_db
def test_w6_consent_page_query_count_is_the_same_for_1_and_100_organizations(client_app):
    one, one_page = _consent_page_queries(1, client_app)
    hundred, hundred_page = _consent_page_queries(100, client_app)
    assert b"Fan-out org 000" in one_page
    assert all(f"Fan-out org {i:03d}".encode() in hundred_page for i in range(100))
    assert one == hundred <= W6_MAX_QUERIES
