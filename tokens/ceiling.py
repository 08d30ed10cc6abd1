"""The credential ceiling: whatever a caller creates or changes holds no more than the caller.

The product's central promise ("a token cannot exceed permissions granted to you"). One rule,
applied by the token services themselves, so the JSON API, the My Account pages, the consent
screen and the admin all pass through it:

- Scope: every scope of the resulting credential is covered by the caller's own scope
  (`apikit.scopes.scope_covers`: the same scope or a broader form of it). A session (the user in
  the browser) holds every scope.
- Roles: a user's credential (API or OAuth token) has a cap nowhere above the calling token's cap,
  compared organization by organization, Sandbox and application (`RoleCap.within`), so its
  effective roles stay at or below the caller's now and after any later change of the user's
  roles. An application's API token holds, on its application, no more than the caller's
  effective role there. A session is limited by the user's own roles, which already bound every
  user credential's effective role.
- Missing fields take the caller's ceiling, never the maximum.
- A change that can add power (new caps, or reactivating an inactive token) must leave the whole
  token within the caller's ceiling; renaming, describing or deactivating adds none.
- A staff member in the Django admin may change only name, description and status, of any token.

Anything above: 403 Forbidden, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.errors import forbidden
from accounts.models import Application
from accounts.principals import Principal
from accounts.roles import RoleCap, application_org_key, lower_role, role_rank
from accounts.selectors import application_role
from apikit.scopes import scope_covers, scopes_uncovered


def ceiling_scope_default(
    *, actor: Principal, preferred: str, valid: Iterable[str], fallbacks: Iterable[str] = ()
) -> list[str]:
    """The scope of a credential created without one: `preferred` if the caller holds it,
    else the caller's own scopes that fit this kind of credential, else the first fallback the
    caller covers. Forbidden if the caller holds nothing this credential could carry."""
    if actor.scope is None or scope_covers(actor.scope, preferred):
        return [preferred]
    valid = frozenset(valid)
    own = sorted(scope for scope in actor.scope if scope in valid)
    if own:
        return own
    for fallback in fallbacks:
        if scope_covers(actor.scope, fallback):
            return [fallback]
    raise forbidden("The calling token holds no scope this token could be given")


def ceiling_cap_default(
    *,
    actor: Principal,
    preferred_role: str,
    default_role: str | None,
    org_roles: list | None,
    application: Application | None = None,
) -> tuple[str, list]:
    """`defaultRole` and `orgRoles` with the missing ones filled from the caller's ceiling:
    for an application's token, the caller's effective role on that application; for a user's
    token, `preferred_role` lowered to the calling token's default role, and the calling
    token's overrides lowered to the new default role."""
    if application is not None:
        if default_role is None:
            default_role = lower_role(
                preferred_role, application_role(principal=actor, application=application)
            )
        return default_role, [] if org_roles is None else org_roles
    if actor.cap is None:
        return default_role or preferred_role, [] if org_roles is None else org_roles
    if default_role is None:
        default_role = lower_role(preferred_role, actor.cap.default_role)
    if org_roles is None:
        org_roles = list(actor.cap.lowered_to(default_role).org_roles)
    return default_role, org_roles


def credential_ceiling_enforce(
    *,
    actor: Principal,
    scope: Iterable[str],
    cap: RoleCap,
    application: Application | None = None,
) -> None:
    """Raise Forbidden unless a credential with `scope` and `cap` (owned by `application`, or
    by the caller's user when None) would hold no more than `actor` does."""
    if actor.scope is not None:
        uncovered = scopes_uncovered(actor.scope, scope)
        if uncovered:
            raise forbidden(f"scope {uncovered[0]} is beyond the calling token's own scope")
    if actor.kind == "admin":
        return
    if application is not None:
        ceiling = application_role(principal=actor, application=application)
        granted = cap.for_application(application_org_key(application), application.pk)
        if role_rank(granted) > role_rank(ceiling):
            raise forbidden(
                f"role {granted} on this application is above the caller's own ({ceiling})"
            )
        return
    if actor.cap is not None and not cap.within(actor.cap):
        raise forbidden("defaultRole or orgRoles is above the calling token's own permission cap")


def credential_change_enforce(
    *,
    actor: Principal,
    scope: Iterable[str],
    cap_before: RoleCap,
    cap_after: RoleCap,
    reactivated: bool,
    application: Application | None = None,
) -> None:
    """The ceiling for a change to an existing credential: when the change can add power (its
    caps change, or it is reactivated), the credential as changed must be within `actor`'s
    ceiling, scope included, so a narrow token can neither raise a broader one nor itself."""
    if cap_after != cap_before or reactivated:
        credential_ceiling_enforce(actor=actor, scope=scope, cap=cap_after, application=application)
