from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from accounts.models import Application, ApplicationRoleOverride, Membership, Organization, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name", "id"]
    readonly_fields = ["id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["id", "email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "member_count", "application_count", "creation_date"]
    search_fields = ["name", "id"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _members=Count("memberships", distinct=True),
                _applications=Count("applications", distinct=True),
            )
        )

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj: Organization) -> int:
        return obj._members

    @admin.display(description="Applications", ordering="_applications")
    def application_count(self, obj: Organization) -> int:
        return obj._applications


class ApplicationRoleOverrideInline(admin.TabularInline):
    model = ApplicationRoleOverride
    extra = 0


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "creation_date"]
    list_filter = ["role", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    inlines = [ApplicationRoleOverrideInline]


class OwnerTypeFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [("organization", "An organization"), ("sandbox", "A user's Sandbox")]

    def queryset(self, request, queryset):
        if self.value() == "organization":
            return queryset.filter(organization__isnull=False)
        if self.value() == "sandbox":
            return queryset.filter(sandbox_user__isnull=False)
        return queryset


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "organization", "sandbox_user", "creation_date"]
    list_filter = [OwnerTypeFilter, "organization"]
    list_select_related = ["organization", "sandbox_user"]
    search_fields = ["name", "id", "organization__name", "sandbox_user__email"]
    autocomplete_fields = ["organization", "sandbox_user"]
