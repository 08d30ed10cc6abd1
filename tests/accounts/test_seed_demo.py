from django.core.management import call_command

from accounts.models import Application, Membership, Organization, User
from consent.models import OAuthClient


def _counts():
    return (
        User.objects.count(),
        Organization.objects.count(),
        Membership.objects.count(),
        Application.objects.count(),
        OAuthClient.objects.count(),
    )


def test_seed_demo_creates_the_demo_world_and_is_idempotent(db, settings, capsys):
    settings.DEMO_PASSWORD = "demo-pass-123"
    settings.ADMIN_PASSWORD = ""
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first == (2, 2, 2, 5, 1)

    demo = User.objects.get(email="demo@example.com")
    assert demo.check_password("demo-pass-123")
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser and admin.is_staff
    roles = dict(Membership.objects.filter(user=demo).values_list("organization__name", "role"))
    assert roles == {"Acme Robotics": "admin", "Globex": "view"}
    for org in Organization.objects.all():
        assert org.applications.count() == 2
    assert Application.objects.filter(sandbox_user=demo).count() == 1
    out = capsys.readouterr().out
    assert "demo@example.com / demo-pass-123" in out


def test_seed_demo_prints_a_generated_password_that_works(db, settings, capsys):
    settings.DEMO_PASSWORD = ""
    settings.ADMIN_PASSWORD = ""
    call_command("seed_demo")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("Demo login:"))
    password = line.split(" / ", 1)[1].strip()
    assert User.objects.get(email="demo@example.com").check_password(password)
