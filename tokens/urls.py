"""My Account token pages (mounted at the site root): /me/..., /applications/<id>/tokens/..."""

from django.urls import path

from tokens.views import api_tokens, oauth_tokens

app_name = "tokens"

APP = "applications/<str:application_id>/tokens"

urlpatterns = [
    path("me/oauth-tokens", oauth_tokens.oauth_token_list, name="oauth_token_list"),
    path(
        "me/oauth-tokens/<str:token_id>",
        oauth_tokens.oauth_token_detail,
        name="oauth_token_detail",
    ),
    path(
        "me/oauth-tokens/<str:token_id>/status",
        oauth_tokens.oauth_token_status,
        name="oauth_token_status",
    ),
    path(
        "me/oauth-tokens/<str:token_id>/delete",
        oauth_tokens.oauth_token_delete,
        name="oauth_token_delete",
    ),
    path(
        "me/oauth-tokens/<str:token_id>/caps",
        oauth_tokens.oauth_token_caps_preview,
        name="oauth_token_caps",
    ),
    path(
        "me/oauth-tokens/clients/<str:client_id>/revoke",
        oauth_tokens.oauth_token_revoke_client,
        name="oauth_token_revoke_client",
    ),
    path("me/tokens", api_tokens.api_token_list, name="api_token_list"),
    path("me/tokens/new", api_tokens.api_token_new, name="api_token_new"),
    path("me/tokens/new/caps", api_tokens.api_token_caps_preview, name="api_token_new_caps"),
    path("me/tokens/<str:token_id>", api_tokens.api_token_detail, name="api_token_detail"),
    path(
        "me/tokens/<str:token_id>/created", api_tokens.api_token_created, name="api_token_created"
    ),
    path("me/tokens/<str:token_id>/status", api_tokens.api_token_status, name="api_token_status"),
    path("me/tokens/<str:token_id>/delete", api_tokens.api_token_delete, name="api_token_delete"),
    path("me/tokens/<str:token_id>/caps", api_tokens.api_token_caps_preview, name="api_token_caps"),
    path(APP, api_tokens.app_token_list, name="app_token_list"),
    path(f"{APP}/new", api_tokens.app_token_new, name="app_token_new"),
    path(f"{APP}/<str:token_id>", api_tokens.app_token_detail, name="app_token_detail"),
    path(f"{APP}/<str:token_id>/created", api_tokens.app_token_created, name="app_token_created"),
    path(f"{APP}/<str:token_id>/status", api_tokens.app_token_status, name="app_token_status"),
    path(f"{APP}/<str:token_id>/delete", api_tokens.app_token_delete, name="app_token_delete"),
]
