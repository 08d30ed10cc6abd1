"""Dates on the wire: ISO 8601 in UTC with milliseconds and `Z`, like Losant ("2016-06-13T04:00:00.000Z")."""

from __future__ import annotations

from datetime import UTC, datetime

from apikit.errors import validation_error


def iso_datetime(value: datetime) -> str:
    """`2016-06-13T04:00:00.000Z` for an aware datetime."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_datetime_parse(field: str, value: object) -> datetime:
    """An RFC 3339 date-time with an explicit offset, or a Validation error naming `field`."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40 or "T" not in value.upper():
        raise validation_error(
            f"{field} must be an ISO 8601 date-time such as 2030-01-31T00:00:00.000Z"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise validation_error(
            f"{field} must be an ISO 8601 date-time such as 2030-01-31T00:00:00.000Z"
        ) from None
    if parsed.tzinfo is None:
        raise validation_error(f"{field} must include a time zone (for example Z)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise validation_error(f"{field} is out of range") from None
