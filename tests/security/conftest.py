import pytest

from config.ratelimit import outage_log
from tests.consent.test_cimd import documents  # noqa: F401 - the HTTPS document server


@pytest.fixture(autouse=True)
def _fresh_outage_log():
    """The fail-open warning is logged once per outage; each test starts outside one."""
    outage_log.reset()
    yield
    outage_log.reset()


@pytest.fixture
def rate_limits(settings):
    """Set some limits for this test: rate_limits(token="3/60")."""

    def apply(**limits: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **limits}

    return apply
