"""The OAuth token list on PostgreSQL (bench W5): the page's ids come from one hand-written
statement and PostgreSQL writes the items from one description of their shape
(tokens.selectors.OAUTH_TOKEN_ITEM). The ids must be the page the generic ORM list path
(apikit.lists.queryset_page) gives for the same parameters, on both of the statement's paths;
the items must be the reference's User OAuth Token (apikit.schemas.USER_OAUTH_TOKEN)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.principals import session_principal
from apikit import schemas
from apikit.lists import ListParams, queryset_page
from tests.db import prepared_runs
from tests.factories import OAuthClientFactory, OrganizationFactory, UserFactory
from tokens import selectors
from tokens.models import AuthorizationStatus, OAuthToken, TokenStatus
from tokens.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

PLUS_TWO = timezone(timedelta(hours=2))


def _token(user, client, *, last_updated: datetime | None = None, **fields) -> OAuthToken:
    values = {
        "name": "token",
        "scope": ["only.User.read"],
        "authorization_status": AuthorizationStatus.AUTHORIZED,
        "redirect_uri": "https://client.example/callback",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "resource": ["http://testserver/api"],
    }
    token = OAuthToken.objects.create(user=user, client=client, **(values | fields))
    if last_updated is not None:  # auto_now: only an update() sets it to a chosen value
        OAuthToken.objects.filter(pk=token.pk).update(last_updated=last_updated)
    return token


@pytest.fixture
def owner_tokens() -> tuple[object, list[OAuthToken]]:
    """Tokens covering every optional key and awkward value the reference shape has."""
    owner = UserFactory()
    bare = OAuthClientFactory(client_uri="", logo_uri="")
    full = OAuthClientFactory(
        client_name='Klïent "quoted" \\ </script>',
        client_uri="https://client.example/",
        logo_uri="data:image/png;base64,AA==",
    )
    tokens = [
        _token(owner, bare, name="bare"),
        _token(
            owner,
            full,
            name="Ünïcode ✓ \"q\" \\ 'x' %_*?",
            description="line\nbreak\ttab \u2028 end",
            creation_date=datetime(2024, 6, 1, 12, 0, 0, 500000, tzinfo=PLUS_TWO),
            last_updated=datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            expiration_date=datetime(500, 1, 2, 3, 4, 5, 678999, tzinfo=UTC),
            last_used=datetime(2025, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
            default_role="edit",
            org_roles=[
                {"orgId": OrganizationFactory().pk, "role": "view"},
                {"orgId": "sandbox", "role": "admin", "applicationRoles": []},
            ],
            scope=["all.Organization.read", "only.User.read"],
            status=TokenStatus.INACTIVE,
            resource=[],
        ),
        _token(
            owner,
            OAuthClientFactory(client_uri="https://only-uri.example/", logo_uri=""),
            name="uri only",
            expiration_date=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            authorization_status=AuthorizationStatus.PENDING,
        ),
        _token(owner, full, name="same client again", last_used=datetime(1, 1, 1, tzinfo=UTC)),
    ]
    return owner, tokens


def test_items_are_the_reference_shape_with_unset_keys_left_out(owner_tokens):
    owner, tokens = owner_tokens
    theirs = _token(UserFactory(), tokens[0].client, name="someone else's")
    ids = [t.pk for t in reversed(tokens)] + [theirs.pk, "0" * 24]

    text, count = selectors.oauth_tokens_json(user=owner, ids=ids)
    items = json.loads(text)

    assert count == len(items) == len(tokens)
    assert [item["id"] for item in items] == [t.pk for t in reversed(tokens)]
    for item in items:
        schemas.schema_validate(schemas.USER_OAUTH_TOKEN, item)
    unusual = tokens[1]
    assert items[2] == {
        "id": unusual.pk,
        "oauthTokenId": unusual.pk,
        "name": "Ünïcode ✓ \"q\" \\ 'x' %_*?",
        "description": "line\nbreak\ttab \u2028 end",
        "creationDate": "2024-06-01T10:00:00.500Z",
        "lastUpdated": "2024-12-31T23:59:59.999Z",
        "expirationDate": "500-01-02T03:04:05.678Z",
        "lastUsed": "2025-01-01T00:00:00.001Z",
        "defaultRole": "edit",
        "orgRoles": unusual.org_roles,
        "scope": ["all.Organization.read", "only.User.read"],
        "status": "inactive",
        "oauth": {
            "client_id": unusual.client.client_id,
            "client_name": 'Klïent "quoted" \\ </script>',
            "client_uri": "https://client.example/",
            "logo_uri": "data:image/png;base64,AA==",
            "redirect_uri": "https://client.example/callback",
            "resource": [],
            "authorizationStatus": "authorized",
        },
    }
    # Key order is the description's, which is the schema's.
    assert list(items[2]) == list(schemas.USER_OAUTH_TOKEN["properties"])
    oauth_schema = schemas.USER_OAUTH_TOKEN["properties"]["oauth"]["properties"]
    assert list(items[2]["oauth"]) == list(oauth_schema)
    bare = items[-1]  # no expiry, never used, a client without URIs: those keys are absent
    assert {"expirationDate", "lastUsed"}.isdisjoint(bare)
    assert {"client_uri", "logo_uri"}.isdisjoint(bare["oauth"])
    assert items[0]["lastUsed"] == "1-01-01T00:00:00.000Z"
    assert selectors.oauth_tokens_json(user=owner, ids=[]) == ("[]", 0)
    assert selectors.oauth_tokens_json(user=owner, ids=[theirs.pk]) == ("[]", 0)


def test_the_item_description_is_the_schema():
    """One shape: every key the schema names, in its order, and no other."""
    keys = [key for key, _ in selectors.OAUTH_TOKEN_ITEM]
    oauth = dict(selectors.OAUTH_TOKEN_ITEM)["oauth"]
    properties = schemas.USER_OAUTH_TOKEN["properties"]
    assert keys == list(properties)
    assert [key for key, _ in oauth] == list(properties["oauth"]["properties"])


def test_the_items_statement_is_prepared_once_and_reused(owner_tokens):
    """PostgreSQL plans it once per connection (planning was a fifth of its cost)."""
    owner, tokens = owner_tokens
    for _ in range(3):
        assert selectors.oauth_tokens_json(user=owner, ids=[tokens[0].pk])[1] == 1
    assert prepared_runs("json_agg(json_strip_nulls(") >= 3


@pytest.mark.parametrize(
    "params",
    [
        ListParams(filter_field="name", filter="*"),
        ListParams(filter_field="name", filter="s*", sort_direction="desc"),
        ListParams(filter_field="name", filter="*n*", sort_field="creationDate"),
        ListParams(filter_field="name", filter="*", sort_field="status", per_page=2, page=1),
        ListParams(filter_field="name", filter="*", per_page=2, page=5),
        ListParams(filter_field="name", filter="nothing*"),
        ListParams(sort_field="lastUpdated", sort_direction="desc"),
        ListParams(sort_field="id", per_page=3, page=1),
        ListParams(filter_field="name", filter="*o*", sort_field="lastUpdated", page=0),
        ListParams(filter_field="name", filter="*E*", sort_field="id", sort_direction="desc"),
        ListParams(filter_field="name", filter="?a*", sort_field="status", per_page=1, page=1),
        ListParams(filter_field="name", filter="S*", sort_field="creationDate", per_page=2),
        ListParams(filter_field="name", filter="s*", sort_field="status", per_page=2, page=1),
        ListParams(filter_field="name", filter="s*c*", sort_field="id", sort_direction="desc"),
    ],
)
@pytest.mark.parametrize(
    ("sorted_matches_max", "trigram_matches_max"),
    [
        pytest.param(5000, 10**9, id="trigrams-sorted"),
        pytest.param(0, 10**9, id="trigrams-read-in-order"),
        pytest.param(5000, -1, id="index-entries"),
    ],
)
def test_id_page_is_the_generic_list_paths_page(
    owner_tokens, params, sorted_matches_max, trigram_matches_max, monkeypatch
):
    """Every path of the statements, forced with the thresholds: a literal prefix's range,
    counted first, sorted or read in sort order; any other glob looked up by trigrams, its
    matches found first and sorted when they are few, else counted apart and the page read in
    sort order (one match too many), or tested on every index entry, counted first and the
    page read in sort order."""
    monkeypatch.setattr(selectors, "SORTED_MATCHES_MAX", sorted_matches_max)
    monkeypatch.setattr(selectors, "TRIGRAM_MATCHES_MAX", trigram_matches_max)
    owner, tokens = owner_tokens
    for name in ("Second", "sixth client"):  # a prefix's range of more than one
        _token(owner, tokens[0].client, name=name)
    _token(UserFactory(), OAuthClientFactory(), name="someone else's")
    generic = queryset_page(
        OAuthToken.objects.filter(user=owner), spec=selectors.OAUTH_TOKEN_LIST, params=params
    )

    ids = selectors.oauth_token_ids_list(user=owner, params=params)

    assert ids.items == [token.pk for token in generic.items]
    assert ids.total_count == generic.total_count


def test_api_list_is_the_page_of_items(client, owner_tokens):
    """The items of the page's ids, in order, inside the reference's collection fields."""
    owner, _ = owner_tokens
    _, raw = api_token_create(
        owner=owner, creator=owner, actor=session_principal(owner), name="list", scope=["all.User"]
    )
    query = {"sortField": "creationDate", "sortDirection": "desc", "filterField": "name"}
    for glob in ("*", "*a*", "s*", "nothing*"):
        params = ListParams(
            sort_field="creationDate", sort_direction="desc", filter_field="name", filter=glob
        )
        page = selectors.oauth_token_ids_list(user=owner, params=params)
        items = [selectors.oauth_token_item(user=owner, token_id=pk) for pk in page.items]
        expected = {"items": items, **page.meta()}

        response = client.get(
            "/api/me/oauth-tokens", {**query, "filter": glob}, HTTP_AUTHORIZATION=f"Bearer {raw}"
        )

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert json.dumps(response.json()) == json.dumps(expected)
        schemas.schema_validate(schemas.USER_OAUTH_TOKENS, response.json())


def test_prefix_index_covers_the_id_and_every_sort_key():
    """A prefix glob's matches, count and order come from an index-only scan (tokens.models
    OAuthToken.Meta.indexes): a sort key missing from the index sends every match to the table
    (bench W5a: 3x)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE c.relname = 'oauthtoken_user_fname'"
        )
        covered = {name for (name,) in cursor.fetchall()}
    sort_columns = {
        OAuthToken._meta.get_field(field).column
        for field in selectors.OAUTH_TOKEN_LIST.sort_fields.values()
    }
    assert {"user_id", "id"} | sort_columns <= covered


@pytest.mark.parametrize(("glob", "direction"), [("s*", "asc"), ("S?me*", "desc")])
def test_a_literal_prefix_sorted_by_name_is_read_in_index_order(owner_tokens, glob, direction):
    """The page comes from the folded-name index as a range, with no sort step: its first rows
    are the page (bench W5; the count may use the same range)."""
    owner, _ = owner_tokens
    params = ListParams(filter_field="name", filter=glob, sort_direction=direction)
    with CaptureQueriesContext(connection) as queries:
        page = selectors.oauth_token_ids_list(user=owner, params=params)
    assert page.total_count == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # A table this small costs a sort of one row like an index read: forbid the sort, so
        # the plan shows whether the index can give the order at all.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + queries[-1]["sql"])
        plan = "\n".join(line for (line,) in cursor.fetchall())
    page_plan = plan[plan.rindex("InitPlan") :]  # the read in sort order, the branch taken
    assert re.search(r"Index Only Scan (Backward )?using oauthtoken_user_fname", page_plan), plan
    assert ">= 's'::text" in page_plan and "Sort" not in page_plan, plan
