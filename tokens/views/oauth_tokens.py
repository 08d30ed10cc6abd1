"""My Account → OAuth Tokens: list, toggle, detail/edit, delete (user-oauth-tokens-guide.txt)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.principals import session_principal
from accounts.roles import RoleCap, user_roles
from accounts.selectors import nav_for
from apikit.ids import is_object_id
from apikit.scopes import OAUTH_SCOPE_DESCRIPTIONS
from tokens.client_links import safe_image_src, safe_link
from tokens.forms import CapForm, OAuthTokenEditForm, StatusToggleForm, cap_targets
from tokens.models import OAuthToken
from tokens.selectors import (
    OAUTH_TOKEN_LIST,
    oauth_token_counts_by_client,
    oauth_tokens_for,
    oauth_tokens_list,
    oauth_tokens_usable,
)
from tokens.services.oauth_tokens import (
    oauth_token_delete as oauth_token_delete_service,
)
from tokens.services.oauth_tokens import (
    oauth_token_set_status,
    oauth_token_update,
    oauth_tokens_revoke_for_client,
)
from tokens.views.caps import cap_rows
from tokens.views.common import (
    api_error_to_form,
    get_owned_or_404,
    list_page,
    next_url,
)

LIST_TEMPLATE = "tokens/oauth_token_list.html"
DETAIL_TEMPLATE = "tokens/oauth_token_detail.html"


@dataclass(frozen=True)
class OAuthTokenRow:
    """A token as the list and detail pages show it, with its client's safe logo and links, and
    whether it is usable right now (tokens.selectors.oauth_tokens_usable: the rule the API and
    the token endpoint obey)."""

    token: OAuthToken
    logo_src: str
    client_href: str
    usable: bool
    client_token_count: int = 1

    @property
    def client_name_differs(self) -> bool:
        """The client's name is worth its own line only when the token is named otherwise."""
        return self.token.client.client_name != self.token.name

    @property
    def revoke_client_url(self) -> str:
        return reverse("tokens:oauth_token_revoke_client", args=[self.token.client_id])

    @property
    def detail_url(self) -> str:
        return reverse("tokens:oauth_token_detail", args=[self.token.id])

    @property
    def status_url(self) -> str:
        return reverse("tokens:oauth_token_status", args=[self.token.id])

    @property
    def delete_url(self) -> str:
        return reverse("tokens:oauth_token_delete", args=[self.token.id])

    @property
    def next_status(self) -> str:
        return "inactive" if self.token.is_active else "active"

    @property
    def switch_disabled(self) -> bool:
        return self.token.is_expired


def _rows(tokens: list[OAuthToken], counts: dict[str, int] | None = None) -> list[OAuthTokenRow]:
    usable = oauth_tokens_usable(ids=[token.pk for token in tokens])
    return [
        OAuthTokenRow(
            token=token,
            logo_src=safe_image_src(token.client.logo_uri),
            client_href=safe_link(token.client.client_uri),
            usable=token.pk in usable,
            client_token_count=(counts or {}).get(token.client_id, 1),
        )
        for token in tokens
    ]


def _row(token: OAuthToken) -> OAuthTokenRow:
    return _rows([token])[0]


def _table_context(request: HttpRequest, list_url: str | None = None) -> dict:
    page = list_page(
        request,
        spec=OAUTH_TOKEN_LIST,
        fetch=lambda params: oauth_tokens_list(user=request.user, params=params),
        list_url=list_url,
    )
    counts = oauth_token_counts_by_client(user=request.user)
    return {
        "page": page,
        "rows": _rows(list(page.items), counts),
        "sort": page.sort_links(),
        "list_url": list_url or request.get_full_path(),
    }


def _table_after_change(request: HttpRequest, list_url: str, notice: str) -> HttpResponse:
    """htmx: the whole table again (rows, count, pages, or the empty state) with a notice,
    in place of the row the change started from."""
    context = {**_table_context(request, list_url), "notice": notice}
    response = render(request, f"{LIST_TEMPLATE}#table", context)
    response["HX-Retarget"] = "#token-table"
    response["HX-Reswap"] = "outerHTML"
    return response


def _get_owned(request: HttpRequest, token_id: str) -> OAuthToken:
    return get_owned_or_404(oauth_tokens_for(user=request.user), token_id)


@login_required
@require_GET
def oauth_token_list(request: HttpRequest) -> HttpResponse:
    context = _table_context(request)
    template = f"{LIST_TEMPLATE}#table" if request.htmx else LIST_TEMPLATE
    return render(request, template, context, status=400 if context["page"].error else 200)


@login_required
@require_POST
def oauth_token_status(request: HttpRequest, token_id: str) -> HttpResponse:
    """The list's Active/Inactive switch; htmx gets the row back, a plain form a redirect."""
    token = _get_owned(request, token_id)
    form = StatusToggleForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "Choose active or inactive."
    else:
        try:
            oauth_token_set_status(
                token=token,
                actor=session_principal(request.user),
                active=form.cleaned_data["status"] == "active",
            )
        except DomainError as exc:
            error = exc.message
        token = _get_owned(request, token_id)
    if request.htmx:
        context = {"row": _row(token), "row_error": error, "list_url": next_url(request, "")}
        return render(request, f"{LIST_TEMPLATE}#row", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{token.name}” is now {token.get_status_display().lower()}.")
    return redirect(next_url(request, reverse("tokens:oauth_token_list")))


def _detail_form(request: HttpRequest, token: OAuthToken, targets, data=None):
    return OAuthTokenEditForm(
        data,
        targets=targets,
        cap=RoleCap(default_role=token.default_role, org_roles=token.org_roles),
        initial={"name": token.name, "description": token.description, "status": token.status},
    )


@login_required
@require_http_methods(["GET", "POST"])
def oauth_token_detail(request: HttpRequest, token_id: str) -> HttpResponse:
    """Client info, name/description/status and the permission cap; read-only once expired."""
    token = _get_owned(request, token_id)
    roles = user_roles(user=request.user)
    nav = nav_for(user=request.user)
    targets = cap_targets(nav=nav, roles=roles, user_id=request.user.pk)
    is_post = request.method == "POST"
    form = _detail_form(request, token, targets, request.POST if is_post else None)
    saved = False
    if is_post and token.is_expired:
        form.add_error(None, "An expired OAuth token cannot be changed.")
    elif is_post and form.is_valid():
        cap = form.cleaned_cap()
        try:
            token = oauth_token_update(
                token=token,
                actor=session_principal(request.user),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                status=form.cleaned_data["status"],
                default_role=cap.default_role,
                org_roles=cap.org_roles,
            )
        except DomainError as exc:
            api_error_to_form(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "OAuth token saved.")
                return redirect("tokens:oauth_token_detail", token_id=token.id)
            token, saved = _get_owned(request, token_id), True
            form = _detail_form(request, token, targets)
    saved_cap = RoleCap(default_role=token.default_role, org_roles=token.org_roles)
    shown_cap = form.preview_cap(saved_cap) if form.is_bound else saved_cap
    context = {
        "row": _row(token),
        "form": form,
        "nav": nav,
        "saved": saved,
        "caps": cap_rows(form=form, targets=targets, cap=shown_cap, roles=roles, user=request.user),
        "scopes": [(s, OAUTH_SCOPE_DESCRIPTIONS.get(s, "")) for s in token.scope],
        "read_only": token.is_expired,
    }
    template = f"{DETAIL_TEMPLATE}#detail" if request.htmx else DETAIL_TEMPLATE
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_POST
def oauth_token_caps_preview(request: HttpRequest, token_id: str) -> HttpResponse:
    """Effective roles for the caps being edited, before saving (htmx; changes nothing)."""
    token = _get_owned(request, token_id)
    roles = user_roles(user=request.user)
    targets = cap_targets(nav=nav_for(user=request.user), roles=roles, user_id=request.user.pk)
    saved_cap = RoleCap(default_role=token.default_role, org_roles=token.org_roles)
    form = CapForm(request.POST, targets=targets, cap=saved_cap)
    form.is_valid()
    caps = cap_rows(
        form=form,
        targets=targets,
        cap=form.preview_cap(saved_cap),
        roles=roles,
        user=request.user,
    )
    return render(request, "tokens/_caps.html#caps", {"form": form, "caps": caps})


@login_required
@require_http_methods(["GET", "POST"])
def oauth_token_delete(request: HttpRequest, token_id: str) -> HttpResponse:
    """GET asks for confirmation (in the row with htmx, else a page); POST deletes."""
    token = _get_owned(request, token_id)
    row = _row(token)
    list_url = next_url(request, reverse("tokens:oauth_token_list"))
    if request.method == "GET":
        template = f"{LIST_TEMPLATE}#confirm_row" if request.htmx else "tokens/confirm_delete.html"
        context = {
            "row": row,
            "list_url": list_url,
            "kind": "OAuth token",
            "name": token.name,
            "cancel_url": row.detail_url if request.GET.get("from") == "detail" else list_url,
            "delete_url": row.delete_url,
            "consequence": "The application that holds it loses access immediately. "
            "It can reconnect only by starting a new authorization flow.",
        }
        return render(request, template, context)
    name = token.name
    oauth_token_delete_service(token=token)
    if request.htmx:
        return _table_after_change(request, list_url, f"OAuth token “{name}” deleted.")
    messages.success(request, f"OAuth token “{name}” deleted.")
    return redirect(list_url)


@login_required
@require_http_methods(["GET", "POST"])
def oauth_token_revoke_client(request: HttpRequest, client_id: str) -> HttpResponse:
    """Revoke (delete) all of the user's tokens for one application: GET confirms, POST does."""
    if not is_object_id(client_id):
        raise Http404("Not found")
    token = oauth_tokens_for(user=request.user).filter(client_id=client_id.lower()).first()
    if token is None:
        raise Http404("Not found")
    client = token.client
    list_url = next_url(request, reverse("tokens:oauth_token_list"))
    if request.method == "GET":
        count = oauth_token_counts_by_client(user=request.user).get(client.pk, 0)
        context = {
            "kind": f"{count} OAuth token(s) of",
            "name": client.client_name,
            "list_url": list_url,
            "cancel_url": list_url,
            "delete_url": reverse("tokens:oauth_token_revoke_client", args=[client.pk]),
            "action": "Revoke all",
            "consequence": f"{client.client_name} loses every access you gave it, at once. "
            "It can reconnect only by asking you again.",
        }
        return render(request, "tokens/confirm_delete.html", context)
    count = oauth_tokens_revoke_for_client(
        client=client, user=request.user, reason="revoked by user (all tokens of a client)"
    )
    messages.success(request, f"Revoked {count} OAuth token(s) of {client.client_name}.")
    return redirect(list_url)
