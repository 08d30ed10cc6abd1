"""Admins create and vet OAuth clients here. A generated client secret is shown once, in a
message; the stored digest is never displayed."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from consent.forms import ClientMetadataError, client_metadata_clean
from consent.models import ClientAuthMethod, ClientRegistration, OAuthClient
from consent.services import client_secret_rotate, client_suspend_set
from tokens.services.oauth_tokens import oauth_tokens_revoke_for_client


class OAuthClientAdminForm(forms.ModelForm):
    """Client metadata under the same rules as dynamic registration (RFC 7591), one redirect
    URI per line."""

    redirect_uris_text = forms.CharField(
        label="Redirect URIs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: https, or http on localhost / 127.0.0.1 / [::1] (any port).",
    )
    client_uri = forms.URLField(
        label="Home page URL", required=False, max_length=1024, assume_scheme="https"
    )
    # A logo is an http(s) URL or a data:image URI; both are URLs to <input type="url">.
    logo_uri = forms.CharField(
        label="Logo URL",
        required=False,
        max_length=32768,
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )
    tos_uri = forms.URLField(
        label="Terms of service URL", required=False, max_length=1024, assume_scheme="https"
    )
    policy_uri = forms.URLField(
        label="Privacy policy URL", required=False, max_length=1024, assume_scheme="https"
    )
    grant_types = forms.MultipleChoiceField(
        choices=[
            ("authorization_code", "Authorization code"),
            ("refresh_token", "Refresh token"),
        ],
        initial=["authorization_code", "refresh_token"],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = OAuthClient
        fields = [
            "client_name",
            "client_uri",
            "logo_uri",
            "tos_uri",
            "policy_uri",
            "token_endpoint_auth_method",
            "scope",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A new client already has its id (a default), so `pk` cannot tell a new one apart.
        if not self.instance._state.adding:
            self.fields["redirect_uris_text"].initial = "\n".join(self.instance.redirect_uris)
            self.fields["grant_types"].initial = self.instance.grant_types

    def clean(self) -> dict:
        cleaned = super().clean()
        data = {
            key: cleaned.get(key) or None
            for key in ("client_uri", "logo_uri", "tos_uri", "policy_uri", "scope")
        }
        try:
            metadata = client_metadata_clean(
                {
                    **data,
                    "client_name": cleaned.get("client_name"),
                    "redirect_uris": (cleaned.get("redirect_uris_text") or "").split(),
                    "grant_types": cleaned.get("grant_types") or None,
                    "token_endpoint_auth_method": cleaned.get("token_endpoint_auth_method"),
                },
                vetted=True,
            )
        except ClientMetadataError as error:
            raise forms.ValidationError(error.description) from None
        cleaned["metadata"] = metadata
        return cleaned

    def save(self, commit: bool = True) -> OAuthClient:
        client = super().save(commit=False)
        metadata = self.cleaned_data["metadata"]
        client.redirect_uris = metadata.redirect_uris
        client.grant_types = metadata.grant_types
        client.response_types = metadata.response_types
        if not client.client_id:
            client.client_id = client.id
        if commit:
            client.save()
        return client


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin):
    form = OAuthClientAdminForm
    list_display = (
        "client_name",
        "client_id",
        "is_suspended",
        "registration",
        "token_endpoint_auth_method",
        "creation_date",
    )
    list_filter = ("is_suspended", "registration", "token_endpoint_auth_method")
    search_fields = ("client_name", "client_id")
    readonly_fields = (
        "client_id",
        "registration",
        "is_suspended",
        "creation_date",
        "last_updated",
    )
    actions = ["rotate_secret", "suspend", "restore", "revoke_all_tokens"]
    fieldsets = (
        (None, {"fields": ("client_id", "client_name", "registration", "is_suspended")}),
        ("Redirects and grants", {"fields": ("redirect_uris_text", "grant_types", "scope")}),
        ("Authentication", {"fields": ("token_endpoint_auth_method",)}),
        ("Display", {"fields": ("client_uri", "logo_uri", "tos_uri", "policy_uri")}),
        ("Dates", {"fields": ("creation_date", "last_updated")}),
    )

    def save_model(self, request: HttpRequest, obj: OAuthClient, form, change: bool) -> None:
        if not change:
            obj.registration = ClientRegistration.ADMIN
        public = obj.token_endpoint_auth_method == ClientAuthMethod.NONE
        needs_secret = not public and not obj.client_secret_digest
        if public:
            obj.client_secret_digest = ""
        super().save_model(request, obj, form, change)
        if needs_secret:
            self._secret_show(request, obj, client_secret_rotate(client=obj))

    @admin.action(description="Generate a new client secret (shown once)")
    def rotate_secret(self, request: HttpRequest, queryset) -> None:
        for client in queryset:
            if client.is_public:
                self.message_user(
                    request, f"{client} is a public client and has no secret.", messages.WARNING
                )
                continue
            self._secret_show(request, client, client_secret_rotate(client=client))

    @admin.action(description="Suspend selected clients (their tokens stop, consent refused)")
    def suspend(self, request: HttpRequest, queryset) -> None:
        for client in queryset:
            client_suspend_set(client=client, suspended=True)
        self.message_user(request, f"Suspended {queryset.count()} client(s).", messages.WARNING)

    @admin.action(description="Restore selected clients (lift the suspension)")
    def restore(self, request: HttpRequest, queryset) -> None:
        for client in queryset:
            client_suspend_set(client=client, suspended=False)
        self.message_user(request, f"Restored {queryset.count()} client(s).")

    @admin.action(description="Revoke all tokens of selected clients")
    def revoke_all_tokens(self, request: HttpRequest, queryset) -> None:
        total = sum(
            oauth_tokens_revoke_for_client(client=client, reason="revoked by an administrator")
            for client in queryset
        )
        self.message_user(request, f"Revoked {total} OAuth token(s).", messages.WARNING)

    def _secret_show(self, request: HttpRequest, client: OAuthClient, secret: str) -> None:
        self.message_user(
            request,
            f"Client secret for {client.client_name} ({client.client_id}): {secret} "
            "— copy it now, it will not be shown again.",
            messages.WARNING,
        )
