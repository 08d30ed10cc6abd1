"""Who is calling, once authenticated: the Principal every service, selector and edge receives.

It lives in the lowest app so that accounts' own selectors (what a principal may see), the token
services and the API framework's caller all speak of it without importing the code that makes
one from a credential (tokens.authentication, bearer tokens; the session and the admin here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from accounts.models import User
from accounts.roles import RoleCap

PrincipalKind = Literal["session", "admin", "oauth", "user_api", "application_api"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `scope` None means unrestricted (the user's own session)."""

    kind: PrincipalKind
    user: User | None
    scope: frozenset[str] | None
    cap: RoleCap | None
    token_id: str | None = None
    application_id: str | None = None
    client_id: str | None = None
    # The user's (sandbox application count, organization count), when the lookup had them.
    user_counts: tuple[int, int] | None = None

    @property
    def is_oauth(self) -> bool:
        return self.kind == "oauth"


def session_principal(user: User) -> Principal:
    return Principal(kind="session", user=user, scope=None, cap=None)


def admin_principal(user: User) -> Principal:
    """A staff member in the Django admin, which changes only a token's name, description and
    status: trusted with every token (tokens.ceiling), and audited like any change."""
    return Principal(kind="admin", user=user, scope=None, cap=None)
