from django.db import models
from django.db.models import Q

from accounts.ids import new_object_id


class ClientAuthMethod(models.TextChoices):
    NONE = "none", "Public (none)"
    CLIENT_SECRET_BASIC = "client_secret_basic", "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post", "client_secret_post"


class ClientRegistration(models.TextChoices):
    ADMIN = "admin", "Created by an administrator"
    DYNAMIC = "dynamic", "Dynamic registration (RFC 7591)"
    METADATA_DOCUMENT = "metadata_document", "Client ID Metadata Document"


class OAuthClientQuerySet(models.QuerySet):
    def by_client_id(self, client_id: str) -> "OAuthClient | None":
        return self.filter(client_id=client_id).first()


class OAuthClient(models.Model):
    """An OAuth client (RFC 7591 metadata). The secret, if any, is stored only as SHA-256."""

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    # An ObjectId for registered clients, or the HTTPS URL of a Client ID Metadata Document.
    client_id = models.CharField(max_length=1024, unique=True)
    client_secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    client_name = models.CharField(max_length=255)
    client_uri = models.URLField("home page URL", max_length=1024, blank=True)
    logo_uri = models.TextField("logo URL", max_length=32768, blank=True)
    tos_uri = models.URLField("terms of service URL", max_length=1024, blank=True)
    policy_uri = models.URLField("privacy policy URL", max_length=1024, blank=True)
    redirect_uris = models.JSONField(default=list)
    grant_types = models.JSONField(default=list)
    response_types = models.JSONField(default=list)
    token_endpoint_auth_method = models.CharField(
        max_length=32, choices=ClientAuthMethod.choices, default=ClientAuthMethod.NONE
    )
    scope = models.CharField(max_length=1024, blank=True)
    contacts = models.JSONField(default=list, blank=True)
    registration = models.CharField(
        max_length=32, choices=ClientRegistration.choices, default=ClientRegistration.ADMIN
    )
    # For metadata-document clients: when the cached document must be fetched again.
    metadata_expires_at = models.DateTimeField(null=True, blank=True)
    # An administrator's kill switch: while set, every token of the client stops on the next
    # request and the consent screen refuses the client; clearing it restores them.
    is_suspended = models.BooleanField("suspended", default=False)
    creation_date = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    objects = OAuthClientQuerySet.as_manager()

    class Meta:
        verbose_name = "OAuth client"
        ordering = ["client_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(token_endpoint_auth_method="none", client_secret_digest="")
                | ~Q(token_endpoint_auth_method="none"),
                name="public_client_has_no_secret",
            )
        ]

    def __str__(self) -> str:
        return self.client_name

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == ClientAuthMethod.NONE

    @property
    def is_verified(self) -> bool:
        """Only admin-created clients are vetted; others get the unverified-client warning."""
        return self.registration == ClientRegistration.ADMIN
