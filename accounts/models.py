from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.ids import new_object_id


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    EDIT = "edit", "Editor"
    COLLABORATE = "collaborate", "Collaborator"
    VIEW = "view", "Viewer"
    NONE = "none", "None"


class ApplicationRole(models.TextChoices):
    """Per-application overrides are limited to these three (reference §1.4)."""

    COLLABORATE = "collaborate", "Collaborator"
    VIEW = "view", "Viewer"
    NONE = "none", "None"


def object_id_field(**kwargs) -> models.CharField:
    return models.CharField(
        primary_key=True, max_length=24, default=new_object_id, editable=False, **kwargs
    )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person; the email address is the login. Every user owns one Sandbox."""

    id = object_id_field()
    email = models.EmailField(unique=True, max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Organization(models.Model):
    id = object_id_field()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, max_length=32767)
    creation_date = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEW)
    creation_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Application(models.Model):
    """Owned by exactly one of: an organization, or one user's Sandbox."""

    id = object_id_field()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, max_length=32767)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="applications"
    )
    sandbox_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="sandbox_applications"
    )
    creation_date = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)
    # The API's `ownerId` (the organization, or the Sandbox's user), kept by PostgreSQL so the
    # application list can sort on it like on any column.
    owner_id = models.GeneratedField(
        expression=Coalesce(F("organization_id"), F("sandbox_user_id")),
        output_field=models.CharField(max_length=24),
        db_persist=True,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(organization__isnull=False) & Q(sandbox_user__isnull=True))
                | (Q(organization__isnull=True) & Q(sandbox_user__isnull=False)),
                name="application_single_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_type(self) -> str:
        return "organization" if self.organization_id else "sandbox"


class ApplicationRoleOverride(models.Model):
    """A member's per-application role, replacing their organization role on that application."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="application_overrides"
    )
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=ApplicationRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "application"], name="app_override_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=ApplicationRole.values), name="app_override_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} on {self.application}: {self.role}"
