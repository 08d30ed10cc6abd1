"""Seed the peer's database and mint credentials for the load generator.

Run with the peer's virtualenv from this directory: `python seed.py COMMAND [N OUT]`.
Credentials are created as rows the way DOT itself stores them (hashed at rest through
`set_token_value`, so only `token_checksum` is written); the raw values go to OUT, one a line.

  base                 user, public PKCE client, resource-server introspection token (JSON)
  access N OUT         N access tokens (scope read, bound to the API resource)
  codes N OUT          N authorization codes with S256 challenges ("code verifier" lines)
  refresh N OUT        N refresh tokens, each with its access token and its own family
"""

import base64
import hashlib
import json
import os
import secrets
import sys
import uuid
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotpeer.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import (  # noqa: E402
    AccessToken,
    Application,
    Grant,
    RefreshToken,
    set_token_value,
)

REDIRECT_URI = "http://127.0.0.1:8765/callback"
CLIENT_ID = "bench-public-client"
BATCH = 5000


def _user():
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"email": "bench@example.com", "first_name": "Bench"}
    )
    return user


def _client() -> Application:
    app, _ = Application.objects.get_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "Bench public client",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": REDIRECT_URI,
            "client_secret": "",
            "algorithm": Application.NO_ALGORITHM,
        },
    )
    return app


def _access(user, app, raw: str, scope: str = "read", resource: list | None = None) -> AccessToken:
    token = AccessToken(
        user=user,
        application=app,
        expires=timezone.now() + timedelta(hours=2),
        scope=scope,
        resource=[settings.API_RESOURCE_URL] if resource is None else resource,
    )
    set_token_value(token, raw)
    return token


def base() -> None:
    user, app = _user(), _client()
    raw = secrets.token_urlsafe(32)
    # A resource server's own token: not audience-bound, since DOT checks the audience
    # against the URL it is presented at (here /o/introspect/).
    _access(user, None, raw, scope="introspection", resource=[]).save()
    print(json.dumps({"client_id": app.client_id, "introspect_bearer": raw}))


def access(n: int, out: str) -> None:
    user, app = _user(), _client()
    raws = [secrets.token_urlsafe(32) for _ in range(n)]
    AccessToken.objects.bulk_create([_access(user, app, r) for r in raws], batch_size=BATCH)
    _write(out, raws)


def codes(n: int, out: str) -> None:
    user, app = _user(), _client()
    expires = timezone.now() + timedelta(seconds=600)
    lines, rows = [], []
    for _ in range(n):
        code, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        rows.append(
            Grant(
                user=user,
                application=app,
                code=code,
                expires=expires,
                redirect_uri=REDIRECT_URI,
                scope="read",
                code_challenge=challenge,
                code_challenge_method="S256",
                resource=[settings.API_RESOURCE_URL],
            )
        )
        lines.append(f"{code} {verifier}")
    Grant.objects.bulk_create(rows, batch_size=BATCH)
    _write(out, lines)


def refresh(n: int, out: str) -> None:
    user, app = _user(), _client()
    accesses = AccessToken.objects.bulk_create(
        [_access(user, app, secrets.token_urlsafe(32)) for _ in range(n)], batch_size=BATCH
    )
    raws, rows = [], []
    for at in accesses:
        raw = secrets.token_urlsafe(32)
        rt = RefreshToken(
            user=user,
            application=app,
            access_token=at,
            token_family=uuid.uuid4(),
            resource=[settings.API_RESOURCE_URL],
        )
        set_token_value(rt, raw)
        rows.append(rt)
        raws.append(raw)
    RefreshToken.objects.bulk_create(rows, batch_size=BATCH)
    _write(out, raws)


def _write(out: str, lines: list[str]) -> None:
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "base":
        base()
    else:
        {"access": access, "codes": codes, "refresh": refresh}[command](
            int(sys.argv[2]), sys.argv[3]
        )
