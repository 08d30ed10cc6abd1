"""Signed-in layout data, the home dashboard and the My Account overview page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from accounts.models import Application, Membership, User
from accounts.roles import role_label


@dataclass(frozen=True)
class NavOrganization:
    id: str
    name: str
    role: str
    role_label: str
    applications: list[Application] = field(default_factory=list)


@dataclass(frozen=True)
class Nav:
    """What the signed-in layout lists: the user's organizations with their applications, and
    the applications of the user's Sandbox."""

    organizations: list[NavOrganization]
    sandbox_applications: list[Application]


def nav_for(*, user: User) -> Nav:
    """The user's organizations and reachable applications, in two queries whatever their number."""
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )
    org_ids = [m.organization_id for m in memberships]
    apps = Application.objects.filter(
        Q(organization_id__in=org_ids) | Q(sandbox_user=user)
    ).order_by("name", "id")
    by_org: dict[str | None, list[Application]] = {}
    for app in apps.only("id", "name", "organization_id", "sandbox_user_id"):
        by_org.setdefault(app.organization_id, []).append(app)
    return Nav(
        organizations=[
            NavOrganization(
                id=m.organization_id,
                name=m.organization.name,
                role=m.role,
                role_label=role_label(m.role),
                applications=by_org.get(m.organization_id, []),
            )
            for m in memberships
        ],
        sandbox_applications=by_org.get(None, []),
    )


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
