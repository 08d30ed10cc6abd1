"""Scopes. The 7 OAuth-grantable scopes and their plain-English descriptions come from
user-oauth-tokens-guide.txt; `scopes_supported` publishes exactly this list, in this order."""

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
