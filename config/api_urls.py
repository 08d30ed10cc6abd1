"""Every JSON API route under /api, gathered from the apps' `api.py` modules."""

from django.urls import path, re_path

import accounts.api  # noqa: F401 - registers its routes
import tokens.api  # noqa: F401 - registers its routes
from apikit.openapi import docs_view, openapi_view
from apikit.views import ROUTES, api_not_found

urlpatterns: list = [
    path("openapi.json", openapi_view, name="api-openapi"),
    path("docs", docs_view, name="api-docs"),
    *(route.url_pattern() for route in ROUTES),
    # Unknown paths under /api answer in the API's error shape, not Django's HTML 404.
    re_path(r"^(?P<unmatched>.*)$", api_not_found),
]
