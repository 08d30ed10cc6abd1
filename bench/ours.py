"""Seed our product's bench database and mint credentials for the load generator; measure what
wrk cannot (query counts, the purge). Run by bench/run.py with our virtualenv and the bench
environment (DATABASE_URL points at the bench database): `python bench/ours.py COMMAND ...`.

Rows are made through our own services where one exists for the purpose and otherwise through
our models, exactly as the services store them: secrets only as `secret_digest(raw)`.
Raw values go to OUT, one a line. Every command prints one JSON object on its last line.

  base                      bench user, public client, org fan-out users, session cookies
  access N OUT              N authorized OAuth tokens, each with one access token
  codes N OUT               N pending OAuth tokens, each with one code ("code verifier" lines)
  refresh N OUT             N authorized OAuth tokens, each with one refresh token
  list-tokens N             N authorized OAuth tokens for the W5 user
  list-api-token            a user API token (all.User) of the W5 user (JSON)
  pending N                 N stale pending OAuth tokens (with their expired codes) for W7
  queries                   query counts of W1, W5 and W6 (in-process test client)
  purge                     run token_purge_pending; time it and its longest transaction
  revocation-check URL      use a token against the running server, deactivate it, use it again
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from listnames import list_token_name  # noqa: E402  (bench/, this script's directory)

from accounts.models import Membership, Organization, User  # noqa: E402
from accounts.principals import session_principal  # noqa: E402
from consent.models import ClientAuthMethod, ClientRegistration, OAuthClient  # noqa: E402
from tokens.models import (  # noqa: E402
    AccessToken,
    AuthorizationCode,
    AuthorizationStatus,
    OAuthToken,
    RefreshToken,
    TokenStatus,
)
from tokens.secrets import SecretKind, secret_digest, secret_generate  # noqa: E402

REDIRECT_URI = "http://127.0.0.1:8765/callback"
CLIENT_ID = "00000000000000000000be01"
CONFIDENTIAL_CLIENT_ID = "00000000000000000000be02"
BENCH_EMAIL = "bench@example.com"
LIST_EMAIL = "bench-list@example.com"
ORG_FANOUT = (1, 10, 100)
PASSWORD = "bench-password-not-secret-0123456789"
SCOPE = ["only.User.read"]
BATCH = 5000


def _fanout_email(n: int) -> str:
    return f"bench-orgs-{n}@example.com"


def _challenge(verifier: str) -> str:
    """RFC 7636 §4.2 S256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _user(email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, PASSWORD, first_name="Bench", last_name="User")
    return user


def _client() -> OAuthClient:
    client, _ = OAuthClient.objects.get_or_create(
        client_id=CLIENT_ID,
        defaults={
            "client_name": "Bench public client",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": ClientAuthMethod.NONE,
            "registration": ClientRegistration.ADMIN,
        },
    )
    return client


def _confidential_client() -> tuple[OAuthClient, str]:
    """A confidential client for introspection (RFC 7662 §2.1 requires authentication)."""
    raw = secret_generate(SecretKind.CLIENT_SECRET)
    client, created = OAuthClient.objects.get_or_create(
        client_id=CONFIDENTIAL_CLIENT_ID,
        defaults={
            "client_name": "Bench resource server",
            "client_secret_digest": secret_digest(raw),
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": ClientAuthMethod.CLIENT_SECRET_BASIC,
            "registration": ClientRegistration.ADMIN,
        },
    )
    if not created:
        client.client_secret_digest = secret_digest(raw)
        client.save(update_fields=["client_secret_digest"])
    return client, raw


def _session_cookie(user: User) -> str:
    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def _grant(user: User, client: OAuthClient, *, pending: bool = False, **extra) -> OAuthToken:
    """An OAuth token row as the consent screen and the token endpoint leave it."""
    verifier = secrets.token_urlsafe(48)
    fields = {
        "user": user,
        "client": client,
        "name": client.client_name,
        "scope": SCOPE,
        "default_role": "view",
        "org_roles": [],
        "status": TokenStatus.ACTIVE,
        "authorization_status": (
            AuthorizationStatus.PENDING if pending else AuthorizationStatus.AUTHORIZED
        ),
        "redirect_uri": REDIRECT_URI,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        "resource": [settings.API_RESOURCE_URL],
    }
    fields.update(extra)
    return OAuthToken(**fields)


def base() -> None:
    user = _user(BENCH_EMAIL)
    client = _client()
    _, confidential_secret = _confidential_client()
    cookies = {}
    for n in ORG_FANOUT:
        fan = _user(_fanout_email(n))
        have = Membership.objects.filter(user=fan).count()
        if have < n:
            orgs = Organization.objects.bulk_create(
                [Organization(name=f"Bench org {n}-{i:03d}") for i in range(have, n)]
            )
            roles = ("admin", "edit", "collaborate", "view")
            Membership.objects.bulk_create(
                [
                    Membership(organization=o, user=fan, role=roles[i % len(roles)])
                    for i, o in enumerate(orgs)
                ]
            )
        cookies[str(n)] = _session_cookie(fan)
    _user(LIST_EMAIL)
    print(
        json.dumps(
            {
                "user_id": user.pk,
                "client_id": client.client_id,
                "confidential_client_id": CONFIDENTIAL_CLIENT_ID,
                "confidential_client_secret": confidential_secret,
                "session_cookie_name": settings.SESSION_COOKIE_NAME,
                "sessions": cookies,
                "redirect_uri": REDIRECT_URI,
                "scope": " ".join(SCOPE),
                "resource": settings.API_RESOURCE_URL,
            }
        )
    )


def access(n: int, out: str) -> None:
    user, client = _user(BENCH_EMAIL), _client()
    grants = OAuthToken.objects.bulk_create(
        [_grant(user, client) for _ in range(n)], batch_size=BATCH
    )
    expires = timezone.now() + timedelta(hours=2)
    raws, rows = [], []
    for grant in grants:
        raw = secret_generate(SecretKind.ACCESS_TOKEN)
        raws.append(raw)
        rows.append(
            AccessToken(
                oauth_token=grant,
                digest=secret_digest(raw),
                scope=SCOPE,
                resource=[settings.API_RESOURCE_URL],
                expires_at=expires,
            )
        )
    AccessToken.objects.bulk_create(rows, batch_size=BATCH)
    _write(out, raws)
    print(json.dumps({"access_tokens": n}))


def codes(n: int, out: str) -> None:
    """Pending OAuth tokens with one unused code each, as the consent screen leaves them."""
    user, client = _user(BENCH_EMAIL), _client()
    expires = timezone.now() + timedelta(seconds=settings.OAUTH_AUTHORIZATION_CODE_LIFETIME)
    lines, grants, verifiers = [], [], []
    for _ in range(n):
        verifier = secrets.token_urlsafe(48)
        verifiers.append(verifier)
        grants.append(_grant(user, client, pending=True, code_challenge=_challenge(verifier)))
    grants = OAuthToken.objects.bulk_create(grants, batch_size=BATCH)
    rows = []
    for grant, verifier in zip(grants, verifiers, strict=True):
        raw = secret_generate(SecretKind.AUTHORIZATION_CODE)
        rows.append(
            AuthorizationCode(
                oauth_token=grant,
                digest=secret_digest(raw),
                redirect_uri=REDIRECT_URI,
                code_challenge=grant.code_challenge,
                resource=[settings.API_RESOURCE_URL],
                expires_at=expires,
            )
        )
        lines.append(f"{raw} {verifier}")
    AuthorizationCode.objects.bulk_create(rows, batch_size=BATCH)
    _write(out, lines)
    print(json.dumps({"codes": n}))


def refresh(n: int, out: str) -> None:
    user, client = _user(BENCH_EMAIL), _client()
    grants = OAuthToken.objects.bulk_create(
        [_grant(user, client) for _ in range(n)], batch_size=BATCH
    )
    raws, rows = [], []
    for grant in grants:
        raw = secret_generate(SecretKind.REFRESH_TOKEN)
        raws.append(raw)
        rows.append(
            RefreshToken(
                oauth_token=grant,
                digest=secret_digest(raw),
                scope=SCOPE,
                resource=[settings.API_RESOURCE_URL],
            )
        )
    RefreshToken.objects.bulk_create(rows, batch_size=BATCH)
    _write(out, raws)
    print(json.dumps({"refresh_tokens": n}))


def list_tokens(n: int) -> None:
    """The W5 user's tokens: names like "echo client 04217", so a glob matches a slice."""
    user, client = _user(LIST_EMAIL), _client()
    have = OAuthToken.objects.filter(user=user).count()
    start = timezone.now() - timedelta(days=30)
    rows = [
        _grant(
            user,
            client,
            name=list_token_name(i),
            creation_date=start + timedelta(seconds=i * 7),
            last_used=start + timedelta(seconds=(i * 7919) % 2_000_000),
        )
        for i in range(have, n)
    ]
    OAuthToken.objects.bulk_create(rows, batch_size=BATCH)
    print(json.dumps({"list_user_id": user.pk, "tokens": max(n, have)}))


def list_api_token() -> str:
    from tokens.services.api_tokens import api_token_create

    user = _user(LIST_EMAIL)
    _, raw = api_token_create(
        owner=user,
        creator=user,
        actor=session_principal(user),
        name="bench list",
        scope=["all.User"],
    )
    return raw


def revocation_check(url: str) -> None:
    """No cache may make W1 fast at the cost of revocation: the next request must fail."""
    import urllib.error
    import urllib.request

    from tokens.services.oauth_tokens import oauth_token_set_status

    def status(raw: str) -> int:
        request = urllib.request.Request(
            url + "/api/me", headers={"Authorization": f"Bearer {raw}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    raw_file = Path(os.environ["BENCH_WORK"]) / "ours_revocation_access.txt"
    access(1, str(raw_file))
    raw = raw_file.read_text().split()[0]
    before = [status(raw) for _ in range(20)]
    token = AccessToken.objects.by_value(raw).select_related("oauth_token").get()
    oauth_token_set_status(
        token=token.oauth_token, actor=session_principal(token.oauth_token.user), active=False
    )
    after = status(raw)
    ok = set(before) == {200} and after == 401
    verdict = (
        f"{'PASS' if ok else 'FAIL'}: 20 requests answered {sorted(set(before))}; "
        f"the request right after deactivation answered {after}"
    )
    print(json.dumps({"verdict": verdict}))


def pending(n: int) -> None:
    """N pending OAuth tokens older than the purge age, each with its expired code, plus a few
    fresh pending ones that the purge must keep. A template row is made through the model and
    cloned in SQL (generate_series): a million ORM objects would take minutes to seed."""
    user, client = _user(BENCH_EMAIL), _client()
    old = timezone.now() - timedelta(seconds=settings.OAUTH_PENDING_TOKEN_MAX_AGE + 3600)
    template = _grant(user, client, pending=True, name="abandoned consent", creation_date=old)
    template.save()
    code_template = AuthorizationCode.objects.create(
        oauth_token=template,
        digest=secret_digest(secret_generate(SecretKind.AUTHORIZATION_CODE)),
        redirect_uri=REDIRECT_URI,
        code_challenge=template.code_challenge,
        resource=[settings.API_RESOURCE_URL],
        expires_at=old + timedelta(seconds=600),
        creation_date=old,
    )
    salt = secrets.token_hex(4)
    _clone(
        OAuthToken,
        template.pk,
        n,
        {
            "id": f"'b{salt[:3]}' || lpad(to_hex(g), 20, '0')",
            "creation_date": "t.creation_date - g * interval '1 millisecond'",
        },
    )
    _clone(
        AuthorizationCode,
        code_template.pk,
        n,
        {
            "id": None,
            "oauth_token_id": f"'b{salt[:3]}' || lpad(to_hex(g), 20, '0')",
            "digest": f"md5('{salt}c' || g) || md5('{salt}d' || g)",
        },
    )
    fresh = OAuthToken.objects.bulk_create([_grant(user, client, pending=True) for _ in range(100)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tokens_oauthtoken")
        cursor.execute("ANALYZE tokens_authorizationcode")
    print(json.dumps({"pending_stale": n + 1, "pending_fresh": len(fresh)}))


def _clone(model, pk, n: int, overrides: dict[str, str | None]) -> None:
    table = model._meta.db_table
    columns = [
        f.column
        for f in model._meta.concrete_fields
        if not f.generated and overrides.get(f.column, "") is not None
    ]
    exprs = [overrides.get(c) or f't."{c}"' for c in columns]
    column_list = ", ".join(f'"{c}"' for c in columns)
    sql = (
        f'INSERT INTO "{table}" ({column_list}) '
        f'SELECT {", ".join(exprs)} FROM "{table}" t, generate_series(1, %s) g '
        f'WHERE t."{model._meta.pk.column}" = %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [n, pk])


def _measured(request) -> dict[str, object]:
    """Status, query count and statements of one request (`request()` makes it)."""
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    return {"status": response.status_code, "queries": len(ctx), "sql": _sql(ctx)}


def _bearer_queries(path: str, raw: str, query: dict | None = None) -> dict[str, object]:
    """The second of two identical requests: the first records the token's lastUsed (once a
    minute per token), the second is the steady state."""
    browser = Client()
    browser.get(path, query or {}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    return _measured(lambda: browser.get(path, query or {}, HTTP_AUTHORIZATION=f"Bearer {raw}"))


def _token_endpoint_queries() -> dict[str, dict[str, object]]:
    """W2 and W3: the second of two exchanges (the first warms the prepared statements)."""
    work = Path(os.environ["BENCH_WORK"])
    codes(2, str(work / "ours_queries_codes.txt"))
    refresh(2, str(work / "ours_queries_refresh.txt"))
    code_lines = (work / "ours_queries_codes.txt").read_text().splitlines()
    exchange = {"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}
    grants = {
        "w2": [
            {**exchange, "code": code, "code_verifier": verifier, "client_id": CLIENT_ID}
            for code, verifier in (line.split() for line in code_lines)
        ],
        "w3": [
            {"grant_type": "refresh_token", "refresh_token": raw, "client_id": CLIENT_ID}
            for raw in (work / "ours_queries_refresh.txt").read_text().split()
        ],
    }
    out = {}
    for key, bodies in grants.items():
        browser = Client()
        browser.post("/oauth/token", bodies[0])
        out[key] = _measured(
            lambda browser=browser, body=bodies[1]: browser.post("/oauth/token", body)
        )
    return out


def _consent_page_queries() -> dict[str, dict[str, object]]:
    """W6: the consent page for users in 1, 10 and 100 organizations."""
    params = {
        "response_type": "code",
        "client_id": _client().client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": " ".join(SCOPE),
        "state": "bench",
        "code_challenge": _challenge(secrets.token_urlsafe(48)),
        "code_challenge_method": "S256",
    }
    out = {}
    for n in ORG_FANOUT:
        browser = Client()
        browser.force_login(User.objects.get(email=_fanout_email(n)))
        out[f"w6_{n}"] = _measured(lambda browser=browser: browser.get("/oauth/authorize", params))
    return out


def queries() -> None:
    """Query counts of W1, W2, W3, W5 and W6, through the test client on the bench database."""
    raw_file = Path(os.environ["BENCH_WORK"]) / "ours_queries_access.txt"
    access(1, str(raw_file))
    w5_query = {"sortField": "name", "filterField": "name", "filter": "echo*"}
    out = {
        "w1": _bearer_queries("/api/me", raw_file.read_text().split()[0]),
        "w5": _bearer_queries("/api/me/oauth-tokens", list_api_token(), w5_query),
        **_token_endpoint_queries(),
        **_consent_page_queries(),
    }
    print(json.dumps(out))


def _sql(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"][:300] for q in ctx.captured_queries]


class LongestTransaction:
    """Samples pg_stat_activity every 2 ms on a connection of its own for the longest open
    transaction of the bench database's other backends (the purge may run its batches on
    several connections: tokens.services.purge.PURGE_WORKERS), measured from the server side
    whatever the service's batching looks like."""

    def __init__(self) -> None:
        import psycopg

        db = settings.DATABASES["default"]
        self.monitor = psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname=db["NAME"],
            autocommit=True,
        )
        self.longest = 0.0
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self) -> None:
        while not self.stop.is_set():
            row = self.monitor.execute(
                "SELECT max(extract(epoch FROM clock_timestamp() - xact_start))"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            ).fetchone()
            self.samples += 1
            if row and row[0] is not None:
                self.longest = max(self.longest, float(row[0]))
            time.sleep(0.002)

    def __enter__(self) -> LongestTransaction:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.monitor.close()


def purge() -> None:
    """Run the purge service once, timed, with its longest transaction (LongestTransaction)."""
    from tokens.services.purge import token_purge_pending

    before = OAuthToken.objects.pending().count()
    authorized_before = OAuthToken.objects.authorized().count()
    with LongestTransaction() as watch:
        started = time.perf_counter()
        result = token_purge_pending(now=timezone.now())
        elapsed = time.perf_counter() - started
    summary = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else str(result)
    print(
        json.dumps(
            {
                "seconds": round(elapsed, 3),
                "longest_transaction_s": round(watch.longest, 3),
                "samples": watch.samples,
                "pending_before": before,
                "pending_after": OAuthToken.objects.pending().count(),
                "authorized_before": authorized_before,
                "authorized_after": OAuthToken.objects.authorized().count(),
                "codes_after": AuthorizationCode.objects.count(),
                "result": summary,
            }
        )
    )


def _write(out: str, lines: list[str]) -> None:
    Path(out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command in ("access", "codes", "refresh"):
        {"access": access, "codes": codes, "refresh": refresh}[command](int(args[0]), args[1])
    elif command == "list-tokens":
        list_tokens(int(args[0]))
    elif command == "pending":
        pending(int(args[0]))
    elif command == "list-api-token":
        print(json.dumps({"list_api_token": list_api_token()}))
    elif command == "revocation-check":
        revocation_check(args[0])
    else:
        {"base": base, "queries": queries, "purge": purge}[command]()
