"""Celery tasks of the accounts app; the schedule lives in settings (CELERY_BEAT_SCHEDULE)."""

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(name="accounts.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Daily: delete expired sessions, exactly what `manage.py clearsessions` does; the database
    session store keeps them forever otherwise."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
