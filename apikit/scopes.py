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
    # The reference lists `applications.get` in the Organization group: an Application-level
    # scope (all.Application*, .cli) reaches one application, never the list of them.
    ApiAction("applications.get", "Organization", read=True, only=("Organization",)),
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


# --- Coverage: may a holder of some scopes hand out another? (the credential ceiling) --------

# Broad scopes, `<all|only>.<Level>[.<suffix>]`. Levels nest User > Organization > Application >
# Device; Instance stands apart. Suffixes nest "" > bounded > read, and "" > bounded > cli
# (the CLI's actions are ordinary, non-sensitive application actions).
_LEVEL_DEPTH = {"User": 0, "Organization": 1, "Application": 2, "Device": 3}
_SUFFIX_WITHIN = {
    "": frozenset({"", "bounded", "read", "cli"}),
    "bounded": frozenset({"bounded", "read", "cli"}),
    "read": frozenset({"read"}),
    "cli": frozenset({"cli"}),
}
# Each resource scope's group, read off the reference's enum (a resource in the User group is a
# User-level resource, and so on).
_GROUP_LEVEL: dict[str, str] = {}
for _level, _group in (
    ("Instance", INSTANCE_SCOPES),
    ("Application", APPLICATION_SCOPES),
    ("Organization", ORGANIZATION_SCOPES),
    ("User", USER_SCOPES),
):
    for _scope in _group:
        if not _scope.startswith(("all.", "only.")):
            _GROUP_LEVEL.setdefault(_scope.split(".", 1)[0], _level)
# The resources whose actions `only.X` reaches (reference §4, "all. vs only.").
_ONLY_RESOURCES = {
    "User": frozenset(
        {"me", "orgs", "instances", "applicationTemplate", "applicationTemplates"}
        | {"userApiToken", "userApiTokens", "userOauthToken", "userOauthTokens"}
    ),
    "Organization": frozenset(
        {"org", "applications", "dashboard", "dashboards", "auditLog", "auditLogs"}
    ),
}
# Reference §1.3: the 37 actions `.bounded` excludes.
SENSITIVE_ACTIONS = frozenset(
    {
        "applicationApiToken.delete", "applicationApiToken.patch", "applicationApiTokens.post",
        "instanceApiToken.delete", "instanceApiToken.patch", "instanceApiTokens.post",
        "userApiToken.delete", "userApiToken.patch", "userApiTokens.post",
        "userOauthToken.delete", "userOauthToken.patch", "userOauthTokens.post",
        "org.inviteMember", "org.modifyMember", "org.removeMember", "org.revokeInvite",
        "instanceMember.delete", "instanceMember.patch", "instanceMembers.post",
        "instanceOrgMember.delete", "instanceOrgMember.patch", "instanceOrgMembers.post",
        "instanceOrgInvite.delete", "instanceOrgInvite.resendInvite", "instanceOrgInvites.post",
        "me.respondToInvite", "org.transferResources", "me.transferResources",
        "me.patch", "me.delete", "me.changePassword", "me.verifyEmail",
        "me.generateTwoFactorAuth", "me.enableTwoFactorAuth", "me.disableTwoFactorAuth",
        "me.disconnectGithub", "me.refreshToken",
    }
)  # fmt: skip


def _broad(scope: str) -> tuple[str, str, str] | None:
    """(`all`|`only`, level, suffix) of a broad scope, else None."""
    parts = scope.split(".")
    if len(parts) not in (2, 3) or parts[0] not in ("all", "only"):
        return None
    level, suffix = parts[1], parts[2] if len(parts) == 3 else ""
    if level not in (*_LEVEL_DEPTH, "Instance") or suffix not in _SUFFIX_WITHIN:
        return None
    return parts[0], level, suffix


def _level_within(inner: str, outer: str) -> bool:
    """`inner` is `outer` or beneath it (Instance only within itself)."""
    if "Instance" in (inner, outer):
        return inner == outer
    return _LEVEL_DEPTH[inner] >= _LEVEL_DEPTH[outer]


def _broad_covers_broad(held: tuple[str, str, str], wanted: tuple[str, str, str]) -> bool:
    held_kind, held_level, held_suffix = held
    wanted_kind, wanted_level, wanted_suffix = wanted
    if wanted_suffix not in _SUFFIX_WITHIN[held_suffix]:
        return False
    if held_kind == "only":  # an only. scope reaches its own level's endpoints, nothing more
        return wanted_kind == "only" and wanted_level == held_level
    return _level_within(wanted_level, held_level)


def _reaches(held: tuple[str, str, str], resource: str) -> bool:
    """Does a broad scope's level reach a resource at all, whatever its suffix?"""
    kind, level, _suffix = held
    if kind == "only":
        return resource in _ONLY_RESOURCES.get(level, ())
    if level == "Device":
        return resource in ("device", "devices")
    resource_level = _GROUP_LEVEL.get(resource)
    return resource_level is not None and _level_within(resource_level, level)


def _broad_covers_action(held: tuple[str, str, str], action: str) -> bool:
    """Does a broad scope permit one action `r.<verb>`? An action this server serves answers
    from its table; any other from its group, its verb and the sensitive list (a read is a
    `get`; the `.cli` set is only known for served actions)."""
    if action in ACCEPTED_SCOPES:
        return ".".join(part for part in held if part) in ACCEPTED_SCOPES[action]
    resource, verb = action.split(".", 1)
    suffix = held[2]
    if not _reaches(held, resource):
        return False
    return (
        suffix == ""
        or (suffix == "bounded" and action not in SENSITIVE_ACTIONS)
        or (suffix == "read" and verb == "get")
    )


def _broad_covers_resource(held: tuple[str, str, str], resource: str) -> bool:
    """Does a broad scope permit every action of a resource (`r.*`, which may hold actions
    this server does not serve)? Only without a suffix, or `.bounded` where none of the
    resource's actions is sensitive."""
    if not _reaches(held, resource):
        return False
    sensitive = any(a.startswith(resource + ".") for a in SENSITIVE_ACTIONS)
    return held[2] == "" or (held[2] == "bounded" and not sensitive)


def scope_covers(held: Iterable[str], wanted: str) -> bool:
    """True if a credential holding `held` may hand out `wanted`: the same scope, or a broader
    one that contains it (reference §4: `all.X` covers X and beneath, `only.X` its own level,
    `r.*` every `r.<action>`; no suffix > `.bounded` > `.read`/`.cli`)."""
    held = set(held)
    if wanted in held:
        return True
    wanted_broad = _broad(wanted)
    held_broad = [b for b in map(_broad, held) if b is not None]
    if wanted_broad is not None:
        return any(_broad_covers_broad(h, wanted_broad) for h in held_broad)
    resource, _, verb = wanted.partition(".")
    if not verb:
        return False
    if verb != "*" and f"{resource}.*" in held:
        return True
    if verb == "*":
        return any(_broad_covers_resource(h, resource) for h in held_broad)
    return any(_broad_covers_action(h, wanted) for h in held_broad)


def scopes_uncovered(held: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The scopes of `wanted` that `held` does not cover, in order (empty: all covered)."""
    held = frozenset(held)
    return [scope for scope in wanted if not scope_covers(held, scope)]
