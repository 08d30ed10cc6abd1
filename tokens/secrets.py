"""Generated secrets: high-entropy, prefixed so secret scanners can spot them, stored as SHA-256.

They carry >= 256 random bits, so a slow password hash would add cost (and a CPU
denial-of-service lever) without adding safety; passwords alone use Django's hashers.
"""

import hashlib
import hmac
import secrets
from enum import StrEnum


class SecretKind(StrEnum):
    ACCESS_TOKEN = "oat_"
    REFRESH_TOKEN = "ort_"
    AUTHORIZATION_CODE = "oac_"
    USER_API_TOKEN = "uat_"
    APPLICATION_API_TOKEN = "aat_"
    CLIENT_SECRET = "ocs_"


def secret_generate(kind: SecretKind) -> str:
    """A new secret: the kind's prefix and 43 URL-safe characters (256 random bits)."""
    return kind.value + secrets.token_urlsafe(32)


def secret_digest(raw: str) -> str:
    """Hex SHA-256 of a raw secret; the only form that is stored."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def secret_matches(raw: str, digest: str) -> bool:
    """Constant-time comparison of a raw secret against a stored digest."""
    return hmac.compare_digest(secret_digest(raw), digest)
