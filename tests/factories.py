import factory

from accounts.models import Application, ApplicationRoleOverride, Membership, Organization, User
from consent.models import ClientAuthMethod, ClientRegistration, OAuthClient

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "view"


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"App {n}")
    organization = factory.SubFactory(OrganizationFactory)
    sandbox_user = None


class ApplicationRoleOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationRoleOverride


class OAuthClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OAuthClient

    client_id = factory.Sequence(lambda n: f"{n:024x}")
    client_name = factory.Sequence(lambda n: f"Client {n}")
    redirect_uris = factory.LazyFunction(lambda: ["https://client.example/callback"])
    grant_types = factory.LazyFunction(lambda: ["authorization_code", "refresh_token"])
    response_types = factory.LazyFunction(lambda: ["code"])
    token_endpoint_auth_method = ClientAuthMethod.NONE
    registration = ClientRegistration.ADMIN
