"""The kernel's layers point one way (ARCHITECTURE: tables above write/declare, fetch above algebra).

Every import statement of every kernel module is read with ``ast``, function-level imports
included, so a lazy ``from ..table import X`` inside a function counts like a top-level one. The
rules are checked on direct imports and along import chains (``algebra`` importing a module that
imports ``fetch`` is the same cycle). Importing the root package ``datajoint`` is not an edge: it
is the public surface every layer may name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

import datajoint

KERNEL = Path(datajoint.__file__).parent

#: (modules the rule applies to, modules they must not depend on): prefixes of dotted names
RULES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("datajoint.algebra",), ("datajoint.fetch",)),
    (
        ("datajoint.write", "datajoint.declare", "datajoint.describe"),
        ("datajoint.table", "datajoint.user_tables", "datajoint.schema"),
    ),
]


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _module_name(path: Path) -> tuple[str, bool]:
    """(dotted name, whether it is a package ``__init__``) of a kernel source file."""
    parts = list(path.relative_to(KERNEL.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, as absolute dotted names.

    ``from X import y`` yields both ``X`` and ``X.y`` (``y`` may be a submodule); callers keep
    the names that are modules.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def kernel_import_graph() -> dict[str, set[str]]:
    """module -> the kernel modules it imports (the root package left out)."""
    sources = {}
    for path in KERNEL.rglob("*.py"):
        name, is_package = _module_name(path)
        sources[name] = (path.read_text(encoding="utf-8"), is_package)
    return {
        name: {
            m
            for m in imported_modules(text, name, is_package)
            if m in sources and m != "datajoint" and m != name
        }
        for name, (text, is_package) in sources.items()
    }


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each forbidden dependency, direct or through a chain, as ``a -> b -> ... -> c``."""
    found = []
    for sources, forbidden in RULES:
        for start in sorted(m for m in graph if _under(m, sources)):
            paths = {start: [start]}
            queue = [start]
            while queue:
                current = queue.pop(0)
                for target in sorted(graph.get(current, ())):
                    if target in paths:
                        continue
                    paths[target] = [*paths[current], target]
                    if _under(target, forbidden):
                        found.append(" -> ".join(paths[target]))
                    else:
                        queue.append(target)
    return found


def test_kernel_layers_point_one_way():
    graph = kernel_import_graph()
    assert "datajoint.algebra.expression" in graph and "datajoint.write.insert" in graph
    assert violations(graph) == []


def test_table_and_fetch_sit_above_the_layers_they_use():
    """The allowed direction exists, so the rules above are not vacuous."""
    graph = kernel_import_graph()
    assert "datajoint.declare.compile" in graph["datajoint.table"]
    assert "datajoint.algebra.expression" in graph["datajoint.write.insert"]
    assert "datajoint.algebra.top" in graph["datajoint.fetch.reader"]


@pytest.mark.parametrize(
    ("module", "source", "offender"),
    [
        ("datajoint.algebra.extra", "def f():\n    from ..fetch.api import FetchAPI\n", "fetch"),
        ("datajoint.algebra.extra", "from datajoint.fetch import reader\n", "fetch"),
        ("datajoint.write.extra", "def f():\n    from .. import table\n", "table"),
        ("datajoint.declare.extra", "import datajoint.table\n", "table"),
        ("datajoint.describe", "from .user_tables import Part\n", "user_tables"),
    ],
)
def test_an_offending_import_is_caught(module, source, offender):
    graph = kernel_import_graph()
    known = set(graph)
    graph[module] = {m for m in imported_modules(source, module) if m in known}
    found = violations(graph)
    assert found and all(line.startswith(module) for line in found)
    last = [line.rpartition(" -> ")[2] for line in found]
    assert any(_under(m, [f"datajoint.{offender}"]) for m in last), found


def test_an_offending_chain_is_caught():
    """algebra -> (a lower module) -> fetch is a cycle too, reported with the whole chain."""
    graph = kernel_import_graph()
    graph["datajoint.errors"] = graph["datajoint.errors"] | {"datajoint.fetch.api"}
    found = violations(graph)
    assert "datajoint.algebra.expression -> datajoint.errors -> datajoint.fetch.api" in found


def test_fetch_methods_are_installed_on_the_expression_class():
    """``import datajoint`` attached the fetch API to QueryExpression (the same functions)."""
    from datajoint.algebra.expression import QueryExpression
    from datajoint.fetch.api import FetchAPI, install_fetch_api

    for name in ("to", "to_dicts", "fetch1", "keys", "__iter__", "__repr__", "_repr_html_"):
        assert vars(QueryExpression)[name] is vars(FetchAPI)[name]
    install_fetch_api(QueryExpression)  # a second install changes nothing

    class Clashing:
        def to_dicts(self):
            return []

    with pytest.raises(TypeError, match=r"Clashing\.to_dicts is defined by the query algebra"):
        install_fetch_api(Clashing)
