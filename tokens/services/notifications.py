"""Telling the user: the email sent when they authorize a client (issue 18, "Tell the user").

Sent through Django's email framework by the Celery worker (tokens.tasks), never in the request
that authorized: the consent flow never waits on a mail server."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apikit.scopes import OAUTH_SCOPE_DESCRIPTIONS
from tokens.models import OAuthToken


def oauth_token_authorized_notify(*, token_id: str) -> bool:
    """Email the token's owner which client they authorized, with which scopes, when, and the
    link to the token's page (to switch it off or delete it). False if the token is gone
    (deleted or purged before the worker got to it) or the user has no email."""
    token = OAuthToken.objects.select_related("user", "client").filter(pk=token_id).first()
    if token is None or not token.user.email:
        return False
    context = {
        "client_name": token.client.client_name,
        "scopes": [(s, OAUTH_SCOPE_DESCRIPTIONS.get(s, "")) for s in token.scope],
        "when": timezone.localtime(token.creation_date),
        "token_url": settings.PUBLIC_URL + reverse("tokens:oauth_token_detail", args=[token.id]),
        "product": "OAuth Consent Server",
    }
    send_mail(
        subject=f"You authorized {token.client.client_name}",
        message=render_to_string("tokens/email/authorized.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[token.user.email],
        html_message=render_to_string("tokens/email/authorized.html", context),
    )
    return True
