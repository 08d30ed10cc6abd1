"""The W5 user's token names and the varied list requests drawn from them (docs/benchmarks.md).

Shared by bench/ours.py, which seeds the tokens, and bench/run.py, which asks for them: every
request a different combination of filter, sort field, direction and page, none repeated within
a round, the filter a prefix or an infix (three characters or more) of a seeded token's name in
the API's glob syntax, and the page one that exists for that filter.
"""

from __future__ import annotations

import bisect
import math
import random

LIST_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
SORT_FIELDS = ("name", "status", "id", "creationDate", "lastUpdated")
PER_PAGE = 100
# A page among the first ten the filter has: what a person paging through a list reaches.
MAX_PAGE = 10
MIN_PIECE = 3


def list_token_name(i: int) -> str:
    """The i-th seeded token's name, "echo client 04217": a glob matches a slice of them."""
    return f"{LIST_WORDS[i % len(LIST_WORDS)]} client {i:05d}"


class NameIndex:
    """How many of the n seeded names a prefix or an infix matches, without a scan per
    question: a sorted list of every suffix of every name (an infix is a prefix of a suffix),
    with the name each came from (an infix may occur twice in one name)."""

    def __init__(self, n: int) -> None:
        self.names = [list_token_name(i) for i in range(n)]
        suffixes = [(name[k:], i) for i, name in enumerate(self.names) for k in range(len(name))]
        suffixes.sort()
        self.suffixes = [s for s, _ in suffixes]
        self.owners = [i for _, i in suffixes]
        self.sorted_names = sorted(self.names)
        self._counts: dict[str, int] = {}

    def count(self, glob: str) -> int:
        if glob not in self._counts:
            if glob.startswith("*"):
                piece = glob.strip("*")
                lo = bisect.bisect_left(self.suffixes, piece)
                hi = bisect.bisect_left(self.suffixes, piece + "\U0010ffff")
                self._counts[glob] = len(set(self.owners[lo:hi]))
            else:
                piece = glob.rstrip("*")
                lo = bisect.bisect_left(self.sorted_names, piece)
                hi = bisect.bisect_left(self.sorted_names, piece + "\U0010ffff")
                self._counts[glob] = hi - lo
        return self._counts[glob]


def varied_queries(index: NameIndex, n: int, seed: int) -> list[dict[str, str]]:
    """n list queries, no two alike: filter, sort field, direction and page drawn at random."""
    rng = random.Random(seed)
    seen: set[tuple[str, ...]] = set()
    out = []
    while len(out) < n:
        name = rng.choice(index.names)
        length = rng.randint(MIN_PIECE, len(name))
        if rng.random() < 0.5:
            glob = name[:length] + "*"
        else:
            start = rng.randint(1, len(name) - min(length, len(name) - 1))
            glob = "*" + name[start : start + length] + "*"
        pages = min(MAX_PAGE, math.ceil(index.count(glob) / PER_PAGE))
        query = {
            "filterField": "name",
            "filter": glob,
            "sortField": rng.choice(SORT_FIELDS),
            "sortDirection": rng.choice(("asc", "desc")),
            "page": str(rng.randrange(pages)),
        }
        key = tuple(query.values())
        if key not in seen:
            seen.add(key)
            out.append(query)
    return out
