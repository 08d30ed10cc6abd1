"""The token endpoint's and the bearer check's fast path (tokens.sql): a code exchange and a
refresh run a fixed set of hand-written prepared statements, and what they and the API-token
lookup load is exactly what the ORM would load for the same rows."""

from __future__ import annotations

from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.principals import session_principal
from consent import selectors
from consent.models import OAuthClient
from tests.consent.helpers import (
    authorize_params,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    refresh,
    tokens_for,
)
from tests.db import prepared_statements
from tests.factories import ApplicationFactory
from tokens.authentication import active_api_token
from tokens.models import (
    AccessToken,
    ApiToken,
    AuthorizationCode,
    OAuthToken,
    RefreshToken,
    TokenEvent,
)
from tokens.secrets import secret_digest
from tokens.services.api_tokens import api_token_create
from tokens.sql import save_new

# Client, code (with its OAuth token), BEGIN (a savepoint under test), lock, claim, the access
# token, refresh token and audit event in one statement, authorize, COMMIT.
CODE_EXCHANGE_STATEMENTS = 8
# Client, refresh token, BEGIN, lock, refresh state, spend, the access token, refresh token and
# event in one statement, COMMIT.
REFRESH_STATEMENTS = 8


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements other than transaction control (BEGIN/COMMIT, or savepoints in a test's
    transaction)."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in queries if not q["sql"].startswith(control)]


def _is_prepared(logged: str, prepared: set[str]) -> bool:
    # The log has the parameters filled in; PostgreSQL shows them as $1, $2...: the text up to
    # the first parameter must match.
    return any(
        len(head := statement.split("$")[0]) > 20 and logged.startswith(head)
        for statement in prepared
    )


def test_a_code_exchange_is_a_fixed_set_of_prepared_statements(user, client_app):
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge))["code"]
    with CaptureQueriesContext(connection) as queries:
        result = exchange(Client(), client_app, code, verifier)
    assert result["status"] == 200
    assert len(queries) == CODE_EXCHANGE_STATEMENTS
    prepared = set(prepared_statements())
    assert all(_is_prepared(sql, prepared) for sql in _statements(queries)), _statements(queries)
    assert AccessToken.objects.filter(oauth_token__user=user).count() == 1
    assert TokenEvent.objects.filter(user_id=user.pk, kind="authorized").count() == 1


def test_a_refresh_is_a_fixed_set_of_prepared_statements(user, client_app):
    issued = tokens_for(user, client_app)
    with CaptureQueriesContext(connection) as queries:
        result = refresh(Client(), client_app, issued["refresh_token"])
    assert result["status"] == 200
    assert len(queries) == REFRESH_STATEMENTS
    prepared = set(prepared_statements())
    assert all(_is_prepared(sql, prepared) for sql in _statements(queries)), _statements(queries)
    assert RefreshToken.objects.filter(oauth_token__user=user, used_at__isnull=True).count() == 1


def _loaded(credential) -> dict:
    grant = credential.oauth_token
    return {
        "credential": model_to_dict(credential),
        "grant": model_to_dict(grant),
        "client_id": grant.client.client_id,
        "user_active": grant.user.is_active,
    }


def test_credential_lookups_load_what_the_orm_loads(user, client_app):
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge))["code"]
    issued = tokens_for(user, client_app)
    lookups = [
        (selectors.authorization_code_by_value, AuthorizationCode, code),
        (selectors.refresh_token_by_value, RefreshToken, issued["refresh_token"]),
        (selectors.access_token_by_value, AccessToken, issued["access_token"]),
    ]
    for lookup, model, raw in lookups:
        orm = model.objects.select_related("oauth_token__client", "oauth_token__user")
        assert _loaded(lookup(raw)) == _loaded(orm.get(digest=secret_digest(raw)))
    fast_client = model_to_dict(selectors.client_by_client_id(client_app.client_id))
    assert fast_client == model_to_dict(OAuthClient.objects.get(pk=client_app.pk))
    assert fast_client["redirect_uris"] == client_app.redirect_uris  # JSON decoded, not text


def test_unknown_values_are_none(db):
    unknown = ["oac_unknown", "ort_unknown", "oat_unknown"]
    lookups = [
        selectors.authorization_code_by_value,
        selectors.refresh_token_by_value,
        selectors.access_token_by_value,
    ]
    assert [lookup(raw) for lookup, raw in zip(lookups, unknown, strict=True)] == [None] * 3
    assert selectors.client_by_client_id("no-such-client") is None


def test_save_new_stores_what_the_orm_would_and_returns_the_new_id(user, client_app):
    tokens_for(user, client_app)
    grant = OAuthToken.objects.get(user=user)
    event = TokenEvent(
        token_type="oauthToken", token_id=grant.pk, kind="revoked", detail={"a": [1]}
    )
    save_new(event)
    assert event.pk is not None and not event._state.adding
    stored = TokenEvent.objects.get(pk=event.pk)
    assert (stored.detail, stored.kind, stored.token_id) == ({"a": [1]}, "revoked", grant.pk)
    assert stored.creation_date == event.creation_date


def test_api_token_lookup_loads_what_the_orm_loads(user):
    application = ApplicationFactory()
    for owner, scope in ((user, "all.User"), (application, "all.Application")):
        _, raw = api_token_create(
            owner=owner, creator=user, actor=session_principal(user), name="bench", scope=[scope]
        )
        fast = active_api_token(raw)
        orm = ApiToken.objects.select_related("user").get(digest=secret_digest(raw))
        assert model_to_dict(fast) == model_to_dict(orm)
        assert fast.user == orm.user
        assert fast.user is None or model_to_dict(fast.user) == model_to_dict(orm.user)
    assert active_api_token("uat_unknown") is None


def test_save_new_of_several_rows_is_one_statement_storing_each_as_the_orm_would(user, client_app):
    """The rows an exchange writes together (tokens, then the audit event) go in one statement,
    and each gets its own new id back, in the order given."""
    tokens_for(user, client_app)
    grant = OAuthToken.objects.get(user=user)
    now = timezone.now()
    access = AccessToken(
        oauth_token=grant, digest="a" * 64, scope=["all.User"], expires_at=now, creation_date=now
    )
    refresh = RefreshToken(oauth_token=grant, digest="b" * 64, scope=[], creation_date=now)
    event = TokenEvent(token_type="oauthToken", token_id=grant.pk, kind="refreshed")

    with CaptureQueriesContext(connection) as queries:
        save_new(access, refresh, event)

    assert len(queries) == 1
    assert all(not row._state.adding for row in (access, refresh, event))
    assert AccessToken.objects.get(pk=access.pk).digest == "a" * 64
    assert RefreshToken.objects.get(pk=refresh.pk).digest == "b" * 64
    assert TokenEvent.objects.get(pk=event.pk).kind == "refreshed"
