"""The peer: django-oauth-toolkit 3.4 configured as securely as our server.

- PKCE required, S256 only (`PKCE_REQUIRED`, `COMPLIANT_BCP_RFC9700_PKCE_METHOD`).
- Access and refresh tokens stored only as SHA-256 checksums
  (`COMPLIANT_BCP_RFC9700_TOKEN_STORAGE`: the `token` column is left blank; lookups go by
  `token_checksum`). Client secrets are hashed by DOT 3.x by default.
- Refresh rotation with reuse protection (`ROTATE_REFRESH_TOKEN`,
  `REFRESH_TOKEN_REUSE_PROTECTION`: replaying a rotated refresh token revokes its family).
- Access tokens bound to a resource (RFC 8707) and audience-checked on each request.
- Same lifetimes as ours (access 1 h, code 10 min), same database connection settings.
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-dot-peer-secret-key-0123456789abcdefghijkl")
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dotpeer.urls"
WSGI_APPLICATION = "dotpeer.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_DB_NAME", "oauth_bench_dot"),
        "USER": os.environ.get("BENCH_DB_USER", "postgres"),
        "HOST": os.environ.get("BENCH_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("BENCH_DB_PORT", "5432"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5},
    }
}
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"

PUBLIC_URL = os.environ.get("BENCH_PUBLIC_URL", "http://127.0.0.1:8102").rstrip("/")
API_RESOURCE_URL = PUBLIC_URL + "/api"

OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600,
    "SCOPES": {
        "read": "Read your profile",
        "write": "Change your data",
        "introspection": "Introspect tokens (resource servers)",
    },
    "DEFAULT_SCOPES": ["read"],
}
