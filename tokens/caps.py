"""Validation of a token's permission cap (default role + `orgRoles`) against the user's world.

The JSON shape is checked by the schema layer; here we check meaning: every orgId is the
Sandbox or an organization the user belongs to, every applicationRoles entry names an
application of that organization (or of the user's Sandbox), and nothing is listed twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.errors import validation_error
from accounts.models import Application, Membership
from accounts.roles import SANDBOX_ORG_ID, ApplicationRole, Role, RoleCap
from apikit.ids import is_object_id

if TYPE_CHECKING:
    from accounts.models import User

MAX_ORG_ROLES = 25
MAX_APPLICATION_ROLES = 100


def cap_validate(
    *,
    user: User | None,
    default_role: str,
    org_roles: list,
    application: Application | None = None,
) -> RoleCap:
    """Return a RoleCap, or raise a Validation DomainError naming the offending field.

    A user's token may name the user's organizations and the Sandbox; an application's token
    (`application`, with `user` None) may name only the application's own organization (or the
    Sandbox, for a Sandbox application) and only that application.
    """
    if default_role not in Role.values:
        raise validation_error(f"defaultRole must be one of {', '.join(Role.values)}")
    if not isinstance(org_roles, list) or len(org_roles) > MAX_ORG_ROLES:
        raise validation_error(f"orgRoles must be a list of at most {MAX_ORG_ROLES} entries")
    if application is not None:
        member_org_ids = {application.organization_id} if application.organization_id else set()
    elif user is not None:
        member_org_ids = set(
            Membership.objects.filter(user=user).values_list("organization_id", flat=True)
        )
    else:
        member_org_ids = set()
    seen_orgs: set[str] = set()
    cleaned: list[dict] = []
    for index, entry in enumerate(org_roles):
        where = f"orgRoles[{index}]"
        if not isinstance(entry, dict):
            raise validation_error(f"{where} must be an object")
        org_id = entry.get("orgId")
        if org_id != SANDBOX_ORG_ID and not is_object_id(org_id):
            raise validation_error(f"{where}.orgId must be an organization id or 'sandbox'")
        org_id = org_id.lower()
        if org_id != SANDBOX_ORG_ID and org_id not in member_org_ids:
            owner = (
                "this application's" if application is not None else "an organization of this user"
            )
            raise validation_error(f"{where}.orgId {org_id} is not {owner}")
        if application is not None and org_id == SANDBOX_ORG_ID and application.organization_id:
            raise validation_error(f"{where}.orgId sandbox is not this application's")
        if org_id in seen_orgs:
            raise validation_error(f"{where}.orgId {org_id} is listed twice")
        seen_orgs.add(org_id)
        if entry.get("role") not in Role.values:
            raise validation_error(f"{where}.role must be one of {', '.join(Role.values)}")
        unknown = set(entry) - {"orgId", "role", "applicationRoles", "dashboardRoles"}
        if unknown:
            raise validation_error(f"{where} has unknown field {sorted(unknown)[0]}")
        clean_entry: dict = {"orgId": org_id, "role": entry["role"]}
        app_roles = _application_roles_validate(
            user=user,
            org_id=org_id,
            entries=entry.get("applicationRoles", []),
            where=where,
            application=application,
        )
        if app_roles:
            clean_entry["applicationRoles"] = app_roles
        if entry.get("dashboardRoles"):
            clean_entry["dashboardRoles"] = _dashboard_roles_validate(
                entry["dashboardRoles"], where
            )
        cleaned.append(clean_entry)
    return RoleCap(default_role=default_role, org_roles=cleaned)


def _application_roles_validate(
    *, user: User | None, org_id: str, entries: object, where: str, application: Application | None
) -> list[dict]:
    if not isinstance(entries, list) or len(entries) > MAX_APPLICATION_ROLES:
        raise validation_error(
            f"{where}.applicationRoles must be a list of at most {MAX_APPLICATION_ROLES} entries"
        )
    if not entries:
        return []
    apps = Application.objects.all()
    if application is not None:
        apps = apps.filter(pk=application.pk)
    elif org_id == SANDBOX_ORG_ID:
        apps = apps.filter(sandbox_user=user)
    else:
        apps = apps.filter(organization_id=org_id)
    ids = [e.get("resourceId") for e in entries if isinstance(e, dict)]
    known = set(
        apps.filter(id__in=[i for i in ids if is_object_id(i)]).values_list("id", flat=True)
    )
    seen: set[str] = set()
    cleaned = []
    for index, entry in enumerate(entries):
        here = f"{where}.applicationRoles[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"resourceId", "role"}:
            raise validation_error(f"{here} must be an object with resourceId and role only")
        resource_id = entry.get("resourceId")
        if not is_object_id(resource_id) or resource_id.lower() not in known:
            raise validation_error(f"{here}.resourceId is not an application of {org_id}")
        if entry.get("role") not in ApplicationRole.values:
            raise validation_error(
                f"{here}.role must be one of {', '.join(ApplicationRole.values)}"
            )
        if resource_id.lower() in seen:
            raise validation_error(f"{here}.resourceId is listed twice")
        seen.add(resource_id.lower())
        cleaned.append({"resourceId": resource_id.lower(), "role": entry["role"]})
    return cleaned


def _dashboard_roles_validate(entries: object, where: str) -> list[dict]:
    if not isinstance(entries, list) or len(entries) > MAX_APPLICATION_ROLES:
        raise validation_error(f"{where}.dashboardRoles must be a list of at most 100 entries")
    cleaned = []
    for index, entry in enumerate(entries):
        here = f"{where}.dashboardRoles[{index}]"
        if (
            not isinstance(entry, dict)
            or set(entry) - {"resourceId", "role"}
            or not is_object_id(entry.get("resourceId"))
            or entry.get("role") not in ApplicationRole.values
        ):
            raise validation_error(
                f"{here} must be {{resourceId: <id>, role: collaborate|view|none}}"
            )
        cleaned.append({"resourceId": entry["resourceId"].lower(), "role": entry["role"]})
    return cleaned
