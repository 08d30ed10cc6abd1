"""Reads on organizations and applications as a principal sees them: the user's actual role,
capped by the token (accounts.roles), decides what is visible and what may be changed.

Visibility and permission are kept apart: a resource the caller's user cannot see at all is
NotFound (its existence is not revealed); one it can see but not act on with this token's cap
is Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from accounts.errors import forbidden, not_found
from accounts.models import Application, Membership, Organization, User
from accounts.principals import Principal
from accounts.roles import (
    Role,
    UserRoles,
    application_org_key,
    effective_application_role,
    effective_organization_role,
    role_at_least,
    role_label,
    user_roles,
)
from apikit.lists import ListParams, ListSpec, Page, queryset_page

ORGANIZATION_LIST = ListSpec(
    sort_fields={
        "name": "name",
        "id": "id",
        "creationDate": "creation_date",
        "lastUpdated": "last_updated",
    },
    filter_fields={"name": "name"},
)
APPLICATION_LIST = ListSpec(
    sort_fields={
        "name": "name",
        "id": "id",
        "ownerId": "owner_id",
        "creationDate": "creation_date",
        "lastUpdated": "last_updated",
    },
    filter_fields={"name": "name"},
)


def _user_or_forbidden(principal: Principal):
    if principal.user is None:
        raise forbidden("Application API tokens cannot access organizations")
    return principal.user


def organizations_with_summary() -> QuerySet[Organization]:
    """Organizations annotated with `app_count` and `member_count` (one query per page)."""
    return Organization.objects.annotate(
        app_count=Count("applications", distinct=True),
        member_count=Count("memberships", distinct=True),
    )


def organization_roles(*, principal: Principal) -> dict[str, str]:
    """Organization id -> the principal's effective role, for every organization of its user."""
    user = _user_or_forbidden(principal)
    roles = user_roles(user=user)
    return {
        org_id: effective_organization_role(
            user=user, organization_id=org_id, cap=principal.cap, roles=roles
        )
        for org_id in roles.organization_roles
    }


def organizations_list(*, principal: Principal, params: ListParams | None = None) -> Page:
    """The organizations the principal may read (effective role at least view)."""
    visible = [
        org_id
        for org_id, role in organization_roles(principal=principal).items()
        if role_at_least(role, Role.VIEW)
    ]
    return queryset_page(
        organizations_with_summary().filter(id__in=visible),
        spec=ORGANIZATION_LIST,
        params=params or ListParams(),
    )


def organization_get(*, principal: Principal, org_id: str, minimum_role: str) -> Organization:
    """The organization if the principal's effective role is at least `minimum_role`."""
    user = _user_or_forbidden(principal)
    roles = user_roles(user=user)
    actual = roles.organization_roles.get(org_id, Role.NONE)
    organization = (
        organizations_with_summary().filter(pk=org_id).first() if actual != Role.NONE else None
    )
    if organization is None:
        raise not_found("Organization")
    role = effective_organization_role(
        user=user, organization_id=org_id, cap=principal.cap, roles=roles
    )
    if not role_at_least(role, minimum_role):
        raise forbidden()
    return organization


def application_role(
    *, principal: Principal, application: Application, roles: UserRoles | None = None
) -> str:
    """The principal's effective role on an application. An application API token holds its
    own cap on its own application and nothing anywhere else."""
    if principal.kind == "application_api":
        if application.pk != principal.application_id:
            return Role.NONE
        cap = principal.cap
        return (
            Role.ADMIN
            if cap is None
            else cap.for_application(application_org_key(application), application.pk)
        )
    assert principal.user is not None
    return effective_application_role(
        user=principal.user, application=application, cap=principal.cap, roles=roles
    )


def _reachable_applications(principal: Principal) -> tuple[QuerySet[Application], UserRoles | None]:
    """Applications the principal's user (or application token) can see at all, uncapped."""
    if principal.kind == "application_api":
        return Application.objects.filter(pk=principal.application_id), None
    user = principal.user
    assert user is not None
    roles = user_roles(user=user)
    visible_orgs = [
        org_id for org_id in roles.organization_roles if roles.for_organization(org_id) != Role.NONE
    ] + list(
        Membership.objects.filter(
            user=user, application_overrides__role__in=[Role.VIEW, Role.COLLABORATE]
        ).values_list("organization_id", flat=True)
    )
    return (
        Application.objects.filter(organization_id__in=visible_orgs)
        | Application.objects.filter(sandbox_user=user)
    ), roles


def applications_list(*, principal: Principal, params: ListParams | None = None) -> Page:
    """Every application the principal may read, across the Sandbox and organizations."""
    candidates, roles = _reachable_applications(principal)
    visible = [
        app.pk
        for app in candidates.only("id", "organization_id", "sandbox_user_id")
        if role_at_least(
            application_role(principal=principal, application=app, roles=roles), Role.VIEW
        )
    ]
    return queryset_page(
        Application.objects.filter(pk__in=visible).select_related("organization"),
        spec=APPLICATION_LIST,
        params=params or ListParams(),
    )


def application_get(*, principal: Principal, application_id: str, minimum_role: str) -> Application:
    """The application if the principal's effective role on it is at least `minimum_role`;
    NotFound if the caller cannot see it at all ("Application was not found")."""
    candidates, roles = _reachable_applications(principal)
    application = candidates.filter(pk=application_id).select_related("organization").first()
    if application is None:
        raise not_found("Application")
    if principal.kind != "application_api":
        assert principal.user is not None
        actual = (roles or user_roles(user=principal.user)).for_application(
            application, user_id=principal.user.pk
        )
        if actual == Role.NONE:
            raise not_found("Application")
    role = application_role(principal=principal, application=application, roles=roles)
    if not role_at_least(role, minimum_role):
        raise forbidden()
    return application


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
