"""Settings, all read from the environment (see .env.example for every variable and its default)."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

INSECURE_KEY_PREFIX = "insecure-"
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_KEY_PREFIX + "dev-only-change-me")
if not DEBUG and (SECRET_KEY.startswith(INSECURE_KEY_PREFIX) or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is missing or not a real secret (needs >= 32 characters, "
        "not starting with 'insecure-'). Set SECRET_KEY in the environment or in .env."
    )


def _public_url_canonical(url: str) -> str:
    """PUBLIC_URL in the form URL parsers give back: lower-case scheme and host, no default
    port, no trailing slash. MCP clients parse the metadata `issuer` (the Python SDK turns
    `https://Example.com:443` into `https://example.com`) and then compare it as a plain string
    with the `iss` of the authorization response (RFC 9207 §2.4), so any other spelling of the
    issuer fails them."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or port == -1:
        raise ImproperlyConfigured(f"PUBLIC_URL must be an http(s) URL, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured("PUBLIC_URL must not have a query, fragment or user information")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


# The one public base URL. It is the OAuth issuer, byte for byte, everywhere it appears.
PUBLIC_URL = _public_url_canonical(env.str("PUBLIC_URL", default="http://127.0.0.1:8000"))
API_RESOURCE_URL = PUBLIC_URL + "/api"

PUBLIC_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(PUBLIC_URL))
PUBLIC_URL_IS_HTTPS = PUBLIC_URL.startswith("https://")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
# The public origin is trusted for CSRF unless the operator lists origins (an empty value counts
# as unset): a login form POSTed from https://auth.example.com carries that Origin.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[]) or [PUBLIC_ORIGIN]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_htmx",
    "template_partials",
    "accounts",
    "consent",
    "tokens",
]

MIDDLEWARE = [
    # Outermost: /healthz, /readyz and /metrics answer before any Host or HTTPS check (issue 17).
    "config.health.OperationalEndpointsMiddleware",
    # Request id, one log line and the latency histogram per request (config/logging.py).
    "config.logging.RequestLogMiddleware",
    # A database outage anywhere below answers 503, never a 500 (issue 7).
    "config.resilience.ResilienceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.FrameAncestorsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# A request to /api/ carrying `Authorization: Bearer` is authenticated by its token alone
# (apikit.views.authenticate): no session, CSRF token, messages, htmx or static file is involved,
# so config.wsgi serves it through this ordered subset of MIDDLEWARE (docs/benchmarks.md, W1).
# CommonMiddleware stays: it writes Content-Length, which keeps keep-alive responses unchunked.
API_BEARER_MIDDLEWARE = [
    "config.health.OperationalEndpointsMiddleware",
    "config.logging.RequestLogMiddleware",
    "config.resilience.ResilienceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.FrameAncestorsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.views.layout_context",
            ],
        },
    }
]

# PostgreSQL is the only database (docs/decisions/040-postgresql-only.md). `make run` starts an
# embedded server under .run/ and sets DATABASE_URL; tests and production name their own server.
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "DATABASE_URL must name a PostgreSQL database (postgres://user:password@host:port/name); "
        "`make run` starts an embedded PostgreSQL and sets it for you."
    )
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
# Django's PostgreSQL backend, less the `_like` twin indexes (config/postgresql/__init__.py).
DATABASES["default"]["ENGINE"] = "config.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DB_CONNECT_TIMEOUT", default=5
)

# The shared cache that rate limits count in: Redis in production and tests; by default Django's
# database cache in the same PostgreSQL (`createcachetable`), so every process of `make run` shares
# it too.
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://django_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A stopped or hung Redis must cost a request at most a second: rate limits fail open.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_connect_timeout=env.float("CACHE_TIMEOUT", default=1.0),
        socket_timeout=env.float("CACHE_TIMEOUT", default=1.0),
    )
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # Django culls a third of the table past MAX_ENTRIES (300 by default), which would reset
    # live rate-limit counters and fetch slots; entries expire by themselves long before this.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault(
        "MAX_ENTRIES", env.int("CACHE_MAX_ENTRIES", default=100_000)
    )

# Rate limits, "<requests>/<seconds>" or "off" (config/ratelimit.py; README and
# docs/security.md say why each is what it is). Ceilings count every request per client IP;
# *_failures count only failures: failed client authentication and invalid grants per client
# and IP together and per client; refused registrations per IP.
RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="10/60"),
    "token": env.str("RATE_LIMIT_TOKEN", default="3000/60"),
    "token_failures": env.str("RATE_LIMIT_TOKEN_FAILURES", default="20/60"),
    "token_client_failures": env.str("RATE_LIMIT_TOKEN_CLIENT_FAILURES", default="600/60"),
    "register": env.str("RATE_LIMIT_REGISTER", default="600/3600"),
    "register_failures": env.str("RATE_LIMIT_REGISTER_FAILURES", default="30/3600"),
    "introspect": env.str("RATE_LIMIT_INTROSPECT", default="600/60"),
}
# Reverse proxies in front of the server that append to X-Forwarded-For (0: use REMOTE_ADDR).
RATE_LIMIT_PROXY_COUNT = env.int("RATE_LIMIT_PROXY_COUNT", default=0)

# Request bodies above this many bytes get 413 before they are read (config/resilience.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=256 * 1024)
# Seconds a client is told to wait (Retry-After) when the database is unavailable.
UNAVAILABLE_RETRY_AFTER = env.int("UNAVAILABLE_RETRY_AFTER", default=5)

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Browser hardening (RFC 9700 §4.16 anti-framing, §4.2.4 referrer leakage).
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PUBLIC_URL_IS_HTTPS
CSRF_COOKIE_SECURE = PUBLIC_URL_IS_HTTPS

# Served over https (PUBLIC_URL says so): every http request is redirected, and browsers are told
# to use https only (RFC 6797), so no cookie or code ever travels in clear (RFC 9700 §4.1.4).
# The health and metrics endpoints stay reachable over plain http inside the deployment.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PUBLIC_URL_IS_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PUBLIC_URL_IS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Behind a TLS-terminating proxy Django sees plain http; name the header the proxy sets, e.g.
# "HTTP_X_FORWARDED_PROTO,https". Opt-in: trusted only when the proxy always sets or strips it.
SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER", default=[])) or None
if SECURE_PROXY_SSL_HEADER is not None and len(SECURE_PROXY_SSL_HEADER) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER must be '<META header>,<value>', e.g. HTTP_X_FORWARDED_PROTO,https"
    )

# CORS only where the OAuth specs allow it: metadata, token, registration, revocation,
# introspection and the API. Never on the authorization endpoint (RFC 9700 §2.6).
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/(\.well-known/.*|oauth/(token|register|revoke|introspect)|api/.*)$"

# Celery: Redis in production and tests; by default kombu's SQLAlchemy transport on the database
# itself (tables kombu_queue and kombu_message), which is what `make run` uses.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or (
    "sqla+postgresql+psycopg://" + DATABASE_URL.split("://", 1)[1]
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None) or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "purge-pending-oauth-tokens": {
        "task": "tokens.tasks.purge_pending_tokens",
        "schedule": timedelta(hours=1),
    },
    # Expired sessions (django.contrib.sessions keeps them until `clearsessions` runs).
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": timedelta(days=1),
    },
}
# Celery logs through Django's LOGGING (LOG_FORMAT) instead of installing its own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Email (the new-authorization notice, sent by the worker): EMAIL_URL in django-environ's form,
# e.g. smtp+tls://user:password@smtp.example.com:587, consolemail:// (default: printed by the
# worker), filemail:///path/to/dir. EMAIL_BACKEND, if set, overrides the URL's backend.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(BASE_DIR / ".run" / "mail")
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="OAuth Consent Server <no-reply@localhost>"
)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# OAuth lifetimes.
OAUTH_ACCESS_TOKEN_LIFETIME = env.int("OAUTH_ACCESS_TOKEN_LIFETIME", default=3600)
OAUTH_AUTHORIZATION_CODE_LIFETIME = env.int("OAUTH_AUTHORIZATION_CODE_LIFETIME", default=600)
# Scope of an authorization request that sends none and whose client registered none
# (RFC 6749 §3.3); space-separated, shown on the consent screen like a requested scope.
OAUTH_DEFAULT_SCOPE = env.str("OAUTH_DEFAULT_SCOPE", default="only.User.read")
OAUTH_PENDING_TOKEN_MAX_AGE = env.int("OAUTH_PENDING_TOKEN_MAX_AGE", default=24 * 3600)
# Client ID Metadata Documents: loopback/private fetches are refused unless allowed (tests only).
CIMD_ALLOW_PRIVATE_ADDRESSES = env.bool("CIMD_ALLOW_PRIVATE_ADDRESSES", default=False)
# Those fetches happen before login: an overall deadline (seconds, DNS included) and how many
# may be in flight at once, server-wide and per caller IP (consent/cimd.py). Keep the
# server-wide number below the web workers' count, so that fetches never hold them all.
CIMD_FETCH_DEADLINE = env.float("CIMD_FETCH_DEADLINE", default=2.0)
CIMD_FETCHES_IN_FLIGHT = env.int("CIMD_FETCHES_IN_FLIGHT", default=1)
CIMD_FETCHES_IN_FLIGHT_PER_IP = env.int("CIMD_FETCHES_IN_FLIGHT_PER_IP", default=1)
# Extra CA bundle (PEM path) trusted when fetching those documents; empty = the usual CAs.
CIMD_CA_BUNDLE = env.str("CIMD_CA_BUNDLE", default="") or None

# Logs (config/logging.py): "text" for people (`make run`), "json" for machines (one object
# per line; production and docker-compose).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)
# One `http.request` line per request (health probes excepted).
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=True)
# Take the request id from X-Request-ID: only when a proxy in front always sets (or replaces) it.
TRUST_X_REQUEST_ID = env.bool("TRUST_X_REQUEST_ID", default=False)

# /metrics (config/metrics.py): off unless a bearer token or an address allow-list is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])

# seed_demo: passwords of the demo user and the admin (generated and printed when empty).
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default="")
