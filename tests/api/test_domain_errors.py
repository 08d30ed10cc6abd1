"""Services and selectors raise the domain's one error (accounts.errors.DomainError) and speak no
HTTP; the API framework, plugged in by config/api_urls.py, answers each kind with the
reference's `{"type", "message"}` body and its status (issue 16)."""

from __future__ import annotations

import pytest

from accounts.errors import DomainError, ErrorKind, forbidden, not_found, validation_error
from accounts.ids import new_object_id
from accounts.principals import session_principal
from accounts.selectors import application_get
from apikit.views import domain_error_to_api
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            validation_error("name is required"),
            400,
            {"type": "Validation", "message": "name is required"},
        ),
        (
            forbidden(),
            403,
            {"type": "Forbidden", "message": "Insufficient permissions for this operation"},
        ),
        (
            not_found("Application"),
            404,
            {"type": "NotFound", "message": "Application was not found"},
        ),
    ],
)
def test_each_kind_maps_to_its_status_and_the_reference_body(error, status, body):
    api_error = domain_error_to_api(error)
    assert (api_error.status, api_error.to_dict()) == (status, body)


def test_the_domain_error_knows_no_http():
    error = validation_error("x")
    assert isinstance(error, DomainError) and error.kind is ErrorKind.VALIDATION
    assert not hasattr(error, "status")


def test_a_selector_raises_not_found_and_the_api_answers_404(api, user, api_bearer):
    with pytest.raises(DomainError) as raised:
        application_get(
            principal=session_principal(user), application_id=new_object_id(), minimum_role="view"
        )
    assert raised.value.kind is ErrorKind.NOT_FOUND
    response = api.get(f"/applications/{new_object_id()}", token=api_bearer(user, ["all.User"]))
    assert response.status_code == 404
    assert response.json() == {"type": "NotFound", "message": "Application was not found"}


def test_a_selector_raises_forbidden_and_the_api_answers_403(api, user, api_bearer):
    organization = OrganizationFactory()
    MembershipFactory(user=user, organization=organization, role="view")
    application = ApplicationFactory(organization=organization)
    with pytest.raises(DomainError) as raised:
        application_get(
            principal=session_principal(user),
            application_id=application.pk,
            minimum_role="collaborate",
        )
    assert raised.value.kind is ErrorKind.FORBIDDEN
    response = api.patch(
        f"/applications/{application.pk}",
        token=api_bearer(user, ["all.User"]),
        body={"name": "Renamed"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "type": "Forbidden",
        "message": "Insufficient permissions for this operation",
    }
    application.refresh_from_db()
    assert application.name != "Renamed"
