from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path(
        ".well-known/oauth-authorization-server",
        views.authorization_server_metadata,
        name="metadata",
    ),
    path(
        ".well-known/oauth-protected-resource/api",
        views.protected_resource_metadata,
        name="resource-metadata",
    ),
    path(
        ".well-known/oauth-protected-resource",
        views.protected_resource_metadata,
        name="resource-metadata-root",
    ),
    path("oauth/authorize", views.authorize, name="authorize"),
    path("oauth/token", views.token, name="token"),
    path("oauth/register", views.register, name="register"),
    path("oauth/revoke", views.revoke, name="revoke"),
    path("oauth/introspect", views.introspect, name="introspect"),
]
