"""Signed-in layout data, the home dashboard and the My Account overview page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from accounts.selectors import nav_for


def layout_context(request: HttpRequest) -> dict[str, object]:
    """Context processor for `_base.html`. Lazy: pages that never show the navigation (the
    consent screen, the login page) run no query for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": SimpleLazyObject(lambda: nav_for(user=user))}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Dashboard: the way into My Account and to each application's tokens."""
    user = request.user
    context = {
        "nav": nav_for(user=user),
        "oauth_token_count": user.oauth_tokens.count(),
        "api_token_count": user.api_tokens.count(),
    }
    return render(request, "accounts/home.html", context)


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_account.html", {"nav": nav_for(user=request.user)})
