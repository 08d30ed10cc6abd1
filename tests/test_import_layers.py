"""Dependencies point down (STYLE.md §12, issue 16): accounts, then tokens, then consent; the API
framework `apikit` imports no domain app; no module imports another app's views; and no two
product modules import each other, directly or around a loop, when they are loaded.

The check reads the source (ast), so it sees every import, including ones inside functions and
under `if TYPE_CHECKING:` for the direction rules; only module-level imports make a load cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"accounts": 0, "tokens": 1, "consent": 2}
FRAMEWORK = "apikit"
PRODUCT = (*LAYERS, FRAMEWORK, "config")
# The one upward edge, written down in docs/decisions/042-import-layers.md: the OAuth client
# table sits in consent while tokens' grants point at it by foreign key.
ALLOWED_UPWARD = {("tokens", "consent.models")}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported product module, at module level?) for every import statement in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            top_level.add(node)
        elif isinstance(node, ast.Try):  # try/except ImportError at module level
            top_level.update(n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom))
    edges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module]
            targets += [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target in MODULES:
                edges.append((target, node in top_level))
    return edges


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _app(module: str) -> str:
    return module.split(".", 1)[0]


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A loop of imports in `graph` (module -> modules it imports), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in graph.get(node, []):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (loop := visit(target)):
                return loop
        stack.pop()
        state[node] = "done"
        return None

    for node in graph:
        if node not in state and (loop := visit(node)):
            return loop
    return None


def test_the_check_sees_product_modules_and_their_imports():
    assert {"apikit.views", "accounts.models", "consent.views", "consent.oauth"} <= set(MODULES)
    assert ("apikit.views", True) in GRAPH["tokens.api"]


def test_find_cycle_finds_a_loop_and_only_a_loop():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b", "c"], "b": ["c"], "c": []}) is None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _app(m) in LAYERS))
def test_apps_import_downward_only(module):
    app = _app(module)
    upward = [
        target
        for target, _ in GRAPH[module]
        if _app(target) in LAYERS
        and LAYERS[_app(target)] > LAYERS[app]
        and (app, target) not in ALLOWED_UPWARD
    ]
    assert upward == [], f"{module} imports a higher app"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _app(m) == FRAMEWORK))
def test_the_api_framework_imports_no_domain_app(module):
    assert [t for t, _ in GRAPH[module] if _app(t) != FRAMEWORK] == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _app(m) in LAYERS))
def test_no_module_imports_another_apps_views(module):
    views = [
        t
        for t, _ in GRAPH[module]
        if _app(t) in LAYERS and _app(t) != _app(module) and t.split(".")[1:2] == ["views"]
    ]
    assert views == []


def test_no_import_cycles_when_modules_load():
    loaded = {name: [t for t, top in edges if top and t != name] for name, edges in GRAPH.items()}
    assert find_cycle(loaded) is None


def test_only_the_oauth_package_imports_authlib():
    """STYLE.md §1: the protocol library stays in one place (consent.oauth)."""
    outside = []
    for name, path in MODULES.items():
        if name == "consent.oauth" or name.startswith("consent.oauth."):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            outside += [name for module in modules if module.split(".")[0] == "authlib"]
    assert outside == []
