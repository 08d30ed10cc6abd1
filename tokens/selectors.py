"""Reads on tokens, always scoped to their owner. The list selectors take parsed list parameters
(`apikit.lists.list_params_parse`) and return one `Page`; the JSON API and the My Account pages
share them.

    params = list_params_parse(request.GET, spec=OAUTH_TOKEN_LIST)
    page = oauth_tokens_list(user=request.user, params=params)
"""

from __future__ import annotations

import functools
import json
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.errors import not_found
from accounts.models import Application, User
from apikit.ids import is_object_id
from apikit.lists import (
    LIKE_ESCAPE,
    ListParams,
    ListSpec,
    Page,
    glob_to_like,
    queryset_page,
    rows_in_order,
)
from consent.models import OAuthClient
from tokens.models import (
    ApiToken,
    AuthorizationStatus,
    OAuthToken,
    TokenStatus,
)
from tokens.sql import columns, fetch_all, fetch_one, instance, partial_instance

OAUTH_TOKEN_LIST = ListSpec(
    sort_fields={
        "name": "name",
        "status": "status",
        "id": "id",
        "creationDate": "creation_date",
        "lastUpdated": "last_updated",
    },
    filter_fields={"name": "name"},
)
API_TOKEN_LIST = ListSpec(
    sort_fields={
        "name": "name",
        "status": "status",
        "id": "id",
        "creationDate": "creation_date",
        "lastUpdated": "last_updated",
        "expirationDate": "expiration_date",
    },
    filter_fields={"name": "name", "status": "status"},
)


def oauth_tokens_for(*, user: User) -> QuerySet[OAuthToken]:
    """The user's own OAuth tokens (with their client, which every view shows)."""
    return OAuthToken.objects.filter(user=user).select_related("client")


def oauth_token_counts_by_client(*, user: User) -> dict[str, int]:
    """How many OAuth tokens the user holds per client (primary key), in one query."""
    return dict(
        OAuthToken.objects.filter(user=user)
        .order_by()
        .values("client_id")
        .annotate(n=Count("id"))
        .values_list("client_id", "n")
    )


def oauth_token_get(*, user: User, token_id: str) -> OAuthToken:
    """One of the user's OAuth tokens, or NotFound (another user's token is not found either)."""
    token = (
        oauth_tokens_for(user=user).filter(pk=token_id.lower()).first()
        if is_object_id(token_id)
        else None
    )
    if token is None:
        raise not_found("OAuth token")
    return token


def oauth_tokens_list(*, user: User, params: ListParams | None = None) -> Page[OAuthToken]:
    """A sorted, filtered page of the user's OAuth tokens (reference: GET /me/oauth-tokens), as
    models with their clients: the page of `oauth_token_ids_list`, for the My Account pages."""
    page = oauth_token_ids_list(user=user, params=params)
    return replace(page, items=oauth_tokens_by_ids(user=user, ids=page.items))


# "Is this grant usable" (STYLE 11), the rule's one statement: the OAuth token is active,
# authorized and unexpired, its user active and its client not suspended by an administrator
# (consent.models.OAuthClient.is_suspended). Every caller runs this text: the bearer check and
# introspection (tokens.authentication.active_access_token, which adds the access token's own
# expiry), refresh and code exchange (GRANT_COLUMNS under the grant's lock), and the My Account
# pages (`oauth_tokens_usable`). It reads `o` (the OAuth token), `u` and `c` as GRANT_JOINS joins
# them, and the named parameter `now`. Nothing is cached: a change is seen on the next request.
GRANT_ALIVE = (
    "(o.expiration_date IS NULL OR o.expiration_date > %(now)s)"
    " AND u.is_active AND NOT c.is_suspended"
)
GRANT_USABLE = (
    f"(o.status = '{TokenStatus.ACTIVE.value}'"
    f" AND o.authorization_status = '{AuthorizationStatus.AUTHORIZED.value}' AND {GRANT_ALIVE})"
)
# What a code exchange needs of the still-pending grant it is about to authorize: active (a
# pending token the user deactivated stays so) and alive.
GRANT_REDEEMABLE = f"(o.status = '{TokenStatus.ACTIVE.value}' AND {GRANT_ALIVE})"
GRANT_JOINS = (
    f" JOIN {OAuthClient._meta.db_table} c ON c.id = o.client_id"
    f" JOIN {User._meta.db_table} u ON u.id = o.user_id"
)
# An OAuth token with only what the token endpoint reads of its client and user, and the rule's
# verdicts: `usable` (GRANT_USABLE) and `redeemable` (GRANT_REDEEMABLE). For hand-written SQL
# that selects `o` and joins GRANT_JOINS (consent.selectors, tokens.services.grants); binds `now`.
GRANT_COLUMNS = (
    f"{columns('o', OAuthToken)}, c.client_id, u.is_active, {GRANT_USABLE}, {GRANT_REDEEMABLE}"
)


def grant_from_row(row: tuple) -> OAuthToken:
    """The OAuth token of a `GRANT_COLUMNS` row, with its client's client_id and its user's
    is_active loaded, as `.only()` of those fields would load them, and the rule's verdicts as
    the attributes `usable` and `redeemable` (like queryset annotations)."""
    grant = instance(OAuthToken, row[:-4])
    grant.client = partial_instance(OAuthClient, id=grant.client_id, client_id=row[-4])
    grant.user = partial_instance(User, id=grant.user_id, is_active=row[-3])
    grant.usable, grant.redeemable = row[-2], row[-1]
    return grant


_USABLE_IDS_SQL = (
    f"SELECT o.id FROM {OAuthToken._meta.db_table} o{GRANT_JOINS}"
    f" WHERE o.id = ANY(%(ids)s) AND {GRANT_USABLE}"
)


def oauth_tokens_usable(*, ids: list[str], now: datetime | None = None) -> set[str]:
    """Which of the OAuth tokens `ids` are usable right now (GRANT_USABLE): what the My Account
    pages show, by the same statement the API and the token endpoint obey."""
    if not ids:
        return set()
    rows = fetch_all(_USABLE_IDS_SQL, {"ids": list(ids), "now": now or timezone.now()})
    return {row[0] for row in rows}


_OAUTH_TOKENS = OAuthToken._meta.db_table
# The sort keys of each sort field, ties broken by id (none of them is nullable). Each has an
# index that starts (user_id, keys...) (tokens.models.OAuthToken.Meta.indexes).
_OAUTH_TOKEN_SORT_KEYS = {
    "name": ("t.name_folded", "t.name"),
    "status": ("t.status",),
    "id": (),
    "creationDate": ("t.creation_date",),
    "lastUpdated": ("t.last_updated",),
}
assert set(_OAUTH_TOKEN_SORT_KEYS) == set(OAUTH_TOKEN_LIST.sort_fields)
# Up to this many matches, a page is sorted from the matches, found through the filter's index
# (a literal prefix's range, counted first, or the trigrams' candidates, read first); past it,
# the page is read in sort order off the sort key's index, testing the glob on each entry,
# which for so common a glob ends soon, and the matches are counted apart. Sorting a prefix's
# 12 500 matches to show 100 took 14 ms, counting them and reading the page in order 5 (bench
# W5); reading the sort order for a rare glob passes over most tokens when its matches cluster
# at the far end of the order (names numbered as they were created).
SORTED_MATCHES_MAX = 10_000
# A glob without a literal prefix that the planner expects more tokens than this to match is
# tested on every entry of a user index, and the trigram index is not used: a common glob's
# trigrams are in nearly every name (`*a clie*`: " cl", "cli", "lie"...), so its candidates were
# all 100 000 tokens, each read from the table and tested again, 2-3x as long as the
# index-only read; the planner, which has no statistics on trigrams, cannot see it. Nor does it
# read the whole table, or in parallel, for one user's tokens. Such a glob is counted first and
# its page read in sort order: sorting its matches cost more than the rare long read of the
# order (bench W5). The estimate comes from the name's histogram, to about 1% of the user's
# tokens: 1 000 matches were expected as 2 800.
TRIGRAM_MATCHES_MAX = 5_000
_SCAN_USER_INDEX = (
    "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off;"
    " SET LOCAL max_parallel_workers_per_gather = 0"
)
# The user is `= ANY(array of one)`, not `=`: with `=` the planner drops user_id from an ORDER
# BY that starts with it (a constant) and, when one user holds most of the rows, reads a page
# in creation order off the single-column creation_date index, fetching every token, the other
# users' too, from the table (bench W5: 12-14 ms for page 10 in descending order, 2 ms off
# oauthtoken_user_created). The estimate is the same as for `=`.
_OF_USER = "t.user_id = ANY(%(users)s)"
_ESTIMATE_SQL = (
    f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {_OAUTH_TOKENS} t WHERE {_OF_USER}"
    f" AND t.name_folded LIKE lower(%(like)s) ESCAPE '{LIKE_ESCAPE}'"
)


GlobKind = Literal["", "prefix", "infix"]
ListRead = Literal["in_order", "counted_first", "matches_first"]


@functools.cache
def _ids_sql(*, sort_field: str, direction: str, glob: GlobKind, read: ListRead) -> str:
    """The statement that counts a list's matches and returns its page's ids, for one shape
    of list parameters (`glob`: "", "prefix" or "infix"); the values are bound (users, like,
    cap, limit, offset). A CTE and a subquery run only when read.

    `read` is "in_order": counted, then the page read in sort order; "counted_first": counted
    (`c`), then the page sorted from the matches (`m`) if there are at most `cap`, else read in
    sort order; "matches_first" (a trigram lookup, which is what costs, done once): `m` holds
    at most `cap` + 1 matches with their sort keys; if it holds fewer, they are all the
    matches, else the matches are counted apart and the page read in sort order.
    """
    where = _OF_USER
    if glob:  # apikit.lists.GlobMatch's rule, on the stored folded name
        where += f" AND t.name_folded LIKE lower(%(like)s) ESCAPE '{LIKE_ESCAPE}'"
    keys = (*_OAUTH_TOKEN_SORT_KEYS[sort_field], "t.id")
    order = ", ".join(f"{key} {direction}" for key in ("t.user_id", *keys))
    page = "LIMIT %(limit)s OFFSET %(offset)s"
    walk = f"ARRAY(SELECT t.id FROM {_OAUTH_TOKENS} t WHERE {where} ORDER BY {order} {page})"
    # Asked for in an index's order, the count is an index-only read of it, testing the glob on
    # each entry: a literal prefix's range of the name index, else the narrowest user index.
    # Otherwise the planner reads the table when one user holds most of its rows (1.7x as long).
    index_order = "t.user_id, t.name_folded" if glob == "prefix" else "t.user_id, t.id"
    count = (
        f"SELECT count(*) AS n FROM (SELECT FROM {_OAUTH_TOKENS} t WHERE {where}"
        f" ORDER BY {index_order}) x"
    )
    if read == "in_order":
        return f"SELECT ({count}), {walk}"
    named = ", ".join(f"{key} AS k{n}" for n, key in enumerate(keys))
    matches = f"SELECT {named} FROM {_OAUTH_TOKENS} t WHERE {where}"
    by_keys = ", ".join(f"k{n} {direction}" for n in range(len(keys)))
    sort = f"ARRAY(SELECT k{len(keys) - 1} FROM m ORDER BY {by_keys} {page})"
    if read == "counted_first":
        return (
            f"WITH c AS MATERIALIZED ({count}), m AS MATERIALIZED ({matches})"
            f" SELECT c.n, CASE WHEN c.n <= %(cap)s THEN {sort} ELSE {walk} END FROM c"
        )
    return (
        f"WITH m AS MATERIALIZED ({matches} LIMIT %(cap)s + 1),"
        " c AS MATERIALIZED (SELECT count(*) AS n FROM m)"
        f" SELECT CASE WHEN c.n <= %(cap)s THEN c.n ELSE ({count}) END,"
        f" CASE WHEN c.n <= %(cap)s THEN {sort} ELSE {walk} END FROM c"
    )


def oauth_token_ids_list(*, user: User, params: ListParams | None = None) -> Page[str]:
    """The ids of a sorted, filtered page of the user's OAuth tokens (reference: GET
    /me/oauth-tokens) and their total, in one hand-written statement (bench W5).

    The glob (apikit.lists: `*` and `?`, everything else literal, without regard to case) is
    matched against the stored folded name (`OAuthToken.name_folded`). The statement is not
    prepared: the planner sees the glob, so a literal prefix becomes a range of the name index
    ("C" collation) and the trigram index is weighed against the match count it expects.
    """
    params = params or ListParams()
    glob: GlobKind = ""
    if params.filtering:
        glob = "infix" if params.filter[0] in "*?" else "prefix"
    values = {
        "users": [user.pk],
        "like": glob_to_like(params.filter),
        "cap": SORTED_MATCHES_MAX,
        "limit": params.per_page,
        "offset": params.page * params.per_page,
    }
    index_only = glob == "infix" and _expected_matches(values) > TRIGRAM_MATCHES_MAX
    read: ListRead
    if glob == "infix" and not index_only:
        read = "matches_first"
    elif glob == "prefix" and params.sort_field != "name":
        read = "counted_first"
    else:  # every token, a prefix's range by name (already in page order), a common glob
        read = "in_order"
    sql = _ids_sql(
        sort_field=params.sort_field,
        direction="DESC" if params.sort_direction == "desc" else "ASC",
        glob=glob,
        read=read,
    )
    with transaction.atomic() if index_only else nullcontext(), connection.cursor() as cursor:
        if index_only:
            cursor.execute(_SCAN_USER_INDEX)
        cursor.execute(sql, values)
        total, ids = cursor.fetchone()
    return Page(items=ids, total_count=total, params=params)


def _expected_matches(values: dict[str, object]) -> float:
    """How many of the user's tokens the planner expects to match the glob (the column's
    statistics; planning only, nothing is read)."""
    with connection.cursor() as cursor:
        cursor.execute(_ESTIMATE_SQL, values)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]["Plan Rows"]


def oauth_tokens_by_ids(*, user: User, ids: list[str]) -> list[OAuthToken]:
    """The user's OAuth tokens `ids` (with their clients), in the order of `ids`."""
    tokens = oauth_tokens_for(user=user).select_related(None).prefetch_related("client")
    return rows_in_order(tokens, ids)


# The User OAuth Token (reference §2, apikit.schemas.USER_OAUTH_TOKEN), its one home: each key,
# in order, with the SQL that writes its value for the token `t` and its client `c`. A key
# whose value is NULL is left out (the optional dates, and the client's unset URIs), which is
# exact because no value the schema admits holds a null (json_strip_nulls is recursive).
# Dates as ISO 8601 in UTC with milliseconds (FM: no zero-padding of the year; MS truncates).
_ISO = """'FMYYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"""


def _iso(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', {_ISO})"


OAUTH_TOKEN_ITEM: tuple[tuple[str, object], ...] = (
    ("id", "t.id"),
    ("oauthTokenId", "t.id"),
    ("name", "t.name"),
    ("description", "t.description"),
    ("creationDate", _iso("t.creation_date")),
    ("lastUpdated", _iso("t.last_updated")),
    ("expirationDate", _iso("t.expiration_date")),
    ("lastUsed", _iso("t.last_used")),
    ("defaultRole", "t.default_role"),
    ("orgRoles", "t.org_roles"),
    ("scope", "t.scope"),
    ("status", "t.status"),
    (
        "oauth",
        (
            ("client_id", "c.client_id"),
            ("client_name", "c.client_name"),
            ("client_uri", "NULLIF(c.client_uri, '')"),
            ("logo_uri", "NULLIF(c.logo_uri, '')"),
            ("redirect_uri", "t.redirect_uri"),
            ("resource", "t.resource"),
            ("authorizationStatus", "t.authorization_status"),
        ),
    ),
)


def _json_object(fields: tuple[tuple[str, object], ...]) -> str:
    pairs = ", ".join(
        f"'{key}', {value if isinstance(value, str) else _json_object(value)}"
        for key, value in fields
    )
    return f"json_build_object({pairs})"


_OAUTH_TOKENS_JSON_SQL = f"""
SELECT json_agg(json_strip_nulls({_json_object(OAUTH_TOKEN_ITEM)}) ORDER BY page.n)::text,
    COUNT(*)
FROM unnest(%s::text[]) WITH ORDINALITY AS page(id, n)
JOIN {_OAUTH_TOKENS} t ON t.id = page.id AND t.user_id = %s
JOIN {OAuthClient._meta.db_table} c ON c.id = t.client_id
"""


def oauth_tokens_json(*, user: User, ids: list[str]) -> tuple[str, int]:
    """The User OAuth Token item (OAUTH_TOKEN_ITEM) of each of the user's OAuth tokens `ids`,
    in the order of `ids`, as the text of a JSON array, and how many items it holds; written
    by PostgreSQL in one prepared statement.

    Making a model and then a dict of each token cost about 9 ms of Python CPU for a page of
    100 (bench W5), most of it parsing and formatting dates; the text goes into the response as
    it is (apikit.views.RawJson).
    """
    if not ids:
        return "[]", 0
    items, count = fetch_one(_OAUTH_TOKENS_JSON_SQL, [ids, user.pk])
    return (items, count) if count else ("[]", 0)


def oauth_token_item(*, user: User, token_id: str) -> dict[str, Any]:
    """The User OAuth Token item (OAUTH_TOKEN_ITEM) of one of the user's OAuth tokens, or
    NotFound (another user's token is not found either)."""
    items, count = oauth_tokens_json(user=user, ids=[token_id])
    if not count:
        raise not_found("OAuth token")
    return json.loads(items)[0]


def user_api_tokens_for(*, user: User) -> QuerySet[ApiToken]:
    """The user's own user API tokens."""
    return ApiToken.objects.filter(user=user, owner_type="user")


def user_api_token_get(*, user: User, token_id: str) -> ApiToken:
    token = (
        user_api_tokens_for(user=user).filter(pk=token_id.lower()).first()
        if is_object_id(token_id)
        else None
    )
    if token is None:
        raise not_found("API token")
    return token


def user_api_tokens_list(*, user: User, params: ListParams | None = None) -> Page[ApiToken]:
    """A sorted, filtered page of the user's API tokens (reference: GET /me/tokens)."""
    return queryset_page(
        user_api_tokens_for(user=user), spec=API_TOKEN_LIST, params=params or ListParams()
    )


def application_api_tokens_for(*, application: Application) -> QuerySet[ApiToken]:
    """The application's API tokens. The caller has already checked the role on it."""
    return ApiToken.objects.filter(application=application, owner_type="application")


def application_api_token_get(*, application: Application, token_id: str) -> ApiToken:
    token = (
        application_api_tokens_for(application=application).filter(pk=token_id.lower()).first()
        if is_object_id(token_id)
        else None
    )
    if token is None:
        raise not_found("API token")
    return token


def application_api_tokens_list(
    *, application: Application, params: ListParams | None = None
) -> Page[ApiToken]:
    """A sorted, filtered page of an application's API tokens."""
    return queryset_page(
        application_api_tokens_for(application=application),
        spec=API_TOKEN_LIST,
        params=params or ListParams(),
    )
