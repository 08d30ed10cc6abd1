"""JSON API for the caller's profile, organizations and applications (Losant-shaped). They are
what the scopes and role caps guard: reads need an effective `view`, an application is changed
with `collaborate`, an organization only by an effective `admin`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Subquery

from accounts import selectors, services
from accounts.models import Application, Membership, Organization, User
from accounts.roles import Role
from apikit import schemas
from apikit.dates import iso_datetime
from apikit.views import ApiCall, ApiRoute

me_route = ApiRoute("/me", name="me", tag="Me")
orgs_route = ApiRoute("/orgs", name="orgs", tag="Organizations")
org_route = ApiRoute("/orgs/{orgId}", name="org", tag="Organizations")
applications_route = ApiRoute("/applications", name="applications", tag="Applications")
application_route = ApiRoute(
    "/applications/{applicationId}", name="application", tag="Applications"
)


def me_to_dict(user: User, *, counts: tuple[int, int] | None = None) -> dict[str, Any]:
    """`counts` (sandbox applications, organizations) when the caller already has them: the
    bearer lookup fetches them in its one statement (tokens.authentication)."""
    app_count, org_count = counts if counts is not None else _user_counts(user)
    return {
        "id": user.pk,
        "userId": user.pk,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "creationDate": iso_datetime(user.date_joined),
        "summary": {
            "appCount": app_count,
            "orgCount": org_count,
        },
    }


def _user_counts(user: User) -> tuple[int, int]:
    """Both summary counts in one query."""
    counts = (
        User.objects.filter(pk=user.pk)
        .annotate(
            apps=Subquery(
                Application.objects.filter(sandbox_user=OuterRef("pk"))
                .order_by()
                .values("sandbox_user")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            orgs=Subquery(
                Membership.objects.filter(user=OuterRef("pk"))
                .order_by()
                .values("user")
                .annotate(n=Count("pk"))
                .values("n")
            ),
        )
        .values("apps", "orgs")
        .get()
    )
    return counts["apps"] or 0, counts["orgs"] or 0


def organization_to_dict(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.pk,
        "orgId": organization.pk,
        "name": organization.name,
        "description": organization.description,
        "creationDate": iso_datetime(organization.creation_date),
        "lastUpdated": iso_datetime(organization.last_updated),
        "summary": {
            "appCount": organization.app_count,
            "memberCount": organization.member_count,
        },
    }


def application_to_dict(application: Application) -> dict[str, Any]:
    """Losant's shape: a Sandbox application is owned by its user (`ownerType: user`)."""
    data = {
        "id": application.pk,
        "applicationId": application.pk,
        "name": application.name,
        "description": application.description,
        "ownerId": application.organization_id or application.sandbox_user_id,
        "ownerType": "organization" if application.organization_id else "user",
        "creationDate": iso_datetime(application.creation_date),
        "lastUpdated": iso_datetime(application.last_updated),
    }
    if application.organization_id:
        data["organizationName"] = application.organization.name
    return data


def _collection(page, to_dict) -> dict[str, Any]:
    return {"items": [to_dict(item) for item in page.items], **page.meta()}


@me_route.operation(
    "GET", action="me.get", summary="The caller's user profile", response=schemas.ME
)
def me_get(call: ApiCall) -> dict[str, Any]:
    return me_to_dict(call.user, counts=call.principal.user_counts)


@orgs_route.operation(
    "GET",
    action="orgs.get",
    summary="Organizations the caller may read",
    response=schemas.ORGS,
    list_spec=selectors.ORGANIZATION_LIST,
)
def orgs_get(call: ApiCall) -> dict[str, Any]:
    page = selectors.organizations_list(principal=call.principal, params=call.params)
    return _collection(page, organization_to_dict)


@org_route.operation("GET", action="org.get", summary="One organization", response=schemas.ORG)
def org_get(call: ApiCall) -> dict[str, Any]:
    organization = selectors.organization_get(
        principal=call.principal, org_id=call.ids["orgId"], minimum_role=Role.VIEW
    )
    return organization_to_dict(organization)


@org_route.operation(
    "PATCH",
    action="org.patch",
    summary="Rename or re-describe an organization (effective admin only)",
    request=schemas.ORG_PATCH,
    response=schemas.ORG,
)
def org_patch(call: ApiCall) -> dict[str, Any]:
    organization = selectors.organization_get(
        principal=call.principal, org_id=call.ids["orgId"], minimum_role=Role.ADMIN
    )
    services.organization_update(organization=organization, **_text_fields(call.body))
    return org_get(call)


@applications_route.operation(
    "GET",
    action="applications.get",
    summary="Applications the caller may read, across the Sandbox and organizations",
    response=schemas.APPLICATIONS,
    list_spec=selectors.APPLICATION_LIST,
)
def applications_get(call: ApiCall) -> dict[str, Any]:
    page = selectors.applications_list(principal=call.principal, params=call.params)
    return _collection(page, application_to_dict)


@application_route.operation(
    "GET", action="application.get", summary="One application", response=schemas.APPLICATION
)
def application_get(call: ApiCall) -> dict[str, Any]:
    application = selectors.application_get(
        principal=call.principal,
        application_id=call.ids["applicationId"],
        minimum_role=Role.VIEW,
    )
    return application_to_dict(application)


@application_route.operation(
    "PATCH",
    action="application.patch",
    summary="Rename or re-describe an application (effective collaborate or more)",
    request=schemas.APPLICATION_PATCH,
    response=schemas.APPLICATION,
)
def application_patch(call: ApiCall) -> dict[str, Any]:
    application = selectors.application_get(
        principal=call.principal,
        application_id=call.ids["applicationId"],
        minimum_role=Role.COLLABORATE,
    )
    services.application_update(application=application, **_text_fields(call.body))
    return application_get(call)


def _text_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in ("name", "description") if key in body}
