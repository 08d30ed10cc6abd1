"""Reads on tokens, always scoped to their owner. The list selectors take parsed list parameters
(`apikit.lists.list_params_parse`) and return one `Page`; the JSON API and the My Account pages
share them.

    params = list_params_parse(request.GET, spec=OAUTH_TOKEN_LIST)
    page = oauth_tokens_list(user=request.user, params=params)
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.ids import is_object_id
from accounts.models import Application, User
from apikit.errors import not_found
from apikit.lists import ListParams, ListSpec, Page, queryset_page
from tokens.models import ApiToken, OAuthToken

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
