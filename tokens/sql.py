"""Hand-written SQL for the hot paths, run as server-side prepared statements on PostgreSQL (the
only database, docs/decisions/040-postgresql-only.md).

On this kind of machine compiling one ORM query costs 0.5-0.9 ms of CPU, several times the
round trip it describes, and the token endpoint and the bearer check run a handful of fixed
statements on every call (docs/benchmarks.md). Their SQL is therefore written once, from the
models' own table and column names, and prepared once per connection: PostgreSQL plans it
once too. Each statement is its rule's only copy, beside the models of the app that owns it.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping, Sequence
from typing import TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import JSONField, Model, signals
from django.db.models.base import ModelState

M = TypeVar("M", bound=Model)
# Positional (`%s`) or named (`%(now)s`) parameters, as psycopg takes them.
Params = Sequence | Mapping[str, object]

_NEVER_AUTOMATICALLY = 2**31 - 1


def columns(alias: str, model: type[Model]) -> str:
    """`alias."col", ...` for every concrete field of `model`, in `_meta` order."""
    return ", ".join(f"{alias}.{name}" for name in _names(model._meta.concrete_fields))


def instance(model: type[M], row: Sequence) -> M:
    """A model instance from `row`, holding the values of `columns(..., model)` in order, as
    the ORM would have made it (JSON columns decoded)."""
    fields = model._meta.concrete_fields
    return _loaded(
        model,
        {
            field.attname: json_value(value) if isinstance(field, JSONField) else value
            for field, value in zip(fields, row, strict=True)
        },
    )


def partial_instance(model: type[M], **values: object) -> M:
    """An instance with only `values` loaded (the rest deferred), as `.only()` would make it."""
    return _loaded(model, values)


def _loaded(model: type[M], values: dict[str, object]) -> M:
    """What `Model.from_db` makes of these attribute values, without `Model.__init__`'s pass
    over every field, a tenth of a bearer call's CPU (bench W1). A field left out is deferred,
    as Django marks one: absent from the instance's `__dict__`. Models with `pre_init` or
    `post_init` receivers go through `from_db`, so the receivers run."""
    if _has_init_receivers(model):
        names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
        return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])
    obj = model.__new__(model)
    obj._state = ModelState()
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
    obj.__dict__.update(values)
    return obj


@functools.cache
def _has_init_receivers(model: type[Model]) -> bool:
    """Asked once per model (receivers connect when the apps load, before any request): asking
    the signals on every instance cost as much as the pass over the fields it saves."""
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


def fetch_one(sql: str, params: Params) -> tuple | None:
    """One row of a read-only `sql` as a prepared statement, with the statement itself as the
    connection's health check.

    `CONN_HEALTH_CHECKS` would spend a `SELECT 1` round trip before the first query of every
    request; on a connection kept from an earlier request this read-only statement runs
    without it, and if the connection turns out dead (PostgreSQL restarted) it is closed and
    the statement runs once more on a fresh one: the same recovery, paid only on failure.
    """
    db = connections[DEFAULT_DB_ALIAS]
    reused = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if reused:
        db.health_check_done = True
    try:
        return _execute(sql, params, db).fetchone()
    except (OperationalError, InterfaceError):
        if not reused:
            raise
        db.close()
    return _execute(sql, params, db).fetchone()


def execute(sql: str, params: Params) -> int:
    """Run a write `sql` as a prepared statement; how many rows it changed. No retry: use it
    after a statement that already checked the connection."""
    return _execute(sql, params).rowcount


def fetch_all(sql: str, params: Params) -> list[tuple]:
    """Every row of `sql` (a write's RETURNING rows too) as a prepared statement. No retry:
    use it inside a transaction or after a statement that already checked the connection."""
    return _execute(sql, params).fetchall()


def _execute(sql: str, params: Params, db: BaseDatabaseWrapper | None = None) -> psycopg.Cursor:
    # The default connection looked up once: every `connection.x` goes through Django's
    # thread-local proxy, a dozen times per bearer call before (bench W1).
    db = db or connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django opens connections with preparation off (None), which also refuses an
        # explicit `prepare=True`; a threshold no statement reaches keeps automatic
        # preparation off for every other query and lets these be prepared.
        raw.prepare_threshold = _NEVER_AUTOMATICALLY
    start = time.monotonic()
    # Django's cursors bind client-side and so never prepare; a plain psycopg cursor on the
    # same connection (same transaction, same type loaders) does. Errors still pass through
    # Django's wrapper, so an outage is the usual OperationalError (config/resilience.py).
    cursor = psycopg.Cursor(raw)
    with db.wrap_database_errors:
        cursor.execute(sql, params, prepare=True)
    if db.queries_logged:  # DEBUG and CaptureQueriesContext count it like any query
        db.queries_log.append(
            {
                "sql": _logged(sql, params),
                "time": f"{time.monotonic() - start:.3f}",
            }
        )
    return cursor


def _logged(sql: str, params: Params) -> str:
    """`sql` with its parameters filled in, as Django's query log shows a statement."""
    if isinstance(params, Mapping):
        return sql % {name: repr(value) for name, value in params.items()}
    return sql.replace("%s", "%r") % tuple(params)


def json_value(value):
    """A JSON column's value: Django has psycopg hand jsonb over as text, for JSONField."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def save_new(*objs: Model) -> None:
    """INSERT each of `objs` as `obj.save(force_insert=True)` would (the models saved this way
    have no signal receivers), all in one prepared statement: rows written together, such as
    the tokens an exchange issues and its audit event, cost one round trip (bench W2, W3)."""
    db = connections[DEFAULT_DB_ALIAS]
    inserts = [_insert_of(type(obj)) for obj in objs]
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), db)
        for obj, (_, fields, _) in zip(objs, inserts, strict=True)
        for f in fields
    ]
    (row,) = fetch_all(_statement_of(tuple(type(obj) for obj in objs)), params)
    returned = iter(row)
    for obj, (_, _, returning) in zip(objs, inserts, strict=True):
        for field in returning:
            setattr(obj, field.attname, next(returned))
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


@functools.cache
def _insert_of(model: type[Model]) -> tuple[str, list, list]:
    """The model's INSERT ... RETURNING, the fields it writes and the fields it returns."""
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    sql = (
        f"INSERT INTO {meta.db_table} ({_quoted(fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {_quoted(returning)}"
    )
    return sql, fields, returning


@functools.cache
def _statement_of(models: tuple[type[Model], ...]) -> str:
    """One INSERT, or several as data-modifying CTEs whose returned rows are read side by side
    (each yields exactly one row)."""
    if len(models) == 1:
        return _insert_of(models[0])[0]
    ctes = ", ".join(f"i{n} AS ({_insert_of(model)[0]})" for n, model in enumerate(models))
    tables = ", ".join(f"i{n}" for n in range(len(models)))
    returned = ", ".join(f"i{n}.*" for n in range(len(models)))
    return f"WITH {ctes} SELECT {returned} FROM {tables}"


def _names(fields: Sequence) -> list[str]:
    return [f'"{f.column}"' for f in fields]


def _quoted(fields: Sequence) -> str:
    return ", ".join(_names(fields))
