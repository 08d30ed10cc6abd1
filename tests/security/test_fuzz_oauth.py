"""Schemathesis against the OAuth endpoints (metadata, registration, token, revocation,
introspection) on a live server, described by tests/security/oauth_openapi.json: no input may
produce a server error, and every answer must match the document (status code, content type,
body schema: RFC 6749 §5.2 errors, RFC 7591 registrations, RFC 6749 §5.1 tokens).

`make test` runs OAUTH_FUZZ_EXAMPLES (default 50) examples per operation; set it higher for a
longer run (figures in docs/security.md). The tests/api/test_fuzz.py run covers /api.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from pathlib import Path

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

from tests.consent.helpers import basic_auth, confidential_client, tokens_for
from tests.factories import OAuthClientFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("OAUTH_FUZZ_EXAMPLES", "50"))
DOCUMENT = Path(__file__).with_name("oauth_openapi.json")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
OUTCOMES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if OUTCOMES:
        total = sum(OUTCOMES.values())
        print(
            f"\nFUZZ oauth: {total} cases; "
            + ", ".join(f"{k}={v}" for k, v in sorted(OUTCOMES.items()))
        )


@pytest.fixture
def oauth_world(live_server, settings) -> dict[str, str]:
    """Real clients and credentials for the fuzzer to aim at; no rate limits (every case comes
    from 127.0.0.1, and the limits are tested in test_rate_limits.py)."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "off")
    public = OAuthClientFactory()
    confidential, secret = confidential_client()
    issued = tokens_for(UserFactory(), public)
    return {
        "client_id": public.client_id,
        "refresh_token": issued["refresh_token"],
        "token": issued["access_token"],
        "basic": basic_auth(confidential.client_id, secret),
    }


def _aim_at_real_targets(case, world: dict[str, str]) -> None:
    """In about half of the bodies, swap a generated client_id, token or redirect URI list for
    a real one, so that positive cases get past the first check into the endpoint's logic."""
    if not isinstance(case.body, dict):
        return
    uris = case.body.get("redirect_uris")
    if isinstance(uris, list) and zlib.crc32(repr(uris).encode("utf-8", "replace")) % 2 == 0:
        # A valid redirect URI, so the other fields (names, URLs, scopes) are what is judged.
        case.body["redirect_uris"] = ["https://tool.example/cb"]
    for key in ("client_id", "refresh_token", "token"):
        value = case.body.get(key)
        if isinstance(value, str) and zlib.crc32(value.encode("utf-8", "replace")) % 2 == 0:
            case.body[key] = world[key]


def test_the_fuzzed_document_covers_every_oauth_endpoint_of_the_metadata(live_server):
    metadata = requests.get(
        live_server.url + "/.well-known/oauth-authorization-server", timeout=10
    ).json()
    paths = set(schema.raw_schema["paths"])
    for key in ("token_endpoint", "registration_endpoint", "revocation_endpoint"):
        assert metadata[key].removeprefix(metadata["issuer"]) in paths
    assert metadata["introspection_endpoint"].removeprefix(metadata["issuer"]) in paths


@pytest.mark.live
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_oauth_endpoints_never_error_and_match_their_document(case, live_server, oauth_world):
    _aim_at_real_targets(case, oauth_world)
    headers = {"Authorization": oauth_world["basic"]} if case.path == "/oauth/introspect" else {}
    response = case.call_and_validate(
        base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30
    )
    assert response.status_code < 500
    OUTCOMES[f"{case.path}:{response.status_code}"] += 1
    if os.environ.get("OAUTH_FUZZ_LOG"):
        print("FUZZ", response.status_code, case.as_curl_command()[:300])
