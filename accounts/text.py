"""The one rule for text a user or client names things with (organization, application,
token and client names, token descriptions): nothing in it may disguise what a reader sees.

Bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what follows them, and
zero-width characters (U+200B-U+200D, U+2060, U+FEFF) hide inside look-alike names; all are
Unicode format characters (category Cf, Unicode TR #9, UTS #39 §3). Control characters (Cc,
NUL included, which PostgreSQL text cannot hold), surrogates (Cs) and private-use characters
(Co) have no place in a name either. Descriptions may keep line breaks and tabs.
"""

from __future__ import annotations

import unicodedata

from accounts.errors import validation_error

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_DESCRIPTION_WHITESPACE = frozenset("\n\r\t")


def has_unsafe_characters(text: str, *, multiline: bool = False) -> bool:
    """True if `text` holds a control, format (bidi, zero-width), surrogate or private-use
    character; with `multiline`, line breaks and tabs are allowed."""
    return any(
        unicodedata.category(ch) in _REFUSED_CATEGORIES
        and not (multiline and ch in _DESCRIPTION_WHITESPACE)
        for ch in text
    )


def text_validate(field: str, value: object, *, max_length: int, required: bool) -> str:
    """A name or description from the API, or a Validation error naming the field. A
    `description` may span lines; every other field is one line."""
    if not isinstance(value, str):
        raise validation_error(f"{field} must be a string")
    if required and not value.strip():
        raise validation_error(f"{field} must not be empty")
    if len(value) > max_length:
        raise validation_error(f"{field} must be at most {max_length} characters")
    if has_unsafe_characters(value, multiline=field == "description"):
        raise validation_error(
            f"{field} must not contain control or formatting characters "
            "(such as bidirectional overrides or zero-width characters)"
        )
    return value
