"""The house rules of the tree: imports point down the layers, and nothing imports in a circle.

Read from the source with :mod:`ast` (nothing is imported): every ``import``
and ``from … import`` counts, also inside functions; only the ones under
``if TYPE_CHECKING:`` are exempt. A *folder* is a package; a package and its
subpackage are two folders, so ``processors`` → ``processors.agents`` →
``processors`` is a cycle too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: top to bottom; a package may import only from packages on lower rows (and from itself)
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"bench"}),  # benchmarks: they may drive anything below, the shell included
    frozenset({"gridflow"}),  # the shell: the commands, the demo, the services it starts
    frozenset({"producers", "processors"}),  # the flow: what puts events into Kafka, what processes them
    frozenset({"dashboards"}),  # Grafana as code
    frozenset({"analytics"}),  # the indicators and their targets
    frozenset({"accounts"}),  # accounts, tokens and what each role may do
    frozenset({"routing", "classifier", "web"}),  # where a case goes; what it is; the pages
    frozenset({"district"}),  # the grid registry
    frozenset({"schemas"}),  # every record, topic and table, declared once
    frozenset({"infra"}),  # settings, Kafka and ClickHouse clients, data files, the local stack
)
RANK = {package: rank for rank, row in enumerate(LAYERS) for package in row}

Graph = dict[str, set[str]]


def modules(root: Path, packages: frozenset[str] | set[str]) -> dict[str, Path]:
    """Dotted module name → file, for every Python file of ``packages`` under ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def import_graph(root: Path, packages: frozenset[str] | set[str]) -> Graph:
    """Module → the project modules it imports (a name imported from a package counts as its submodule when it is one)."""
    known = modules(root, packages)

    def resolve(name: str) -> str | None:
        parts = name.split(".")
        while parts and ".".join(parts) not in known:
            parts.pop()
        return ".".join(parts) or None

    graph: Graph = defaultdict(set)
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skipped = _type_checking_only(tree)
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
            else:
                continue
            for target in filter(None, map(resolve, targets)):
                if target != module:
                    graph[module].add(target)
    return dict(graph)


def folder_of(module: str, root: Path) -> str:
    """The package a module lives in (a package is its own folder)."""
    return module if (root / module.replace(".", "/")).is_dir() else module.rpartition(".")[0] or module


def folder_graph(graph: Graph, root: Path) -> Graph:
    folders: Graph = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            a, b = folder_of(module, root), folder_of(target, root)
            if a != b:
                folders[a].add(b)
    return dict(folders)


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(graph) | {t for ts in graph.values() for t in ts}):
        if node not in index:
            visit(node)
    return found


def upward(graph: Graph, rank: dict[str, int]) -> list[str]:
    """Every import from one top-level package into another that is not on a lower layer."""
    wrong = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            a, b = module.split(".")[0], target.split(".")[0]
            if a != b and rank[b] <= rank[a]:
                wrong.append(f"{module} → {target} ({a} is layer {rank[a]}, {b} layer {rank[b]})")
    return wrong


def project_packages(root: Path) -> set[str]:
    """Every top-level folder with Python code, tests aside."""
    return {
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "tests" and any(p.rglob("*.py"))
    }


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(ROOT, set(RANK))


def test_every_package_has_a_layer() -> None:
    assert project_packages(ROOT) == set(RANK), "place each top-level package in LAYERS"


def test_no_module_imports_in_a_circle(graph: Graph) -> None:
    assert cycles(graph) == []


def test_no_folders_import_in_a_circle(graph: Graph) -> None:
    assert cycles(folder_graph(graph, ROOT)) == []


def test_imports_point_down_the_layers(graph: Graph) -> None:
    assert upward(graph, RANK) == []


def test_the_checks_see_what_they_guard(tmp_path: Path) -> None:
    """A small tree with each fault: the checks must name it (else the tests above prove nothing)."""
    files = {
        "low/__init__.py": "",
        "low/a.py": "def f():\n    from low import b  # inside a function: still counts\n",
        "low/b.py": "from low.a import f\n",
        "low/sub/__init__.py": "",
        "low/sub/c.py": "from low import d\n",
        "low/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from high import x\nfrom .sub import c\n",
        "high/__init__.py": "",
        "high/x.py": "import low.a\n",
        "high/y.py": "from high import x\n",
        "low/e.py": "from high.y import *\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    g = import_graph(tmp_path, {"low", "high"})
    assert ["low.a", "low.b"] in cycles(g)
    assert cycles(folder_graph(g, tmp_path)) == [["high", "low", "low.sub"]]
    assert "high.x" not in g.get("low.d", set())  # TYPE_CHECKING only
    assert upward(g, {"high": 0, "low": 1}) == ["low.e → high.y (low is layer 1, high layer 0)"]
