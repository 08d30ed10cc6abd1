"""Writes on organizations and applications made through the API (name and description)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Application, Organization
from apikit.errors import validation_error

UNSET: Any = object()


def _text(field: str, value: object, *, max_length: int, required: bool) -> str:
    if not isinstance(value, str):
        raise validation_error(f"{field} must be a string")
    if required and not value.strip():
        raise validation_error(f"{field} must not be empty")
    if len(value) > max_length:
        raise validation_error(f"{field} must be at most {max_length} characters")
    return value


@transaction.atomic
def organization_update(
    *, organization: Organization, name: str = UNSET, description: str = UNSET
) -> Organization:
    """Rename or re-describe an organization (the caller has checked the effective admin role)."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    changed = []
    if name is not UNSET:
        locked.name = _text("name", name, max_length=255, required=True)
        changed.append("name")
    if description is not UNSET:
        locked.description = _text("description", description, max_length=32767, required=False)
        changed.append("description")
    locked.save(update_fields=[*changed, "last_updated"])
    return locked


@transaction.atomic
def application_update(
    *, application: Application, name: str = UNSET, description: str = UNSET
) -> Application:
    """Rename or re-describe an application (the caller has checked at least collaborate)."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    changed = []
    if name is not UNSET:
        locked.name = _text("name", name, max_length=255, required=True)
        changed.append("name")
    if description is not UNSET:
        locked.description = _text("description", description, max_length=32767, required=False)
        changed.append("description")
    locked.save(update_fields=[*changed, "last_updated"])
    return locked
