"""JSON API for user OAuth tokens, user API tokens and application API tokens
(losant-api-reference.md §3), with the reference's output shapes built by explicit `*_to_dict`.

Roles: reading an application's tokens needs an effective `view` on it, creating, changing or
deleting them `edit` (the role that may "manage application API tokens", accounts.roles).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Application, User
from accounts.roles import Role
from accounts.selectors import application_get
from apikit import schemas
from apikit.dates import iso_datetime, iso_datetime_parse
from apikit.errors import validation_error
from apikit.lists import Page
from apikit.views import ApiCall, ApiRoute, RawJson, Unauthorized
from consent.models import OAuthClient
from tokens import selectors
from tokens.models import ApiToken
from tokens.resources import resource_served
from tokens.services.api_tokens import api_token_create, api_token_delete, api_token_update
from tokens.services.oauth_tokens import oauth_token_create, oauth_token_delete, oauth_token_update

# "Omit for the default 1-year session" (reference §2, User OAuth Token Post).
DEFAULT_OAUTH_SESSION = timedelta(days=365)
SUCCESS = {"success": True}

oauth_tokens_route = ApiRoute("/me/oauth-tokens", name="me-oauth-tokens", tag="User OAuth Tokens")
oauth_token_route = ApiRoute(
    "/me/oauth-tokens/{oauthTokenId}", name="me-oauth-token", tag="User OAuth Tokens"
)
user_tokens_route = ApiRoute("/me/tokens", name="me-tokens", tag="User API Tokens")
user_token_route = ApiRoute("/me/tokens/{apiTokenId}", name="me-token", tag="User API Tokens")
app_tokens_route = ApiRoute(
    "/applications/{applicationId}/tokens", name="application-tokens", tag="Application API Tokens"
)
app_token_route = ApiRoute(
    "/applications/{applicationId}/tokens/{apiTokenId}",
    name="application-token",
    tag="Application API Tokens",
)


def _dates(token: ApiToken) -> dict[str, str]:
    dates = {
        "creationDate": iso_datetime(token.creation_date),
        "lastUpdated": iso_datetime(token.last_updated),
    }
    if token.expiration_date is not None:
        dates["expirationDate"] = iso_datetime(token.expiration_date)
    if token.last_used is not None:
        dates["lastUsed"] = iso_datetime(token.last_used)
    return dates


def api_token_to_dict(token: ApiToken, *, raw: str | None = None) -> dict[str, Any]:
    """The reference's API Token; `token` (the secret) only in the create response."""
    data = {
        "id": token.pk,
        "apiTokenId": token.pk,
        "ownerId": token.owner_id,
        "ownerType": token.owner_type,
        "creatorId": token.creator_id,
        "creatorType": token.creator_type,
        "creatorName": token.creator_name,
        "name": token.name,
        "description": token.description,
        **_dates(token),
        "defaultRole": token.default_role,
        "orgRoles": list(token.org_roles),
        "scope": list(token.scope),
        "status": token.status,
    }
    if raw is not None:
        data["token"] = raw
    return data


def _collection(page: Page, to_dict, **extra: str) -> dict[str, Any]:
    return {"items": [to_dict(item) for item in page.items], **page.meta(), **extra}


def _caps_and_text(body: dict[str, Any]) -> dict[str, Any]:
    """The Patch fields, renamed to the services' keywords; absent ones stay absent."""
    names = {
        "name": "name",
        "description": "description",
        "status": "status",
        "defaultRole": "default_role",
        "orgRoles": "org_roles",
    }
    return {keyword: body[field] for field, keyword in names.items() if field in body}


def _resources_validate(resources: list[str] | None) -> list[str] | None:
    """RFC 8707 §2: each resource must be this server's API (tokens.resources)."""
    if resources is None:
        return None
    served = []
    for index, resource in enumerate(resources):
        value = resource_served(resource)
        if value is None:
            raise validation_error(f"oauth.resource[{index}] is not a resource this server serves")
        served.append(value)
    return list(dict.fromkeys(served))


# --- User OAuth tokens -----------------------------------------------------------------------


@oauth_tokens_route.operation(
    "GET",
    action="userOauthTokens.get",
    summary="Returns the OAuth tokens for a user",
    response=schemas.USER_OAUTH_TOKENS,
    list_spec=selectors.OAUTH_TOKEN_LIST,
)
def oauth_tokens_get(call: ApiCall) -> dict[str, Any]:
    page = selectors.oauth_token_ids_list(user=call.user, params=call.params)
    items, count = selectors.oauth_tokens_json(user=call.user, ids=page.items)
    return {"items": RawJson(items), **page.meta(), "count": count}


@oauth_tokens_route.operation(
    "POST",
    action="userOauthTokens.post",
    summary="Create a new OAuth token for a user (pending until its code is exchanged)",
    request=schemas.USER_OAUTH_TOKEN_POST,
    response=schemas.USER_OAUTH_TOKEN,
    status=201,
)
def oauth_tokens_post(call: ApiCall) -> dict[str, Any]:
    body, oauth = call.body, call.body["oauth"]
    client = OAuthClient.objects.by_client_id(oauth["client_id"])
    if client is None:
        raise validation_error("oauth.client_id is not a registered OAuth client")
    if "expirationDate" not in body:
        expiration = timezone.now() + DEFAULT_OAUTH_SESSION
    elif body["expirationDate"] is None:
        expiration = None
    else:
        expiration = iso_datetime_parse("expirationDate", body["expirationDate"])
    token = oauth_token_create(
        user=call.user,
        actor=call.principal,
        client=client,
        name=body["name"],
        description=body.get("description", ""),
        scope=body.get("scope", []),
        redirect_uri=oauth["redirect_uri"],
        code_challenge=oauth["code_challenge"],
        code_challenge_method=oauth["code_challenge_method"],
        resource=_resources_validate(oauth.get("resource")),
        default_role=body.get("defaultRole"),
        org_roles=body.get("orgRoles"),
        expiration_date=expiration,
    )
    return selectors.oauth_token_item(user=call.user, token_id=token.pk)


@oauth_token_route.operation(
    "GET",
    action="userOauthToken.get",
    summary="Retrieves information on an OAuth token",
    response=schemas.USER_OAUTH_TOKEN,
)
def oauth_token_get(call: ApiCall) -> dict[str, Any]:
    return selectors.oauth_token_item(user=call.user, token_id=call.ids["oauthTokenId"])


@oauth_token_route.operation(
    "PATCH",
    action="userOauthToken.patch",
    summary="Updates an OAuth token's name, description, status or permission cap",
    request=schemas.USER_OAUTH_TOKEN_PATCH,
    response=schemas.USER_OAUTH_TOKEN,
)
def oauth_token_patch(call: ApiCall) -> dict[str, Any]:
    token = selectors.oauth_token_get(user=call.user, token_id=call.ids["oauthTokenId"])
    oauth_token_update(token=token, actor=call.principal, **_caps_and_text(call.body))
    return oauth_token_get(call)


@oauth_token_route.operation(
    "DELETE",
    action="userOauthToken.delete",
    summary="Deletes an OAuth token; its access and refresh tokens stop working at once",
    response=schemas.SUCCESS,
)
def oauth_token_delete_view(call: ApiCall) -> dict[str, Any]:
    token = selectors.oauth_token_get(user=call.user, token_id=call.ids["oauthTokenId"])
    oauth_token_delete(token=token)
    return SUCCESS


# --- API tokens (user and application) -------------------------------------------------------


def _creator(call: ApiCall) -> User | ApiToken:
    """Who creates a token: the session's or OAuth token's user, or the calling API token."""
    if call.principal.kind in ("user_api", "application_api"):
        token = ApiToken.objects.filter(pk=call.principal.token_id).first()
        if token is None:  # deleted between authentication and now
            raise Unauthorized("Authentication token is invalid or expired", error="invalid_token")
        return token
    return call.user


def _api_token_create(call: ApiCall, owner: User | Application) -> dict[str, Any]:
    body = call.body
    expiration = (
        iso_datetime_parse("expirationDate", body["expirationDate"])
        if "expirationDate" in body
        else None
    )
    token, raw = api_token_create(
        owner=owner,
        creator=_creator(call),
        actor=call.principal,
        name=body["name"],
        description=body.get("description", ""),
        scope=body.get("scope"),
        expiration_date=expiration,
        default_role=body.get("defaultRole"),
        org_roles=body.get("orgRoles"),
        status=body.get("status", "active"),
    )
    return api_token_to_dict(token, raw=raw)


@user_tokens_route.operation(
    "GET",
    action="userApiTokens.get",
    summary="Returns the API tokens for a user",
    response=schemas.API_TOKENS,
    list_spec=selectors.API_TOKEN_LIST,
)
def user_tokens_get(call: ApiCall) -> dict[str, Any]:
    page = selectors.user_api_tokens_list(user=call.user, params=call.params)
    return _collection(page, api_token_to_dict, ownerId=call.user.pk, ownerType="user")


@user_tokens_route.operation(
    "POST",
    action="userApiTokens.post",
    summary="Create a new API token for a user (the secret is in this response only)",
    request=schemas.API_TOKEN_POST,
    response=schemas.API_TOKEN,
    status=201,
)
def user_tokens_post(call: ApiCall) -> dict[str, Any]:
    return _api_token_create(call, call.user)


@user_token_route.operation(
    "GET",
    action="userApiToken.get",
    summary="Retrieves information on a user API token",
    response=schemas.API_TOKEN,
)
def user_token_get(call: ApiCall) -> dict[str, Any]:
    return api_token_to_dict(
        selectors.user_api_token_get(user=call.user, token_id=call.ids["apiTokenId"])
    )


@user_token_route.operation(
    "PATCH",
    action="userApiToken.patch",
    summary="Updates a user API token's name, description, status or permission cap",
    request=schemas.API_TOKEN_PATCH,
    response=schemas.API_TOKEN,
)
def user_token_patch(call: ApiCall) -> dict[str, Any]:
    token = selectors.user_api_token_get(user=call.user, token_id=call.ids["apiTokenId"])
    return api_token_to_dict(
        api_token_update(token=token, actor=call.principal, **_caps_and_text(call.body))
    )


@user_token_route.operation(
    "DELETE",
    action="userApiToken.delete",
    summary="Deletes a user API token; it stops working at once",
    response=schemas.SUCCESS,
)
def user_token_delete(call: ApiCall) -> dict[str, Any]:
    api_token_delete(
        token=selectors.user_api_token_get(user=call.user, token_id=call.ids["apiTokenId"])
    )
    return SUCCESS


def _application(call: ApiCall, minimum_role: str) -> Application:
    return application_get(
        principal=call.principal,
        application_id=call.ids["applicationId"],
        minimum_role=minimum_role,
    )


@app_tokens_route.operation(
    "GET",
    action="applicationApiTokens.get",
    summary="Returns the API tokens for an application",
    response=schemas.API_TOKENS,
    list_spec=selectors.API_TOKEN_LIST,
)
def app_tokens_get(call: ApiCall) -> dict[str, Any]:
    application = _application(call, Role.VIEW)
    page = selectors.application_api_tokens_list(application=application, params=call.params)
    return _collection(page, api_token_to_dict, ownerId=application.pk, ownerType="application")


@app_tokens_route.operation(
    "POST",
    action="applicationApiTokens.post",
    summary="Create a new API token for an application (the secret is in this response only)",
    request=schemas.API_TOKEN_POST,
    response=schemas.API_TOKEN,
    status=201,
)
def app_tokens_post(call: ApiCall) -> dict[str, Any]:
    return _api_token_create(call, _application(call, Role.EDIT))


@app_token_route.operation(
    "GET",
    action="applicationApiToken.get",
    summary="Retrieves information on an application API token",
    response=schemas.API_TOKEN,
)
def app_token_get(call: ApiCall) -> dict[str, Any]:
    application = _application(call, Role.VIEW)
    return api_token_to_dict(
        selectors.application_api_token_get(
            application=application, token_id=call.ids["apiTokenId"]
        )
    )


@app_token_route.operation(
    "PATCH",
    action="applicationApiToken.patch",
    summary="Updates an application API token's name, description, status or permission cap",
    request=schemas.API_TOKEN_PATCH,
    response=schemas.API_TOKEN,
)
def app_token_patch(call: ApiCall) -> dict[str, Any]:
    application = _application(call, Role.EDIT)
    token = selectors.application_api_token_get(
        application=application, token_id=call.ids["apiTokenId"]
    )
    return api_token_to_dict(
        api_token_update(token=token, actor=call.principal, **_caps_and_text(call.body))
    )


@app_token_route.operation(
    "DELETE",
    action="applicationApiToken.delete",
    summary="Deletes an application API token; it stops working at once",
    response=schemas.SUCCESS,
)
def app_token_delete(call: ApiCall) -> dict[str, Any]:
    application = _application(call, Role.EDIT)
    api_token_delete(
        token=selectors.application_api_token_get(
            application=application, token_id=call.ids["apiTokenId"]
        )
    )
    return SUCCESS
