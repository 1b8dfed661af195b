"""The layer rules of docs/architecture.md, checked on every import in workers/.

Every import counts, module level or inside a function (only ``if TYPE_CHECKING:`` blocks are left out,
since they never run): an import inside a function cannot hide a cycle or an upward dependency from
this test. Imports inside functions are allowed only where a reason is written down below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "workers"

# Lowest first. A module may import its own package, and any package of a lower layer; packages on
# one layer are independent of each other.
LAYERS: list[set[str]] = [
    {"core"},
    {"settings"},
    {"state"},
    {"net"},
    {"broker", "search", "entities", "geo", "archive"},
    {"neardup"},
    {"runtime"},
    {"pipeline"},
    {"alerts"},
    {"worker"},
    {"ops"},
    {"backfill", "api"},
    {"cli"},
]
# Stages are peers too: poll, fetch, extract and index never import each other; what two of them share
# lives in a lower layer.
STAGES = {"poll", "fetch", "extract", "index"}

# Imports inside functions, and why each is there. Lazy imports keep heavy or optional libraries (spaCy,
# tantivy, the Elasticsearch client, Celery) out of processes that never use them.
LAZY_IMPORTS_ALLOWED: dict[str, str] = {
    "workers": "`celery -A workers` builds the Celery app on first use, so importing the package stays cheap",
    "workers.search.backend": "only the configured backend's library (tantivy or elasticsearch) is loaded",
    "workers.ops.backup": "counting a Tantivy index loads tantivy only when the backup has one",
    "workers.cli.": "a command loads what it runs when it runs, so `newsworkers --help` stays fast",
}

MAX_MODULE_LINES = 500
MAX_TOP_LEVEL_ENTRIES = 20


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _resolve(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The workers modules an import statement loads (the most specific existing module for each name)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    for target in targets:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target.split(".")[0] == "workers":
            yield target


def _imports() -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported module, line, inside a function)]."""
    graph: dict[str, list[tuple[str, int, bool]]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_nodes(tree)
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                in_function.update(id(n) for n in ast.walk(node))
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
                edges += [(t, node.lineno, id(node) in in_function) for t in _resolve(module, node) if t != module]
        graph[module] = edges
    return graph


GRAPH = _imports()


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def test_every_package_has_a_layer() -> None:
    packages = {_top(m) for m in MODULES} - {""}
    assert sorted(p for p in packages if not any(p in layer for layer in LAYERS)) == []


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for module, edges in GRAPH.items():
        if module == "workers":
            continue
        for target, line, _ in edges:
            source, dest = _top(module), _top(target)
            if target == "workers" or source == dest:
                continue
            if _layer(dest) >= _layer(source):
                wrong.append(f"{module}:{line} imports {target} ({source} may not import {dest})")
    assert wrong == []


def test_pipeline_stages_do_not_import_each_other() -> None:
    wrong = []
    for module, edges in GRAPH.items():
        parts = module.split(".")
        if parts[1:2] != ["pipeline"] or len(parts) < 3:
            continue
        for target, line, _ in edges:
            other = target.split(".")
            if other[1:2] == ["pipeline"] and len(other) > 2 and other[2] != parts[2] and other[2] in STAGES:
                wrong.append(f"{module}:{line} imports {target}")
    assert wrong == []


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _, _ in GRAPH.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_cycle_check_can_fail() -> None:
    GRAPH["workers.core.errors"].append(("workers.cli.main", 1, True))
    try:
        assert _cycles() != []
    finally:
        GRAPH["workers.core.errors"].pop()


def test_imports_inside_functions_have_a_written_reason() -> None:
    unexplained = [f"{module}:{line} imports {target}"
                   for module, edges in GRAPH.items() for target, line, lazy in edges
                   if lazy and not any(module == m or (m.endswith(".") and module.startswith(m))
                                       for m in LAZY_IMPORTS_ALLOWED)]
    assert unexplained == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"


def test_the_top_level_stays_short() -> None:
    entries = [p.name for p in PACKAGE.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info")]
    assert len(entries) <= MAX_TOP_LEVEL_ENTRIES, sorted(entries)


def test_redis_keys_are_named_only_in_state_keys() -> None:
    """A key built elsewhere escapes the namespace rules and the backup's list of what to copy."""
    offenders = []
    for module, path in MODULES.items():
        if module == "workers.state.keys":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.FormattedValue):
                first = ast.unparse(node.values[0].value)
                rest = node.values[1] if len(node.values) > 1 else None
                if (first.endswith("namespace") and isinstance(rest, ast.Constant)
                        and str(rest.value).startswith(":")):
                    offenders.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []
