"""The reference JSON Schemas (losant-api-reference.md §2, draft-07), as Python data, and the one
function that validates a request body against them. The OpenAPI document reuses them as-is."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from apikit.errors import validation_error
from apikit.ids import OBJECT_ID_PATTERN
from apikit.scopes import API_TOKEN_SCOPES, OAUTH_SCOPES

Schema = dict[str, Any]

OBJECT_ID: Schema = {"type": "string", "pattern": OBJECT_ID_PATTERN.pattern}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
ROLE: Schema = {"type": "string", "enum": ["admin", "edit", "collaborate", "view", "none"]}
STATUS: Schema = {"type": "string", "enum": ["active", "inactive"]}
NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 255}
DESCRIPTION: Schema = {"type": "string", "maxLength": 32767}
SORT_DIRECTION: Schema = {"type": "string", "enum": ["asc", "desc", "ASC", "DESC", ""]}

_RESOURCE_ROLES: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "resourceId": OBJECT_ID,
            "role": {"type": "string", "enum": ["collaborate", "view", "none"]},
        },
        "required": ["resourceId", "role"],
        "additionalProperties": False,
    },
    "maxItems": 100,
}
ORG_ROLES: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "orgId": {"oneOf": [OBJECT_ID, {"type": "string", "enum": ["sandbox"]}]},
            "role": ROLE,
            "applicationRoles": _RESOURCE_ROLES,
            "dashboardRoles": _RESOURCE_ROLES,
        },
        "required": ["orgId", "role"],
        "additionalProperties": False,
    },
    "maxItems": 25,
}
OAUTH_SCOPE: Schema = {
    "type": "array",
    "uniqueItems": True,
    "items": {"type": "string", "enum": list(OAUTH_SCOPES)},
    "description": "API scopes for this OAuth client",
}
_URI: Schema = {"type": "string", "format": "uri", "maxLength": 1024}

USER_OAUTH_TOKEN: Schema = {
    "title": "User OAuth Token",
    "type": "object",
    "properties": {
        "id": OBJECT_ID,
        "oauthTokenId": OBJECT_ID,
        "name": NAME,
        "description": DESCRIPTION,
        "creationDate": DATE_TIME,
        "lastUpdated": DATE_TIME,
        "expirationDate": DATE_TIME,
        "lastUsed": DATE_TIME,
        "defaultRole": ROLE,
        "orgRoles": ORG_ROLES,
        "scope": OAUTH_SCOPE,
        "status": STATUS,
        "oauth": {
            "type": "object",
            "properties": {
                "client_id": {"type": "string", "minLength": 24, "maxLength": 1024},
                "client_name": {"type": "string", "maxLength": 255},
                "client_uri": {"type": "string", "maxLength": 1024},
                "logo_uri": {"type": "string", "maxLength": 32768},
                "redirect_uri": _URI,
                "resource": {"type": "array", "items": _URI},
                "authorizationStatus": {"type": "string", "enum": ["pending", "authorized"]},
            },
        },
    },
}
USER_OAUTH_TOKEN_POST: Schema = {
    "title": "User OAuth Token Post",
    "type": "object",
    "properties": {
        "name": NAME,
        "description": DESCRIPTION,
        "expirationDate": {
            "oneOf": [DATE_TIME, {"type": "null"}],
            "description": "Omit for the default 1-year session, pass an ISO date for a specific "
            "expiration, or pass null for a session that does not expire.",
        },
        "oauth": {
            "type": "object",
            "properties": {
                "client_id": {"type": "string", "minLength": 24, "maxLength": 1024},
                "redirect_uri": _URI,
                "resource": {"type": "array", "maxItems": 10, "items": _URI},
                "code_challenge": {
                    "type": "string",
                    "minLength": 43,
                    "maxLength": 128,
                    "pattern": "^[A-Za-z0-9_-]+$",
                },
                "code_challenge_method": {"type": "string", "enum": ["S256"]},
            },
            "additionalProperties": False,
            "required": ["client_id", "redirect_uri", "code_challenge", "code_challenge_method"],
        },
        "defaultRole": ROLE,
        "orgRoles": ORG_ROLES,
        "scope": OAUTH_SCOPE,
    },
    "additionalProperties": False,
    "required": ["name", "oauth"],
}
USER_OAUTH_TOKEN_PATCH: Schema = {
    "title": "User OAuth Token Patch",
    "type": "object",
    "properties": {
        "name": NAME,
        "description": DESCRIPTION,
        "defaultRole": ROLE,
        "orgRoles": ORG_ROLES,
        "status": STATUS,
    },
    "additionalProperties": False,
}

API_TOKEN: Schema = {
    "title": "API Token",
    "type": "object",
    "properties": {
        "id": OBJECT_ID,
        "apiTokenId": OBJECT_ID,
        "ownerId": OBJECT_ID,
        "ownerType": {"type": "string", "enum": ["application", "user"]},
        "creatorId": OBJECT_ID,
        "creatorType": {"type": "string", "enum": ["apiToken", "user", "flow"]},
        "creatorName": {"type": "string", "maxLength": 1024},
        "name": NAME,
        "description": DESCRIPTION,
        "creationDate": DATE_TIME,
        "lastUpdated": DATE_TIME,
        "expirationDate": DATE_TIME,
        "lastUsed": DATE_TIME,
        "defaultRole": ROLE,
        "orgRoles": ORG_ROLES,
        "scope": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 1024}},
        "status": STATUS,
        "token": {"type": "string", "minLength": 1},
    },
}
API_TOKEN_POST: Schema = {
    "title": "API Token Post",
    "type": "object",
    "properties": {
        "name": NAME,
        "description": DESCRIPTION,
        "expirationDate": DATE_TIME,
        "defaultRole": ROLE,
        "orgRoles": ORG_ROLES,
        "scope": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "enum": list(API_TOKEN_SCOPES)},
        },
        "status": STATUS,
    },
    "additionalProperties": False,
    "required": ["name"],
}
API_TOKEN_PATCH: Schema = {
    "title": "API Token Patch",
    "type": "object",
    "properties": {
        "name": NAME,
        "description": DESCRIPTION,
        "defaultRole": ROLE,
        "orgRoles": ORG_ROLES,
        "status": STATUS,
    },
    "additionalProperties": False,
}


def collection(title: str, item: Schema, **extra: Schema) -> Schema:
    """The reference collection shape around `item` (User OAuth Tokens, API Tokens)."""
    return {
        "title": title,
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "count": {"type": "integer"},
            "totalCount": {"type": "integer"},
            "perPage": {"type": "integer"},
            "page": {"type": "integer"},
            "filter": {"type": "string"},
            "filterField": {"type": "string"},
            "sortField": {"type": "string"},
            "sortDirection": SORT_DIRECTION,
            **extra,
        },
    }


USER_OAUTH_TOKENS = collection("User OAuth Tokens", USER_OAUTH_TOKEN)
API_TOKENS = collection(
    "API Tokens",
    API_TOKEN,
    ownerId=OBJECT_ID,
    ownerType={"type": "string", "enum": ["application", "user"]},
)

ME: Schema = {
    "title": "Me",
    "type": "object",
    "properties": {
        "id": OBJECT_ID,
        "userId": OBJECT_ID,
        "email": {"type": "string", "maxLength": 254},
        "firstName": {"type": "string", "maxLength": 150},
        "lastName": {"type": "string", "maxLength": 150},
        "creationDate": DATE_TIME,
        "summary": {
            "type": "object",
            "properties": {"appCount": {"type": "integer"}, "orgCount": {"type": "integer"}},
        },
    },
}
ORG: Schema = {
    "title": "Organization",
    "type": "object",
    "properties": {
        "id": OBJECT_ID,
        "orgId": OBJECT_ID,
        "name": NAME,
        "description": DESCRIPTION,
        "creationDate": DATE_TIME,
        "lastUpdated": DATE_TIME,
        "summary": {
            "type": "object",
            "properties": {"appCount": {"type": "integer"}, "memberCount": {"type": "integer"}},
        },
    },
}
ORG_PATCH: Schema = {
    "title": "Organization Patch",
    "type": "object",
    "properties": {"name": NAME, "description": DESCRIPTION},
    "additionalProperties": False,
}
ORGS = collection("Organizations", ORG)
APPLICATION: Schema = {
    "title": "Application",
    "type": "object",
    "properties": {
        "id": OBJECT_ID,
        "applicationId": OBJECT_ID,
        "name": NAME,
        "description": DESCRIPTION,
        "ownerId": OBJECT_ID,
        "ownerType": {"type": "string", "enum": ["organization", "user"]},
        "organizationName": {"type": "string"},
        "creationDate": DATE_TIME,
        "lastUpdated": DATE_TIME,
    },
}
APPLICATION_PATCH: Schema = {
    "title": "Application Patch",
    "type": "object",
    "properties": {"name": NAME, "description": DESCRIPTION},
    "additionalProperties": False,
}
APPLICATIONS = collection("Applications", APPLICATION)

ERROR: Schema = {
    "title": "Error",
    "type": "object",
    "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
    "required": ["type", "message"],
}
SUCCESS: Schema = {
    "title": "Success",
    "type": "object",
    "properties": {"success": {"type": "boolean", "enum": [True]}},
}

_VALIDATORS: dict[int, Draft7Validator] = {}


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".")


def _message(error: ValidationError) -> str:
    """A message that names the offending field."""
    where = _where(error)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field = ".".join(p for p in (where, extra[0] if extra else "") if p)
        return f"{field} is not an allowed field"
    if error.validator == "required":
        return f"{error.message.split(' ', 1)[0].strip(chr(39))} is required" + (
            f" in {where}" if where else ""
        )
    if error.validator == "enum":
        values = error.validator_value
        if len(values) > 12:
            return f"{where or 'body'} must be one of the documented values, not {error.instance!r:.80}"
        return f"{where or 'body'} must be one of {', '.join(map(str, values))}"
    if error.validator == "oneOf" and where.endswith("orgId"):
        return f"{where} must be an organization id or 'sandbox'"
    return f"{where or 'body'}: {error.message}"


def schema_validate(schema: Schema, body: object) -> dict[str, Any]:
    """Validate `body` against a reference schema; a Validation ApiError names the first problem.

    The most relevant error is picked deterministically (best_match) so the message is stable.
    """
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = Draft7Validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: (list(e.absolute_path), e.validator))
    if errors:
        raise validation_error(_message(best_match(errors)))
    assert isinstance(body, dict)
    return body
