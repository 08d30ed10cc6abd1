"""Writes on organizations and applications made through the API (name and description)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Application, Organization
from accounts.text import text_validate

UNSET: Any = object()


@transaction.atomic
def organization_update(
    *, organization: Organization, name: str = UNSET, description: str = UNSET
) -> Organization:
    """Rename or re-describe an organization (the caller has checked the effective admin role)."""
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    changed = []
    if name is not UNSET:
        locked.name = text_validate("name", name, max_length=255, required=True)
        changed.append("name")
    if description is not UNSET:
        locked.description = text_validate(
            "description", description, max_length=32767, required=False
        )
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
        locked.name = text_validate("name", name, max_length=255, required=True)
        changed.append("name")
    if description is not UNSET:
        locked.description = text_validate(
            "description", description, max_length=32767, required=False
        )
        changed.append("description")
    locked.save(update_fields=[*changed, "last_updated"])
    return locked
