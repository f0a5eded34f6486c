"""The folders of ``raise_`` form layers (issue 17, docs/architecture.md): no import cycle between
folders at module level, and the bottom layers import no service."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "raise_"
# Below every service: what they may import, and what must import none of them.
BOTTOM = {"metadata", "errors", "codec", "expressions", "types", "lineage", "config", "durations"}
SERVICES = {"catalog", "governance", "storage", "analytics", "query", "runs", "scheduling", "service", "engine"}


def unit(module: str) -> str | None:
    """The folder (or top-level module) of ``raise_`` that ``module`` belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == "raise_" and len(parts) > 1 else None


def module_level_imports() -> dict[str, dict[str, str]]:
    """unit → {imported unit: a file that imports it}, for imports run when a module loads
    (``if TYPE_CHECKING:`` blocks and imports inside functions are left out)."""
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).parts
        if "migrations" in rel:
            continue
        source = rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "raise_"]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                target = unit(name)
                if target and target not in (source, "__init__"):
                    edges[source].setdefault(target, str(path.relative_to(PACKAGE.parent)))
    return edges


def cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected groups of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_folders() -> None:
    edges = module_level_imports()
    found = cycles(edges)
    detail = [f"{a} -> {b} ({edges[a][b]})" for group in found for a in group for b in edges[a] if b in group]
    assert found == [], detail


def test_the_bottom_layers_import_no_service() -> None:
    edges = module_level_imports()
    upward = {(a, b, f) for a in BOTTOM for b, f in edges.get(a, {}).items() if b in SERVICES}
    assert upward == set()


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b": "x"}, "b": {"c": "y"}, "c": {"a": "z"}, "d": {"a": "w"}}) == [["a", "b", "c"]]
