"""The import structure of trilink: no cycles between packages, and the layers the
design promises (the node, trackers, sensors and the simulated world never reach up
into the drivers).

Read from the source with :mod:`ast` (no import side effects). Imports inside
``if TYPE_CHECKING:`` blocks are annotations only: they are left out of the cycle check
(they never run) but not out of the layer rules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trilink

ROOT = Path(trilink.__file__).parent


@dataclass(frozen=True)
class Edge:
    source: str  # module, e.g. trilink.sim.run
    target: str  # imported module, e.g. trilink.node
    typing_only: bool
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, package: bool) -> Iterator[tuple[str, bool, int]]:
    def walk(node: ast.AST, typing_only: bool) -> Iterator[tuple[str, bool, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.body:
                    yield from walk_one(sub, True)
                for sub in child.orelse:
                    yield from walk_one(sub, typing_only)
                continue
            yield from walk_one(child, typing_only)

    def walk_one(node: ast.AST, typing_only: bool) -> Iterator[tuple[str, bool, int]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, typing_only, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base, typing_only, node.lineno
            for alias in node.names:  # ``from trilink.x import module``
                yield f"{base}.{alias.name}", typing_only, node.lineno
        else:
            yield from walk(node, typing_only)

    yield from walk(tree, False)


def edges() -> list[Edge]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    out = []
    for name, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target, typing_only, line in _imports(tree, name, path.name == "__init__.py"):
            if target in modules and target != name:
                out.append(Edge(name, target, typing_only, line))
    return out


def package_of(module: str) -> str:
    """``trilink.sim.run`` → ``trilink.sim``; top-level modules are their own."""
    return ".".join(module.split(".")[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _graph(level: str) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for e in edges():
        if e.typing_only:
            continue
        a, b = (package_of(e.source), package_of(e.target)) if level == "package" else (
            e.source, e.target)
        if a != b and a != "trilink" and b != "trilink":
            graph.setdefault(a, set()).add(b)
    return graph


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_reader_sees_the_imports_it_should() -> None:
    found = {(e.source, e.target) for e in edges()}
    assert ("trilink.sim.run", "trilink.node") in found
    assert ("trilink.node", "trilink.watch") in found
    typing = {(e.source, e.target) for e in edges() if e.typing_only}
    assert ("trilink.sensors.radar", "trilink.world.truth") in typing


# Cycles found on 2026-12-02 in code this change does not own, left to their owners
# (reported): a new cycle anywhere fails the test; these may only go away.
KNOWN_PACKAGE_CYCLES = [["trilink.live", "trilink.web"]]
KNOWN_MODULE_CYCLES = [
    ["trilink.geo", "trilink.geo.zones"],
    ["trilink.sensors.catalogue", "trilink.sensors.infrared", "trilink.sensors.radar"],
    ["trilink.sharing.audit", "trilink.sharing.checkpoint"],
]


def test_no_import_cycle_between_packages() -> None:
    found = cycles(_graph("package"))
    assert [c for c in found if c not in KNOWN_PACKAGE_CYCLES] == []
    assert not [c for c in found if {"trilink.sensors", "trilink.sim"} <= set(c)]


def test_no_import_cycle_between_modules() -> None:
    found = cycles(_graph("module"))
    assert [c for c in found if c not in KNOWN_MODULE_CYCLES] == []
    assert not [c for c in found if "trilink.hotline.journal" in c]


LOWER = ("trilink.node", "trilink.watch", "trilink.tracking", "trilink.sensors",
         "trilink.world", "trilink.kinds", "trilink.warning", "trilink.hotline")
DRIVERS = ("trilink.sim", "trilink.live", "trilink.cli", "trilink.web")


def test_the_node_and_what_it_runs_never_import_a_driver() -> None:
    """Sans-I/O core: the node, its watch, trackers, sensors, the world, data kinds,
    warnings and the hotline never import the simulation, live mode, CLI or web — not
    even for annotations."""
    bad = [f"{e.source}:{e.line} imports {e.target}" for e in edges()
           if package_of(e.source) in LOWER and package_of(e.target) in DRIVERS]
    assert bad == []


def test_every_scenario_driver_builds_its_watch_in_one_place() -> None:
    """`trilink run`, `trilink live` and the dashboard's replays watch a scenario alike
    (consultation rules, announced exercise launches): only
    :func:`trilink.sim.run.scenario_watch` makes a WatchConfig. A live exercise once
    warned without its drill marks because the live launcher built its own."""
    makers = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                    if p.name != "watch.py" and "WatchConfig(" in p.read_text(encoding="utf-8"))
    assert makers == ["sim/run.py"], makers
    from trilink.sim.run import scenario_watch
    from trilink.sim.scenario import load_scenario

    sc = load_scenario("exercise-pacific-dragon-2024")
    assert sc.epoch is not None
    assert scenario_watch(sc, sc.epoch, ("USA", "JPN", "KOR"), 600.0).announced
