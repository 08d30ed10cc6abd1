"""`manage.py purge_pending_tokens`: the hourly purge (tokens.tasks), on demand, with progress.

What django-oauth-toolkit users know as `cleartokens`: pending OAuth tokens older than
OAUTH_PENDING_TOKEN_MAX_AGE and expired authorization codes go, through the same service and
run-once lock as the beat task.
"""

from __future__ import annotations

import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tokens.services.purge import token_purge_pending_once


class Command(BaseCommand):
    help = "Delete stale pending OAuth tokens and expired authorization codes, with progress."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        totals = {"pending tokens": 0, "codes": 0}
        lock = threading.Lock()
        verbose = options["verbosity"] >= 1

        def progress(what: str, deleted: int) -> None:
            with lock:  # batches report from the purge's worker threads
                totals[what] += deleted
                if verbose and deleted:
                    self.stdout.write(f"  {what}: {totals[what]} deleted so far")

        if verbose:
            self.stdout.write("Purging stale pending OAuth tokens and expired codes...")
        result = token_purge_pending_once(now=timezone.now(), progress=progress)
        if result is None:
            raise CommandError(
                "Another purge is running (the beat task or this command); retry later"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {result.pending_tokens} pending OAuth tokens and {result.codes} expired "
                f"codes in {time.monotonic() - started:.1f} s"
            )
        )
