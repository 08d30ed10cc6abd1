import contextlib

import pytest
from django.core.cache import cache

from tests.factories import (
    ApplicationFactory,
    MembershipFactory,
    OAuthClientFactory,
    OrganizationFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with empty rate-limit counters (config/ratelimit.py counts in the shared
    cache, per client IP, and every test client is 127.0.0.1)."""
    # A test that stopped Redis must not keep the next one from starting.
    with contextlib.suppress(Exception):
        cache.clear()
    yield


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def client_app(db):
    """A registered public OAuth client (admin-created)."""
    return OAuthClientFactory()


@pytest.fixture
def member_factory(db):
    def make(user, organization, role="view"):
        return MembershipFactory(user=user, organization=organization, role=role)

    return make


@pytest.fixture
def application_factory(db):
    return ApplicationFactory
