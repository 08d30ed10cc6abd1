"""HTML input for the My Account token pages. Forms check shape; the token services check
meaning (and raise `DomainError`, which the views put back on the field it names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from django import forms
from django.utils import timezone

from accounts.roles import (
    ROLE_DESCRIPTIONS,
    SANDBOX_ORG_ID,
    ApplicationRole,
    Role,
    RoleCap,
    UserRoles,
)
from tokens.models import TokenStatus

if TYPE_CHECKING:
    from accounts.models import Application
    from accounts.selectors import Nav

USE_DEFAULT = ""
SCOPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9*]+){1,2}$")


@dataclass(frozen=True)
class OrgTarget:
    """An `orgRoles` key the user can cap: an organization they belong to, or their Sandbox."""

    key: str
    name: str
    user_role: str

    @property
    def field_name(self) -> str:
        return f"org_{self.key}"


@dataclass(frozen=True)
class AppTarget:
    application: Application
    org_key: str
    org_name: str
    user_role: str

    @property
    def field_name(self) -> str:
        return f"app_{self.application.id}"


@dataclass(frozen=True)
class CapTargets:
    orgs: list[OrgTarget]
    apps: list[AppTarget]


def cap_targets(*, nav: Nav, roles: UserRoles, user_id: str) -> CapTargets:
    """The Sandbox, then each organization, with the user's own role there and on each app."""
    orgs = [OrgTarget(SANDBOX_ORG_ID, "Sandbox", roles.for_organization(SANDBOX_ORG_ID))]
    apps = [
        AppTarget(app, SANDBOX_ORG_ID, "Sandbox", roles.for_application(app, user_id=user_id))
        for app in nav.sandbox_applications
    ]
    for org in nav.organizations:
        orgs.append(OrgTarget(org.id, org.name, roles.for_organization(org.id)))
        apps.extend(
            AppTarget(app, org.id, org.name, roles.for_application(app, user_id=user_id))
            for app in org.applications
        )
    return CapTargets(orgs=orgs, apps=apps)


def role_choices_with_descriptions() -> list[tuple[str, str]]:
    return [(value, f"{label} — {ROLE_DESCRIPTIONS[value]}") for value, label in Role.choices]


class TextFieldsForm(forms.Form):
    name = forms.CharField(max_length=255, strip=False)
    description = forms.CharField(
        max_length=32767, required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not name.strip():
            raise forms.ValidationError("Name must not be empty.")
        return name


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=TokenStatus.choices, widget=forms.RadioSelect)


class StatusToggleForm(forms.Form):
    """The list's Active/Inactive switch: the status to set (explicit, so a replay is harmless)."""

    status = forms.ChoiceField(choices=TokenStatus.choices)


class CapForm(forms.Form):
    """Token Permission Cap: a default maximum role plus per-organization and per-application
    overrides, built into Losant's `orgRoles` shape.

    An organization row left on "Use default" gets no entry unless an application below it has
    an override (or the entry carries dashboard roles, which this page keeps untouched): then the
    entry's role is the default role. Reading back, an entry equal to the default shows as
    "Use default", so the page round-trips what the user chose.
    """

    default_role = forms.ChoiceField(
        choices=role_choices_with_descriptions, widget=forms.RadioSelect, label="Default role"
    )

    def __init__(self, *args, targets: CapTargets, cap: RoleCap | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.previous_org_roles = list(cap.org_roles) if cap else []
        org_choices = [(USE_DEFAULT, "Use default"), *Role.choices]
        app_choices = [(USE_DEFAULT, "Use organization setting"), *ApplicationRole.choices]
        for org in targets.orgs:
            self.fields[org.field_name] = forms.ChoiceField(
                choices=org_choices, required=False, label=org.name
            )
        for app in targets.apps:
            self.fields[app.field_name] = forms.ChoiceField(
                choices=app_choices, required=False, label=app.application.name
            )
        if cap is not None and not self.is_bound:
            self.initial.update(self._initial_from_cap(cap))

    def _initial_from_cap(self, cap: RoleCap) -> dict[str, str]:
        initial = {"default_role": cap.default_role}
        for entry in cap.org_roles:
            if entry["role"] != cap.default_role:
                initial[f"org_{entry['orgId']}"] = entry["role"]
            for app_entry in entry.get("applicationRoles") or ():
                initial[f"app_{app_entry['resourceId']}"] = app_entry["role"]
        return initial

    def org_field_for_index(self, index: int) -> str | None:
        """The form field behind `orgRoles[index]` of the last `cleaned_cap()`."""
        keys = getattr(self, "_built_keys", [])
        return f"org_{keys[index]}" if 0 <= index < len(keys) else None

    def cleaned_cap(self) -> RoleCap:
        """The cap in the service's terms; only organizations the form lists are kept."""
        default_role = self.cleaned_data["default_role"]
        dashboards = {
            entry["orgId"]: entry["dashboardRoles"]
            for entry in self.previous_org_roles
            if entry.get("dashboardRoles")
        }
        org_roles: list[dict] = []
        self._built_keys: list[str] = []
        for org in self.targets.orgs:
            role = self.cleaned_data.get(org.field_name) or USE_DEFAULT
            app_roles = [
                {"resourceId": app.application.id, "role": self.cleaned_data[app.field_name]}
                for app in self.targets.apps
                if app.org_key == org.key and self.cleaned_data.get(app.field_name)
            ]
            if role == USE_DEFAULT and not app_roles and org.key not in dashboards:
                continue
            entry: dict = {"orgId": org.key, "role": role or default_role}
            if app_roles:
                entry["applicationRoles"] = app_roles
            if org.key in dashboards:
                entry["dashboardRoles"] = dashboards[org.key]
            org_roles.append(entry)
            self._built_keys.append(org.key)
        return RoleCap(default_role=default_role, org_roles=org_roles)

    def preview_cap(self, fallback: RoleCap) -> RoleCap:
        """The cap the submitted values describe, for showing effective roles before saving."""
        if self.is_valid():
            return self.cleaned_cap()
        return fallback


class ScopeExpiryForm(forms.Form):
    """Scope and expiration: chosen once, at creation (API Token Post)."""

    SCOPE_PRESETS: tuple[tuple[str, str], ...] = ()
    CUSTOM = "custom"

    scope_preset = forms.ChoiceField(widget=forms.RadioSelect, label="Scope")
    custom_scopes = forms.CharField(
        required=False,
        label="Custom scopes",
        help_text="Scope names separated by spaces or commas, e.g. devices.get device.patch",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expires = forms.ChoiceField(
        choices=[("never", "Never expires"), ("date", "Expires at the end of")],
        widget=forms.RadioSelect,
        initial="never",
        label="Expiration",
    )
    expiration_date = forms.DateField(
        required=False, label="Expiration date", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope_preset"].choices = [*self.SCOPE_PRESETS, (self.CUSTOM, "Custom")]
        self.fields["scope_preset"].initial = self.SCOPE_PRESETS[0][0]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("scope_preset") == self.CUSTOM:
            names = [s for s in re.split(r"[\s,]+", data.get("custom_scopes", "")) if s]
            if not names:
                self.add_error("custom_scopes", "List at least one scope.")
            elif bad := [s for s in names if not SCOPE_NAME.match(s)]:
                self.add_error("custom_scopes", f"{bad[0][:80]!r} is not a scope name.")
            elif len(set(names)) != len(names):
                self.add_error("custom_scopes", "A scope is listed twice.")
            data["scope"] = names
        elif data.get("scope_preset"):
            data["scope"] = [data["scope_preset"]]
        if data.get("expires") == "date":
            day: date | None = data.get("expiration_date")
            if day is None:
                if "expiration_date" not in self.errors:
                    self.add_error("expiration_date", "Choose the expiration date.")
            elif day < timezone.now().date():
                self.add_error("expiration_date", "The expiration date must be in the future.")
            else:
                data["expiration_datetime"] = datetime.combine(day, time.max, tzinfo=UTC)
        else:
            data["expiration_datetime"] = None
        return data


class UserScopeExpiryForm(ScopeExpiryForm):
    SCOPE_PRESETS = (
        ("all.User", "All permissions"),
        ("all.User.read", "Read only"),
        ("all.User.bounded", "Read and write, except sensitive actions (bounded)"),
        ("all.User.cli", "CLI developer"),
    )


class ApplicationScopeExpiryForm(ScopeExpiryForm):
    SCOPE_PRESETS = (
        ("all.Application", "All permissions"),
        ("all.Application.read", "Read only"),
        ("all.Application.bounded", "Read and write, except sensitive actions (bounded)"),
        ("all.Application.cli", "CLI developer"),
    )


class OAuthTokenEditForm(TextFieldsForm, StatusForm, CapForm):
    """Everything a user may change on an OAuth token (User OAuth Token Patch)."""


class UserApiTokenCreateForm(TextFieldsForm, UserScopeExpiryForm, CapForm):
    """Add User Token (API Token Post)."""


class UserApiTokenEditForm(TextFieldsForm, StatusForm, CapForm):
    """API Token Patch for a user token."""


class ApplicationApiTokenCreateForm(TextFieldsForm, ApplicationScopeExpiryForm):
    """API Token Post for an application token: application tokens reach only their own
    application, so they carry no organization caps."""


class ApplicationApiTokenEditForm(TextFieldsForm, StatusForm):
    """API Token Patch for an application token."""


# Service messages name the API field first ("orgRoles[2].role must be ..."); this maps it to
# the form field that shows the error.
API_FIELD_TO_FORM_FIELD = {
    "name": "name",
    "description": "description",
    "status": "status",
    "defaultRole": "default_role",
    "expirationDate": "expiration_date",
    "scope": "custom_scopes",
}
ORG_ROLES_INDEX = re.compile(r"^orgRoles\[(\d+)\]")


def form_field_for_api_message(form: forms.Form, message: str) -> str | None:
    """Which field of `form` a `DomainError` message is about, or None for a form-wide error."""
    match = ORG_ROLES_INDEX.match(message)
    if match and isinstance(form, CapForm):
        field = form.org_field_for_index(int(match.group(1)))
        return field if field in form.fields else None
    head = re.split(r"[\s.\[]", message, maxsplit=1)[0]
    field = API_FIELD_TO_FORM_FIELD.get(head)
    if field == "custom_scopes" and form.data.get("scope_preset") != ScopeExpiryForm.CUSTOM:
        field = "scope_preset"
    return field if field in form.fields else None
