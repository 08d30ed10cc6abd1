"""The WSGI application (gunicorn, `make run`, the bench): Django's handler, with a shorter
middleware stack for bearer-authenticated API calls.

Every `GET /api/...` a client makes with a token is one indexed query; the session, CSRF,
messages, htmx and static-file middlewares were a sixth of the CPU such a request took under
load (bench W1, docs/benchmarks.md) and none of them plays a part in it. Requests to /api/ whose
Authorization header says Bearer therefore go through `settings.API_BEARER_MIDDLEWARE`;
everything else, session-authenticated API calls included, through the full MIDDLEWARE.
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def is_bearer_api_call(environ: dict) -> bool:
    return (
        environ.get("PATH_INFO", "").startswith("/api/")
        and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
    )


class BearerApiHandler(WSGIHandler):
    """Django's handler with `settings.API_BEARER_MIDDLEWARE` as its middleware."""

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler builds its chain from settings.MIDDLEWARE; lend it the API list while it
        # does (once, when the application is made, before any request is served).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_BEARER_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class Application:
    """Sends bearer API calls to `BearerApiHandler` and the rest to Django's own handler."""

    def __init__(self) -> None:
        self.full = get_wsgi_application()  # sets Django up, as it always did
        self.bearer_api = BearerApiHandler()

    def __call__(self, environ: dict, start_response):
        handler = self.bearer_api if is_bearer_api_call(environ) else self.full
        return handler(environ, start_response)


application = Application()
