"""List parameters: glob filters (every character but * and ? literal), sorting and paging."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from apikit.lists import glob_to_like
from tests.api.conftest import make_oauth_bearer
from tests.factories import UserFactory
from tokens.models import ApiToken, OAuthToken

NAMES = [
    "my app",
    "my_app",
    "my%app",
    "myXapp",
    "MY APP upper",
    "a[b]c",
    "abc",
    "back\\slash",
    "question?",
    "questionX",
]


@pytest.fixture
def owner_with_tokens(db):
    owner = UserFactory()
    start = timezone.now() - timedelta(days=1)
    for index, name in enumerate(NAMES):
        _, grant = make_oauth_bearer(owner, ["only.User.read"])
        OAuthToken.objects.filter(pk=grant.pk).update(
            name=name, creation_date=start + timedelta(minutes=index)
        )
    return owner


def names(api, owner, query: str) -> list[str]:
    api.client.force_login(owner)
    response = api.get(f"/me/oauth-tokens?{query}")
    assert response.status_code == 200, response.json()
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("my*app", ["my app", "my%app", "my_app", "myXapp"]),
        ("my?app", ["my app", "my%app", "my_app", "myXapp"]),
        ("my_app", ["my_app"]),
        ("my%app", ["my%app"]),
        ("%", []),
        ("_", []),
        ("%25", []),
        ("a[b]c", ["a[b]c"]),
        ("[abc]", []),
        ("back\\slash", ["back\\slash"]),
        ("back\\*", ["back\\slash"]),
        ("\\", []),
        ("question?", ["question?", "questionX"]),
        ("*", sorted(NAMES)),
        ("MY*", ["my app", "MY APP upper", "my%app", "my_app", "myXapp"]),
        ("*upper", ["MY APP upper"]),
        ("??c", ["abc"]),
    ],
)
def test_glob_filter(api, owner_with_tokens, glob, expected):
    got = names(api, owner_with_tokens, f"filterField=name&filter={quote(glob)}")
    assert sorted(got) == sorted(expected)


def test_glob_to_like_escapes_like_metacharacters():
    assert glob_to_like("a*b?c%d_e\\f[g]") == "a%b_c\\%d\\_e\\\\f[g]"


def test_blank_filter_or_field_means_no_filtering(api, owner_with_tokens):
    assert len(names(api, owner_with_tokens, "filterField=name&filter=")) == len(NAMES)
    assert len(names(api, owner_with_tokens, "filterField=&filter=abc")) == len(NAMES)


def test_filter_echoed_in_the_response(api, owner_with_tokens):
    api.client.force_login(owner_with_tokens)
    body = api.get("/me/oauth-tokens?filterField=name&filter=my*app").json()
    assert (body["filter"], body["filterField"], body["count"], body["totalCount"]) == (
        "my*app",
        "name",
        4,
        4,
    )


def test_sorting(api, owner_with_tokens):
    by_creation = names(api, owner_with_tokens, "sortField=creationDate&sortDirection=desc")
    assert by_creation == list(reversed(NAMES))
    assert names(api, owner_with_tokens, "sortField=creationDate") == NAMES
    api.client.force_login(owner_with_tokens)
    body = api.get("/me/oauth-tokens?sortDirection=DESC&sortField=id").json()
    assert body["sortDirection"] == "desc" and body["sortField"] == "id"
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids, reverse=True)


def test_paging(api, owner_with_tokens):
    api.client.force_login(owner_with_tokens)
    pages = []
    for page in range(4):
        body = api.get(f"/me/oauth-tokens?perPage=3&page={page}&sortField=creationDate").json()
        assert body["totalCount"] == len(NAMES)
        assert (body["page"], body["perPage"]) == (page, 3)
        assert body["count"] == len(body["items"])
        pages.append([item["name"] for item in body["items"]])
    assert pages == [NAMES[0:3], NAMES[3:6], NAMES[6:9], NAMES[9:10]]
    past_end = api.get("/me/oauth-tokens?perPage=3&page=4").json()
    assert (past_end["items"], past_end["count"], past_end["totalCount"]) == ([], 0, len(NAMES))
    far = api.get("/me/oauth-tokens?perPage=1000&page=999999999").json()
    assert (far["items"], far["totalCount"]) == ([], len(NAMES))
    assert api.get("/me/oauth-tokens?perPage=1000").json()["count"] == len(NAMES)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("perPage=0", "perPage must be between 1 and 1000"),
        ("perPage=1001", "perPage must be between 1 and 1000"),
        ("perPage=-1", "perPage must be a non-negative integer"),
        ("perPage=abc", "perPage must be a non-negative integer"),
        ("perPage=1.5", "perPage must be a non-negative integer"),
        ("perPage=%D9%A3", "perPage must be a non-negative integer"),
        ("page=-1", "page must be a non-negative integer"),
        ("page=abc", "page must be a non-negative integer"),
        ("page=1e3", "page must be a non-negative integer"),
        ("page=99999999999999999999", "page must be a non-negative integer"),
        (
            "sortField=description",
            "sortField must be one of name, status, id, creationDate, lastUpdated",
        ),
        ("sortField=expirationDate", "sortField must be one of"),
        ("sortDirection=sideways", "sortDirection must be one of asc, desc"),
        ("filterField=description&filter=x", "filterField must be one of name"),
        ("filterField=name&filter=a%00b", "filter must not contain a NUL character"),
    ],
)
def test_bad_list_parameters_are_400(api, owner_with_tokens, query, message):
    api.client.force_login(owner_with_tokens)
    response = api.get(f"/me/oauth-tokens?{query}")
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    assert message in response.json()["message"]


def test_api_tokens_filter_by_status_and_sort_by_expiration(api, db, api_bearer):
    owner = UserFactory()
    for name in ("one", "two", "three"):
        api_bearer(owner, ["all.User"])
        ApiToken.objects.filter(name="Test token").update(name=name)
    ApiToken.objects.filter(name="two").update(status="inactive")
    ApiToken.objects.filter(name="three").update(expiration_date=timezone.now() + timedelta(days=1))
    api.client.force_login(owner)
    body = api.get("/me/tokens?filterField=status&filter=inact*").json()
    assert [item["name"] for item in body["items"]] == ["two"]
    body = api.get("/me/tokens?sortField=expirationDate").json()
    assert body["items"][0]["name"] == "three"  # never-expiring tokens sort last
    assert api.get("/me/tokens?filterField=scope&filter=x").status_code == 400


def _oracle(tokens: list[OAuthToken], *, glob: str, sort: str, desc: bool) -> list[str]:
    """The names a page should hold, computed in Python: a case-insensitive glob, then the
    sort (names without regard to case, then as written, then id; other keys, then id)."""
    pattern = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob),
        re.IGNORECASE | re.DOTALL,
    )
    matches = [t for t in tokens if not glob or pattern.fullmatch(t.name)]
    if sort == "name":
        matches.sort(key=lambda t: (t.name.lower(), t.name, t.pk), reverse=desc)
    else:
        matches.sort(key=lambda t: (getattr(t, sort), t.pk), reverse=desc)
    return [t.name for t in matches]


@pytest.mark.parametrize("glob", ["", "*", "my*", "MY*", "m*app", "*app*", "?y*", "a*", "zzz*"])
@pytest.mark.parametrize("sort", ["name", "creation_date", "status"])
@pytest.mark.parametrize("desc", [False, True])
def test_filtered_sorted_pages_match_an_independent_oracle(
    api, owner_with_tokens, glob, sort, desc
):
    """Every page of every filter and sort, on both the index-ordered path (a literal prefix
    sorted by name) and the materialized one, against the same rules computed in Python."""
    owner = owner_with_tokens
    OAuthToken.objects.filter(user=owner, name="abc").update(status="inactive")
    tokens = list(OAuthToken.objects.filter(user=owner))
    expected = _oracle(tokens, glob=glob, sort=sort, desc=desc)
    field = {"name": "name", "creation_date": "creationDate", "status": "status"}[sort]
    query = (
        f"filterField=name&filter={quote(glob)}&sortField={field}"
        f"&sortDirection={'desc' if desc else 'asc'}&perPage=3"
    )
    api.client.force_login(owner)
    got, totals = [], set()
    for page in range(5):
        body = api.get(f"/me/oauth-tokens?{query}&page={page}").json()
        got += [item["name"] for item in body["items"]]
        totals.add(body["totalCount"])
    assert got == expected
    assert totals == {len(expected)}


def test_names_sort_without_regard_to_case(api, db):
    owner = UserFactory()
    for name in ("bravo", "Alpha", "charlie", "ALPHA", "alpha", "Bravo"):
        _, grant = make_oauth_bearer(owner, ["only.User.read"])
        OAuthToken.objects.filter(pk=grant.pk).update(name=name)
    expected = ["ALPHA", "Alpha", "alpha", "Bravo", "bravo", "charlie"]
    assert names(api, owner, "sortField=name") == expected
    assert names(api, owner, "sortField=name&sortDirection=desc") == expected[::-1]
    assert names(api, owner, "sortField=name&filterField=name&filter=a*") == expected[:3]
    assert names(api, owner, "sortField=name&filterField=name&filter=*a*") == expected
