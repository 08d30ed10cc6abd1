"""User API Tokens (My Account) and Application → API Tokens: list, add (secret shown once),
detail/edit, toggle, delete. One implementation serves both owners through `TokenOwner`."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.models import Application
from accounts.principals import Principal, session_principal
from accounts.roles import Role, RoleCap, UserRoles, role_at_least, user_roles
from accounts.selectors import Nav, nav_for
from apikit.lists import ListParams, Page
from tokens.forms import (
    ApplicationApiTokenCreateForm,
    ApplicationApiTokenEditForm,
    CapForm,
    CapTargets,
    StatusToggleForm,
    UserApiTokenCreateForm,
    UserApiTokenEditForm,
    cap_targets,
)
from tokens.models import ApiToken
from tokens.selectors import (
    API_TOKEN_LIST,
    application_api_tokens_for,
    application_api_tokens_list,
    user_api_tokens_for,
    user_api_tokens_list,
)
from tokens.services.api_tokens import api_token_create, api_token_update
from tokens.services.api_tokens import api_token_delete as api_token_delete_service
from tokens.views.caps import CapRows, cap_rows
from tokens.views.common import api_error_to_form, get_owned_or_404, list_page, next_url

LIST_TEMPLATE = "tokens/api_token_list.html"
DETAIL_TEMPLATE = "tokens/api_token_detail.html"


@dataclass(frozen=True)
class TokenOwner:
    """Whose tokens a page shows: the signed-in user, or an application they may see."""

    application: Application | None
    can_edit: bool
    nav: Nav
    roles: UserRoles

    @property
    def is_user(self) -> bool:
        return self.application is None

    @property
    def kind_label(self) -> str:
        return "User API token" if self.is_user else "Application API token"

    def url(self, name: str, *args: str) -> str:
        prefix = "api_token" if self.is_user else "app_token"
        owner_args = () if self.is_user else (self.application.id,)
        return reverse(f"tokens:{prefix}_{name}", args=[*owner_args, *args])

    @property
    def list_url(self) -> str:
        return self.url("list")

    @property
    def new_url(self) -> str:
        return self.url("new")


@dataclass(frozen=True)
class ApiTokenRow:
    token: ApiToken
    owner: TokenOwner

    @property
    def detail_url(self) -> str:
        return self.owner.url("detail", self.token.id)

    @property
    def status_url(self) -> str:
        return self.owner.url("status", self.token.id)

    @property
    def delete_url(self) -> str:
        return self.owner.url("delete", self.token.id)

    @property
    def next_status(self) -> str:
        return "inactive" if self.token.is_active else "active"

    @property
    def switch_disabled(self) -> bool:
        return self.token.is_expired or not self.owner.can_edit


def _user_owner(request: HttpRequest) -> TokenOwner:
    return TokenOwner(
        application=None,
        can_edit=True,
        nav=nav_for(user=request.user),
        roles=user_roles(user=request.user),
    )


def _application_owner(request: HttpRequest, application_id: str, *, edit: bool) -> TokenOwner:
    """The application if the user's role there allows reading its tokens (view), else 404;
    403 when the page changes something and the role is below edit (reference §1.4)."""
    nav = nav_for(user=request.user)
    reachable = [
        *nav.sandbox_applications,
        *(app for org in nav.organizations for app in org.applications),
    ]
    application = next((a for a in reachable if a.id == application_id), None)
    if application is None:
        raise Http404("Application was not found")
    roles = user_roles(user=request.user)
    role = roles.for_application(application, user_id=request.user.pk)
    if not role_at_least(role, Role.VIEW):
        raise Http404("Application was not found")
    can_edit = role_at_least(role, Role.EDIT)
    if edit and not can_edit:
        raise PermissionDenied("Managing an application's API tokens needs the Editor role.")
    return TokenOwner(application=application, can_edit=can_edit, nav=nav, roles=roles)


def _tokens(owner: TokenOwner, request: HttpRequest) -> QuerySet[ApiToken]:
    if owner.is_user:
        return user_api_tokens_for(user=request.user)
    return application_api_tokens_for(application=owner.application)


def _fetch(owner: TokenOwner, request: HttpRequest, params: ListParams) -> Page[ApiToken]:
    if owner.is_user:
        return user_api_tokens_list(user=request.user, params=params)
    return application_api_tokens_list(application=owner.application, params=params)


def _get(owner: TokenOwner, request: HttpRequest, token_id: str) -> ApiToken:
    return get_owned_or_404(_tokens(owner, request), token_id)


def _table_context(request: HttpRequest, owner: TokenOwner, list_url: str | None = None) -> dict:
    page = list_page(
        request,
        spec=API_TOKEN_LIST,
        fetch=lambda params: _fetch(owner, request, params),
        list_url=list_url,
    )
    return {
        "owner": owner,
        "nav": owner.nav,
        "page": page,
        "rows": [ApiTokenRow(t, owner) for t in page.items],
        "sort": page.sort_links(),
        "list_url": list_url or request.get_full_path(),
    }


def _list(request: HttpRequest, owner: TokenOwner) -> HttpResponse:
    context = _table_context(request, owner)
    template = f"{LIST_TEMPLATE}#table" if request.htmx else LIST_TEMPLATE
    return render(request, template, context, status=400 if context["page"].error else 200)


def _caps(request: HttpRequest, owner: TokenOwner, form, cap: RoleCap) -> CapRows | None:
    if not owner.is_user:
        return None
    roles = owner.roles
    targets = cap_targets(nav=owner.nav, roles=roles, user_id=request.user.pk)
    return cap_rows(form=form, targets=targets, cap=cap, roles=roles, user=request.user)


def _targets(request: HttpRequest, owner: TokenOwner) -> CapTargets:
    return cap_targets(nav=owner.nav, roles=owner.roles, user_id=request.user.pk)


def _new(request: HttpRequest, owner: TokenOwner) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    default_cap = RoleCap(default_role=Role.ADMIN)
    if owner.is_user:
        form = UserApiTokenCreateForm(data, targets=_targets(request, owner), cap=default_cap)
    else:
        form = ApplicationApiTokenCreateForm(data)
    if data is not None and form.is_valid():
        # An application's token takes the user's own role on it (tokens.ceiling).
        cap = form.cleaned_cap() if owner.is_user else RoleCap(default_role=None, org_roles=None)
        try:
            token, secret = api_token_create(
                owner=owner.application or request.user,
                creator=request.user,
                actor=session_principal(request.user),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                scope=form.cleaned_data["scope"],
                expiration_date=form.cleaned_data["expiration_datetime"],
                default_role=cap.default_role,
                org_roles=cap.org_roles,
            )
        except DomainError as exc:
            api_error_to_form(form, exc)
        else:
            # Post/Redirect/Get: a reload of the landing page never posts (and creates) again.
            request.session[_created_key(token.id)] = secret
            return redirect(owner.url("created", token.id))
    shown_cap = form.preview_cap(default_cap) if owner.is_user and form.is_bound else default_cap
    context = {
        "owner": owner,
        "nav": owner.nav,
        "form": form,
        "caps": _caps(request, owner, form, shown_cap),
    }
    return render(request, "tokens/api_token_new.html", context, status=400 if form.errors else 200)


def _created_key(token_id: str) -> str:
    return f"tokens.created.{token_id}"


def _created(request: HttpRequest, owner: TokenOwner, token_id: str) -> HttpResponse:
    """The landing page after creating a token: the secret, popped from the session on this
    first display (it was put there by the POST a moment before), and the page marked no-store.
    A reload or the back button finds nothing to show and goes to the token's settings."""
    token = _get(owner, request, token_id)
    secret = request.session.pop(_created_key(token.id), None)
    if secret is None:
        messages.info(request, f"The secret of “{token.name}” was shown once, when it was created.")
        return redirect(owner.url("detail", token.id))
    row = ApiTokenRow(token, owner)
    context = {"owner": owner, "nav": owner.nav, "row": row, "secret": secret}
    response = render(request, "tokens/api_token_created.html", context)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


def _edit_form(request: HttpRequest, owner: TokenOwner, token: ApiToken, data=None):
    initial = {"name": token.name, "description": token.description, "status": token.status}
    if owner.is_user:
        cap = RoleCap(default_role=token.default_role, org_roles=token.org_roles)
        return UserApiTokenEditForm(
            data, targets=_targets(request, owner), cap=cap, initial=initial
        )
    return ApplicationApiTokenEditForm(data, initial=initial)


def _update(form, token: ApiToken, owner: TokenOwner, actor: Principal) -> ApiToken:
    changes = {
        "name": form.cleaned_data["name"],
        "description": form.cleaned_data["description"],
        "status": form.cleaned_data["status"],
    }
    if owner.is_user:
        cap = form.cleaned_cap()
        changes.update(default_role=cap.default_role, org_roles=cap.org_roles)
    return api_token_update(token=token, actor=actor, **changes)


def _detail(request: HttpRequest, owner: TokenOwner, token_id: str) -> HttpResponse:
    token = _get(owner, request, token_id)
    is_post = request.method == "POST"
    if is_post and not owner.can_edit:
        raise PermissionDenied("Managing an application's API tokens needs the Editor role.")
    form = _edit_form(request, owner, token, request.POST if is_post else None)
    saved = False
    if is_post and token.is_expired:
        form.add_error(None, "An expired API token cannot be changed.")
    elif is_post and form.is_valid():
        try:
            _update(form, token, owner, session_principal(request.user))
        except DomainError as exc:
            api_error_to_form(form, exc)
        else:
            if not request.htmx:
                messages.success(request, f"{owner.kind_label} saved.")
                return redirect(owner.url("detail", token.id))
            token, saved = _get(owner, request, token_id), True
            form = _edit_form(request, owner, token)
    saved_cap = RoleCap(default_role=token.default_role, org_roles=token.org_roles)
    shown_cap = form.preview_cap(saved_cap) if owner.is_user and form.is_bound else saved_cap
    context = {
        "owner": owner,
        "nav": owner.nav,
        "row": ApiTokenRow(token, owner),
        "form": form,
        "saved": saved,
        "caps": _caps(request, owner, form, shown_cap),
        "read_only": token.is_expired or not owner.can_edit,
    }
    template = f"{DETAIL_TEMPLATE}#detail" if request.htmx else DETAIL_TEMPLATE
    return render(request, template, context, status=400 if form.errors else 200)


def _status(request: HttpRequest, owner: TokenOwner, token_id: str) -> HttpResponse:
    token = _get(owner, request, token_id)
    form = StatusToggleForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "Choose active or inactive."
    else:
        try:
            api_token_update(
                token=token,
                actor=session_principal(request.user),
                status=form.cleaned_data["status"],
            )
        except DomainError as exc:
            error = exc.message
        token = _get(owner, request, token_id)
    if request.htmx:
        context = {"row": ApiTokenRow(token, owner), "owner": owner, "row_error": error}
        context["list_url"] = next_url(request, "")
        return render(request, f"{LIST_TEMPLATE}#row", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{token.name}” is now {token.get_status_display().lower()}.")
    return redirect(next_url(request, owner.list_url))


def _delete(request: HttpRequest, owner: TokenOwner, token_id: str) -> HttpResponse:
    token = _get(owner, request, token_id)
    row = ApiTokenRow(token, owner)
    list_url = next_url(request, owner.list_url)
    if request.method == "GET":
        template = f"{LIST_TEMPLATE}#confirm_row" if request.htmx else "tokens/confirm_delete.html"
        context = {
            "owner": owner,
            "nav": owner.nav,
            "row": row,
            "list_url": list_url,
            "kind": owner.kind_label,
            "name": token.name,
            "cancel_url": row.detail_url if request.GET.get("from") == "detail" else list_url,
            "delete_url": row.delete_url,
            "consequence": "Requests that use it fail from the very next one. "
            "This cannot be undone.",
        }
        return render(request, template, context)
    name = token.name
    api_token_delete_service(token=token)
    if request.htmx:
        # The whole table again, so the count, the pages or the empty state are right.
        context = {
            **_table_context(request, owner, list_url),
            "notice": f"API token “{name}” deleted.",
        }
        response = render(request, f"{LIST_TEMPLATE}#table", context)
        response["HX-Retarget"] = "#token-table"
        response["HX-Reswap"] = "outerHTML"
        return response
    messages.success(request, f"{owner.kind_label} “{name}” deleted.")
    return redirect(list_url)


def _caps_preview(request: HttpRequest, owner: TokenOwner, token_id: str | None) -> HttpResponse:
    """Effective roles for caps being edited, before saving (htmx; changes nothing)."""
    if token_id is None:
        saved_cap = RoleCap(default_role=Role.ADMIN)
    else:
        token = _get(owner, request, token_id)
        saved_cap = RoleCap(default_role=token.default_role, org_roles=token.org_roles)
    form = CapForm(request.POST, targets=_targets(request, owner), cap=saved_cap)
    form.is_valid()
    caps = _caps(request, owner, form, form.preview_cap(saved_cap))
    return render(request, "tokens/_caps.html#caps", {"form": form, "caps": caps})


# --- User API tokens: /me/tokens ---------------------------------------------------------------


@login_required
@require_GET
def api_token_list(request: HttpRequest) -> HttpResponse:
    return _list(request, _user_owner(request))


@login_required
@require_http_methods(["GET", "POST"])
def api_token_new(request: HttpRequest) -> HttpResponse:
    return _new(request, _user_owner(request))


@login_required
@require_GET
def api_token_created(request: HttpRequest, token_id: str) -> HttpResponse:
    return _created(request, _user_owner(request), token_id)


@login_required
@require_http_methods(["GET", "POST"])
def api_token_detail(request: HttpRequest, token_id: str) -> HttpResponse:
    return _detail(request, _user_owner(request), token_id)


@login_required
@require_POST
def api_token_status(request: HttpRequest, token_id: str) -> HttpResponse:
    return _status(request, _user_owner(request), token_id)


@login_required
@require_http_methods(["GET", "POST"])
def api_token_delete(request: HttpRequest, token_id: str) -> HttpResponse:
    return _delete(request, _user_owner(request), token_id)


@login_required
@require_POST
def api_token_caps_preview(request: HttpRequest, token_id: str | None = None) -> HttpResponse:
    return _caps_preview(request, _user_owner(request), token_id)


# --- Application API tokens: /applications/<app_id>/tokens -------------------------------------


@login_required
@require_GET
def app_token_list(request: HttpRequest, application_id: str) -> HttpResponse:
    return _list(request, _application_owner(request, application_id, edit=False))


@login_required
@require_http_methods(["GET", "POST"])
def app_token_new(request: HttpRequest, application_id: str) -> HttpResponse:
    return _new(request, _application_owner(request, application_id, edit=True))


@login_required
@require_GET
def app_token_created(request: HttpRequest, application_id: str, token_id: str) -> HttpResponse:
    return _created(request, _application_owner(request, application_id, edit=True), token_id)


@login_required
@require_http_methods(["GET", "POST"])
def app_token_detail(request: HttpRequest, application_id: str, token_id: str) -> HttpResponse:
    return _detail(request, _application_owner(request, application_id, edit=False), token_id)


@login_required
@require_POST
def app_token_status(request: HttpRequest, application_id: str, token_id: str) -> HttpResponse:
    return _status(request, _application_owner(request, application_id, edit=True), token_id)


@login_required
@require_http_methods(["GET", "POST"])
def app_token_delete(request: HttpRequest, application_id: str, token_id: str) -> HttpResponse:
    return _delete(request, _application_owner(request, application_id, edit=True), token_id)
