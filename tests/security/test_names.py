"""Names that disguise themselves (issue 15, "Smaller"): bidi overrides and isolates, zero-width
and other format characters (Unicode category Cf) and control characters are refused in every
name a consent screen or token list shows, by the one rule in accounts/text.py that client
names already followed; and a NUL in a list filter is a 400 that says so."""

from __future__ import annotations

import json

import pytest

from accounts.models import Application, Organization
from accounts.text import has_unsafe_characters
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory, UserFactory
from tokens.models import ApiToken

HIDDEN = [
    ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
    ("\u202a", "LEFT-TO-RIGHT EMBEDDING"),
    ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
    ("\u2067", "RIGHT-TO-LEFT ISOLATE"),
    ("\u2069", "POP DIRECTIONAL ISOLATE"),
    ("\u200b", "ZERO WIDTH SPACE"),
    ("\u200d", "ZERO WIDTH JOINER"),
    ("\u2060", "WORD JOINER"),
    ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
    ("\u00ad", "SOFT HYPHEN"),
    ("\x00", "NUL"),
    ("\x1b", "ESCAPE"),
    ("\ue000", "private use"),
]


@pytest.mark.parametrize(("char", "case"), HIDDEN)
def test_the_rule_refuses_every_hidden_character(char, case):
    assert has_unsafe_characters(f"Acme{char}Corp"), case
    assert has_unsafe_characters(f"Acme{char}Corp", multiline=True), case


def test_the_rule_keeps_ordinary_text():
    assert not has_unsafe_characters("Acme Corp — Zürich 東京 ✓")
    assert not has_unsafe_characters("line one\nline two\twith tab", multiline=True)
    assert has_unsafe_characters("line one\nline two")


def _json(response) -> dict:
    return json.loads(response.content)


@pytest.fixture
def admin_world(db, client):
    user = UserFactory()
    org = OrganizationFactory(name="Acme")
    MembershipFactory(user=user, organization=org, role="admin")
    app = ApplicationFactory(organization=org, name="Fleet")
    client.force_login(user)
    return {"user": user, "org": org, "app": app, "client": client}


def _patch(client, path: str, body: dict):
    return client.patch("/api" + path, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("char", "case"), HIDDEN[:10])
@pytest.mark.parametrize("field", ["name", "description"])
def test_organization_and_application_names_refuse_hidden_characters(
    admin_world, char, case, field
):
    org, app, client = admin_world["org"], admin_world["app"], admin_world["client"]
    for path, model, pk in (
        (f"/orgs/{org.pk}", Organization, org.pk),
        (f"/applications/{app.pk}", Application, app.pk),
    ):
        before = model.objects.get(pk=pk)
        response = _patch(client, path, {field: f"Ev{char}il"})
        assert response.status_code == 400, (case, path, response.content)
        body = _json(response)
        assert body["type"] == "Validation"
        assert f"{field} must not contain control or formatting characters" in body["message"]
        after = model.objects.get(pk=pk)
        assert (after.name, after.description, after.last_updated) == (
            before.name,
            before.description,
            before.last_updated,
        )


def test_a_description_may_span_lines(admin_world):
    response = _patch(
        admin_world["client"], f"/orgs/{admin_world['org'].pk}", {"description": "a\nb\tc"}
    )
    assert response.status_code == 200, response.content
    assert Organization.objects.get(pk=admin_world["org"].pk).description == "a\nb\tc"


@pytest.mark.parametrize(("char", "case"), HIDDEN[:10])
def test_api_token_names_refuse_hidden_characters(admin_world, char, case):
    client = admin_world["client"]
    response = client.post(
        "/api/me/tokens",
        data=json.dumps({"name": f"deploy{char}key"}),
        content_type="application/json",
    )
    assert response.status_code == 400, (case, response.content)
    assert "name must not contain control or formatting characters" in _json(response)["message"]
    assert not ApiToken.objects.exists()


def test_a_nul_in_a_list_filter_is_a_400_that_says_so(admin_world):
    response = admin_world["client"].get("/api/me/tokens?filterField=name&filter=a%00b")
    assert response.status_code == 400
    assert _json(response) == {
        "type": "Validation",
        "message": "filter must not contain a NUL character",
    }
