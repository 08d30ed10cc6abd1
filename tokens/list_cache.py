"""A process-local cache of `GET /me/oauth-tokens` responses, checked against PostgreSQL on
every request (bench W5, docs/benchmarks.md).

A page of a user's token list is a function of the user's token rows, their clients' listed
fields and the list parameters; nothing in it depends on the clock. PostgreSQL keeps one
version per user that changes with every statement touching those rows (migration 0006), so a
request reads the version first, one primary-key lookup, and is served the cached page only if
it was built at that same version. A page built after a change it has not seen is stored
under the older version it read first, and the next request rebuilds it: a deactivation,
rename, deletion, new authorization or `lastUsed` stamp shows on the very next request, from
any process. Without a version row (other databases, or after a TRUNCATE) nothing is cached.

The exact `totalCount` and the page's JSON cost PostgreSQL most of a list request (about 7 of
11 ms for 12 500 matching tokens); a repeated request costs one more lookup instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings

from accounts.models import User
from apikit.lists import ListParams
from tokens import selectors

# The collection fields around `items` and the dict's own overhead, roughly, per entry.
_ENTRY_OVERHEAD = 512

Key = tuple[str, ListParams]


class PageCache:
    """Response dicts by (user id, list parameters), each with the version it was built at;
    least recently used first out once their size passes `max_bytes`. A page's size is the
    length of its items' JSON text and of its filter (up to 1 024 characters, part of the key)
    plus a fixed allowance."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, tuple[int, dict[str, Any], int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Key, version: int | None) -> dict[str, Any] | None:
        if version is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return dict(entry[1])

    def put(self, key: Key, version: int | None, body: dict[str, Any]) -> None:
        if version is None:
            return
        items = body.get("items")
        if not isinstance(items, str):  # only pages whose items are PostgreSQL's JSON text
            return
        size = len(items) + len(key[1].filter) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (version, dict(body), size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


oauth_token_pages = PageCache(settings.OAUTH_TOKEN_LIST_CACHE_BYTES)


def oauth_tokens_page(
    *, user: User, params: ListParams, build: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The user's token list page for `params`: the cached one if it was built at the list's
    current version, else `build()`, kept under the version read before it was built."""
    version = selectors.oauth_token_list_version(user=user)
    key = (user.pk, params)
    page = oauth_token_pages.get(key, version)
    if page is None:
        page = build()
        oauth_token_pages.put(key, version, page)
    return page
