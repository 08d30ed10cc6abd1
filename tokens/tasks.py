"""Celery tasks of the tokens app. Each only calls a service; the schedule lives in settings."""

import logging

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError

from tokens.services.notifications import oauth_token_authorized_notify
from tokens.services.purge import token_purge_pending_once

logger = logging.getLogger(__name__)


@shared_task(name="tokens.tasks.purge_pending_tokens", ignore_result=True)
def purge_pending_tokens() -> dict[str, int] | None:
    """Hourly (CELERY_BEAT_SCHEDULE): delete stale pending OAuth tokens and expired codes;
    skipped (None) while another purge runs."""
    result = token_purge_pending_once(now=timezone.now())
    if result is None:
        logger.info("Purge skipped: another purge is running")
        return None
    logger.info(
        "Purged %d pending OAuth tokens and %d expired codes", result.pending_tokens, result.codes
    )
    return {"pendingTokens": result.pending_tokens, "codes": result.codes}


@shared_task(
    name="tokens.tasks.oauth_token_authorized_email",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def oauth_token_authorized_email(token_id: str) -> bool:
    """The "you authorized a client" email, sent by the worker (a mail server's outage retries
    here, never in the consent flow)."""
    return oauth_token_authorized_notify(token_id=token_id)


def oauth_token_authorized_email_enqueue(*, token_id: str) -> None:
    """Queue that email without waiting: one publish attempt, no retry loop; a broker outage
    costs the email (logged), never the authorization."""
    try:
        oauth_token_authorized_email.apply_async(args=[token_id], retry=False)
    except OperationalError:
        logger.warning("authorization email for OAuth token %s not queued", token_id)
