"""The request Authlib sees: a Django request's query and form as an OAuth2Request, and the
RFC 8707 resource parameters it carries (tokens.resources decides which one we serve)."""

from __future__ import annotations

from collections import defaultdict

from authlib.oauth2.rfc6749 import (
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from django.conf import settings
from django.http import QueryDict

from tokens.resources import resource_served
from tokens.services.oauth_tokens import MAX_RESOURCES


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


# --- Requests -----------------------------------------------------------------------------


class Payload(OAuth2Payload):
    def __init__(self, query: QueryDict, form: QueryDict) -> None:
        self._query, self._form = query, form

    @property
    def data(self) -> dict:
        return {**self._query.dict(), **self._form.dict()}

    @property
    def datalist(self) -> defaultdict[str, list]:
        values: defaultdict[str, list] = defaultdict(list)
        for source in (self._query, self._form):
            for key in source:
                values[key].extend(source.getlist(key))
        return values


class Request(OAuth2Request):
    def __init__(self, *, method: str, headers, query: QueryDict, form: QueryDict) -> None:
        # OAuth2Request.__init__ is skipped on purpose (docs/decisions/001): it sets the same
        # attributes plus an https check of the request URI, which is plain http behind a
        # TLS-terminating proxy and in tests, and whose only switch is a process environment
        # variable (AUTHLIB_INSECURE_TRANSPORT). Transport security belongs to the deployment
        # (PUBLIC_URL is https in production). Authlib 1.9.9 has no other public constructor.
        self.method = method
        self.uri = settings.PUBLIC_URL
        self.headers = headers
        self._body = None
        self.payload = Payload(query, form)
        self._query, self._form = query, form
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.resource: list[str] = []

    @property
    def args(self) -> QueryDict:
        return self._query

    @property
    def form(self) -> QueryDict:
        return self._form


def resource_targets(values: list[str]) -> list[str]:
    """The resources asked for, as this server names them; `invalid_target` for any other."""
    if len(values) > MAX_RESOURCES:
        raise InvalidTargetError(f"At most {MAX_RESOURCES} resource values are accepted")
    targets = []
    for value in values:
        target = resource_served(value)
        if target is None:
            raise InvalidTargetError("This server does not issue tokens for the requested resource")
        targets.append(target)
    return list(dict.fromkeys(targets))


def token_request_resources(request: Request, *, allowed: list[str]) -> list[str] | None:
    """Resources of a token request: within what the grant was bound to (RFC 8707 §2.2)."""
    targets = resource_targets(request.payload.datalist.get("resource", []))
    if allowed and not set(targets) <= set(allowed):
        raise InvalidTargetError("The resource was not part of the authorization")
    return targets or None
