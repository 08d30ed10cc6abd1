"""The reference's id format: 24 hex characters (a MongoDB ObjectId). Path ids are checked
against it before any lookup, so a malformed id never reaches the database (accounts.ids makes
new ones)."""

import re

OBJECT_ID_PATTERN = re.compile(r"^[A-Fa-f\d]{24}$")


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and OBJECT_ID_PATTERN.fullmatch(value) is not None
