"""Celery tasks of the tokens app. Each only calls a service; the schedule lives in settings."""

from celery import shared_task
from django.utils import timezone

from tokens.services.purge import token_purge_pending


@shared_task(name="tokens.tasks.purge_pending_tokens", ignore_result=True)
def purge_pending_tokens() -> dict[str, int]:
    """Hourly (CELERY_BEAT_SCHEDULE): delete stale pending OAuth tokens and expired codes."""
    result = token_purge_pending(now=timezone.now())
    return {"pendingTokens": result.pending_tokens, "codes": result.codes}
