"""What every token page shares: list paging, sorting and filtering (the API's own parser and
selectors, plus what a page needs to draw links), the
redirect-back rule, and putting a service error back on its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.errors import DomainError
from apikit.errors import ApiError
from apikit.ids import is_object_id
from apikit.lists import ListParams, ListSpec, Page, list_params_parse
from tokens.forms import form_field_for_api_message

PER_PAGE_CHOICES = (10, 25, 50, 100)
LIST_KEYS = ("sortField", "sortDirection", "perPage", "filterField", "filter")
# The list parameters in words, for the toolbar's choices (the URL keeps the API's names).
FIELD_LABELS = {
    "name": "Name",
    "status": "Status",
    "id": "ID",
    "creationDate": "Created",
    "lastUpdated": "Last updated",
    "expirationDate": "Expires",
    "lastUsed": "Last used",
}


def get_owned_or_404(queryset: QuerySet, object_id: str):
    """The object with this ObjectId in an owner-scoped queryset, else 404 (a malformed id,
    e.g. one with a NUL byte PostgreSQL would refuse, never reaches the database)."""
    if not is_object_id(object_id):
        raise Http404("Not found")
    return get_object_or_404(queryset, pk=object_id.lower())


def next_url(request: HttpRequest, default: str) -> str:
    """Where a plain (non-htmx) form goes back to: its `next` field if same-site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def api_error_to_form(form: forms.Form, error: DomainError) -> None:
    """Show a service's validation error in place, on the field its message names."""
    form.add_error(form_field_for_api_message(form, error.message), error.message)


@dataclass
class ListPage:
    items: list
    total_count: int
    page: int
    per_page: int
    sort_field: str
    sort_direction: str
    filter_field: str
    filter: str
    error: str = ""
    query: dict[str, str] = field(default_factory=dict)
    sort_fields: tuple[str, ...] = ()
    filter_fields: tuple[str, ...] = ()

    @property
    def sort_choices(self) -> list[tuple[str, str]]:
        return [(name, FIELD_LABELS.get(name, name)) for name in self.sort_fields]

    @property
    def filter_choices(self) -> list[tuple[str, str]]:
        return [(name, FIELD_LABELS.get(name, name)) for name in self.filter_fields]

    @property
    def per_page_choices(self) -> list[int]:
        return sorted({*PER_PAGE_CHOICES, self.per_page})

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total_count // self.per_page))

    @property
    def first_index(self) -> int:
        return self.page * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.page * self.per_page + len(self.items)

    def url_with(self, **changes: object) -> str:
        """This list's query string with some parameters changed (page resets unless given)."""
        params = {**self.query, "page": "0", **{k: str(v) for k, v in changes.items()}}
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    @property
    def previous_url(self) -> str:
        return self.url_with(page=self.page - 1) if self.page > 0 else ""

    @property
    def next_url(self) -> str:
        return self.url_with(page=self.page + 1) if self.page + 1 < self.page_count else ""

    def sort_url(self, sort_field: str) -> str:
        direction = (
            "desc" if self.sort_field == sort_field and self.sort_direction == "asc" else "asc"
        )
        return self.url_with(sortField=sort_field, sortDirection=direction)

    def aria_sort(self, sort_field: str) -> str:
        if self.sort_field != sort_field:
            return "none"
        return "ascending" if self.sort_direction == "asc" else "descending"

    def sort_links(self) -> dict[str, dict[str, str]]:
        """For each sortable field: the header link and its aria-sort value."""
        return {
            name: {"url": self.sort_url(name), "aria_sort": self.aria_sort(name)}
            for name in self.sort_fields
        }


def list_page(
    request: HttpRequest,
    *,
    spec: ListSpec,
    fetch: Callable[[ListParams], Page],
    list_url: str | None = None,
) -> ListPage:
    """One page per the request's sortField/sortDirection/page/perPage/filterField/filter
    (or those of `list_url`, the list a row was deleted from), parsed exactly as the API
    parses them (apikit.lists) and read through `fetch` (a tokens.selectors list selector). An
    invalid value gives an empty page with the reason."""
    source = QueryDict(urlsplit(list_url).query) if list_url is not None else request.GET
    query = {key: source.get(key, "") for key in LIST_KEYS}
    # The pages show 25 rows unless asked otherwise; the API's own default (100) is long to scroll.
    parse_query = {
        **query,
        "page": source.get("page", ""),
        "perPage": query["perPage"] or "25",
    }
    if parse_query["filter"] and not parse_query["filterField"]:
        parse_query["filterField"] = next(iter(spec.filter_fields))
    base = {
        "query": query,
        "sort_fields": tuple(spec.sort_fields),
        "filter_fields": tuple(spec.filter_fields),
    }
    try:
        params = list_params_parse(parse_query, spec=spec)
    except ApiError as exc:
        return ListPage(
            items=[],
            total_count=0,
            page=0,
            per_page=25,
            sort_field=spec.default_sort,
            sort_direction="asc",
            filter_field="",
            filter=query["filter"][:200],
            error=exc.message,
            **base,
        )
    result = fetch(params)
    return ListPage(
        items=result.items,
        total_count=result.total_count,
        page=params.page,
        per_page=params.per_page,
        sort_field=params.sort_field,
        sort_direction=params.sort_direction,
        filter_field=params.filter_field,
        filter=params.filter,
        **base,
    )
