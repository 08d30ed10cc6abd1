"""Input of the consent app: RFC 7591 client metadata (registration, Client ID Metadata
Documents, the admin) and the consent screen's form."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django import forms
from django.core import signing
from django.http import QueryDict

from accounts.roles import SANDBOX_ORG_ID, Role
from accounts.text import has_unsafe_characters
from apikit.scopes import OAUTH_SCOPES
from consent.models import ClientAuthMethod
from tokens.client_links import logo_uri_problem, web_url_problem
from tokens.redirects import redirect_uri_problem

MAX_REDIRECT_URIS = 25
MAX_CONTACTS = 10
GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)
# RFC 9700 §4.15 / OAuth 2.1 §7.4: a client must not pass for this server, its staff or a user.
RESERVED_NAME = re.compile(
    r"\b(losant|admin|administrator|administration|official|staff|support|system|security)\b"
    r"|oauth consent server",
    re.IGNORECASE,
)
LOOK_ALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


class ClientMetadataError(Exception):
    """An RFC 7591 §3.2.2 error: `invalid_redirect_uri` or `invalid_client_metadata`."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def to_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class ClientMetadata:
    """Validated client metadata (RFC 7591 §2), ready to store."""

    client_name: str
    redirect_uris: list[str]
    grant_types: list[str]
    response_types: list[str]
    token_endpoint_auth_method: str
    client_uri: str = ""
    logo_uri: str = ""
    tos_uri: str = ""
    policy_uri: str = ""
    scope: str = ""
    contacts: list[str] = field(default_factory=list)


def _metadata_error(description: str) -> ClientMetadataError:
    return ClientMetadataError("invalid_client_metadata", description)


def mixes_look_alike_scripts(text: str) -> bool:
    """A word mixing Latin, Cyrillic and Greek letters (UTS #39 "mixed script"): the usual way
    to spell a reserved or well-known name with look-alike letters ("L\u043esant")."""
    for word in re.findall(r"\w+", text):
        scripts = {unicodedata.name(ch, "").split(" ", 1)[0] for ch in word if ch.isalpha()}
        if len(scripts & LOOK_ALIKE_SCRIPTS) > 1:
            return True
    return False


def client_name_problem(name: str, *, allow_reserved: bool = False) -> str | None:
    """Why a client name cannot be registered: it must not pass for this server or a user."""
    # NFKC folds compatibility forms (full-width, mathematical letters) onto plain ones.
    folded = unicodedata.normalize("NFKC", name)
    if "@" in folded:
        return "client_name must not look like an email address"
    if not allow_reserved and RESERVED_NAME.search(folded):
        return "client_name uses a reserved word (it could be taken for this server or its staff)"
    if not allow_reserved and mixes_look_alike_scripts(folded):
        return "client_name must not mix Latin, Cyrillic or Greek letters within a word"
    if has_unsafe_characters(name):
        return "client_name must not contain control or formatting characters"
    return None


def _optional_string(data: dict, key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _metadata_error(f"{key} must be a string")
    return value.strip()


def _string_list(data: dict, key: str, *, default: list[str]) -> list[str]:
    value = data.get(key)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _metadata_error(f"{key} must be an array of strings")
    return list(dict.fromkeys(value))


def redirect_uris_clean(value: object) -> list[str]:
    """1-25 redirect URIs, https or http on loopback, no fragment (RFC 9700 §2.1, RFC 8252)."""
    if not isinstance(value, list) or not value:
        raise ClientMetadataError("invalid_redirect_uri", "redirect_uris must list 1 to 25 URIs")
    if len(value) > MAX_REDIRECT_URIS:
        raise ClientMetadataError(
            "invalid_redirect_uri", f"redirect_uris must list at most {MAX_REDIRECT_URIS} URIs"
        )
    for uri in value:
        problem = redirect_uri_problem(uri)
        if problem is None and has_unsafe_characters(uri):
            problem = "Redirect URIs must not contain control characters"
        if problem:
            raise ClientMetadataError("invalid_redirect_uri", problem)
    return list(dict.fromkeys(value))


def client_metadata_clean(
    data: object, *, metadata_document: bool = False, vetted: bool = False
) -> ClientMetadata:
    """Validate RFC 7591 §2 client metadata. Unknown fields are ignored (RFC 7591 §2).

    For a Client ID Metadata Document, `client_name` is required and the client is public
    (`none`): there is no registered secret to check (MCP 2025-11-25, CIMD). A `vetted` client
    (created by an admin) may use reserved words in its name.
    """
    if not isinstance(data, dict):
        raise _metadata_error("The client metadata must be a JSON object")
    redirect_uris = redirect_uris_clean(data.get("redirect_uris"))
    name = _optional_string(data, "client_name")
    if not name:
        if metadata_document:
            raise _metadata_error("client_name is required")
        name = f"Unnamed client ({urlsplit(redirect_uris[0]).hostname})"
    elif len(name) > 255:
        raise _metadata_error("client_name must be at most 255 characters")
    if problem := client_name_problem(name, allow_reserved=vetted):
        raise _metadata_error(problem)
    urls = {key: _optional_string(data, key) for key in ("client_uri", "tos_uri", "policy_uri")}
    for key, value in urls.items():
        if value and (problem := web_url_problem(value, field_name=key)):
            raise _metadata_error(problem)
    logo_uri = _optional_string(data, "logo_uri")
    if logo_uri and (problem := logo_uri_problem(logo_uri)):
        raise _metadata_error(problem)
    grant_types = _string_list(data, "grant_types", default=["authorization_code"])
    if not grant_types or set(grant_types) - set(GRANT_TYPES):
        raise _metadata_error("grant_types may only contain authorization_code and refresh_token")
    if "authorization_code" not in grant_types:
        raise _metadata_error("grant_types must include authorization_code")
    response_types = _string_list(data, "response_types", default=["code"])
    if response_types != ["code"]:
        raise _metadata_error('response_types must be ["code"]')
    default_method = ClientAuthMethod.NONE if metadata_document else "client_secret_basic"
    method = data.get("token_endpoint_auth_method") or default_method
    if method not in ClientAuthMethod.values:
        raise _metadata_error(
            "token_endpoint_auth_method must be one of none, client_secret_basic, "
            "client_secret_post"
        )
    if metadata_document and method != ClientAuthMethod.NONE:
        raise _metadata_error(
            "A client metadata document client must use token_endpoint_auth_method none"
        )
    return ClientMetadata(
        client_name=name,
        redirect_uris=redirect_uris,
        grant_types=grant_types,
        response_types=response_types,
        token_endpoint_auth_method=method,
        logo_uri=logo_uri,
        scope=_scope_clean(data),
        contacts=_contacts_clean(data),
        **urls,
    )


def _scope_clean(data: dict) -> str:
    scope = _optional_string(data, "scope")
    if len(scope) > 1024:
        raise _metadata_error("scope must be at most 1024 characters")
    unknown = [s for s in scope.split() if s not in OAUTH_SCOPES]
    if unknown:
        raise _metadata_error(f"scope may only contain: {' '.join(OAUTH_SCOPES)}")
    return " ".join(dict.fromkeys(scope.split()))


def _contacts_clean(data: dict) -> list[str]:
    contacts = _string_list(data, "contacts", default=[])
    if len(contacts) > MAX_CONTACTS or any(
        len(c) > 1024 or "@" not in c or has_unsafe_characters(c) for c in contacts
    ):
        raise _metadata_error(f"contacts must list at most {MAX_CONTACTS} email addresses")
    return contacts


ROLE_CHOICES = Role.choices  # the labels of accounts.roles.Role, as on every page


class ConsentForm(forms.Form):
    """The consent decision: the signed request, the default maximum role and per-org overrides."""

    request = forms.CharField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("authorize", "Authorize"), ("deny", "Deny"), ("preview", "Preview")],
        required=False,
    )
    default_role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEW)

    def __init__(self, *args, organization_ids: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization_ids = organization_ids
        for org_id in organization_ids:
            self.fields[self.org_field_name(org_id)] = forms.ChoiceField(
                choices=[("", "Use default"), *ROLE_CHOICES], required=False
            )

    @staticmethod
    def org_field_name(org_id: str) -> str:
        return f"org_{org_id}"

    def org_roles(self) -> list[dict[str, str]]:
        """Losant-shaped `orgRoles` for the overrides the user picked (empty = use default)."""
        return [
            {"orgId": org_id, "role": self.cleaned_data[self.org_field_name(org_id)]}
            for org_id in self.organization_ids
            if self.cleaned_data.get(self.org_field_name(org_id))
        ]


def consent_organization_ids(organization_ids: list[str]) -> list[str]:
    """The rows of the Per-Organization Permissions section: the user's organizations, then
    the Sandbox."""
    return [*organization_ids, SANDBOX_ORG_ID]


# The validated authorization request travels in one signed, expiring hidden field, bound to
# the user who saw the consent screen (django.core.signing, keyed by SECRET_KEY).
CONSENT_SALT = "consent.authorize.request"
CONSENT_MAX_AGE_SECONDS = 15 * 60


def consent_request_sign(params: dict, *, user_id: str) -> str:
    return signing.dumps({"params": params, "user": user_id}, salt=CONSENT_SALT, compress=True)


def consent_request_unsign(value: str, *, user_id: str) -> QueryDict | None:
    """The signed request's parameters, or None if altered, expired or another user's."""
    try:
        data = signing.loads(value, salt=CONSENT_SALT, max_age=CONSENT_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or data.get("user") != user_id:
        return None
    query = QueryDict(mutable=True)
    for key, item in (data.get("params") or {}).items():
        query.setlist(key, item if isinstance(item, list) else [item])
    return query
