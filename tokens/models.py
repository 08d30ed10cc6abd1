"""Tokens: the user-visible OAuth token (the grant), the credentials that rotate beneath it,
user and application API tokens, and their audit trail. Secrets are stored only as SHA-256."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.ids import new_object_id
from accounts.roles import Role
from tokens.secrets import secret_digest


def _object_id() -> models.CharField:
    return models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)


class TokenStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class AuthorizationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AUTHORIZED = "authorized", "Authorized"


class ByValueQuerySet(models.QuerySet):
    """Find a credential by its raw value; only the digest is ever queried."""

    def by_value(self, raw: str) -> models.QuerySet:
        return self.filter(digest=secret_digest(raw))


class OAuthTokenQuerySet(models.QuerySet):
    def pending(self) -> "OAuthTokenQuerySet":
        return self.filter(authorization_status=AuthorizationStatus.PENDING)

    def authorized(self) -> "OAuthTokenQuerySet":
        return self.filter(authorization_status=AuthorizationStatus.AUTHORIZED)

    def expired(self, now=None) -> "OAuthTokenQuerySet":
        return self.filter(expiration_date__lte=now or timezone.now())


class OAuthToken(models.Model):
    """A user's OAuth token: the grant a third-party client holds, as listed in My Account.

    Its access and refresh tokens rotate underneath it; deactivating, deleting or expiring it
    stops every one of them on the next request. Its scope never changes after creation.
    """

    id = _object_id()
    # Indexed by the list's indexes, which all start with user_id (Meta.indexes): an index of
    # its own, deduplicated to a few pages, only lured the planner into reading the table.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="oauth_tokens",
        db_index=False,
    )
    client = models.ForeignKey(
        "consent.OAuthClient", on_delete=models.CASCADE, related_name="oauth_tokens"
    )
    name = models.CharField(max_length=255)
    # The name as the list filters and sorts it (apikit.lists: case-insensitive, compared byte
    # by byte), stored so that matching a glob against 100 000 names reads it from an index
    # instead of folding every name again (bench W5).
    name_folded = models.GeneratedField(
        expression=Lower("name"),
        output_field=models.TextField(db_collation="C"),
        db_persist=True,
    )
    description = models.TextField(blank=True, max_length=32767)
    scope = models.JSONField(default=list)
    default_role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEW)
    org_roles = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=TokenStatus.choices, default=TokenStatus.ACTIVE)
    authorization_status = models.CharField(
        max_length=10, choices=AuthorizationStatus.choices, default=AuthorizationStatus.PENDING
    )
    redirect_uri = models.CharField(max_length=1024)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=8, default="S256")
    resource = models.JSONField(default=list, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    creation_date = models.DateTimeField(default=timezone.now, db_index=True)
    last_updated = models.DateTimeField(auto_now=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = OAuthTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "OAuth token"
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["creation_date"],
                name="oauthtoken_pending_created",
                condition=Q(authorization_status="pending"),
            ),
            # The token list (tokens.selectors.oauth_token_ids_list). A glob with a literal
            # prefix is one range of this index, already in name order; its count is an
            # index-only pass, and so is any other glob's when most of the user's tokens match.
            models.Index(
                fields=["user", "name_folded", "name", "id"],
                include=["status", "creation_date", "last_updated"],
                name="oauthtoken_user_fname",
            ),
            # Infix globs: trigrams of the folded name, without GIN's pending list, which every
            # search would read whole (the authorization flow keeps adding tokens).
            GinIndex(
                fields=["name_folded"],
                opclasses=["gin_trgm_ops"],
                name="oauthtoken_fname_trgm",
                fastupdate=False,
            ),
            # A page of a glob that many tokens match is read in sort order off one of these,
            # testing the glob on the index entry, and stops once the page is full; the name
            # sort uses oauthtoken_user_fname.
            *(
                models.Index(
                    fields=["user", *keys, "id"], include=["name_folded"], name=f"oauthtoken_{name}"
                )
                for name, keys in (
                    ("user_status", ["status"]),
                    ("user_created", ["creation_date"]),
                    ("user_updated", ["last_updated"]),
                    ("user_id", []),
                )
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TokenStatus.values), name="oauthtoken_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(default_role__in=Role.values), name="oauthtoken_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_pending(self) -> bool:
        return self.authorization_status == AuthorizationStatus.PENDING

    @property
    def is_active(self) -> bool:
        return self.status == TokenStatus.ACTIVE

    @property
    def is_expired(self) -> bool:
        return self.expiration_date is not None and self.expiration_date <= timezone.now()


class AuthorizationCode(models.Model):
    """A single-use code (<= 10 minutes) bound to client, redirect URI and PKCE challenge (RFC 6749 §4.1.2)."""

    oauth_token = models.ForeignKey(OAuthToken, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    redirect_uri = models.CharField(max_length=1024)
    code_challenge = models.CharField(max_length=128)
    resource = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    creation_date = models.DateTimeField(default=timezone.now)

    objects = ByValueQuerySet.as_manager()

    def __str__(self) -> str:
        return f"AuthorizationCode of {self.oauth_token_id}"


class AccessToken(models.Model):
    """An opaque bearer access token of an OAuth token, bound to its resource(s) (RFC 8707)."""

    oauth_token = models.ForeignKey(
        OAuthToken, on_delete=models.CASCADE, related_name="access_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.JSONField(default=list)
    resource = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    creation_date = models.DateTimeField(default=timezone.now)

    objects = ByValueQuerySet.as_manager()

    def __str__(self) -> str:
        return f"AccessToken of {self.oauth_token_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class RefreshToken(models.Model):
    """A refresh token. Rotated on each use (OAuth 2.1 §4.3.1); `used_at` marks a rotated one.

    Every refresh token of a grant points at the same OAuth token, so revoking the family is one
    operation on the OAuth token, never a walk along a chain.
    """

    oauth_token = models.ForeignKey(
        OAuthToken, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.JSONField(default=list)
    resource = models.JSONField(default=list)
    used_at = models.DateTimeField(null=True, blank=True)
    creation_date = models.DateTimeField(default=timezone.now)

    objects = ByValueQuerySet.as_manager()

    def __str__(self) -> str:
        return f"RefreshToken of {self.oauth_token_id}"


class ApiTokenOwnerType(models.TextChoices):
    USER = "user", "User"
    APPLICATION = "application", "Application"


class ApiTokenCreatorType(models.TextChoices):
    USER = "user", "User"
    API_TOKEN = "apiToken", "API token"
    FLOW = "flow", "Flow"


class ApiToken(models.Model):
    """A user API token or an application API token (reference: API Token schema)."""

    id = _object_id()
    owner_type = models.CharField(max_length=12, choices=ApiTokenOwnerType.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    application = models.ForeignKey(
        "accounts.Application",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    creator_id = models.CharField(max_length=24)
    creator_type = models.CharField(max_length=8, choices=ApiTokenCreatorType.choices)
    creator_name = models.CharField(max_length=1024, blank=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, max_length=32767)
    scope = models.JSONField(default=list)
    default_role = models.CharField(max_length=16, choices=Role.choices, default=Role.ADMIN)
    org_roles = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=TokenStatus.choices, default=TokenStatus.ACTIVE)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    expiration_date = models.DateTimeField(null=True, blank=True)
    creation_date = models.DateTimeField(default=timezone.now)
    last_updated = models.DateTimeField(auto_now=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ByValueQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner_type="user", user__isnull=False, application__isnull=True))
                | (Q(owner_type="application", user__isnull=True, application__isnull=False)),
                name="apitoken_single_owner",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TokenStatus.values), name="apitoken_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_id(self) -> str:
        return self.user_id or self.application_id

    @property
    def is_active(self) -> bool:
        return self.status == TokenStatus.ACTIVE

    @property
    def is_expired(self) -> bool:
        return self.expiration_date is not None and self.expiration_date <= timezone.now()


class TokenEventKind(models.TextChoices):
    CREATED = "created", "Created"
    AUTHORIZED = "authorized", "Authorized"
    REFRESHED = "refreshed", "Refreshed"
    STATUS_CHANGED = "status_changed", "Status changed"
    CAPS_CHANGED = "caps_changed", "Caps changed"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    REVOKED = "revoked", "Revoked"


class TokenEvent(models.Model):
    """Audit trail of token events. Keeps plain ids so it outlives the tokens it describes."""

    token_type = models.CharField(max_length=16)  # "oauthToken" or "apiToken"
    token_id = models.CharField(max_length=24, db_index=True)
    user_id = models.CharField(max_length=24, blank=True, db_index=True)
    client_id = models.CharField(max_length=1024, blank=True)
    kind = models.CharField(max_length=16, choices=TokenEventKind.choices)
    detail = models.JSONField(default=dict, blank=True)
    creation_date = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-creation_date"]

    def __str__(self) -> str:
        return f"{self.token_type} {self.token_id} {self.kind}"
