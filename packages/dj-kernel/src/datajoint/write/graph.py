"""The dependency graph as delete and drop need it: every downstream schema loaded."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import networkx as nx

from ..dependencies import is_part_of


def node_name(table: Any) -> str:
    """The graph node of a table: ``schema.table``."""
    return f"{table.database}.{table.table_name}"


def downstream_closure(conn: Any, schemas: Iterable[str]) -> set[str]:
    """``schemas`` plus every schema that depends on them, transitively (catalog queries only)."""
    known = set(schemas)
    while True:
        found = set(conn.introspection.downstream_schemas(conn.run, sorted(known))) - known
        if not found:
            return known
        known |= found


#: per connection: schema -> the schemas its last downstream search found
_closures: weakref.WeakKeyDictionary[Any, dict[str, frozenset[str]]] = weakref.WeakKeyDictionary()


def load_downstream(conn: Any, schema: str, *, force: bool = False) -> Any:
    """The connection's dependency graph with ``schema`` and all schemas downstream of it.

    While the graph still holds what the last search found (declare, drop and alter clear it),
    neither the search nor the graph is repeated. A table created since by another process is then
    missing from the plan, its foreign key refuses the DELETE, and delete retries with
    ``force=True``, which searches the catalog again and rebuilds the graph.
    """
    deps = conn.dependencies
    cache = _closures.setdefault(conn, {})
    known = cache.get(schema)
    loaded: set[str] = getattr(deps, "_loaded", set())
    if not force and known is not None and known <= loaded and len(deps):
        return deps
    names = frozenset(downstream_closure(conn, {schema}) | set(conn.schemas))
    deps.load(force=force, schema_names=names)
    cache[schema] = names
    return deps


def topological(graph: Any, nodes: Iterable[str]) -> list[str]:
    """``nodes`` in a topological order of ``graph`` (parents before children)."""
    return list(nx.lexicographical_topological_sort(graph.subgraph(set(nodes))))


def master_of(graph: Any, node: str) -> str | None:
    """The master table of a part table (by DataJoint's naming rule), or None."""
    best = None
    for candidate in graph.nodes:
        if (
            candidate != node
            and is_part_of(node, candidate)
            and (best is None or len(candidate) > len(best))
        ):
            best = candidate
    return best


def quoted(conn: Any, node: str) -> str:
    """The quoted full table name of a graph node."""
    schema, _, table = node.partition(".")
    return conn.dialect.full_table_name(schema, table)
