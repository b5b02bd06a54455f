"""The dependency graph of tables: foreign keys as edges parent -> child (SPEC §10).

``connection.dependencies`` is the one graph of the kernel: delete, drop, ``Schema.list_tables``,
``Table.parents``/``children``/``ancestors``/``descendants`` and ``dj.Diagram`` all read it. It is
cached per connection; declare, drop and alter clear it, and the next reader loads it again.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import networkx as nx

from .errors import DataJointError

#: table-name prefix -> tier (checked in this order; no prefix is Manual)
_TIER_PREFIXES = (("__", "Computed"), ("_", "Imported"), ("#", "Lookup"))


def full_name(schema: str, table: str) -> str:
    """The backend-neutral node name of a table: ``schema.table``."""
    return f"{schema}.{table}"


def node_name(table: Any) -> str:
    """The graph node of a table object."""
    return full_name(table.database, table.table_name)


def _split_prefix(table_name: str) -> tuple[str, str]:
    for prefix, _ in _TIER_PREFIXES:
        if table_name.startswith(prefix):
            return prefix, table_name[len(prefix) :]
    return "", table_name


def node_tier(table_name: str) -> str:
    """The tier a table name says: Manual, Lookup, Imported, Computed or Part (SPEC §3.1)."""
    prefix, rest = _split_prefix(table_name)
    if "__" in rest:
        return "Part"
    return dict(_TIER_PREFIXES).get(prefix, "Manual")


def master_node(node: str) -> str | None:
    """The master's node of a part table's node by DataJoint's naming rule, else None."""
    schema, _, table = node.partition(".")
    prefix, rest = _split_prefix(table)
    master, sep, part = rest.partition("__")
    return full_name(schema, prefix + master) if sep and part and master else None


def is_part_of(child: str, master: str) -> bool:
    """Whether table ``child`` is a part table of ``master`` (names of the form schema.table)."""
    return master_node(child) == master


def read_catalog(conn: Any, schemas: list[str]) -> tuple[dict[str, set[str]], list[Any]]:
    """The tables of ``schemas`` with their primary keys, and the foreign keys of those tables.

    All catalog reading of the graph happens here, so that it can use bulk introspection.
    """
    from .heading import schema_primary_keys

    run, intro = conn.run, conn.introspection
    tables: dict[str, set[str]] = {}
    for schema in schemas:
        for table, key in schema_primary_keys(conn, schema).items():
            if not table.startswith("~"):
                tables[full_name(schema, table)] = set(key)
    # hidden tables on either side are left out (0.14 tables reference ~external_<store>)
    foreign_keys = [
        fk
        for fk in intro.foreign_keys(run, schemas)
        if not fk.table.startswith("~") and not fk.ref_table.startswith("~")
    ]
    return tables, foreign_keys


def _closure(conn: Any, schemas: Iterable[str], downstream: bool) -> set[str]:
    """``schemas`` plus every schema that references them (downstream) or that they reference
    (upstream), transitively, from catalog queries only."""
    intro = conn.introspection
    search = intro.downstream_schemas if downstream else intro.upstream_schemas
    known = set(schemas)
    while True:
        found = set(search(conn.run, sorted(known))) - known
        if not found:
            return known
        known |= found


#: per connection: (schema, downstream?) -> the schemas its last search found
_closures: weakref.WeakKeyDictionary[Any, dict[tuple[str, bool], frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)


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

    # ---- loading ---------------------------------------------------------------------------
    def load(self, force: bool = True, schema_names: Iterable[str] | None = None) -> None:
        """(Re)build the graph from the catalog of ``schema_names`` (default: activated schemas)."""
        conn = self._connection
        names = sorted(set(schema_names) if schema_names is not None else set(conn.schemas))
        if not force and set(names) <= self._loaded:
            return
        self.clear()
        tables, foreign_keys = read_catalog(conn, names)
        for node, primary_key in tables.items():
            self.add_node(node, primary_key=primary_key)
        for fk in foreign_keys:
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

    def _known_schemas(self, schema_names: Iterable[str] | None) -> set[str]:
        if schema_names is not None:
            return set(schema_names)
        return set(self._loaded) | set(self._connection.schemas)

    def load_all_downstream(self, schema_names: Iterable[str] | None = None) -> None:
        """Load the known schemas (default: loaded and activated ones) and every schema that
        references them, transitively."""
        conn = self._connection
        known = self._known_schemas(schema_names)
        self.load(force=True, schema_names=_closure(conn, known, downstream=True))

    def load_all_upstream(self, schema_names: Iterable[str] | None = None) -> None:
        """Load the known schemas (default: loaded and activated ones) and every schema they
        reference, transitively."""
        conn = self._connection
        known = self._known_schemas(schema_names)
        self.load(force=True, schema_names=_closure(conn, known, downstream=False))

    def load_downstream_of(self, schema: str, *, force: bool = False) -> Dependencies:
        """This graph with ``schema``, the activated schemas and everything downstream of them.

        While the graph still holds what the last search found (declare, drop and alter clear
        it), neither the search nor the load is repeated. A table created since by another process
        is then missing from a delete plan, its foreign key refuses the DELETE, and delete retries
        with ``force=True``, which searches the catalog again and reloads.
        """
        return self._load_closure(schema, downstream=True, force=force)

    def load_upstream_of(self, schema: str, *, force: bool = False) -> Dependencies:
        """This graph with ``schema``, the activated schemas and everything upstream of them;
        cached as :meth:`load_downstream_of` is (``Diagram.trace`` runs once per make)."""
        return self._load_closure(schema, downstream=False, force=force)

    def _load_closure(self, schema: str, *, downstream: bool, force: bool) -> Dependencies:
        conn = self._connection
        cache = _closures.setdefault(conn, {})
        known = cache.get((schema, downstream))
        if not force and known is not None and known <= self._loaded and len(self):
            return self
        names = frozenset(_closure(conn, {schema}, downstream=downstream) | set(conn.schemas))
        self.load(force=force, schema_names=names)
        cache[(schema, downstream)] = names
        return self

    # ---- queries ---------------------------------------------------------------------------
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

    def master_of(self, node: str) -> str | None:
        """The master of a part table when the master is in the graph, else None."""
        master = master_node(node)
        return master if master is not None and master in self else None

    def topological(self, nodes: Iterable[str]) -> list[str]:
        """``nodes`` in a topological order (parents before children, ties by name)."""
        return list(nx.lexicographical_topological_sort(self.subgraph(set(nodes))))

    def topo_sort(self) -> list[str]:
        """Tables in topological order, each part placed right after its master when all of
        the part's other parents are already placed (else at its own topological position)."""
        order = list(nx.lexicographical_topological_sort(self))
        parts: dict[str, list[str]] = {}
        for name in order:
            master = self.master_of(name)
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

    def quoted(self, node: str) -> str:
        """The quoted full table name of a node, in the connection's dialect."""
        schema, _, table = node.partition(".")
        return self._connection.dialect.full_table_name(schema, table)
