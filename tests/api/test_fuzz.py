"""Schemathesis against /api/openapi.json on a live server, authenticated with a bearer token
that may do everything (a user API token with `all.User`): no input may produce a server
error, and every answer must match the document (status code, content type, body schema).

`make test` runs a bounded number of examples per operation; `make fuzz` sets API_FUZZ_EXAMPLES
higher (figures in docs/fuzz.md).
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.principals import session_principal
from apikit.ids import is_object_id
from apikit.openapi import openapi_document
from tests.api.conftest import make_oauth_bearer
from tests.factories import ApplicationFactory, MembershipFactory, OAuthClientFactory, UserFactory
from tokens.services.api_tokens import api_token_create

MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_world(live_server) -> dict[str, str]:
    """A user with an organization, applications and tokens to act on, an all-powerful bearer
    token, and the ids of real targets (the fuzzer's own token is never one of them)."""
    user = UserFactory()
    membership = MembershipFactory(user=user, role="admin")
    app = ApplicationFactory(organization=membership.organization)
    ApplicationFactory(organization=None, sandbox_user=user)
    client = OAuthClientFactory()
    app_token, _ = api_token_create(
        owner=app,
        creator=user,
        actor=session_principal(user),
        name="app",
        scope=["all.Application"],
    )
    user_token, _ = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="other", scope=["all.User"]
    )
    _, raw = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="fuzzer", scope=["all.User"]
    )
    grant = make_oauth_bearer(user, ["only.User.read"], client=client)[1]
    return {
        "bearer": raw,
        "orgId": membership.organization_id,
        "applicationId": app.pk,
        "oauthTokenId": grant.pk,
        "apiTokenId": app_token.pk,
        "userApiTokenId": user_token.pk,
    }


def _aim_at_real_targets(case, world: dict[str, str]) -> None:
    """Half of the well-formed ids are swapped for real ones, so that positive cases reach the
    handlers instead of stopping at 404 (malformed ids are kept: they are negative cases)."""
    params = case.path_parameters or {}
    for name, value in list(params.items()):
        if is_object_id(value) and value[0] in "01234567":
            key = "userApiTokenId" if name == "apiTokenId" and case.path.startswith("/me") else name
            params[name] = world[key]


# Loaded at collection time from the generator behind /api/openapi.json (schemathesis's lazy
# fixture loader does not work with pytest 9); the first test proves the served document is
# this one, byte for byte once parsed.
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.mark.live
def test_the_fuzzed_document_is_the_served_one(live_server):
    served = requests.get(live_server.url + "/api/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == openapi_document()
    assert served.json()["openapi"] == "3.1.0"


@pytest.mark.live
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_errors_and_matches_its_document(case, live_server, fuzz_world):
    _aim_at_real_targets(case, fuzz_world)
    response = case.call_and_validate(
        base_url=live_server.url + "/api",
        headers={"Authorization": f"Bearer {fuzz_world['bearer']}"},
        checks=CHECKS,
        timeout=30,
    )
    assert response.status_code < 500
    if os.environ.get("API_FUZZ_LOG"):
        print("FUZZ", case.method, case.path, response.status_code)
