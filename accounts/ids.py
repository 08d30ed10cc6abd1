"""24-character hex identifiers, time-ordered like a MongoDB ObjectId (the reference schemas' id format)."""

import re
import secrets
import time

OBJECT_ID_PATTERN = re.compile(r"^[A-Fa-f\d]{24}$")


def new_object_id() -> str:
    """4 bytes of Unix seconds followed by 8 random bytes, as 24 lower-case hex characters."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and OBJECT_ID_PATTERN.fullmatch(value) is not None
