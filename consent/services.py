"""Writes of the consent app: client registration (RFC 7591), clients from Client ID Metadata
Documents, admin-side secrets, and the user's consent (pending OAuth token + code)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.principals import session_principal
from consent.cimd import (
    MetadataDocumentError,
    MetadataFetchBusy,
    failure_remember,
    is_metadata_document_url,
    metadata_document_fetch_bounded,
)
from consent.forms import ClientMetadata, ClientMetadataError, client_metadata_clean
from consent.models import ClientAuthMethod, ClientRegistration, OAuthClient
from tokens.secrets import SecretKind, secret_digest, secret_generate
from tokens.services.grants import authorization_code_issue
from tokens.services.oauth_tokens import oauth_token_create
from tokens.tasks import oauth_token_authorized_email_enqueue

if TYPE_CHECKING:
    from accounts.models import User
    from tokens.models import OAuthToken


def _verified_name_taken(name: str, *, exclude_pk: str | None = None) -> bool:
    """A dynamic client must not borrow the name of an admin-vetted client (RFC 9700 §4.15)."""
    clients = OAuthClient.objects.filter(
        registration=ClientRegistration.ADMIN, client_name__iexact=name
    )
    if exclude_pk:
        clients = clients.exclude(pk=exclude_pk)
    return clients.exists()


def client_register(
    *, metadata: ClientMetadata, registration: str = ClientRegistration.DYNAMIC
) -> tuple[OAuthClient, str | None]:
    """Register a client (RFC 7591 §3.1). Returns (client, raw secret or None).

    A confidential client's secret is shown once and stored as SHA-256: it carries 256
    random bits, so a slow password hash would only add cost and a CPU denial-of-service lever.
    """
    if registration != ClientRegistration.ADMIN and _verified_name_taken(metadata.client_name):
        raise ClientMetadataError(
            "invalid_client_metadata", "client_name is already used by a verified client"
        )
    raw_secret = None
    digest = ""
    if metadata.token_endpoint_auth_method != ClientAuthMethod.NONE:
        raw_secret = secret_generate(SecretKind.CLIENT_SECRET)
        digest = secret_digest(raw_secret)
    client = OAuthClient(registration=registration, client_secret_digest=digest, **asdict(metadata))
    client.client_id = client.id
    client.save()
    return client, raw_secret


def client_secret_rotate(*, client: OAuthClient) -> str:
    """A new secret for a confidential client (admin); the old one stops working at once."""
    raw = secret_generate(SecretKind.CLIENT_SECRET)
    OAuthClient.objects.filter(pk=client.pk).update(
        client_secret_digest=secret_digest(raw), last_updated=timezone.now()
    )
    client.client_secret_digest = secret_digest(raw)
    return raw


def metadata_document_client_resolve(*, client_id: str, requester: str) -> OAuthClient:
    """The client for a Client ID Metadata Document URL, fetched when missing or stale.

    The stored row is the cache: it is reused until `metadata_expires_at`, which follows the
    document's HTTP cache headers; an unusable document is remembered too (consent.cimd).
    Raises ClientMetadataError when the document is unusable, MetadataFetchBusy when too many
    fetches are in flight (`requester`: the caller's address).
    """
    now = timezone.now()
    client = OAuthClient.objects.filter(client_id=client_id).first()
    if client is not None and client.registration != ClientRegistration.METADATA_DOCUMENT:
        return client
    if client is not None and client.metadata_expires_at and client.metadata_expires_at > now:
        return client
    if not is_metadata_document_url(client_id):
        raise ClientMetadataError("invalid_client_metadata", "client_id is not a document URL")
    try:
        document = metadata_document_fetch_bounded(client_id, requester=requester)
    except MetadataFetchBusy:
        raise
    except MetadataDocumentError as error:
        raise ClientMetadataError("invalid_client_metadata", str(error)) from None
    try:
        metadata = _metadata_document_clean(client_id, document.data)
    except ClientMetadataError as error:
        failure_remember(client_id, error.description, max_age=document.max_age)
        raise
    fields = {
        **asdict(metadata),
        "registration": ClientRegistration.METADATA_DOCUMENT,
        "client_secret_digest": "",
        "metadata_expires_at": now + timedelta(seconds=document.max_age),
    }
    try:
        client, _ = OAuthClient.objects.update_or_create(client_id=client_id, defaults=fields)
    except IntegrityError:
        # Two first fetches raced; the other one stored the same document.
        client = OAuthClient.objects.get(client_id=client_id)
    return client


def _metadata_document_clean(client_id: str, data: dict) -> ClientMetadata:
    # CIMD §4.1: the document's client_id must equal the URL it was fetched from, exactly.
    if data.get("client_id") != client_id:
        raise ClientMetadataError(
            "invalid_client_metadata", "the document's client_id does not equal its URL"
        )
    metadata = client_metadata_clean(data, metadata_document=True)
    if _verified_name_taken(metadata.client_name):
        raise ClientMetadataError(
            "invalid_client_metadata", "client_name is already used by a verified client"
        )
    return metadata


@transaction.atomic
def consent_authorize(
    *,
    user: User,
    client: OAuthClient,
    redirect_uri: str,
    redirect_uri_given: bool,
    scope: list[str],
    code_challenge: str,
    resource: list[str],
    default_role: str,
    org_roles: list[dict],
) -> tuple[OAuthToken, str]:
    """The user clicked Authorize: create their pending OAuth token (the same service as
    POST /api/me/oauth-tokens) and a code for it. Returns (token, raw code)."""
    token = oauth_token_create(
        user=user,
        actor=session_principal(user),
        client=client,
        name=client.client_name[:255],
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method="S256",
        resource=resource,
        default_role=default_role,
        org_roles=org_roles,
    )
    _, raw_code = authorization_code_issue(
        oauth_token=token, redirect_uri=redirect_uri if redirect_uri_given else ""
    )
    # Tell the user, from the worker, once the token is committed (issue 18).
    transaction.on_commit(lambda: oauth_token_authorized_email_enqueue(token_id=token.id))
    return token, raw_code


def client_suspend_set(*, client: OAuthClient, suspended: bool) -> OAuthClient:
    """The administrator's kill switch: while set, the consent screen refuses the client (and
    the grant rule stops its tokens); clearing it restores them."""
    OAuthClient.objects.filter(pk=client.pk).update(
        is_suspended=suspended, last_updated=timezone.now()
    )
    client.is_suspended = suspended
    return client
