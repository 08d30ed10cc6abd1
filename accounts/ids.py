"""New 24-character hex identifiers, time-ordered like a MongoDB ObjectId (the reference's id
format, apikit.ids)."""

import secrets
import time


def new_object_id() -> str:
    """4 bytes of Unix seconds followed by 8 random bytes, as 24 lower-case hex characters."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"
