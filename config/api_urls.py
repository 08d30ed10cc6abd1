"""Every JSON API route under /api, gathered from the apps' `api.py` modules, and the domain
plugged into the API framework (apikit imports no domain app: its authentication and its error
mapping are given to it here)."""

from django.urls import path, re_path

import accounts.api  # noqa: F401 - registers its routes
import tokens.api  # noqa: F401 - registers its routes
from accounts.errors import DomainError
from accounts.principals import session_principal
from apikit.openapi import docs_view, openapi_view
from apikit.views import ROUTES, Hooks, api_not_found, configure
from tokens.authentication import principal_from_bearer

configure(
    Hooks(
        principal_from_bearer=principal_from_bearer,
        session_principal=session_principal,
        domain_error=DomainError,
    )
)

urlpatterns: list = [
    path("openapi.json", openapi_view, name="api-openapi"),
    path("docs", docs_view, name="api-docs"),
    *(route.url_pattern() for route in ROUTES),
    # Unknown paths under /api answer in the API's error shape, not Django's HTML 404.
    re_path(r"^(?P<unmatched>.*)$", api_not_found),
]
