"""Reads of the consent app: clients, credentials by value, and what the consent screen shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.models import Organization, User
from accounts.roles import SANDBOX_ORG_ID, Role, UserRoles, lower_role, role_label, user_roles
from apikit.scopes import OAUTH_SCOPE_DESCRIPTIONS
from consent.forms import ROLE_CHOICES
from consent.models import ClientRegistration, OAuthClient
from tokens.client_links import safe_image_src, safe_link
from tokens.models import AccessToken, AuthorizationCode, OAuthToken, RefreshToken, TokenStatus
from tokens.redirects import LOOPBACK_HOSTS, is_loopback_redirect_uri
from tokens.secrets import SecretKind, secret_digest
from tokens.selectors import GRANT_COLUMNS, GRANT_JOINS, grant_from_row
from tokens.sql import columns, fetch_one, instance


def client_by_client_id(client_id: object) -> OAuthClient | None:
    """The stored client for `client_id`, or None (also for ids no client could have)."""
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 1024:
        return None
    if not client_id.isprintable():
        return None
    row = fetch_one(_CLIENT_SQL, [client_id])
    return instance(OAuthClient, row) if row else None


_CLIENT_SQL = (
    f"SELECT {columns('c', OAuthClient)} FROM {OAuthClient._meta.db_table} c WHERE c.client_id = %s"
)


def authorization_code_by_value(raw: str) -> AuthorizationCode | None:
    if not isinstance(raw, str) or not raw.startswith(SecretKind.AUTHORIZATION_CODE.value):
        return None
    return _credential_by_digest(AuthorizationCode, secret_digest(raw))


def refresh_token_by_value(raw: str) -> RefreshToken | None:
    if not isinstance(raw, str) or not raw.startswith(SecretKind.REFRESH_TOKEN.value):
        return None
    return _credential_by_digest(RefreshToken, secret_digest(raw))


def access_token_by_value(raw: str) -> AccessToken | None:
    if not isinstance(raw, str) or not raw.startswith(SecretKind.ACCESS_TOKEN.value):
        return None
    return _credential_by_digest(AccessToken, secret_digest(raw))


Credential = TypeVar("Credential", AuthorizationCode, RefreshToken, AccessToken)


def _credential_by_digest(model: type[Credential], digest: str) -> Credential | None:
    """The credential with its OAuth token, the client's client_id, the user's is_active and
    the grant's usability verdicts (tokens.selectors.GRANT_COLUMNS), in one prepared statement
    (bench W2-W4)."""
    row = fetch_one(_credential_sql(model), {"digest": digest, "now": timezone.now()})
    if row is None:
        return None
    split = len(model._meta.concrete_fields)
    credential = instance(model, row[:split])
    credential.oauth_token = grant_from_row(row[split:])
    return credential


@cache
def _credential_sql(model: type[Model]) -> str:
    return (
        f"SELECT {columns('k', model)}, {GRANT_COLUMNS} FROM {model._meta.db_table} k"
        f" JOIN {OAuthToken._meta.db_table} o ON o.id = k.oauth_token_id{GRANT_JOINS}"
        " WHERE k.digest = %(digest)s"
    )


@dataclass(frozen=True)
class ClientPresentation:
    """How the consent screen shows a client (issue 3, MCP CIMD security considerations)."""

    name: str
    homepage: str
    logo_src: str
    tos_uri: str
    policy_uri: str
    verified: bool
    metadata_document_host: str
    loopback_only: bool


def client_presentation(client: OAuthClient) -> ClientPresentation:
    hosts = {urlsplit(uri).hostname for uri in client.redirect_uris}
    loopback = {host.strip("[]") for host in LOOPBACK_HOSTS}
    document_host = (
        urlsplit(client.client_id).hostname or ""
        if client.registration == ClientRegistration.METADATA_DOCUMENT
        else ""
    )
    return ClientPresentation(
        name=client.client_name,
        homepage=safe_link(client.client_uri),
        logo_src=safe_image_src(client.logo_uri),
        tos_uri=safe_link(client.tos_uri),
        policy_uri=safe_link(client.policy_uri),
        verified=client.is_verified,
        metadata_document_host=document_host,
        loopback_only=not client.is_verified and bool(hosts) and hosts <= loopback,
    )


@dataclass(frozen=True)
class ScopeRow:
    name: str
    description: str
    already_granted: bool


def scope_rows(scope: list[str], *, previous: PreviousConsent | None = None) -> list[ScopeRow]:
    """Each requested scope with its plain-English description (user-oauth-tokens-guide), and
    whether the user already granted it to this client (incremental consent)."""
    granted = previous.scopes if previous else frozenset()
    return [ScopeRow(name, OAUTH_SCOPE_DESCRIPTIONS[name], name in granted) for name in scope]


@dataclass(frozen=True)
class PreviousConsent:
    """What this user already granted this client: the scopes of their live OAuth tokens for
    it, and the caps of the latest, which the consent screen starts from."""

    scopes: frozenset[str]
    default_role: str
    overrides: dict[str, str]
    date: datetime


def consent_previous(*, user: User, client: OAuthClient) -> PreviousConsent | None:
    """The user's earlier consent to `client` (authorized, active, unexpired tokens), or None."""
    tokens = list(
        OAuthToken.objects.authorized()
        .filter(user=user, client=client, status=TokenStatus.ACTIVE)
        .exclude(expiration_date__lte=timezone.now())
        .order_by("-creation_date")
        .only("scope", "default_role", "org_roles", "creation_date")[:20]
    )
    if not tokens:
        return None
    latest = tokens[0]
    return PreviousConsent(
        scopes=frozenset(s for token in tokens for s in token.scope),
        default_role=latest.default_role,
        overrides={r["orgId"]: r["role"] for r in latest.org_roles or []},
        date=latest.creation_date,
    )


@dataclass(frozen=True)
class ResourceRow:
    name: str
    uri: str


def resource_rows(resource: list[str], *, api_name: str) -> list[ResourceRow]:
    """The resources (RFC 8707) the token will be good for, by name: our API is the only one
    we serve, so a request without `resource` is for it too."""
    uris = resource or [settings.API_RESOURCE_URL]
    return [ResourceRow(api_name if uri == settings.API_RESOURCE_URL else uri, uri) for uri in uris]


@dataclass(frozen=True)
class PermissionRow:
    org_id: str
    name: str
    user_role: str
    override: str
    effective_role: str

    @property
    def user_role_label(self) -> str:
        return role_label(self.user_role)

    @property
    def effective_role_label(self) -> str:
        return role_label(self.effective_role)

    @property
    def override_options(self) -> SafeString:
        """The `<option>`s of this row's override `<select>`."""
        return _override_options(self.override)


@lru_cache(maxsize=len(ROLE_CHOICES) + 2)
def _override_options(override: str) -> SafeString:
    # Rendered once per override value instead of once per organization: the nested template
    # loop was three quarters of the consent page's CPU for a user in 100 organizations.
    blank = format_html('<option value=""{}>Use default</option>', "" if override else " selected")
    return blank + format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == override else "", label) for value, label in ROLE_CHOICES),
    )


@dataclass(frozen=True)
class ConsentOrganizations:
    """The user's organizations (sorted by name) and their roles, read once per page."""

    roles: UserRoles
    names: dict[str, str]

    @property
    def ids(self) -> list[str]:
        return list(self.names)


def consent_organizations(*, user: User) -> ConsentOrganizations:
    """Three queries whatever the number of organizations: roles, overrides, names."""
    roles = user_roles(user=user)
    names = dict(
        Organization.objects.filter(pk__in=list(roles.organization_roles))
        .order_by("name", "id")
        .values_list("id", "name")
    )
    return ConsentOrganizations(roles=roles, names=names)


def consent_permission_rows(
    *, organizations: ConsentOrganizations, default_role: str, overrides: dict[str, str]
) -> list[PermissionRow]:
    """Per-Organization Permissions: each organization of the user, then the Sandbox, with the
    user's own role and the effective role that results, never above the user's own role."""
    rows = []
    for org_id in [*organizations.ids, SANDBOX_ORG_ID]:
        own = organizations.roles.for_organization(org_id)
        override = overrides.get(org_id, "")
        cap = override if override in Role.values else default_role
        rows.append(
            PermissionRow(
                org_id=org_id,
                name="Sandbox" if org_id == SANDBOX_ORG_ID else organizations.names[org_id],
                user_role=own,
                override=override,
                effective_role=lower_role(own, cap),
            )
        )
    return rows


def redirect_uri_host(uri: str) -> str:
    """The host (and port) the user will be sent to, shown prominently on the consent screen."""
    parts = urlsplit(uri)
    return parts.netloc.rsplit("@", 1)[-1]


def consent_account(*, user: User, authorize_url: str) -> dict[str, str]:
    """Who is signing in, and "Not you?": log out, log in again, come back to this request."""
    login = f"{settings.LOGIN_URL}?{urlencode({'next': authorize_url})}"
    return {"account_email": user.email, "switch_account_next": login}


def error_redirect_allowed(*, client: OAuthClient | None, redirect_uri: str, user: User) -> bool:
    """May an authorization error be redirected to `redirect_uri` without a click?

    RFC 9700 §4.11.2 and OAuth 2.1 §7.13.2 (open redirector): only when the redirect target is
    vouched for: an administrator created the client, the URI is a loopback address (the
    response stays on the user's machine), or this user has authorized the client before
    (clicked Authorize on a consent screen that named the redirect host).
    A dynamically registered or metadata-document client nobody here has confirmed, and any
    client while the user is anonymous, gets our error page with a link instead.
    """
    if client is None:
        return False
    if client.registration == ClientRegistration.ADMIN or is_loopback_redirect_uri(redirect_uri):
        return True
    if not user.is_authenticated:
        return False
    # Clicking Authorize on the consent screen (which shows the redirect host) confirms the
    # client, whether or not its code was redeemed yet.
    return OAuthToken.objects.filter(user=user, client=client).exists()
