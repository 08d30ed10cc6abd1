"""Celery tasks of the tokens app. Each only calls a service; the schedule lives in settings."""

import logging

from celery import shared_task
from django.utils import timezone

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
