"""The dependency graph of tables: foreign keys as edges parent -> child (SPEC §10)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from .errors import DataJointError


def full_name(schema: str, table: str) -> str:
    """The backend-neutral node name of a table: ``schema.table``."""
    return f"{schema}.{table}"


def is_part_of(child: str, master: str) -> bool:
    """Whether table ``child`` is a part table of ``master`` (names of the form schema.table)."""
    schema, _, table = master.partition(".")
    return child.startswith(f"{schema}.{table}__") and len(child) > len(master) + 2


class Dependencies(nx.MultiDiGraph):
    """A MultiDiGraph of the tables of the loaded schemas, one edge per foreign key.

    Nodes are ``schema.table`` names with a ``primary_key`` set. Edge attributes: ``primary``,
    ``attr_map`` {child_attr: parent_attr}, ``aliased`` and ``multi``; edges are keyed by the tuple
    of child columns. Hidden tables (names starting with ``~``) are left out.
    """

    def __init__(self, connection: Any = None) -> None:
        super().__init__()
        self._connection = connection
        self._loaded: set[str] = set()

    def clear(self) -> None:
        super().clear()
        self._loaded = set()

    def load(self, force: bool = True, schema_names: Iterable[str] | None = None) -> None:
        """(Re)build the graph from the catalog of ``schema_names`` (default: activated schemas)."""
        conn = self._connection
        names = sorted(set(schema_names) if schema_names is not None else set(conn.schemas))
        if not force and set(names) <= self._loaded:
            return
        self.clear()
        run, intro = conn.run, conn.introspection
        for schema in names:
            for table in intro.list_tables(run, schema):
                if table.startswith("~"):
                    continue
                columns = intro.columns(run, schema, table)
                self.add_node(
                    full_name(schema, table), primary_key={c.name for c in columns if c.in_key}
                )
        for fk in intro.foreign_keys(run, names):
            if fk.table.startswith("~"):
                continue
            child, parent = full_name(fk.schema, fk.table), full_name(fk.ref_schema, fk.ref_table)
            if parent not in self:
                self.add_node(parent, primary_key=set(fk.ref_columns))
            pk = self.nodes[child].get("primary_key", set())
            attr_map = dict(zip(fk.columns, fk.ref_columns, strict=True))
            self.add_edge(
                parent,
                child,
                key=tuple(fk.columns),
                primary=set(fk.columns) <= pk,
                attr_map=attr_map,
                aliased=any(k != v for k, v in attr_map.items()),
                multi=set(fk.columns) != pk,
            )
        if not nx.is_directed_acyclic_graph(self):
            raise DataJointError("DataJoint can only work with acyclic dependencies")
        self._loaded = set(names)

    def _edges(self, name: str, incoming: bool, primary: bool | None) -> list[tuple[str, dict]]:
        edges = self.in_edges(name, data=True) if incoming else self.out_edges(name, data=True)
        out = []
        for parent, child, props in edges:
            if primary is None or props["primary"] == primary:
                out.append((parent if incoming else child, props))
        return out

    def parents(self, name: str, primary: bool | None = None) -> list[tuple[str, dict]]:
        return self._edges(name, True, primary)

    def children(self, name: str, primary: bool | None = None) -> list[tuple[str, dict]]:
        return self._edges(name, False, primary)

    def topo_sort(self) -> list[str]:
        """Tables in topological order, each part placed right after its master when all of
        the part's other parents are already placed (else at its own topological position)."""
        order = list(nx.lexicographical_topological_sort(self))
        parts: dict[str, list[str]] = {}
        for name in order:
            master = next((m for m in order if is_part_of(name, m)), None)
            if master is not None:
                parts.setdefault(master, []).append(name)
        placed: list[str] = []
        done: set[str] = set()

        def place(name: str) -> None:
            placed.append(name)
            done.add(name)
            for part in parts.get(name, []):
                if part not in done and all(p in done for p in self.predecessors(part)):
                    place(part)

        for name in order:
            if name not in done:
                place(name)
        return placed

    def descendants(self, name: str) -> list[str]:
        """``name`` first, then every descendant in topological order."""
        nodes = nx.descendants(self, name) | {name}
        return [n for n in self.topo_sort() if n in nodes]

    def ancestors(self, name: str) -> list[str]:
        """Every ancestor, parents after their own parents, ``name`` last."""
        nodes = nx.ancestors(self, name) | {name}
        return [n for n in self.topo_sort() if n in nodes]
