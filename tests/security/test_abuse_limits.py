"""Issue 15 §2 rate limits: the admin login shares the login count; the token and registration
endpoints throttle what signals abuse (failed client authentication, invalid grants) per client
and address, so a client that behaves is never throttled by its neighbours; the counters work on
every shared cache (Redis and the database cache)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory

LIMIT = 3


@pytest.mark.parametrize(
    "order",
    [("/admin/login/",) * 4, ("/accounts/login/", "/admin/login/") * 2],
    ids=["admin-only", "alternating"],
)
def test_admin_login_is_rate_limited_in_the_same_count_as_the_login_page(db, rate_limits, order):
    rate_limits(login=f"{LIMIT}/3600")
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    for path in order[:LIMIT]:
        wrong = browser.post(path, {"username": admin.email, "password": "wrong"})
        assert wrong.status_code == 200, path
    # The right password is refused at the limit, on both doors.
    for path in ("/admin/login/", "/accounts/login/"):
        response = browser.post(path, {"username": admin.email, "password": PASSWORD})
        assert response.status_code == 429, path
        assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in browser.session
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.9")
    ok = other.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    assert ok.status_code == 302
