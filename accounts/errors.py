"""The domain's one error family. Services and selectors raise `DomainError`; the edges turn
it into HTTP: the JSON API (apikit, configured in config/api_urls.py) as `{"type", "message"}`
with 400/403/404, the pages as a form error or a 404. A service never speaks HTTP."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, named as the API reference's error types."""

    VALIDATION = "Validation"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"


class DomainError(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def validation_error(message: str) -> DomainError:
    """The input breaks a rule; `message` names the field first ("scope[1] ...")."""
    return DomainError(ErrorKind.VALIDATION, message)


def not_found(what: str) -> DomainError:
    """`what` does not exist or the caller may not see it (its existence is not revealed)."""
    return DomainError(ErrorKind.NOT_FOUND, f"{what} was not found")


def forbidden(message: str = "Insufficient permissions for this operation") -> DomainError:
    """The caller sees the resource but may not do this with it."""
    return DomainError(ErrorKind.FORBIDDEN, message)
