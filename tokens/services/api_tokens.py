"""User and application API tokens (reference: API Token Post/Patch). The secret is returned
once, next to the model, and stored only as a SHA-256 digest."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.errors import validation_error
from accounts.models import Application, User
from accounts.principals import Principal
from accounts.roles import Role
from apikit.scopes import API_TOKEN_SCOPE_SET, APPLICATION_API_TOKEN_SCOPE_SET
from tokens.caps import cap_validate
from tokens.ceiling import (
    ceiling_cap_default,
    ceiling_scope_default,
    credential_ceiling_enforce,
)
from tokens.models import ApiToken, ApiTokenOwnerType, TokenEventKind, TokenStatus
from tokens.secrets import SecretKind, secret_digest, secret_generate
from tokens.services.events import token_event_record
from tokens.services.oauth_tokens import UNSET, _text_validate, token_change_apply

# What an application's token gets without a scope from a caller that does not hold
# all.Application but holds one of these (say all.User.read).
APPLICATION_FALLBACK_SCOPES = ("all.Application.bounded", "all.Application.read")


def api_scope_validate(scope: object, *, application: bool = False) -> list[str]:
    """A list of distinct scopes from the reference's API-token enum (apikit.scopes); an
    application API token reaches only its application, so it takes Application scopes only."""
    if not isinstance(scope, list) or not all(
        isinstance(s, str) and 1 <= len(s) <= 1024 for s in scope
    ):
        raise validation_error("scope must be a list of scope names")
    if len(set(scope)) != len(scope):
        raise validation_error("scope must not repeat a value")
    for index, value in enumerate(scope):
        if value not in API_TOKEN_SCOPE_SET:
            raise validation_error(f"scope[{index}] {value} is not a known scope")
        if application and value not in APPLICATION_API_TOKEN_SCOPE_SET:
            raise validation_error(
                f"scope[{index}] {value} is not an application scope "
                "(application API tokens reach only their application)"
            )
    return list(scope)


@transaction.atomic
def api_token_create(
    *,
    owner: User | Application,
    creator: User | ApiToken,
    actor: Principal,
    name: str,
    scope: list[str] | None = None,
    description: str = "",
    expiration_date: datetime | None = None,
    default_role: str | None = None,
    org_roles: list | None = None,
    status: str = TokenStatus.ACTIVE,
) -> tuple[ApiToken, str]:
    """Create an API token for a user or an application; returns (token, raw secret).

    Never above `actor`, the caller (tokens.ceiling); missing scope and roles take its ceiling.
    """
    name = _text_validate("name", name, max_length=255, required=True)
    description = _text_validate("description", description, max_length=32767, required=False)
    application = None if isinstance(owner, User) else owner
    if scope is None:
        scope = ceiling_scope_default(
            actor=actor,
            preferred="all.User" if application is None else "all.Application",
            valid=API_TOKEN_SCOPE_SET if application is None else APPLICATION_API_TOKEN_SCOPE_SET,
            fallbacks=() if application is None else APPLICATION_FALLBACK_SCOPES,
        )
    scope = api_scope_validate(scope, application=application is not None)
    if status not in TokenStatus.values:
        raise validation_error("status must be one of active, inactive")
    if expiration_date is not None and expiration_date <= timezone.now():
        raise validation_error("expirationDate must be in the future")
    default_role, org_roles = ceiling_cap_default(
        actor=actor,
        preferred_role=Role.ADMIN,
        default_role=default_role,
        org_roles=org_roles,
        application=application,
    )
    cap = cap_validate(
        user=owner if application is None else None,
        default_role=default_role,
        org_roles=org_roles,
        application=application,
    )
    credential_ceiling_enforce(actor=actor, scope=scope, cap=cap, application=application)
    is_user = isinstance(owner, User)
    kind = SecretKind.USER_API_TOKEN if is_user else SecretKind.APPLICATION_API_TOKEN
    raw = secret_generate(kind)
    token = ApiToken.objects.create(
        owner_type=ApiTokenOwnerType.USER if is_user else ApiTokenOwnerType.APPLICATION,
        user=owner if is_user else None,
        application=None if is_user else owner,
        creator_id=creator.pk,
        creator_type="user" if isinstance(creator, User) else "apiToken",
        creator_name=creator.email if isinstance(creator, User) else creator.name,
        name=name,
        description=description,
        scope=scope,
        default_role=cap.default_role,
        org_roles=cap.org_roles,
        status=status,
        digest=secret_digest(raw),
        expiration_date=expiration_date,
    )
    token_event_record(
        token_type="apiToken",
        token_id=token.id,
        kind=TokenEventKind.CREATED,
        user_id=token.user_id or "",
        detail={"ownerType": token.owner_type, "ownerId": token.owner_id, "scope": scope},
    )
    return token, raw


@transaction.atomic
def api_token_update(
    *,
    token: ApiToken,
    actor: Principal,
    name: str = UNSET,
    description: str = UNSET,
    status: str = UNSET,
    default_role: str = UNSET,
    org_roles: list = UNSET,
) -> ApiToken:
    """Patch name, description, status and caps (never scope or expiration); row-locked.

    A change that can add power (caps, reactivation) must leave the token within `actor`'s
    ceiling (tokens.ceiling); renaming, describing and deactivating add none.
    """
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.is_expired:
        raise validation_error("An expired API token cannot be changed")
    changed = token_change_apply(
        locked=locked,
        actor=actor,
        name=name,
        description=description,
        status=status,
        default_role=default_role,
        org_roles=org_roles,
        application=locked.application,
    )
    if changed:
        kind = (
            TokenEventKind.STATUS_CHANGED
            if set(changed) == {"status"}
            else TokenEventKind.CAPS_CHANGED
            if "default_role" in changed
            else TokenEventKind.UPDATED
        )
        token_event_record(
            token_type="apiToken",
            token_id=locked.id,
            kind=kind,
            user_id=locked.user_id or "",
            detail={k: v for k, v in changed.items() if k != "description"},
        )
    return locked


def api_token_delete(*, token: ApiToken) -> None:
    """Delete an API token; it fails on the very next request."""
    token_event_record(
        token_type="apiToken",
        token_id=token.id,
        kind=TokenEventKind.DELETED,
        user_id=token.user_id or "",
        detail={"ownerType": token.owner_type, "ownerId": token.owner_id},
    )
    ApiToken.objects.filter(pk=token.pk).delete()
