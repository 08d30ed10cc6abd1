"""Reads on tokens, always scoped to their owner. The list selectors take parsed list parameters
(`apikit.lists.list_params_parse`) and return one `Page`; the JSON API and the My Account pages
share them.

    params = list_params_parse(request.GET, spec=OAUTH_TOKEN_LIST)
    page = oauth_tokens_list(user=request.user, params=params)
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.errors import not_found
from accounts.models import Application, User
from apikit.ids import is_object_id
from apikit.lists import (
    ListParams,
    ListSpec,
    Page,
    queryset_page,
    queryset_page_ids,
    rows_in_order,
)
from consent.models import OAuthClient
from tokens.models import (
    ApiToken,
    AuthorizationStatus,
    OAuthToken,
    OAuthTokenListVersion,
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
    """A sorted, filtered page of the user's OAuth tokens (reference: GET /me/oauth-tokens).

    The clients come by prefetch: a page's tokens nearly all share a few clients, and a join
    built (and JSON-decoded) a client per row, about half the page's CPU (bench W5).
    """
    return queryset_page(
        oauth_tokens_for(user=user).select_related(None).prefetch_related("client"),
        spec=OAUTH_TOKEN_LIST,
        params=params or ListParams(),
    )


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


def oauth_token_ids_list(*, user: User, params: ListParams | None = None) -> Page[str]:
    """The same page as `oauth_tokens_list`, holding only the tokens' ids, in page order."""
    return queryset_page_ids(
        OAuthToken.objects.filter(user=user), spec=OAUTH_TOKEN_LIST, params=params or ListParams()
    )


def oauth_tokens_by_ids(*, user: User, ids: list[str]) -> list[OAuthToken]:
    """The user's OAuth tokens `ids` (with their clients), in the order of `ids`."""
    tokens = oauth_tokens_for(user=user).select_related(None).prefetch_related("client")
    return rows_in_order(tokens, ids)


# tokens.api.oauth_token_to_dict, written in SQL: the same keys in the same order, dates as
# apikit.dates.iso_datetime writes them (FM: no zero-padding of the year, like strftime's %Y;
# MS truncates, like microsecond // 1000). The optional keys come as null and are dropped below.
_ISO = """'FMYYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"""
_OAUTH_TOKENS_JSON_SQL = f"""
SELECT json_agg(json_build_object(
    'id', t.id, 'oauthTokenId', t.id, 'name', t.name, 'description', t.description,
    'creationDate', to_char(t.creation_date AT TIME ZONE 'UTC', {_ISO}),
    'lastUpdated', to_char(t.last_updated AT TIME ZONE 'UTC', {_ISO}),
    'expirationDate', to_char(t.expiration_date AT TIME ZONE 'UTC', {_ISO}),
    'lastUsed', to_char(t.last_used AT TIME ZONE 'UTC', {_ISO}),
    'defaultRole', t.default_role, 'orgRoles', t.org_roles, 'scope', t.scope,
    'status', t.status,
    'oauth', json_build_object(
        'client_id', c.client_id, 'client_name', c.client_name,
        'client_uri', NULLIF(c.client_uri, ''), 'logo_uri', NULLIF(c.logo_uri, ''),
        'redirect_uri', t.redirect_uri, 'resource', t.resource,
        'authorizationStatus', t.authorization_status
    )
) ORDER BY page.n)::text, COUNT(*)
FROM unnest(%s::text[]) WITH ORDINALITY AS page(id, n)
JOIN {OAuthToken._meta.db_table} t ON t.id = page.id AND t.user_id = %s
JOIN {OAuthClient._meta.db_table} c ON c.id = t.client_id
"""
# json_build_object writes every key as `"key" : value`, which no string or embedded jsonb value
# can contain unescaped, so these are exactly the optional keys that are unset.
_UNSET_OPTIONAL_KEYS = tuple(
    f', "{key}" : null' for key in ("expirationDate", "lastUsed", "client_uri", "logo_uri")
)


def oauth_tokens_json(*, user: User, ids: list[str]) -> tuple[str, int]:
    """What `tokens.api.oauth_token_to_dict` makes of each of the user's OAuth tokens `ids`, in
    the order of `ids`, as the text of a JSON array, and how many items it holds; written by
    PostgreSQL in one prepared statement (PostgreSQL only).

    Making a model and then a dict of each token cost about 9 ms of Python CPU for a page of
    100 (bench W5), most of it parsing and formatting dates; decoding the database's JSON to
    drop the unset keys and encoding it again for the response cost 1.5 ms more. The text goes
    into the response as it is (apikit.views.RawJson). The statement's text is fixed, so it is
    planned once per connection; the list's count+ids statement is not prepared, as its glob
    must reach the planner as a literal for the prefix index to apply.
    """
    if not ids:
        return "[]", 0
    items, count = fetch_one(_OAUTH_TOKENS_JSON_SQL, [ids, user.pk])
    if not count:
        return "[]", 0
    for unset in _UNSET_OPTIONAL_KEYS:
        items = items.replace(unset, "")
    return items, count


_LIST_VERSION_SQL = f"SELECT version FROM {OAuthTokenListVersion._meta.db_table} WHERE user_id = %s"


def oauth_token_list_version(*, user: User) -> int | None:
    """The current version of the user's OAuth token list (tokens.list_cache); None before any
    change was recorded."""
    row = fetch_one(_LIST_VERSION_SQL, [user.pk])
    return None if row is None else row[0]


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
