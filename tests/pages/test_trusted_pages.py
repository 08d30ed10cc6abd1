"""Issue 18, "The pages people trust", where a browser adds nothing: the role vocabulary, the
lists, the admin, the consent screen's account, resource and incremental consent, the kill
switches, and the new-authorization email (its content, and that the flow queues it on the real
broker)."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.utils import timezone

from consent.models import OAuthClient
from tests.consent.helpers import authorize_params, authorize_url, logged_in, pkce_pair
from tests.factories import PASSWORD, OAuthClientFactory, UserFactory
from tokens.models import AuthorizationStatus, OAuthToken, TokenEvent
from tokens.tasks import oauth_token_authorized_email

pytestmark = pytest.mark.django_db


def _consent_page(user, client_app, **overrides):
    browser = logged_in(user)
    _, challenge = pkce_pair()
    url = authorize_url(authorize_params(client_app, challenge, **overrides))
    return browser, browser.get(url), url


def _authorize(browser, page, **choices):
    data = {"request": page.context["signed_request"], "decision": "authorize"}
    data.setdefault("default_role", "view")
    data.update(choices)
    return browser.post("/oauth/authorize", data)


# --- one role vocabulary -------------------------------------------------------------------


def test_consent_screen_speaks_the_same_role_words_as_my_account(
    user, organization, member_factory, client_app
):
    member_factory(user, organization, role="admin")
    _, page, _ = _consent_page(user, client_app)
    html = page.content.decode()
    assert '<option value="admin">Administrator</option>' in html
    assert '<option value="view" selected>Viewer</option>' in html
    assert "Administrator (admin)" not in html
    row = re.search(rf"<th scope=\"row\">{organization.name}</th>\s*<td>(\w+)</td>", html)
    assert row and row.group(1) == "Administrator"
    assert f'data-org="{organization.pk}">Viewer</td>' in html
    my_account = logged_in(user).get("/me").content.decode()
    assert "Administrator" in my_account


# --- lists ---------------------------------------------------------------------------------


def test_list_toolbar_offers_sort_choices_in_words(signed_in, world, oauth_token_factory):
    oauth_token_factory("Laptop")
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert '<option value="creationDate" >Created</option>' in html
    assert '<option value="lastUpdated" >Last updated</option>' in html
    assert ">creationDate<" not in html
    api = signed_in.get("/me/tokens").content.decode()
    assert '<option value="expirationDate" >Expires</option>' in api


def test_lists_have_a_last_used_column(signed_in, world, oauth_token_factory, api_token_factory):
    used = oauth_token_factory("Used", last_used=timezone.now())
    oauth_token_factory("Unused")
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert '<th scope="col">Last used</th>' in html
    assert f'data-label="Last used"><time datetime="{used.last_used.isoformat()}"' in html
    assert re.search(r'data-label="Last used">Never</td>', html)
    api_token_factory("CI")
    assert '<th scope="col">Last used</th>' in signed_in.get("/me/tokens").content.decode()


def test_client_name_is_shown_once_when_it_is_the_token_name(signed_in, world, oauth_token_factory):
    client = OAuthClientFactory(client_name="Claude Desktop")
    oauth_token_factory("Claude Desktop", client=client)
    oauth_token_factory("Work laptop", client=client)
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert html.count("Client: Claude Desktop") == 1  # only under "Work laptop"
    assert ">Claude Desktop</a>" in html and ">Work laptop</a>" in html


def test_count_is_right_after_the_last_token_is_deleted(
    signed_in, world, htmx, oauth_token_factory
):
    token = oauth_token_factory("Only one")
    assert "Showing 1–1 of 1" in signed_in.get("/me/oauth-tokens").content.decode()
    response = signed_in.post(
        f"/me/oauth-tokens/{token.id}/delete", {"next": "/me/oauth-tokens"}, **htmx
    )
    html = response.content.decode()
    assert response["HX-Retarget"] == "#token-table"
    assert "Showing 1–1 of 1" not in html and "No OAuth tokens yet" in html
    assert "OAuth token “Only one” deleted." in html


def test_count_after_an_api_token_delete_keeps_the_lists_parameters(
    signed_in, world, htmx, api_token_factory
):
    first, second = api_token_factory("a-one"), api_token_factory("b-two")
    api_token_factory("other")
    response = signed_in.post(
        f"/me/tokens/{first.id}/delete", {"next": "/me/tokens?filter=*-*&perPage=10"}, **htmx
    )
    html = response.content.decode()
    assert "Showing 1–1 of 1" in html and second.name in html and "other" not in html


# --- the kill switches -----------------------------------------------------------------------


def test_user_revokes_all_their_tokens_for_one_client(signed_in, world, user, oauth_token_factory):
    client = OAuthClientFactory(client_name="Claude Desktop")
    a, b = oauth_token_factory("A", client=client), oauth_token_factory("B", client=client)
    keep = oauth_token_factory("Other app")
    stranger = oauth_token_factory("Theirs", owner=UserFactory(), client=client)
    html = signed_in.get("/me/oauth-tokens").content.decode()
    url = f"/me/oauth-tokens/clients/{client.pk}/revoke"
    assert f'href="{url}?next=' in html and "Revoke all (2)" in html
    confirm = signed_in.get(url).content.decode()
    assert "Revoke all 2 OAuth token(s) of “Claude Desktop”?" in confirm
    assert OAuthToken.objects.filter(pk__in=[a.pk, b.pk]).count() == 2  # asking changes nothing
    response = signed_in.post(url, {"next": "/me/oauth-tokens"}, follow=True)
    assert "Revoked 2 OAuth token(s) of Claude Desktop." in response.content.decode()
    assert set(OAuthToken.objects.values_list("pk", flat=True)) == {keep.pk, stranger.pk}
    assert TokenEvent.objects.filter(token_id__in=[a.pk, b.pk], kind="deleted").count() == 2


def test_revoke_all_for_a_client_the_user_has_no_token_of_is_not_found(signed_in, world):
    client = OAuthClientFactory()
    assert signed_in.post(f"/me/oauth-tokens/clients/{client.pk}/revoke").status_code == 404
    assert signed_in.get("/me/oauth-tokens/clients/zz%00/revoke").status_code == 404


def test_consent_screen_refuses_a_suspended_client(user, client_app):
    browser, page, url = _consent_page(user, client_app)
    OAuthClient.objects.filter(pk=client_app.pk).update(is_suspended=True)
    refused = browser.get(url)
    assert refused.status_code == 403
    assert "suspended this application" in refused.content.decode()
    assert refused.templates[0].name == "consent/error.html"
    # A consent screen opened before the suspension cannot be submitted either.
    posted = _authorize(browser, page)
    assert posted.status_code == 403 and not OAuthToken.objects.exists()


# --- admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_reads_in_words_with_the_products_name(admin_client):
    index = admin_client.get("/admin/").content.decode()
    assert "OAuth Consent Server administration" in index
    assert "OAuth clients" in index and "API tokens" in index and "OAuth tokens" in index
    add = admin_client.get("/admin/consent/oauthclient/add/").content.decode()
    assert "Terms of service URL" in add and "Privacy policy URL" in add
    for name in ("client_uri", "logo_uri", "tos_uri", "policy_uri"):
        assert re.search(rf'<input type="url" name="{name}"', add), name
    # A new client starts with the authorization-code grant (and refresh) ticked.
    assert re.search(r'value="authorization_code"[^>]*checked', add)


def test_admin_suspends_restores_and_revokes_all_tokens_of_a_client(
    admin_client, oauth_token_factory
):
    client = OAuthClientFactory(client_name="Rogue")
    tokens = [oauth_token_factory(f"t{i}", client=client) for i in range(3)]
    other = oauth_token_factory("safe")
    changelist = "/admin/consent/oauthclient/"
    admin_client.post(changelist, {"action": "suspend", "_selected_action": [client.pk]})
    client.refresh_from_db()
    assert client.is_suspended
    admin_client.post(changelist, {"action": "restore", "_selected_action": [client.pk]})
    client.refresh_from_db()
    assert not client.is_suspended
    response = admin_client.post(
        changelist, {"action": "revoke_all_tokens", "_selected_action": [client.pk]}, follow=True
    )
    assert "Revoked 3 OAuth token(s)." in response.content.decode()
    assert list(OAuthToken.objects.values_list("pk", flat=True)) == [other.pk]
    assert TokenEvent.objects.filter(token_id__in=[t.pk for t in tokens]).count() == 3


# --- the consent screen: who, what, and what was granted before -------------------------------


def test_consent_screen_names_the_account_and_offers_to_switch(user, client_app):
    _, page, url = _consent_page(user, client_app)
    html = page.content.decode()
    assert f"Signed in as <strong>{user.email}</strong>" in html
    match = re.search(
        r'<form method="post" action="/accounts/logout/">.*?name="next" value="([^"]+)".*?'
        r"Not you\? Switch account",
        html,
        re.S,
    )
    assert match
    next_url = unescape(match.group(1))
    assert next_url.startswith("/accounts/login/?")
    back = parse_qs(urlsplit(next_url).query)["next"][0]
    assert parse_qs(urlsplit(back).query) == parse_qs(urlsplit(url).query)


def test_switch_account_logs_out_and_returns_to_the_same_request(user, client_app):
    browser, page, url = _consent_page(user, client_app)
    next_url = page.context["switch_account_next"]
    response = browser.post("/accounts/logout/", {"next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    other = UserFactory()
    login = browser.post(next_url, {"username": other.email, "password": "x"})
    assert login.status_code == 200  # wrong password: still the login page
    login = browser.post(next_url, {"username": other.email, "password": PASSWORD})
    assert login.status_code == 302
    again = browser.get(login["Location"])
    assert again.status_code == 200 and again.context["account_email"] == other.email


def test_consent_screen_names_the_resource_beside_the_scopes(user, client_app):
    _, page, _ = _consent_page(user, client_app, resource=settings.API_RESOURCE_URL)
    html = page.content.decode()
    assert re.search(r"Access to\s+<strong>OAuth Consent Server API</strong>", html)
    assert f"({settings.API_RESOURCE_URL})" in html


def test_incremental_consent_marks_granted_and_new_scopes_and_starts_from_last_caps(
    user, organization, member_factory, client_app
):
    member_factory(user, organization, role="admin")
    browser, page, _ = _consent_page(user, client_app, scope="only.User.read")
    assert "Already granted" not in page.content.decode()
    _authorize(browser, page, default_role="edit", **{f"org_{organization.pk}": "none"})
    OAuthToken.objects.update(authorization_status=AuthorizationStatus.AUTHORIZED)

    _, again, _ = _consent_page(user, client_app, scope="only.User.read all.Application.read")
    html = again.content.decode()
    scopes = dict(re.findall(r'<code>([\w.]+)</code>[^<]*<span class="badge (granted|new)"', html))
    assert scopes == {"only.User.read": "granted", "all.Application.read": "new"}
    assert "You authorized this application on" in html
    assert again.context["default_role"] == "edit"
    assert '<option value="none" selected>None</option>' in html
    rows = {r.org_id: r for r in again.context["permission_rows"]}
    assert rows[organization.pk].effective_role == "none"


def test_a_deleted_grant_is_not_previous_consent(user, client_app):
    browser, page, _ = _consent_page(user, client_app)
    _authorize(browser, page)
    OAuthToken.objects.all().delete()
    _, again, _ = _consent_page(user, client_app)
    assert again.context["previous"] is None


# --- the new-authorization email ----------------------------------------------------------------


def test_authorization_email_names_client_scopes_time_and_the_tokens_page(
    user, client_app, oauth_token_factory
):
    token = oauth_token_factory("Claude Desktop", client=client_app)
    assert oauth_token_authorized_email(token.id) is True  # the task's own function, no broker
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == f"You authorized {client_app.client_name}"
    body = message.body
    assert client_app.client_name in body
    assert "only.User.read" in body and "all.Application.read" in body
    assert f"{settings.PUBLIC_URL}/me/oauth-tokens/{token.id}" in body
    assert str(token.creation_date.year) in body
    html = message.alternatives[0][0]
    assert f'href="{settings.PUBLIC_URL}/me/oauth-tokens/{token.id}"' in html


def test_authorization_email_for_a_token_already_gone_sends_nothing(db):
    assert oauth_token_authorized_email("0" * 24) is False
    assert mail.outbox == []


@pytest.fixture
def broker():
    """The test broker (Redis db TEST_REDIS_DB), its default queue emptied before and after."""
    connection = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    connection.delete("celery")
    yield connection
    connection.delete("celery")


def test_authorizing_queues_the_email_on_the_broker_without_sending_it(
    user, client_app, broker, django_capture_on_commit_callbacks
):
    browser, page, _ = _consent_page(user, client_app)
    with django_capture_on_commit_callbacks(execute=True):
        response = _authorize(browser, page)
    assert response.status_code == 302
    assert mail.outbox == []  # the flow sent nothing itself
    token = OAuthToken.objects.get()
    queued = [json.loads(m) for m in broker.lrange("celery", 0, -1)]
    tasks = [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in queued]
    assert ("tokens.tasks.oauth_token_authorized_email", repr([token.id])) in tasks
