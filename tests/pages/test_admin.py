"""The Django admin: token lists with filters and actions through the services, audit trail
read-only, digests never displayed."""

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tokens.models import AccessToken, ApiToken, OAuthToken, TokenEvent
from tokens.secrets import SecretKind, secret_digest, secret_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_oauth_token_changelist_filters_and_never_shows_digests(admin_client, oauth_token_factory):
    token = oauth_token_factory("Laptop")
    raw = secret_generate(SecretKind.ACCESS_TOKEN)
    AccessToken.objects.create(
        oauth_token=token,
        digest=secret_digest(raw),
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    for query in [
        "",
        "?status__exact=active",
        "?pending=yes",
        "?expired=no",
        "?q=Laptop",
        f"?client__id__exact={token.client_id}",
    ]:
        response = admin_client.get(f"/admin/tokens/oauthtoken/{query}")
        assert response.status_code == 200, query
    assert b"Laptop" in admin_client.get("/admin/tokens/oauthtoken/?pending=no").content
    assert b"Laptop" not in admin_client.get("/admin/tokens/oauthtoken/?pending=yes").content
    change = admin_client.get(f"/admin/tokens/oauthtoken/{token.id}/change/").content.decode()
    assert secret_digest(raw) not in change and raw not in change
    assert admin_client.get("/admin/tokens/oauthtoken/add/").status_code == 403


def test_deactivate_and_delete_actions_go_through_the_services(admin_client, oauth_token_factory):
    token = oauth_token_factory("Laptop")
    admin_client.post(
        "/admin/tokens/oauthtoken/",
        {"action": "deactivate_selected", "_selected_action": [token.id]},
    )
    token.refresh_from_db()
    assert token.status == "inactive"
    assert TokenEvent.objects.filter(token_id=token.id, kind="status_changed").exists()
    admin_client.post(
        "/admin/tokens/oauthtoken/",
        {"action": "delete_selected_tokens", "_selected_action": [token.id]},
    )
    assert not OAuthToken.objects.filter(pk=token.id).exists()
    assert TokenEvent.objects.filter(token_id=token.id, kind="deleted").exists()


def test_api_token_admin_hides_digest_and_edits_through_service(admin_client, api_token_factory):
    token = api_token_factory("CI")
    html = admin_client.get(f"/admin/tokens/apitoken/{token.id}/change/").content.decode()
    assert token.digest not in html
    response = admin_client.post(
        f"/admin/tokens/apitoken/{token.id}/change/",
        {"name": "CI renamed", "description": "", "status": "inactive"},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.name, token.status) == ("CI renamed", "inactive")
    assert TokenEvent.objects.filter(token_id=token.id, kind="updated").exists()
    for query in ["?status__exact=inactive", "?expired=yes", "?owner_type__exact=user"]:
        assert admin_client.get(f"/admin/tokens/apitoken/{query}").status_code == 200
    assert ApiToken.objects.count() == 1


def test_audit_trail_is_read_only(admin_client, api_token_factory):
    token = api_token_factory("CI")
    event = TokenEvent.objects.get(token_id=token.id)
    assert admin_client.get("/admin/tokens/tokenevent/?kind__exact=created").status_code == 200
    admin_client.post(f"/admin/tokens/tokenevent/{event.pk}/change/", {"kind": "deleted"})
    event.refresh_from_db()
    assert event.kind == "created"
    assert admin_client.get("/admin/tokens/tokenevent/add/").status_code == 403


def test_accounts_admin_pages_load(admin_client, world):
    for url in [
        "/admin/accounts/user/",
        "/admin/accounts/organization/",
        "/admin/accounts/membership/",
        "/admin/accounts/application/",
    ]:
        assert admin_client.get(url).status_code == 200, url
    sandbox_only = admin_client.get("/admin/accounts/application/?owner=sandbox").content
    assert b"Sandy" in sandbox_only and b"Alpha" not in sandbox_only
