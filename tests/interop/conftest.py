# The HTTPS-on-loopback Client ID Metadata Document server of the CIMD tests (self-signed
# certificate trusted through CIMD_CA_BUNDLE, private addresses allowed for the test).
from tests.consent.test_cimd import documents  # noqa: F401
