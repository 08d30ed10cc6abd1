"""The Token Permission Cap section: each organization and application with the user's own role
and the effective role the cap leaves (accounts.roles does the arithmetic, never a template)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from accounts.models import User
from accounts.roles import (
    RoleCap,
    UserRoles,
    effective_application_role,
    effective_organization_role,
    role_label,
)
from tokens.forms import CapTargets


@dataclass(frozen=True)
class CapRow:
    field: forms.BoundField | None
    name: str
    group: str
    user_role: str
    cap_role: str
    effective_role: str


@dataclass(frozen=True)
class CapRows:
    default_role: str
    default_field: forms.BoundField | None
    organizations: list[CapRow]
    applications: list[CapRow]


def cap_rows(
    *, form: forms.Form | None, targets: CapTargets, cap: RoleCap, roles: UserRoles, user: User
) -> CapRows:
    """Rows for the overrides tables; `form` None renders them read-only."""
    organizations = [
        CapRow(
            field=form[org.field_name] if form is not None else None,
            name=org.name,
            group="",
            user_role=role_label(org.user_role),
            cap_role=role_label(cap.for_organization(org.key)),
            effective_role=role_label(
                effective_organization_role(
                    user=user, organization_id=org.key, cap=cap, roles=roles
                )
            ),
        )
        for org in targets.orgs
    ]
    applications = [
        CapRow(
            field=form[app.field_name] if form is not None else None,
            name=app.application.name,
            group=app.org_name,
            user_role=role_label(app.user_role),
            cap_role=role_label(cap.for_application(app.org_key, app.application.id)),
            effective_role=role_label(
                effective_application_role(
                    user=user, application=app.application, cap=cap, roles=roles
                )
            ),
        )
        for app in targets.apps
    ]
    return CapRows(
        default_role=role_label(cap.default_role),
        default_field=form["default_role"] if form is not None else None,
        organizations=organizations,
        applications=applications,
    )
