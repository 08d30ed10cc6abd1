"""Views of the authorization server. They translate HTTP to `consent.oauth`, the services and
the selectors, and back; the protocol lives in `consent.oauth`."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.roles import SANDBOX_ORG_ID, Role
from config.ratelimit import bucket_key, client_ip, failures_throttled, rate_limited
from consent import oauth, selectors, services
from consent.forms import (
    ROLE_CHOICES,
    ClientMetadataError,
    ConsentForm,
    client_metadata_clean,
    consent_request_sign,
    consent_request_unsign,
)
from consent.models import OAuthClient


def interactive_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Headers of every page a user sees here: no framing (RFC 9700 §4.16), no referrer
    (§4.2.4), and no caching of a page that carries a signed request."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Frame-Options"] = "DENY"
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def _json(body: dict, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def authorization_server_metadata(request: HttpRequest) -> JsonResponse:
    """RFC 8414 §3 authorization server metadata."""
    return JsonResponse(oauth.authorization_server_metadata())


@require_GET
def protected_resource_metadata(request: HttpRequest) -> JsonResponse:
    """RFC 9728 §3 metadata of the API (path-inserted and root forms)."""
    return JsonResponse(oauth.protected_resource_metadata())


@require_http_methods(["GET", "POST"])
@interactive_page
def authorize(request: HttpRequest) -> HttpResponse:
    """Authorization endpoint (RFC 6749 §3.1): GET shows the consent screen, POST decides."""
    if request.method == "POST":
        return _consent_decide(request)
    try:
        authorization = oauth.authorization_request_validate(
            request.GET, requester=client_ip(request)
        )
    except oauth.AuthorizationRequestError as error:
        return _authorization_error(request, error)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if authorization.client.is_suspended:
        return _error_page(request, SUSPENDED_MESSAGE, status=403)
    return _consent_render(request, authorization)


# The administrator's kill switch (OAuthClient.is_suspended): no new consent while it is set.
SUSPENDED_MESSAGE = "An administrator has suspended this application. It cannot be authorized."


def _authorization_error(request: HttpRequest, error: oauth.AuthorizationRequestError):
    """An untrusted client or redirect URI gets an error page, never a redirect (RFC 6749
    §4.1.2.1). A client nobody here vouches for gets the page with a link to its redirect
    host, not an automatic redirect (RFC 9700 §4.11.2); other errors redirect, but only once
    the user has logged in."""
    if error.retry_after is not None:
        # Too many metadata document fetches in flight: 503 (RFC 9110 §15.6.4), try again.
        response = _error_page(request, error.description, status=503)
        response["Retry-After"] = str(error.retry_after)
        return response
    if error.redirect_uri is None:
        return _error_page(request, error.description, status=400)
    if not selectors.error_redirect_allowed(
        client=error.client, redirect_uri=error.redirect_uri, user=request.user
    ):
        return _error_page(
            request,
            error.description or error.error,
            status=400,
            continue_url=error.redirect_url(),
            redirect_host=selectors.redirect_uri_host(error.redirect_uri),
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return HttpResponseRedirect(error.redirect_url())


def _error_page(
    request: HttpRequest,
    message: str,
    *,
    status: int,
    continue_url: str | None = None,
    redirect_host: str | None = None,
) -> HttpResponse:
    context = {"message": message, "continue_url": continue_url, "redirect_host": redirect_host}
    return render(request, "consent/error.html", context, status=status)


def _consent_decide(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _error_page(
            request, "Your session ended. Start again from the application.", status=403
        )
    params = consent_request_unsign(request.POST.get("request", ""), user_id=request.user.pk)
    if params is None:
        message = (
            "This authorization request expired or was altered. Start again from the application."
        )
        return _error_page(request, message, status=400)
    try:
        authorization = oauth.authorization_request_validate(params, requester=client_ip(request))
    except oauth.AuthorizationRequestError as error:
        return _authorization_error(request, error)
    if authorization.client.is_suspended:
        return _error_page(request, SUSPENDED_MESSAGE, status=403)
    decision = request.POST.get("decision")
    if decision == "deny":
        return HttpResponseRedirect(authorization.redirect_url(error="access_denied"))
    organizations = selectors.consent_organizations(user=request.user)
    form = ConsentForm(request.POST, organization_ids=[*organizations.ids, SANDBOX_ORG_ID])
    if decision != "authorize" or not form.is_valid():
        return _consent_render(request, authorization, form=form, organizations=organizations)
    try:
        _, code = services.consent_authorize(
            user=request.user,
            client=authorization.client,
            redirect_uri=authorization.redirect_uri,
            redirect_uri_given=authorization.redirect_uri_given,
            scope=authorization.scope,
            code_challenge=authorization.code_challenge,
            resource=authorization.resource,
            default_role=form.cleaned_data["default_role"],
            org_roles=form.org_roles(),
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _consent_render(request, authorization, form=form, organizations=organizations)
    return HttpResponseRedirect(authorization.redirect_url(code=code))


def _authorize_url(authorization: oauth.AuthorizationRequest) -> str:
    """The authorization request as a GET URL: where "Switch account" comes back to."""
    return f"{reverse('consent:authorize')}?{urlencode(authorization.to_params(), doseq=True)}"


def _selected_roles(
    form: ConsentForm, previous: selectors.PreviousConsent | None
) -> tuple[str, dict[str, str]]:
    """The default role and overrides currently chosen (raw input, limited to real roles);
    on first display, the caps the user chose last time for this client, if any."""
    if not form.is_bound:
        if previous is None:
            return Role.VIEW, {}
        overrides = {k: v for k, v in previous.overrides.items() if k in form.organization_ids}
        return previous.default_role, overrides
    default = form.data.get("default_role")
    overrides = {
        org_id: form.data.get(form.org_field_name(org_id), "")
        for org_id in form.organization_ids
        if form.data.get(form.org_field_name(org_id)) in Role.values
    }
    return (default if default in Role.values else Role.VIEW), overrides


def _consent_render(
    request: HttpRequest,
    authorization: oauth.AuthorizationRequest,
    *,
    form: ConsentForm | None = None,
    organizations: selectors.ConsentOrganizations | None = None,
) -> HttpResponse:
    organizations = organizations or selectors.consent_organizations(user=request.user)
    previous = selectors.consent_previous(user=request.user, client=authorization.client)
    if form is None:
        signed = consent_request_sign(authorization.to_params(), user_id=request.user.pk)
        form = ConsentForm(
            initial={"request": signed, "default_role": Role.VIEW},
            organization_ids=[*organizations.ids, SANDBOX_ORG_ID],
        )
    default_role, overrides = _selected_roles(form, previous)
    context = {
        **selectors.consent_account(user=request.user, authorize_url=_authorize_url(authorization)),
        "previous": previous,
        "resources": selectors.resource_rows(
            authorization.resource, api_name=oauth.protected_resource_metadata()["resource_name"]
        ),
        "form": form,
        "signed_request": form["request"].value(),
        "client": selectors.client_presentation(authorization.client),
        "redirect_uri": authorization.redirect_uri,
        "redirect_host": selectors.redirect_uri_host(authorization.redirect_uri),
        "scopes": selectors.scope_rows(authorization.scope, previous=previous),
        "role_choices": ROLE_CHOICES,
        "default_role": default_role,
        "permission_rows": selectors.consent_permission_rows(
            organizations=organizations, default_role=default_role, overrides=overrides
        ),
    }
    fragment = getattr(request, "htmx", False) and request.POST.get("decision") == "preview"
    template = "consent/authorize.html#permissions" if fragment else "consent/authorize.html"
    return render(request, template, context)


def _token_failures_here(request: HttpRequest) -> list[tuple[str, str]]:
    """Token failures count per client and address together (config/ratelimit.py)..."""
    client_id = oauth.token_request_client_id(request)
    return [("token_failures", bucket_key(client_id, client_ip(request)))]


def _token_failures_of_client(request: HttpRequest) -> list[tuple[str, str]]:
    """...and per client from every address; that count refuses only addresses that failed."""
    return [("token_client_failures", bucket_key(oauth.token_request_client_id(request)))]


@csrf_exempt
@require_POST
@rate_limited("token")
@failures_throttled(
    _token_failures_here, shared=_token_failures_of_client, failed=oauth.token_response_failed
)
def token(request: HttpRequest) -> HttpResponse:
    """Token endpoint (RFC 6749 §3.2; form-encoded; public clients send client_id)."""
    return oauth.token_response(request)


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    """Token revocation (RFC 7009 §2)."""
    return oauth.revocation_response(request)


@csrf_exempt
@require_POST
@rate_limited("introspect")
def introspect(request: HttpRequest) -> HttpResponse:
    """Token introspection (RFC 7662 §2); requires client authentication."""
    return oauth.introspection_response(request)


@csrf_exempt
@require_POST
@rate_limited("register")
@failures_throttled(
    lambda request: [("register_failures", client_ip(request))],
    failed=lambda response: response.status_code == 400,
)
def register(request: HttpRequest) -> JsonResponse:
    """Dynamic Client Registration (RFC 7591 §3): JSON in, 201 with the client (and its secret,
    shown this once) or a §3.2.2 error."""
    try:
        metadata = client_metadata_clean(json.loads(request.body))
        client, secret = services.client_register(metadata=metadata)
    except (ValueError, RecursionError):
        error = ClientMetadataError("invalid_client_metadata", "The body must be a JSON object")
        return _json(error.to_dict(), status=400)
    except ClientMetadataError as error:
        return _json(error.to_dict(), status=400)
    return _json(client_registration_to_dict(client, secret), status=201)


def client_registration_to_dict(client: OAuthClient, secret: str | None) -> dict:
    """RFC 7591 §3.2.1 response: the client's id and registered metadata (never `contacts`,
    never the digest)."""
    body: dict = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.creation_date.timestamp()),
        "client_name": client.client_name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
    }
    for key in ("client_uri", "logo_uri", "tos_uri", "policy_uri", "scope"):
        if value := getattr(client, key):
            body[key] = value
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0
    return body
