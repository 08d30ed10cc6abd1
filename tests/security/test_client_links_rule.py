"""Safe client links and logos have one rule (tokens.client_links) and every caller follows it:
dynamic registration (RFC 7591 §2, 400 invalid_client_metadata), the admin's client form, the
consent screen and the token list and detail pages (a stored value the rule refuses is never
rendered). Raster `data:` images only: SVG can carry script."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils.html import escape

from consent.admin import OAuthClientAdminForm
from consent.models import OAuthClient
from tests.consent.helpers import authorize_params, authorize_url, logged_in, pkce_pair
from tests.factories import OAuthClientFactory
from tokens.models import AuthorizationStatus, OAuthToken

PNG = "data:image/png;base64,iVBORw0KGgo="
# (logo_uri, safe?)
LOGOS = [
    ("https://tool.example/logo.png", True),
    ("http://tool.example/logo.png", True),
    (PNG, True),
    ("DATA:IMAGE/PNG;BASE64,iVBORw0KGgo=", True),
    ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", True),
    ("data:image/jpeg;base64,/9j/4AAQ", True),
    ("data:image/webp;base64,UklGRg==", True),
    ("data:image/avif;base64,AAAAIGZ0eXA=", True),
    ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", False),
    ("data:image/svg+xml,<svg onload=alert(1)>", False),
    ("data:image/png,rawbytes", False),
    ('data:image/png;base64,AA=="onerror="alert(1)', False),
    ("data:image/png;charset=x;base64,AA==", False),
    ("data:text/html;base64,PHNjcmlwdD4=", False),
    ("javascript:alert(1)", False),
    ("vbscript:x", False),
    ("//evil.example/x.png", False),
    ("https://user:pw@tool.example/logo.png", False),
    ("ftp://tool.example/logo.png", False),
]
# (client_uri, safe?)
LINKS = [
    ("https://tool.example", True),
    ("http://tool.example/about", True),
    ("javascript:alert(1)", False),
    ("data:text/html,x", False),
    ("ftp://tool.example", False),
    ("https://user@tool.example", False),
]


def _registration(**extra) -> int:
    body = {
        "client_name": "Link Rule Tool",
        "redirect_uris": ["http://localhost:3030/callback"],
        "token_endpoint_auth_method": "none",
        **extra,
    }
    response = Client().post("/oauth/register", json.dumps(body), content_type="application/json")
    return response.status_code


def _admin_form_valid(**extra) -> bool:
    form = OAuthClientAdminForm(
        data={
            "client_name": "Link Rule Tool",
            "redirect_uris_text": "https://tool.example/callback",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            **extra,
        }
    )
    return form.is_valid()


@pytest.mark.parametrize(("logo", "safe"), LOGOS)
def test_registration_follows_the_logo_rule(db, logo, safe):
    assert _registration(logo_uri=logo) == (201 if safe else 400)
    assert OAuthClient.objects.exists() == safe


@pytest.mark.parametrize(("logo", "safe"), LOGOS)
def test_admin_form_follows_the_logo_rule(db, logo, safe):
    assert _admin_form_valid(logo_uri=logo) == safe


@pytest.mark.parametrize(("link", "safe"), LINKS)
def test_registration_follows_the_link_rule(db, link, safe):
    assert _registration(client_uri=link) == (201 if safe else 400)


@pytest.mark.parametrize(("logo", "safe"), LOGOS)
def test_consent_screen_follows_the_logo_rule(user, logo, safe):
    client_app = OAuthClientFactory(logo_uri=logo)
    _, challenge = pkce_pair()
    page = logged_in(user).get(authorize_url(authorize_params(client_app, challenge)))
    assert page.status_code == 200
    html = page.content.decode()
    assert (f'src="{escape(logo)}"' in html) == safe
    assert ("<img" in html) == safe


@pytest.mark.parametrize(("link", "safe"), LINKS)
def test_consent_screen_follows_the_link_rule(user, link, safe):
    client_app = OAuthClientFactory(client_uri=link)
    _, challenge = pkce_pair()
    page = logged_in(user).get(authorize_url(authorize_params(client_app, challenge)))
    assert (f'href="{escape(link)}"' in page.content.decode()) == safe


def _token(user, **client_fields) -> OAuthToken:
    return OAuthToken.objects.create(
        user=user,
        client=OAuthClientFactory(client_name="Rule Client", **client_fields),
        name="Rule token",
        scope=["only.User.read"],
        redirect_uri="https://client.example/callback",
        code_challenge="x" * 43,
        authorization_status=AuthorizationStatus.AUTHORIZED,
    )


@pytest.mark.parametrize(("logo", "safe"), LOGOS)
def test_token_pages_follow_the_logo_rule(client, user, logo, safe):
    token = _token(user, logo_uri=logo)
    client.force_login(user)
    for url in ("/me/oauth-tokens", f"/me/oauth-tokens/{token.pk}"):
        html = client.get(url).content.decode()
        assert (f'src="{escape(logo)}"' in html) == safe, url
        assert ('<img class="client-logo' in html) == safe, url


@pytest.mark.parametrize(("link", "safe"), LINKS)
def test_token_detail_page_follows_the_link_rule(client, user, link, safe):
    token = _token(user, client_uri=link)
    client.force_login(user)
    html = client.get(f"/me/oauth-tokens/{token.pk}").content.decode()
    assert (f'href="{escape(link)}"' in html) == safe
