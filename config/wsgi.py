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
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def is_bearer_api_call(environ: dict) -> bool:
    return (
        environ.get("PATH_INFO", "").startswith("/api/")
        and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
    )


class BearerApiHandler(WSGIHandler):
    """Django's handler with `settings.API_BEARER_MIDDLEWARE` as its middleware.

    `BaseHandler.load_middleware` reads `settings.MIDDLEWARE` only, so this builds the chain
    itself, as BaseHandler does for a synchronous (WSGI) handler, from the other list; no
    setting is changed, not even for a moment."""

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise ImproperlyConfigured("BearerApiHandler serves WSGI (synchronous) only")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for middleware_path in reversed(settings.API_BEARER_MIDDLEWARE):
            try:
                middleware = import_string(middleware_path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class Application:
    """Sends bearer API calls to `BearerApiHandler` and the rest to Django's own handler."""

    def __init__(self) -> None:
        self.full = get_wsgi_application()  # sets Django up, as it always did
        self.bearer_api = BearerApiHandler()

    def __call__(self, environ: dict, start_response):
        handler = self.bearer_api if is_bearer_api_call(environ) else self.full
        return handler(environ, start_response)


application = Application()
