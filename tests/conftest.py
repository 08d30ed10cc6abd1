import pytest

from tests.factories import (
    ApplicationFactory,
    MembershipFactory,
    OAuthClientFactory,
    OrganizationFactory,
    UserFactory,
)


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
