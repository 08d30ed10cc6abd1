"""Idempotent demo data: a demo user, an admin, two organizations with two applications each,
one Sandbox application, and a demo public OAuth client."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Application, Membership, Organization, User
from accounts.roles import Role
from consent.models import ClientAuthMethod, ClientRegistration, OAuthClient

DEMO_EMAIL = "demo@example.com"
ADMIN_EMAIL = "admin@example.com"
DEMO_CLIENT_ID = "0000000000000000000de301"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"
ORGANIZATIONS = {
    "Acme Robotics": (Role.ADMIN, ["Assembly Line", "Warehouse Drones"]),
    "Globex": (Role.VIEW, ["Smart Meters", "Fleet Tracker"]),
}
SANDBOX_APPLICATION = "My Sandbox App"


class Command(BaseCommand):
    help = "Create the demo user, admin, organizations, applications and OAuth client (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        demo_password = self._ensure_user(DEMO_EMAIL, "DEMO_PASSWORD", first="Demo", last="User")
        admin_password = self._ensure_user(
            ADMIN_EMAIL, "ADMIN_PASSWORD", first="Admin", last="User", superuser=True
        )
        demo = User.objects.get(email=DEMO_EMAIL)
        for org_name, (role, app_names) in ORGANIZATIONS.items():
            org, _ = Organization.objects.get_or_create(name=org_name)
            Membership.objects.update_or_create(
                organization=org, user=demo, defaults={"role": role}
            )
            for app_name in app_names:
                Application.objects.get_or_create(name=app_name, organization=org)
        Application.objects.get_or_create(name=SANDBOX_APPLICATION, sandbox_user=demo)
        OAuthClient.objects.update_or_create(
            client_id=DEMO_CLIENT_ID,
            defaults={
                "client_name": "Demo MCP Client",
                "client_uri": "https://modelcontextprotocol.io/",
                "redirect_uris": [DEMO_REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": ClientAuthMethod.NONE,
                "registration": ClientRegistration.ADMIN,
            },
        )
        self.stdout.write(f"Demo login:  {DEMO_EMAIL} / {demo_password}")
        self.stdout.write(
            f"Admin login: {ADMIN_EMAIL} / {admin_password}  ({settings.PUBLIC_URL}/admin/)"
        )
        self.stdout.write(
            f"Demo OAuth client_id: {DEMO_CLIENT_ID} (redirect_uri {DEMO_REDIRECT_URI})"
        )

    def _ensure_user(
        self, email: str, env_var: str, *, first: str, last: str, superuser: bool = False
    ) -> str:
        """Create the user if missing; set the password from the env var, or a new generated one."""
        password = getattr(settings, env_var) or None
        user = User.objects.filter(email=email).first()
        if user is None:
            password = password or secrets.token_urlsafe(12)
            create = User.objects.create_superuser if superuser else User.objects.create_user
            create(email, password, first_name=first, last_name=last)
            return password
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
            return password
        return "(unchanged; set " + env_var + " to reset it)"
