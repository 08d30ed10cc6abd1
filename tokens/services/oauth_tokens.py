"""User OAuth tokens: created pending by the consent screen and by POST /api/me/oauth-tokens
(one service for both), then edited, toggled and deleted by their user."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from accounts.errors import validation_error
from accounts.principals import Principal
from accounts.roles import Role, RoleCap
from accounts.text import text_validate
from apikit.scopes import OAUTH_SCOPES
from tokens.caps import cap_validate
from tokens.ceiling import (
    ceiling_cap_default,
    credential_ceiling_enforce,
    credential_change_enforce,
)
from tokens.models import ApiToken, OAuthToken, TokenEventKind, TokenStatus
from tokens.redirects import redirect_uri_matches
from tokens.services.events import token_event_record

if TYPE_CHECKING:
    from accounts.models import Application, User
    from consent.models import OAuthClient


UNSET: Any = object()
MAX_RESOURCES = 10


def oauth_scope_validate(scope: object) -> list[str]:
    """A list of distinct OAuth-grantable scopes, in the order given."""
    if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
        raise validation_error("scope must be a list of strings")
    unknown = [s for s in scope if s not in OAUTH_SCOPES]
    if unknown:
        raise validation_error(f"scope {unknown[0]!r} is not one of {', '.join(OAUTH_SCOPES)}")
    if len(set(scope)) != len(scope):
        raise validation_error("scope must not repeat a value")
    return list(scope)


def _text_validate(field: str, value: object, *, max_length: int, required: bool) -> str:
    return text_validate(field, value, max_length=max_length, required=required)


@transaction.atomic
def oauth_token_create(
    *,
    user: User,
    actor: Principal,
    client: OAuthClient,
    name: str,
    scope: list[str],
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str = "S256",
    resource: list[str] | None = None,
    default_role: str | None = None,
    org_roles: list | None = None,
    description: str = "",
    expiration_date: datetime | None = None,
) -> OAuthToken:
    """Create the user's OAuth token in the pending state (reference: User OAuth Token Post).

    `resource` must already be canonical (the authorization server validates RFC 8707 targets).
    Never above `actor`, the caller (tokens.ceiling); missing roles take its ceiling.
    """
    name = _text_validate("name", name, max_length=255, required=True)
    description = _text_validate("description", description, max_length=32767, required=False)
    scope = oauth_scope_validate(scope)
    if not redirect_uri_matches(client.redirect_uris, redirect_uri):
        raise validation_error("oauth.redirect_uri is not registered for this client")
    if code_challenge_method != "S256":
        raise validation_error("oauth.code_challenge_method must be S256")
    if resource is not None and len(resource) > MAX_RESOURCES:
        raise validation_error(f"oauth.resource must list at most {MAX_RESOURCES} resources")
    if expiration_date is not None and expiration_date <= timezone.now():
        raise validation_error("expirationDate must be in the future")
    default_role, org_roles = ceiling_cap_default(
        actor=actor, preferred_role=Role.VIEW, default_role=default_role, org_roles=org_roles
    )
    cap = cap_validate(user=user, default_role=default_role, org_roles=org_roles)
    credential_ceiling_enforce(actor=actor, scope=scope, cap=cap)
    token = OAuthToken.objects.create(
        user=user,
        client=client,
        name=name,
        description=description,
        scope=scope,
        default_role=cap.default_role,
        org_roles=cap.org_roles,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        resource=list(resource or []),
        expiration_date=expiration_date,
    )
    token_event_record(
        token_type="oauthToken",
        token_id=token.id,
        kind=TokenEventKind.CREATED,
        user_id=user.pk,
        client_id=client.client_id,
        detail={"scope": scope, "defaultRole": cap.default_role},
    )
    return token


@transaction.atomic
def oauth_token_update(
    *,
    token: OAuthToken,
    actor: Principal,
    name: str = UNSET,
    description: str = UNSET,
    status: str = UNSET,
    default_role: str = UNSET,
    org_roles: list = UNSET,
) -> OAuthToken:
    """Change what a user may change (reference: User OAuth Token Patch); never scope or expiry.

    The row is locked and written in one UPDATE, so concurrent edits never mix their caps.
    A change that can add power (caps, reactivation) must leave the token within `actor`'s
    ceiling (tokens.ceiling), so a narrower token cannot raise a broader one or itself.
    """
    locked = OAuthToken.objects.select_for_update().get(pk=token.pk)
    if locked.is_expired:
        raise validation_error("An expired OAuth token cannot be changed")
    changed = token_change_apply(
        locked=locked,
        actor=actor,
        name=name,
        description=description,
        status=status,
        default_role=default_role,
        org_roles=org_roles,
    )
    _record_update(locked, changed)
    return locked


def token_change_apply(
    *,
    locked: OAuthToken | ApiToken,
    actor: Principal,
    name: str = UNSET,
    description: str = UNSET,
    status: str = UNSET,
    default_role: str = UNSET,
    org_roles: list = UNSET,
    application: Application | None = None,
) -> dict[str, object]:
    """The one rule for changing an OAuth or API token (reference: the two Patch operations):
    validate what is given, keep the result within `actor`'s ceiling (tokens.ceiling), and
    write it to the row-locked `locked` in one UPDATE. Returns what changed."""
    changed: dict[str, object] = {}
    if name is not UNSET:
        changed["name"] = _text_validate("name", name, max_length=255, required=True)
    if description is not UNSET:
        changed["description"] = _text_validate(
            "description", description, max_length=32767, required=False
        )
    if status is not UNSET:
        if status not in TokenStatus.values:
            raise validation_error("status must be one of active, inactive")
        changed["status"] = status
    if default_role is not UNSET or org_roles is not UNSET:
        cap = cap_validate(
            user=locked.user,
            default_role=locked.default_role if default_role is UNSET else default_role,
            org_roles=locked.org_roles if org_roles is UNSET else org_roles,
            application=application,
        )
        changed["default_role"] = cap.default_role
        changed["org_roles"] = cap.org_roles
    credential_change_enforce(
        actor=actor,
        scope=locked.scope,
        cap_before=RoleCap(locked.default_role, locked.org_roles),
        cap_after=RoleCap(
            changed.get("default_role", locked.default_role),
            changed.get("org_roles", locked.org_roles),
        ),
        reactivated=locked.status != TokenStatus.ACTIVE
        and changed.get("status") == TokenStatus.ACTIVE,
        application=application,
    )
    for field, value in changed.items():
        setattr(locked, field, value)
    locked.save(update_fields=[*changed, "last_updated"])
    return changed


def _record_update(token: OAuthToken, changed: dict[str, object]) -> None:
    if "status" in changed:
        token_event_record(
            token_type="oauthToken",
            token_id=token.id,
            kind=TokenEventKind.STATUS_CHANGED,
            user_id=token.user_id,
            client_id=token.client.client_id,
            detail={"status": changed["status"]},
        )
    if "default_role" in changed:
        token_event_record(
            token_type="oauthToken",
            token_id=token.id,
            kind=TokenEventKind.CAPS_CHANGED,
            user_id=token.user_id,
            client_id=token.client.client_id,
            detail={"defaultRole": changed["default_role"], "orgRoles": changed["org_roles"]},
        )
    if {"name", "description"} & set(changed):
        token_event_record(
            token_type="oauthToken",
            token_id=token.id,
            kind=TokenEventKind.UPDATED,
            user_id=token.user_id,
            client_id=token.client.client_id,
        )


def oauth_token_set_status(*, token: OAuthToken, actor: Principal, active: bool) -> OAuthToken:
    """Activate or deactivate; an inactive token's credentials fail on the next request."""
    return oauth_token_update(
        token=token, actor=actor, status=TokenStatus.ACTIVE if active else TokenStatus.INACTIVE
    )


@transaction.atomic
def oauth_token_delete(*, token: OAuthToken, reason: str = "deleted by user") -> None:
    """Delete the grant and, with it, every code, access and refresh token it holds.

    The OAuth token row is locked first, the same order the grant services use, so a delete
    racing a refresh or code redemption waits instead of deadlocking.
    """
    if not OAuthToken.objects.select_for_update().filter(pk=token.pk).exists():
        return
    token_event_record(
        token_type="oauthToken",
        token_id=token.id,
        kind=TokenEventKind.DELETED,
        user_id=token.user_id,
        client_id=token.client.client_id,
        detail={"reason": reason},
    )
    OAuthToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def oauth_tokens_revoke_for_client(
    *, client: OAuthClient, user: User | None = None, reason: str
) -> int:
    """Delete every OAuth token of `client` (only `user`'s, when given) and so every code,
    access and refresh token beneath them (RFC 7009 §2.1: revoking the grant revokes its
    tokens). The administrator's "revoke all tokens" and the user's "revoke all for this
    application". Rows are locked in id order, as oauth_token_delete locks one. Returns how
    many were deleted."""
    tokens = OAuthToken.objects.filter(client=client)
    if user is not None:
        tokens = tokens.filter(user=user)
    locked = list(tokens.select_for_update().order_by("pk").values_list("pk", "user_id"))
    for token_id, user_id in locked:
        token_event_record(
            token_type="oauthToken",
            token_id=token_id,
            kind=TokenEventKind.DELETED,
            user_id=user_id,
            client_id=client.client_id,
            detail={"reason": reason},
        )
    OAuthToken.objects.filter(pk__in=[pk for pk, _ in locked]).delete()
    return len(locked)
