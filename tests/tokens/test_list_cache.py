"""The OAuth token list's response cache (tokens.list_cache): a repeated page costs two
queries, and every kind of change to what the list shows is on the very next request, from
whichever connection it was made. PostgreSQL's triggers (migration 0006) are exercised for
real: nothing here sets a version by hand."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikit.lists import ListParams
from tests.factories import OAuthClientFactory, UserFactory
from tokens.authentication import session_principal
from tokens.list_cache import PageCache, oauth_token_pages
from tokens.models import OAuthToken, OAuthTokenListVersion
from tokens.services.api_tokens import api_token_create
from tokens.services.oauth_tokens import oauth_token_create, oauth_token_set_status
from tokens.services.purge import token_purge_pending

# Built, for a filtered page: the API token, the list version, the count with the ids, the
# items as JSON.
BUILT_QUERIES = 4
# Cached: the API token and the list version.
CACHED_QUERIES = 2


class Lister:
    """A user with OAuth tokens, listing them through the JSON API with a user API token."""

    def __init__(self, client, n: int = 4, *, owner=None) -> None:
        self.owner = owner or UserFactory()
        self.client = client
        self.tokens = [self.add(f"echo {i}") for i in range(n)]
        _token, self.raw = api_token_create(
            owner=self.owner,
            creator=self.owner,
            actor=session_principal(self.owner),
            name="list",
            scope=["all.User"],
        )
        self.http = Client()

    def add(self, name: str, **fields) -> OAuthToken:
        token = oauth_token_create(
            user=self.owner,
            actor=session_principal(self.owner),
            client=self.client,
            name=name,
            scope=["only.User.read"],
            redirect_uri=self.client.redirect_uris[0],
            code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        if fields:
            OAuthToken.objects.filter(pk=token.pk).update(**fields)
        return token

    def get(self, **query: str) -> tuple[bytes, int]:
        query = query or {"filterField": "name", "filter": "echo*"}
        with CaptureQueriesContext(connection) as queries:
            response = self.http.get(
                "/api/me/oauth-tokens", query, HTTP_AUTHORIZATION=f"Bearer {self.raw}"
            )
        assert response.status_code == 200, response.content[:300]
        return response.content, len(queries)

    def cached(self, **query: str) -> bytes:
        """The page, built once and then served from the cache."""
        self.get(**query)
        body, queries = self.get(**query)
        assert queries == CACHED_QUERIES
        return body

    def built(self, **query: str) -> bytes:
        """The page as it is built without the cache."""
        oauth_token_pages.clear()
        body, queries = self.get(**query)
        assert queries == BUILT_QUERIES
        return body


def _items(body: bytes) -> dict[str, dict]:
    return {item["id"]: item for item in json.loads(body)["items"]}


@pytest.mark.django_db
def test_a_repeated_page_is_served_from_the_cache_byte_for_byte(client_app):
    lister = Lister(client_app, 6)
    query = {"sortField": "name", "sortDirection": "desc", "filterField": "name", "filter": "echo*"}
    first, _ = lister.get(**query)  # its API token's first use also records lastUsed
    again, again_queries = lister.get(**query)
    assert again_queries == CACHED_QUERIES
    assert again == first == lister.built(**query)
    assert json.loads(again)["totalCount"] == 6


@pytest.mark.django_db
def test_pages_are_kept_apart_by_user_and_by_parameters(client_app):
    alice, bob = Lister(client_app, 3), Lister(client_app, 5)
    assert json.loads(alice.cached())["totalCount"] == 3
    assert json.loads(bob.cached())["totalCount"] == 5
    assert set(_items(alice.cached())).isdisjoint(_items(bob.cached()))
    ascending = json.loads(alice.cached(sortDirection="asc"))["items"]
    descending = json.loads(alice.cached(sortDirection="desc"))["items"]
    assert [i["id"] for i in ascending] == [i["id"] for i in reversed(descending)]
    assert json.loads(alice.cached(filterField="name", filter="echo 1"))["totalCount"] == 1


def _deactivate(lister: Lister) -> None:
    oauth_token_set_status(
        token=lister.tokens[0], actor=session_principal(lister.tokens[0].user), active=False
    )


def _rename_through_the_api(lister: Lister) -> None:
    response = lister.http.patch(
        f"/api/me/oauth-tokens/{lister.tokens[0].pk}",
        data={"name": "echo renamed"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {lister.raw}",
    )
    assert response.status_code == 200, response.content


def _delete_through_the_api(lister: Lister) -> None:
    response = lister.http.delete(
        f"/api/me/oauth-tokens/{lister.tokens[0].pk}", HTTP_AUTHORIZATION=f"Bearer {lister.raw}"
    )
    assert response.status_code == 200, response.content


def _new_authorization(lister: Lister) -> None:
    lister.add("echo new")


def _last_used_stamped(lister: Lister) -> None:
    OAuthToken.objects.filter(pk=lister.tokens[0].pk).update(last_used=timezone.now())


def _client_renamed(lister: Lister) -> None:
    lister.client.client_name = "Renamed client"
    lister.client.save()


def _stale_pending_token_purged(lister: Lister) -> None:
    assert token_purge_pending(now=timezone.now()).pending_tokens == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        _deactivate,
        _rename_through_the_api,
        _delete_through_the_api,
        _new_authorization,
        _last_used_stamped,
        _client_renamed,
        _stale_pending_token_purged,
    ],
)
def test_every_change_shows_on_the_very_next_request(change):
    lister = Lister(OAuthClientFactory())
    lister.add("echo stale", creation_date=timezone.now() - timedelta(hours=25))
    before = lister.cached()
    change(lister)
    after, queries = lister.get()
    assert queries == BUILT_QUERIES
    assert after != before
    assert after == lister.built()


@pytest.mark.django_db
def test_a_client_change_that_the_list_does_not_show_keeps_the_page(client_app):
    lister = Lister(client_app)
    before = lister.cached()
    client_app.contacts = ["ops@example.com"]
    client_app.save()
    again, queries = lister.get()
    assert (again, queries) == (before, CACHED_QUERIES)


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_shows_on_the_next_request():
    lister = Lister(OAuthClientFactory())
    before = lister.cached()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute(
            "UPDATE tokens_oauthtoken SET status = 'inactive' WHERE id = %s",
            [lister.tokens[1].pk],
        )
    after, queries = lister.get()
    assert queries == BUILT_QUERIES
    assert _items(after)[lister.tokens[1].pk]["status"] == "inactive"
    assert _items(before)[lister.tokens[1].pk]["status"] == "active"


def _sequence_value() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM tokens_oauthtokenlistversion_seq")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_statement_moves_each_of_its_users_once_whatever_the_row_count(client_app):
    alice, bob = Lister(client_app, 40), Lister(client_app, 60)
    versions = dict(OAuthTokenListVersion.objects.values_list("user_id", "version"))
    start = _sequence_value()
    changed = OAuthToken.objects.filter(user__in=[alice.owner, bob.owner]).update(
        description="bulk"
    )
    assert changed == 100
    assert _sequence_value() == start + 2
    now = dict(OAuthTokenListVersion.objects.values_list("user_id", "version"))
    for owner in (alice.owner, bob.owner):
        assert now[owner.pk] > versions[owner.pk]
    OAuthToken.objects.filter(user=alice.owner, name="no such token").update(description="x")
    assert _sequence_value() == start + 2


@pytest.mark.django_db
def test_without_a_version_row_nothing_is_cached(client_app):
    lister = Lister(client_app)
    lister.get()
    OAuthTokenListVersion.objects.filter(user_id=lister.owner.pk).delete()
    assert [lister.get()[1], lister.get()[1]] == [BUILT_QUERIES, BUILT_QUERIES]


def _body(size: int) -> dict:
    return {"items": "[" + "x" * size + "]", "totalCount": 1}


def test_page_cache_drops_the_least_recently_used_pages_past_its_size():
    cache = PageCache(max_bytes=3 * (1000 + 600))
    keys = [("u", ListParams(page=n)) for n in range(4)]
    for key in keys[:3]:
        cache.put(key, 1, _body(1000))
    assert cache.get(keys[0], 1) is not None  # now the most recently used
    cache.put(keys[3], 1, _body(1000))
    assert len(cache) == 3 and cache.size_bytes <= cache.max_bytes
    assert cache.get(keys[1], 1) is None
    assert [cache.get(k, 1) is not None for k in (keys[0], keys[2], keys[3])] == [True] * 3


def test_page_cache_counts_the_filter_of_its_key_in_its_size():
    cache = PageCache(max_bytes=4 * (2 + 1024 + 600))
    for n in range(8):
        cache.put(("u", ListParams(filter=f"{n}" + "*" * 1023)), 1, {"items": "[]"})
    assert len(cache) == 4 and cache.size_bytes <= cache.max_bytes


def test_page_cache_answers_only_for_the_version_a_page_was_built_at():
    cache = PageCache(max_bytes=1 << 20)
    key = ("u", ListParams())
    cache.put(key, 7, _body(10))
    assert cache.get(key, 8) is None and cache.get(key, None) is None
    served = cache.get(key, 7)
    served["totalCount"] = 99
    assert cache.get(key, 7)["totalCount"] == 1  # callers get a copy
    cache.put(key, None, _body(10))
    cache.put(("v", ListParams()), None, _body(10))
    assert len(cache) == 1


def test_page_cache_of_zero_bytes_keeps_nothing():
    cache = PageCache(max_bytes=0)
    cache.put(("u", ListParams()), 1, _body(10))
    assert len(cache) == 0 and cache.get(("u", ListParams()), 1) is None
