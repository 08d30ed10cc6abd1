"""Scopes: the 7 OAuth-grantable scopes, the API-token scope enum, and which scopes each API
action accepts (losant-api-reference.md §1.3, §3, §4).

An action is accepted by any one of its scopes. The table is derived from four facts per action
(its level, whether it reads, whether it is one of the sensitive actions `.bounded` excludes, and
which `only.` levels own it), exactly as the reference derives Losant's per-action lists:

- `all.X` covers X and everything beneath it: User > Organization > Application.
- `only.X` covers X's own endpoints only (never an application or its sub-resources).
- no suffix = every action; `.bounded` = every action except the sensitive ones (token
  management, membership, transfers, credentials); `.read` = read actions only.
- `<resource>.*` and `<resource>.<action>` name one resource's actions.

OAuth-issued tokens can never create, change or delete user API tokens or OAuth tokens, whatever
their scope (`denyOauthTokens` in the reference's apiInfo.json).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

OAUTH_SCOPE_DESCRIPTIONS: dict[str, str] = {
    "all.Application.read": "Read-only access to all application data and sub-resources (devices, telemetry data, dashboards, workflows, and more).",
    "all.Application.bounded": "Read and write access to all application data and sub-resources.",
    "only.Organization.read": "Read-only access to organizations and a list of their applications, but no access to application sub-resources.",
    "only.Organization.bounded": "Read and write access to organizations and read access to listing their applications, but no access to application sub-resources.",
    "all.Organization.read": "Read-only access to organizations and all of their application data and sub-resources.",
    "all.Organization.bounded": "Read and write access to organizations and all of their application data and sub-resources.",
    "only.User.read": "Read-only access to your user profile (name, email address, sandbox usage).",
}
OAUTH_SCOPES: tuple[str, ...] = tuple(OAUTH_SCOPE_DESCRIPTIONS)

# The API-token scope enum (apiTokenPost.scope), group by group. User and Organization are the
# reference's full lists; Application and Instance hold the values the reference names (plus
# the device actions behind its `all.Device` scopes).
USER_SCOPES: tuple[str, ...] = (
    "all.User",
    "all.User.bounded",
    "all.User.read",
    "all.User.cli",
    "only.User",
    "only.User.bounded",
    "only.User.read",
    "userApiToken.*",
    "userApiToken.get",
    "userApiToken.patch",
    "userApiToken.delete",
    "userApiTokens.*",
    "userApiTokens.get",
    "userApiTokens.post",
    "userOauthToken.*",
    "userOauthToken.get",
    "userOauthToken.patch",
    "userOauthToken.delete",
    "userOauthTokens.*",
    "userOauthTokens.get",
    "userOauthTokens.post",
    "applicationTemplate.*",
    "applicationTemplate.get",
    "applicationTemplates.*",
    "applicationTemplates.get",
    "applicationTemplates.getCategories",
    "applicationTemplates.getUniqueKeywords",
    "instances.*",
    "instances.get",
    "me.*",
    "me.get",
    "me.patch",
    "me.delete",
    "me.verifyEmail",
    "me.changePassword",
    "me.generateTwoFactorAuth",
    "me.enableTwoFactorAuth",
    "me.disableTwoFactorAuth",
    "me.disconnectGithub",
    "me.connectGithub",
    "me.addRecentItem",
    "me.fetchRecentItems",
    "me.payloadCounts",
    "me.payloadCountsBreakdown",
    "me.deviceCounts",
    "me.notebookMinuteCounts",
    "me.transferResources",
    "me.invite",
    "me.invites",
    "me.respondToInvite",
    "me.refreshToken",
    "orgs.*",
    "orgs.get",
    "orgs.post",
)
ORGANIZATION_SCOPES: tuple[str, ...] = (
    "all.Organization",
    "all.Organization.bounded",
    "all.Organization.read",
    "only.Organization",
    "only.Organization.bounded",
    "only.Organization.read",
    "applications.*",
    "auditLog.*",
    "auditLogs.*",
    "dashboard.*",
    "dashboards.*",
    "org.*",
    "applications.get",
    "applications.post",
    "applications.import",
    "applications.detailedSummary",
    "applications.periodSummaries",
    "auditLog.get",
    "auditLogs.get",
    "dashboard.patch",
    "dashboard.delete",
    "dashboard.sendReport",
    "dashboard.suggestCode",
    "dashboards.get",
    "dashboards.post",
    "org.get",
    "org.patch",
    "org.delete",
    "org.pendingInvites",
    "org.inviteMember",
    "org.revokeInvite",
    "org.modifyMember",
    "org.removeMember",
    "org.payloadCounts",
    "org.payloadCountsBreakdown",
    "org.deviceCounts",
    "org.notebookMinuteCounts",
    "org.invoices",
    "org.currentCard",
    "org.transferResources",
)
APPLICATION_SCOPES: tuple[str, ...] = (
    "all.Application",
    "all.Application.bounded",
    "all.Application.read",
    "all.Application.cli",
    "all.Device",
    "all.Device.read",
    "application.*",
    "application.get",
    "application.patch",
    "application.delete",
    "applicationApiToken.*",
    "applicationApiToken.get",
    "applicationApiToken.patch",
    "applicationApiToken.delete",
    "applicationApiTokens.*",
    "applicationApiTokens.get",
    "applicationApiTokens.post",
    "device.*",
    "device.get",
    "device.patch",
    "device.delete",
    "devices.*",
    "devices.get",
    "devices.post",
)
INSTANCE_SCOPES: tuple[str, ...] = (
    "all.Instance",
    "all.Instance.bounded",
    "all.Instance.read",
    "instanceApiToken.*",
    "instanceApiToken.patch",
    "instanceApiToken.delete",
    "instanceApiTokens.*",
    "instanceApiTokens.post",
    "instanceMember.*",
    "instanceMember.patch",
    "instanceMember.delete",
    "instanceMembers.*",
    "instanceMembers.post",
    "instanceOrgMember.*",
    "instanceOrgMember.patch",
    "instanceOrgMember.delete",
    "instanceOrgMembers.*",
    "instanceOrgMembers.post",
    "instanceOrgInvite.*",
    "instanceOrgInvite.delete",
    "instanceOrgInvite.resendInvite",
    "instanceOrgInvites.*",
    "instanceOrgInvites.post",
)
API_TOKEN_SCOPES: tuple[str, ...] = (
    APPLICATION_SCOPES + ORGANIZATION_SCOPES + INSTANCE_SCOPES + USER_SCOPES
)
API_TOKEN_SCOPE_SET = frozenset(API_TOKEN_SCOPES)
# An application API token reaches only its own application, so only this group means anything.
APPLICATION_API_TOKEN_SCOPE_SET = frozenset(APPLICATION_SCOPES)

Level = Literal["User", "Organization", "Application"]
_BENEATH: dict[Level, tuple[Level, ...]] = {
    "User": ("User",),
    "Organization": ("User", "Organization"),
    "Application": ("User", "Organization", "Application"),
}


@dataclass(frozen=True)
class ApiAction:
    """One API action (`<resource>.<verb>`) and the facts its accepted scopes follow from."""

    name: str
    level: Level
    read: bool
    sensitive: bool = False  # excluded from `.bounded` (reference §1.3)
    only: tuple[Level, ...] = ()  # levels whose `only.` scopes own this action
    all_also: tuple[Level, ...] = ()  # extra `all.` levels that may use it (listing)
    cli: bool = False  # in the `.cli` set
    deny_oauth: bool = False  # never for OAuth-issued tokens

    @property
    def resource(self) -> str:
        return self.name.rsplit(".", 1)[0]

    def accepted_scopes(self) -> tuple[str, ...]:
        """Every scope that permits this action, in the reference's order of listing."""
        scopes: list[str] = []
        for level in (*_BENEATH[self.level], *self.all_also):
            scopes += _suffixed(f"all.{level}", read=self.read, sensitive=self.sensitive)
            if self.cli and level in ("User", "Application"):
                scopes.append(f"all.{level}.cli")
        for level in self.only:
            scopes += _suffixed(f"only.{level}", read=self.read, sensitive=self.sensitive)
        scopes += [f"{self.resource}.*", self.name]
        return tuple(dict.fromkeys(scopes))


def _suffixed(base: str, *, read: bool, sensitive: bool) -> list[str]:
    scopes = [base]
    if read or not sensitive:
        scopes.append(f"{base}.bounded")
    if read:
        scopes.append(f"{base}.read")
    return scopes


_ACTIONS: tuple[ApiAction, ...] = (
    ApiAction("me.get", "User", read=True, only=("User",)),
    ApiAction(
        "orgs.get", "User", read=True, only=("User", "Organization"), all_also=("Organization",)
    ),
    ApiAction("org.get", "Organization", read=True, only=("Organization",)),
    ApiAction("org.patch", "Organization", read=False, only=("Organization",)),
    ApiAction(
        "applications.get",
        "Organization",
        read=True,
        only=("Organization",),
        all_also=("Application",),
        cli=True,
    ),
    ApiAction("application.get", "Application", read=True, cli=True),
    ApiAction("application.patch", "Application", read=False, cli=True),
    ApiAction("userOauthTokens.get", "User", read=True, only=("User",)),
    ApiAction(
        "userOauthTokens.post", "User", read=False, sensitive=True, only=("User",), deny_oauth=True
    ),
    ApiAction("userOauthToken.get", "User", read=True, only=("User",)),
    ApiAction(
        "userOauthToken.patch", "User", read=False, sensitive=True, only=("User",), deny_oauth=True
    ),
    ApiAction(
        "userOauthToken.delete", "User", read=False, sensitive=True, only=("User",), deny_oauth=True
    ),
    ApiAction("userApiTokens.get", "User", read=True, only=("User",)),
    ApiAction(
        "userApiTokens.post", "User", read=False, sensitive=True, only=("User",), deny_oauth=True
    ),
    ApiAction("userApiToken.get", "User", read=True, only=("User",)),
    ApiAction(
        "userApiToken.patch", "User", read=False, sensitive=True, only=("User",), deny_oauth=True
    ),
    ApiAction(
        "userApiToken.delete", "User", read=False, sensitive=True, only=("User",), deny_oauth=True
    ),
    ApiAction("applicationApiTokens.get", "Application", read=True),
    ApiAction("applicationApiTokens.post", "Application", read=False, sensitive=True),
    ApiAction("applicationApiToken.get", "Application", read=True),
    ApiAction("applicationApiToken.patch", "Application", read=False, sensitive=True),
    ApiAction("applicationApiToken.delete", "Application", read=False, sensitive=True),
)
ACTIONS: dict[str, ApiAction] = {action.name: action for action in _ACTIONS}
ACCEPTED_SCOPES: dict[str, frozenset[str]] = {
    action.name: frozenset(action.accepted_scopes()) for action in _ACTIONS
}


def scope_permits(scope: Iterable[str], action: str) -> bool:
    """True if any scope in `scope` is one the action accepts (reference §3: "any one")."""
    accepted = ACCEPTED_SCOPES[action]
    return any(s in accepted for s in scope)


def oauth_denied(action: str) -> bool:
    """True if OAuth-issued tokens may never perform this action, whatever their scope."""
    return ACTIONS[action].deny_oauth


def scope_challenge(action: str) -> str:
    """The `scope` of an insufficient_scope challenge (RFC 6750 §3): the OAuth-grantable scopes
    that would permit the action, so an MCP client can ask for exactly those (else all)."""
    accepted = ACTIONS[action].accepted_scopes()
    grantable = [s for s in OAUTH_SCOPES if s in accepted]
    return " ".join(grantable or accepted)
