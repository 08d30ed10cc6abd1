"""Collection parameters shared by every list endpoint (losant-api-reference.md §3 "List query
params"): sortField, sortDirection, page, perPage, filterField and a glob filter.

A value outside the accepted set is a 400 naming the parameter, never a silent default. The glob
knows two wildcards, `*` (any run) and `?` (one character); every other character is literal,
including SQL's own `%` and `_`, and `[` and `\\`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import F, Func, Lookup, QuerySet, TextField, Value

from apikit.errors import validation_error

T = TypeVar("T")

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
MAX_FILTER_LENGTH = 1024
# Nine digits keep OFFSET (page * perPage) far inside a 64-bit integer.
_NON_NEGATIVE_INT = re.compile(r"[0-9]{1,9}")
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class ListSpec:
    """What one collection accepts: API field name -> model field, for sorting and filtering."""

    sort_fields: Mapping[str, str]
    filter_fields: Mapping[str, str]
    default_sort: str = "name"
    # Sorted without regard to case, as the glob filter matches: "alpha" before "Bravo".
    case_insensitive_sorts: frozenset[str] = frozenset({"name"})


@dataclass(frozen=True)
class ListParams:
    """Parsed, valid list parameters; the defaults are the reference's."""

    sort_field: str = "name"
    sort_direction: str = "asc"
    page: int = 0
    per_page: int = DEFAULT_PER_PAGE
    filter_field: str = ""
    filter: str = ""

    @property
    def filtering(self) -> bool:
        return bool(self.filter_field and self.filter)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a collection, with what the response echoes."""

    items: list[T]
    total_count: int
    params: ListParams = field(default_factory=ListParams)

    def meta(self) -> dict[str, Any]:
        """The collection fields around `items` (reference: User OAuth Tokens, API Tokens)."""
        return {
            "count": len(self.items),
            "totalCount": self.total_count,
            "perPage": self.params.per_page,
            "page": self.params.page,
            "sortField": self.params.sort_field,
            "sortDirection": self.params.sort_direction,
            "filter": self.params.filter,
            "filterField": self.params.filter_field,
        }


def _text_param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "") or ""
    if len(value) > MAX_FILTER_LENGTH:
        raise validation_error(f"{name} must be at most {MAX_FILTER_LENGTH} characters")
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL, so no stored value could ever match it.
        raise validation_error(f"{name} must not contain a NUL character")
    return value


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = _text_param(query, name)
    if raw == "":
        return default
    if not _NON_NEGATIVE_INT.fullmatch(raw):
        raise validation_error(f"{name} must be a non-negative integer")
    return int(raw)


def list_params_parse(query: Mapping[str, str], *, spec: ListSpec) -> ListParams:
    """Parse a query string into ListParams, or raise a Validation error naming the parameter."""
    sort_field = _text_param(query, "sortField") or spec.default_sort
    if sort_field not in spec.sort_fields:
        raise validation_error(f"sortField must be one of {', '.join(spec.sort_fields)}")
    direction = _text_param(query, "sortDirection").lower() or "asc"
    if direction not in ("asc", "desc"):
        raise validation_error("sortDirection must be one of asc, desc")
    page = _int_param(query, "page", 0)
    per_page = _int_param(query, "perPage", DEFAULT_PER_PAGE)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise validation_error(f"perPage must be between 1 and {MAX_PER_PAGE}")
    filter_field = _text_param(query, "filterField")
    if filter_field and filter_field not in spec.filter_fields:
        raise validation_error(f"filterField must be one of {', '.join(spec.filter_fields)}")
    return ListParams(
        sort_field=sort_field,
        sort_direction=direction,
        page=page,
        per_page=per_page,
        filter_field=filter_field,
        filter=_text_param(query, "filter"),
    )


def glob_to_like(pattern: str) -> str:
    """Translate a glob into a LIKE pattern with `\\` as the escape character.

    `*` -> `%`, `?` -> `_`; the LIKE metacharacters `%`, `_` and the escape `\\` itself are
    escaped, so they match literally; everything else (`[` included) is literal in LIKE already.
    """
    out = []
    for char in pattern:
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in ("%", "_", LIKE_ESCAPE):
            out.append(LIKE_ESCAPE + char)
        else:
            out.append(char)
    return "".join(out)


class GlobMatch(Lookup):
    """`field LIKE pattern ESCAPE '\\'`, case-insensitive. Used as an expression, so no lookup is
    registered globally."""

    lookup_name = "globmatch"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        # `LOWER(x) LIKE LOWER(p)` is what ILIKE does in a UTF-8 database. Compared in the "C"
        # collation (after LOWER has folded case in the column's own), so the indexes on
        # `LOWER(name) COLLATE "C"` apply (tokens migration 0005): a btree range for a literal
        # prefix, trigrams for everything else; LIKE matches the same rows in any collation.
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return (
            f"LOWER({lhs}) COLLATE \"C\" LIKE LOWER({rhs}) ESCAPE '{LIKE_ESCAPE}'",
            [*lhs_params, *rhs_params],
        )


class CaseFolded(Func):
    """`LOWER(x)` compared byte by byte (`COLLATE "C"`): the sort key of a case-insensitive
    sort, the same on every database collation, and the key of the list indexes (tokens
    migration 0005)."""

    function = "LOWER"
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f'({sql}) COLLATE "C"', params


def queryset_page(queryset: QuerySet, *, spec: ListSpec, params: ListParams) -> Page:
    """Filter, sort (ties broken by id, nulls last) and slice `queryset` into a Page."""
    queryset = _filtered(queryset, spec=spec, params=params)
    if params.filtering:
        page = _filtered_ids(queryset, spec=spec, params=params)
        return replace(page, items=rows_in_order(queryset, page.items))
    return _sliced(_ordered(queryset, spec=spec, params=params), queryset.count(), params)


def queryset_page_ids(queryset: QuerySet, *, spec: ListSpec, params: ListParams) -> Page:
    """The same page as `queryset_page`, holding only the rows' primary keys, in page order:
    for callers that fetch the rows in a shape of their own."""
    queryset = _filtered(queryset, spec=spec, params=params)
    if params.filtering:
        return _filtered_ids(queryset, spec=spec, params=params)
    ordered = _ordered(queryset, spec=spec, params=params).values_list("pk", flat=True)
    return _sliced(ordered, queryset.count(), params)


def rows_in_order(queryset: QuerySet, ids: list) -> list:
    """The rows of `queryset` whose primary keys are `ids`, in the order of `ids`."""
    if not ids:
        return []
    rank = {pk: index for index, pk in enumerate(ids)}
    return sorted(queryset.filter(pk__in=ids), key=lambda row: rank[row.pk])


def _sliced(ordered: QuerySet, total: int, params: ListParams) -> Page:
    start = params.page * params.per_page
    items = list(ordered[start : start + params.per_page]) if start < total else []
    return Page(items=items, total_count=total, params=params)


def _filtered(queryset: QuerySet, *, spec: ListSpec, params: ListParams) -> QuerySet:
    if not params.filtering:
        return queryset
    column = spec.filter_fields[params.filter_field]
    return queryset.filter(GlobMatch(F(column), Value(glob_to_like(params.filter))))


def _sort_keys(spec: ListSpec, params: ListParams) -> list:
    """The ORDER BY keys, ties broken by the primary key."""
    column = spec.sort_fields[params.sort_field]
    keys = [F(column), F("pk")]
    if params.sort_field in spec.case_insensitive_sorts:
        keys.insert(0, CaseFolded(column))
    return keys


def _ordered(queryset: QuerySet, *, spec: ListSpec, params: ListParams) -> QuerySet:
    keys = _sort_keys(spec, params)
    # Nulls sort last either way. Said only of a nullable column: on a NOT NULL one it would
    # keep PostgreSQL from reading a descending page backwards off an ascending index.
    nullable = queryset.model._meta.get_field(spec.sort_fields[params.sort_field]).null
    nulls_last = True if nullable else None
    if params.sort_direction == "desc":
        return queryset.order_by(*(key.desc(nulls_last=nulls_last) for key in keys))
    return queryset.order_by(*(key.asc(nulls_last=nulls_last) for key in keys))


def _filtered_ids(queryset: QuerySet, *, spec: ListSpec, params: ListParams) -> Page:
    """A filtered page's ids on PostgreSQL, and the total, in one statement.

    A glob with a literal prefix, sorted on the column it filters: the index on that column
    (case-folded, tokens migration 0005) holds the matches as one range in page order, so the
    page is its first rows and the count one index-only pass over the range.

    Any other filter and sort: left to itself the planner walks the sort index and tests every
    row against the filter, expecting matches to be spread evenly; where they sit together it
    read 50 000 rows to find 100 (bench W5, 100 000 tokens: p95 near 1 s). So the matches'
    ids and sort keys come from the filter's index into a materialized set first.
    """
    start = params.page * params.per_page
    connection = connections[queryset.db]
    if _prefix_in_sort_order(spec, params):
        page_ids = _ordered(queryset, spec=spec, params=params).values_list("pk", flat=True)
        ids_sql, ids_params = page_ids[start : start + params.per_page].query.sql_with_params()
        count_sql, count_params = queryset.order_by().values("pk").query.sql_with_params()
        sql = f"SELECT (SELECT COUNT(*) FROM ({count_sql}) m), ARRAY({ids_sql})"
        sql_params = [*count_params, *ids_params]
    else:
        keys = {f"key{n}": key for n, key in enumerate(_sort_keys(spec, params)[:-1])}
        matches = queryset.order_by().annotate(**keys).values_list("pk", *keys)
        inner_sql, inner_params = matches.query.sql_with_params()
        direction = "DESC" if params.sort_direction == "desc" else "ASC"
        order = "".join(f"{name} {direction} NULLS LAST, " for name in keys)
        sql = (
            f"WITH m(pk, {', '.join(keys)}) AS MATERIALIZED ({inner_sql})"
            " SELECT (SELECT COUNT(*) FROM m),"
            f" ARRAY(SELECT pk FROM m ORDER BY {order}pk {direction} LIMIT %s OFFSET %s)"
        )
        sql_params = [*inner_params, params.per_page, start]
    with connection.cursor() as cursor:
        cursor.execute(sql, sql_params)
        total, ids = cursor.fetchone()
    return Page(items=ids, total_count=total, params=params)


def _prefix_in_sort_order(spec: ListSpec, params: ListParams) -> bool:
    column = spec.sort_fields[params.sort_field]
    return (
        params.sort_field in spec.case_insensitive_sorts
        and spec.filter_fields[params.filter_field] == column
        and params.filter[0] not in "*?"
    )
