"""Organization roles, what each may do, and the effective role of a principal.

The order is none < view < collaborate < edit < admin (losant-api-reference.md §1.4). A token's
cap never raises a role: the effective role is the lower of the user's actual role and the cap.
The user's role is read at request time, so lowering a member's role lowers all their tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from accounts.models import (
    Application,
    ApplicationRole,
    ApplicationRoleOverride,
    Membership,
    Role,
    User,
)

__all__ = ["ApplicationRole", "Role"]  # the role names live with the models (TextChoices)

SANDBOX_ORG_ID = "sandbox"


def role_label(role: str) -> str:
    """The one word every page, the consent screen and the admin use for a role
    ("Administrator", "Editor", "Collaborator", "Viewer", "None")."""
    return Role(role).label


ROLE_ORDER: tuple[str, ...] = ("none", "view", "collaborate", "edit", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLE_ORDER)}

# What each role may do, cumulatively (reference §1.1 and §1.4).
ROLE_ABILITIES: Mapping[str, tuple[str, ...]] = {
    "none": (),
    "view": ("read organization", "read applications", "read application data"),
    "collaborate": (
        "read organization",
        "read applications",
        "read application data",
        "modify applications",
        "manage application sub-resources",
    ),
    "edit": (
        "read organization",
        "read applications",
        "read application data",
        "modify applications",
        "manage application sub-resources",
        "create and delete applications",
        "manage application API tokens",
    ),
    "admin": (
        "read organization",
        "read applications",
        "read application data",
        "modify applications",
        "manage application sub-resources",
        "create and delete applications",
        "manage application API tokens",
        "modify organization",
        "manage membership",
        "transfer resources",
    ),
}

ROLE_DESCRIPTIONS: Mapping[str, str] = {
    "admin": "Manage organization membership and billing info",
    "edit": "Create and delete applications",
    "collaborate": "Create, edit and delete sub-application resources such as devices and dashboards",
    "view": "Read application data and configuration",
    "none": "Exercise no permissions on organizations and their applications",
}


def role_rank(role: str) -> int:
    return _RANK[role]


def role_at_least(role: str, minimum: str) -> bool:
    return _RANK[role] >= _RANK[minimum]


def lower_role(a: str, b: str) -> str:
    return a if _RANK[a] <= _RANK[b] else b


@dataclass(frozen=True)
class RoleCap:
    """A token's permission cap: a default role plus Losant-shaped `orgRoles` overrides."""

    default_role: str
    org_roles: list[dict] = field(default_factory=list)

    def for_organization(self, organization_id: str) -> str:
        entry = self._org_entry(organization_id)
        return entry["role"] if entry else self.default_role

    def for_application(self, organization_id: str, application_id: str) -> str:
        entry = self._org_entry(organization_id)
        if entry is None:
            return self.default_role
        for app_entry in entry.get("applicationRoles") or ():
            if app_entry["resourceId"] == application_id:
                return app_entry["role"]
        return entry["role"]

    def within(self, ceiling: RoleCap) -> bool:
        """True if this cap is nowhere above `ceiling`: its default role, and its role for every
        organization (or the Sandbox) and application that either cap names. Compared cap to cap,
        so it holds whatever roles the user has now or is given later."""
        if _RANK[self.default_role] > _RANK[ceiling.default_role]:
            return False
        places = {(org_id, None) for org_id in self._org_ids() | ceiling._org_ids()}
        places |= self._app_keys() | ceiling._app_keys()
        for org_id, app_id in places:
            mine, theirs = (
                (self.for_organization(org_id), ceiling.for_organization(org_id))
                if app_id is None
                else (self.for_application(org_id, app_id), ceiling.for_application(org_id, app_id))
            )
            if _RANK[mine] > _RANK[theirs]:
                return False
        return True

    def lowered_to(self, role: str) -> RoleCap:
        """The same cap with `role` as its default and no override above it."""
        org_roles = []
        for entry in self.org_roles:
            lowered = {**entry, "role": lower_role(entry["role"], role)}
            if entry.get("applicationRoles"):
                lowered["applicationRoles"] = [
                    {**app, "role": lower_role(app["role"], role)}
                    for app in entry["applicationRoles"]
                ]
            org_roles.append(lowered)
        return RoleCap(default_role=role, org_roles=org_roles)

    def _org_ids(self) -> set[str]:
        return {entry["orgId"] for entry in self.org_roles}

    def _app_keys(self) -> set[tuple[str, str]]:
        return {
            (entry["orgId"], app["resourceId"])
            for entry in self.org_roles
            for app in entry.get("applicationRoles") or ()
        }

    def _org_entry(self, organization_id: str) -> dict | None:
        for entry in self.org_roles:
            if entry["orgId"] == organization_id:
                return entry
        return None


@dataclass(frozen=True)
class UserRoles:
    """A user's actual roles, read in one go: org id -> role, and app id -> per-app override."""

    organization_roles: Mapping[str, str]
    application_overrides: Mapping[str, str]

    def for_organization(self, organization_id: str) -> str:
        if organization_id == SANDBOX_ORG_ID:
            return Role.ADMIN
        return self.organization_roles.get(organization_id, Role.NONE)

    def for_application(self, application: Application, *, user_id: str) -> str:
        if application.sandbox_user_id is not None:
            return Role.ADMIN if application.sandbox_user_id == user_id else Role.NONE
        org_role = self.organization_roles.get(application.organization_id)
        if org_role is None:
            return Role.NONE
        return self.application_overrides.get(application.id, org_role)


def user_roles(*, user: User) -> UserRoles:
    """The user's memberships and per-application overrides, in two queries whatever their number."""
    org_roles = dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))
    overrides = dict(
        ApplicationRoleOverride.objects.filter(membership__user=user).values_list(
            "application_id", "role"
        )
    )
    return UserRoles(organization_roles=org_roles, application_overrides=overrides)


def application_org_key(application: Application) -> str:
    """The orgRoles key that covers an application: its organization id, or `sandbox`."""
    return application.organization_id or SANDBOX_ORG_ID


def effective_organization_role(
    *, user: User, organization_id: str, cap: RoleCap | None, roles: UserRoles | None = None
) -> str:
    """The role a principal holds on an organization (or the Sandbox): user role, capped."""
    roles = roles or user_roles(user=user)
    actual = roles.for_organization(organization_id)
    return actual if cap is None else lower_role(actual, cap.for_organization(organization_id))


def effective_application_role(
    *, user: User, application: Application, cap: RoleCap | None, roles: UserRoles | None = None
) -> str:
    """The role a principal holds on an application: user role there, capped by the token.

    Cap lookup order: per-application override, else per-organization override (the Sandbox is
    org id `sandbox`), else the token's default role.
    """
    roles = roles or user_roles(user=user)
    actual = roles.for_application(application, user_id=user.pk)
    if cap is None:
        return actual
    return lower_role(actual, cap.for_application(application_org_key(application), application.id))


def highest_role(roles: Iterable[str]) -> str:
    return max(roles, key=role_rank, default=Role.NONE)
