"""Admin for OAuth tokens, API tokens and the audit trail. Digests are never displayed and
secrets were never stored, so nothing here can reveal one. Every change an admin makes goes
through the token services, so it is audited exactly like the user's own changes."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.errors import DomainError
from accounts.principals import Principal, admin_principal
from tokens.models import (
    AccessToken,
    ApiToken,
    AuthorizationCode,
    OAuthToken,
    RefreshToken,
    TokenEvent,
    TokenStatus,
)
from tokens.services.api_tokens import api_token_delete, api_token_update
from tokens.services.oauth_tokens import oauth_token_delete, oauth_token_update

EDITABLE = ("name", "description", "status")


class ExpiredFilter(admin.SimpleListFilter):
    title = "expired"
    parameter_name = "expired"

    def lookups(self, request, model_admin):
        return [("yes", "Expired"), ("no", "Not expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(expiration_date__lte=now)
        if self.value() == "no":
            return queryset.exclude(expiration_date__lte=now)
        return queryset


class ReadOnlyInline(admin.TabularInline):
    """Credentials beneath an OAuth token: when they were issued and used, never their digest."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AuthorizationCodeInline(ReadOnlyInline):
    model = AuthorizationCode
    fields = readonly_fields = ["creation_date", "expires_at", "used_at", "redirect_uri"]


class AccessTokenInline(ReadOnlyInline):
    model = AccessToken
    fields = readonly_fields = ["creation_date", "expires_at", "scope", "resource"]


class RefreshTokenInline(ReadOnlyInline):
    model = RefreshToken
    fields = readonly_fields = ["creation_date", "used_at", "scope"]


class TokenAdminBase(admin.ModelAdmin):
    """Shared behaviour: name/description/status editable through the service, everything else
    read-only, no adding (tokens are created by the consent flow, the pages or the API)."""

    actions = ["deactivate_selected", "delete_selected_tokens"]
    list_per_page = 50
    date_hierarchy = "creation_date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return [
            f.name for f in self.model._meta.fields if f.name not in EDITABLE and f.name != "digest"
        ]

    def get_actions(self, request):
        # Django's bulk delete skips the service (and so the audit trail); ours replaces it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def update_service(self, obj, actor: Principal, **changes):
        raise NotImplementedError

    def delete_service(self, obj) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change) -> None:
        changes = {
            field: form.cleaned_data[field] for field in form.changed_data if field in EDITABLE
        }
        if changes:
            try:
                self.update_service(obj, actor=admin_principal(request.user), **changes)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    def delete_model(self, request, obj) -> None:
        self.delete_service(obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_service(obj)

    @admin.action(description="Deactivate selected tokens")
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = skipped = 0
        for obj in queryset.filter(status=TokenStatus.ACTIVE):
            try:
                self.update_service(
                    obj, actor=admin_principal(request.user), status=TokenStatus.INACTIVE
                )
                done += 1
            except DomainError:
                skipped += 1  # expired tokens cannot be changed
        self.message_user(request, f"Deactivated {done} token(s); skipped {skipped} expired.")

    @admin.action(description="Delete selected tokens (revokes them at once)")
    def delete_selected_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for obj in queryset:
            self.delete_service(obj)
            count += 1
        self.message_user(request, f"Deleted {count} token(s).")


class PendingFilter(admin.SimpleListFilter):
    title = "pending"
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", "Pending"), ("no", "Authorized")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.pending()
        if self.value() == "no":
            return queryset.authorized()
        return queryset


@admin.register(OAuthToken)
class OAuthTokenAdmin(TokenAdminBase):
    list_display = [
        "name",
        "user",
        "client",
        "status",
        "authorization_status",
        "default_role",
        "creation_date",
        "expiration_date",
        "last_used",
    ]
    list_filter = [
        "status",
        ("client", admin.RelatedOnlyFieldListFilter),
        PendingFilter,
        ExpiredFilter,
        "default_role",
    ]
    search_fields = ["name", "id", "user__email", "client__client_name", "client__client_id"]
    list_select_related = ["user", "client"]
    inlines = [AuthorizationCodeInline, AccessTokenInline, RefreshTokenInline]
    fields = [
        "id",
        "user",
        "client",
        "name",
        "description",
        "status",
        "authorization_status",
        "scope",
        "resource",
        "default_role",
        "org_roles",
        "redirect_uri",
        "code_challenge_method",
        "creation_date",
        "expiration_date",
        "last_used",
        "last_updated",
    ]

    def update_service(self, obj, actor: Principal, **changes):
        return oauth_token_update(token=obj, actor=actor, **changes)

    def delete_service(self, obj) -> None:
        oauth_token_delete(token=obj, reason="deleted by an administrator")


@admin.register(ApiToken)
class ApiTokenAdmin(TokenAdminBase):
    list_display = [
        "name",
        "owner_type",
        "user",
        "application",
        "status",
        "creator_name",
        "creation_date",
        "expiration_date",
        "last_used",
    ]
    list_filter = ["status", "owner_type", ExpiredFilter, "default_role"]
    search_fields = ["name", "id", "user__email", "application__name", "creator_name"]
    list_select_related = ["user", "application"]
    fields = [
        "id",
        "owner_type",
        "user",
        "application",
        "name",
        "description",
        "status",
        "scope",
        "default_role",
        "org_roles",
        "creator_type",
        "creator_id",
        "creator_name",
        "creation_date",
        "expiration_date",
        "last_used",
        "last_updated",
    ]

    def update_service(self, obj, actor: Principal, **changes):
        return api_token_update(token=obj, actor=actor, **changes)

    def delete_service(self, obj) -> None:
        api_token_delete(token=obj)


@admin.register(TokenEvent)
class TokenEventAdmin(admin.ModelAdmin):
    """The audit trail: read-only, kept when the token it describes is gone."""

    list_display = ["creation_date", "kind", "token_type", "token_id", "user_id", "client_id"]
    list_filter = ["kind", "token_type"]
    search_fields = ["token_id", "user_id", "client_id"]
    date_hierarchy = "creation_date"
    readonly_fields = [
        "creation_date",
        "kind",
        "token_type",
        "token_id",
        "user_id",
        "client_id",
        "detail",
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
