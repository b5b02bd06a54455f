"""``dj.Diagram``: a view of the dependency graph that users combine, restrict and draw (SPEC §10).

A Diagram is a ``networkx.MultiDiGraph`` holding exactly the tables it shows, with the edges
(foreign keys) between them, copied from the connection's dependency graph. The operators build
new diagrams from the full graph the diagram was made from, so ``D + 1`` can reach tables that
``D`` does not show.

Node attributes (what a renderer reads):

- ``tier``: ``"Manual"``, ``"Lookup"``, ``"Imported"``, ``"Computed"``, ``"Part"``, or
  ``"Collapsed"`` for a node standing for the hidden tables of one schema (``collapse()``);
- ``label``: the display name: the class name, ``Master.Part`` for a part, prefixed by
  ``schema.`` when the diagram spans several schemas (a collapsed node: the schema name);
- ``schema``, ``table_name``: where the table lives (a collapsed node: ``table_name`` is None);
- ``master``: the node of a part's master table (None for other tiers);
- ``primary_key``: the set of primary-key attributes;
- ``tables``: for a collapsed node, the sorted node names it stands for.

Node names are ``schema.table`` (unquoted); a collapsed node is named by its schema alone.

Edge attributes (one edge per foreign key, keyed by the tuple of child columns): ``primary`` (the
FK attributes are in the child's primary key: drawn solid, else dashed), ``attr_map``
{child_attr: parent_attr}, ``aliased`` (the FK renames an attribute: drawn with a small dot),
``multi``. Edges to or from a collapsed node carry the same attributes of one representative FK.

Iterate nodes with ``D.nodes``: a cascade or restrict diagram iterates as restricted tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx

from ..algebra import model as m
from ..algebra.conditions import compile_condition
from ..dependencies import master_node, node_name, node_tier
from ..errors import DataJointError
from ..naming import to_camel_case
from ..write.cascade import (
    CascadePlan,
    any_of,
    check_part_integrity,
    named_attributes,
    restriction_along,
)

COLLAPSED = "Collapsed"


class Diagram(nx.MultiDiGraph):
    """A diagram of tables and their foreign keys: ``dj.Diagram(source, context=None)``.

    ``source`` is a table (class or instance), a ``Schema`` or a module with a ``schema``
    attribute (every table of that schema), or another Diagram (a copy).
    """

    def __init__(self, source: Any = None, context: Any = None, **attr: Any) -> None:
        super().__init__(**attr)
        self.context = context
        self._connection: Any = None
        self._full: nx.MultiDiGraph = nx.MultiDiGraph()
        self._tables: set[str] = set()
        self._hidden: set[str] = set()  # tables shown only as their schema's collapsed node
        self._collapsed = False
        self._mode: str | None = None  # "cascade", "restrict" or "trace"
        self._restricted: dict[str, Any] = {}  # node -> restricted table
        if source is None:
            return  # an empty diagram (also what networkx builds when it copies one)
        if isinstance(source, Diagram):
            self._copy_state(source)
            self._rebuild()
            return
        conn, schemas, tables = _resolve(source)
        self._connection = conn
        deps = conn.dependencies
        deps.load(force=False, schema_names=set(conn.schemas) | schemas)
        self._full = nx.MultiDiGraph(deps)
        if tables is None:
            tables = {n for n in self._full if n.partition(".")[0] in schemas}
        self._tables = set(tables)
        self._rebuild()

    # ---- state -----------------------------------------------------------------------------
    def _copy_state(self, other: Diagram) -> None:
        self.context = other.context if self.context is None else self.context
        self._connection = other._connection
        self._full = other._full
        self._tables = set(other._tables)
        self._hidden = set(other._hidden)
        self._collapsed = other._collapsed
        self._mode = other._mode
        self._restricted = dict(other._restricted)

    def _derived(self, tables: Iterable[str], hidden: Iterable[str] = ()) -> Diagram:
        """A diagram over the same full graph showing ``tables`` (and ``hidden`` collapsed)."""
        out = Diagram()
        out._copy_state(self)
        out._mode, out._restricted = None, {}
        out._tables = set(tables)
        out._hidden = set(hidden) - out._tables
        out._rebuild()
        return out

    @property
    def members(self) -> set[str]:
        """Every table this diagram covers: shown ones and those inside collapsed nodes."""
        return self._tables | self._hidden

    def _rebuild(self) -> None:
        """Fill the graph from the full graph: the shown tables, collapsed nodes, their edges."""
        nx.MultiDiGraph.clear(self)
        full = self._full
        members = self.members
        schemas = {n.partition(".")[0] for n in members}
        names = self._context_names()
        for node in self._tables:
            if node in full:
                self.add_node(node, **self._node_attributes(node, len(schemas) > 1, names))
        for schema in sorted({n.partition(".")[0] for n in self._hidden}):
            tables = sorted(n for n in self._hidden if n.partition(".")[0] == schema)
            self.add_node(
                schema,
                tier=COLLAPSED,
                label=schema,
                schema=schema,
                table_name=None,
                master=None,
                primary_key=set(),
                tables=tables,
            )
        shown = {n: n if n in self._tables else n.partition(".")[0] for n in members if n in full}
        for parent, child, key, props in full.edges(keys=True, data=True):
            if parent not in shown or child not in shown:
                continue
            u, v = shown[parent], shown[child]
            if u == v and u not in self._tables:
                continue  # an FK inside one collapsed schema
            if u != parent or v != child:
                key = (parent, child, key)  # keep parallel FKs of different tables apart
            if not self.has_edge(u, v, key):
                self.add_edge(u, v, key=key, **props)

    def _node_attributes(self, node: str, qualify: bool, names: dict[str, str]) -> dict:
        schema, _, table = node.partition(".")
        tier = node_tier(table)
        master = master_node(node) if tier == "Part" else None
        label = names.get(node)
        if label is None:
            if master is not None:
                master_table = master.partition(".")[2]
                part = table[len(master_table) + 2 :]
                label = f"{_class_name(master_table)}.{to_camel_case(part)}"
            else:
                label = _class_name(table)
            if qualify:
                label = f"{schema}.{label}"
        return {
            "tier": tier,
            "label": label,
            "schema": schema,
            "table_name": table,
            "master": master,
            "primary_key": set(self._full.nodes[node].get("primary_key", set())),
        }

    def _context_names(self) -> dict[str, str]:
        """Node -> the name a class has in ``context`` (a dict or module), parts as Master.Part."""
        context = self.context
        if context is None:
            return {}
        items = context.items() if isinstance(context, dict) else vars(context).items()
        out: dict[str, str] = {}
        for name, value in items:
            node = _class_node(value)
            if node is None:
                continue
            out.setdefault(node, name)
            for attr, part in vars(value).items():
                part_node = _class_node(part)
                if part_node is not None and part_node != node:
                    out.setdefault(part_node, f"{name}.{attr}")
        return out

    # ---- operators -------------------------------------------------------------------------
    def _operand(self, other: Any) -> Diagram:
        if isinstance(other, Diagram):
            return other
        return Diagram(other, context=self.context)

    def __add__(self, other: Any) -> Diagram:
        if isinstance(other, int) and not isinstance(other, bool):
            return self._expand(other, downstream=True)
        other = self._operand(other)
        self._same_graph(other)
        tables = self._tables | other._tables
        hidden = self._hidden | other._hidden
        if self._collapsed and not other._collapsed:
            tables, hidden = (tables - self.members) | other._tables, hidden | self.members
        elif other._collapsed and not self._collapsed:
            tables, hidden = (tables - other.members) | self._tables, hidden | other.members
        out = self._derived(tables, hidden)
        out._collapsed = self._collapsed and other._collapsed
        return out

    def __sub__(self, other: Any) -> Diagram:
        if isinstance(other, int) and not isinstance(other, bool):
            return self._expand(other, downstream=False)
        other = self._operand(other)
        self._same_graph(other)
        return self._derived(self._tables - other.members, self._hidden - other.members)

    def __mul__(self, other: Any) -> Diagram:
        other = self._operand(other)
        self._same_graph(other)
        return self._derived(self._tables & other.members, self._hidden & other.members)

    def _same_graph(self, other: Diagram) -> None:
        if other._connection is not self._connection and self._connection is not None:
            raise DataJointError("Cannot combine diagrams of different database connections.")
        if other._full is not self._full:  # built separately: use the larger graph for both
            merged: nx.MultiDiGraph = nx.MultiDiGraph(nx.compose(self._full, other._full))
            self._full = other._full = merged

    def _expand(self, levels: int, downstream: bool) -> Diagram:
        """Add ``levels`` generations of children (downstream) or parents (upstream)."""
        if levels < 0:
            return self._expand(-levels, not downstream)
        step = self._full.successors if downstream else self._full.predecessors
        tables = set(self._tables)
        frontier = set(self.members)
        for _ in range(levels):
            frontier = {n for node in frontier for n in step(node)} - tables - self._hidden
            if not frontier:
                break
            tables |= frontier
        out = self._derived(tables, self._hidden)
        out._collapsed = self._collapsed
        return out

    def collapse(self) -> Diagram:
        """This diagram with each schema drawn as one node; combined with ``+``, the other
        operand's tables stay expanded (``Diagram(s1) + Diagram(s2).collapse()``)."""
        out = self._derived((), self.members)
        out._collapsed = True
        return out

    def add_parts(self) -> Diagram:
        """This diagram plus the part tables of every master it shows."""
        parts = {
            n
            for n in self._full
            if node_tier(n.partition(".")[2]) == "Part" and master_node(n) in self._tables
        }
        out = self._derived(self._tables | parts, self._hidden)
        out._collapsed = self._collapsed
        return out

    @classmethod
    def from_sequence(cls, sequence: Iterable[Any]) -> Diagram:
        """The union of the diagrams of each item (tables, schemas, modules or diagrams)."""
        out: Diagram | None = None
        for item in sequence:
            out = Diagram(item) if out is None else out + item
        if out is None:
            raise DataJointError("Diagram.from_sequence needs at least one table or schema.")
        return out

    # ---- cascade, restrict, trace ----------------------------------------------------------
    @classmethod
    def cascade(cls, table_expr: Any, part_integrity: str = "enforce") -> Diagram:
        """The delete plan of ``table_expr`` (SPEC §8): every table a delete reaches, restricted;
        iterating yields the restricted tables parents first, ``reversed()`` leaves first."""
        check_part_integrity(part_integrity)
        plan = CascadePlan(_as_instance(table_expr), part_integrity)
        out = cls()
        out._connection = plan.connection
        out._full = nx.MultiDiGraph(plan.graph)
        out._tables = set(plan.order)
        out._mode = "cascade"
        out._restricted = dict(plan.tables)
        out._rebuild()
        return out

    def restrict(self, table_expr: Any) -> Diagram:
        """Propagate ``table_expr``'s restriction to its descendants in this diagram, AND-ing
        what each table receives along several paths (a row stays only if every path keeps it)."""
        if self._mode == "cascade":
            raise DataJointError(
                "Cannot apply restrict() on a Diagram produced by Diagram.cascade(). "
                "Build the diagram with dj.Diagram(...) and call restrict() on it."
            )
        seed = _as_instance(table_expr)
        start = node_name(seed)
        if start not in self._tables:
            raise DataJointError(
                f"Table {seed.full_table_name} is not in this diagram. Add it to the diagram "
                "before restricting by it."
            )
        out = Diagram(self)
        out._mode = "restrict"
        incoming: dict[str, list[m.Node]] = {start: list(seed._restriction)}
        order = list(nx.topological_sort(self._full.subgraph(self._tables)))
        reached = nx.descendants(self._full.subgraph(self._tables), start) | {start}
        for node in order:
            if node not in reached:
                continue
            previous = out._restricted.get(node)
            base = previous if previous is not None else seed._free_table(node)
            table = base._derive(restriction=_conjunction(base._restriction, incoming[node]))
            out._restricted[node] = table
            for _, child, props in self._full.out_edges(node, data=True):
                if child in reached:
                    along = restriction_along(table, seed._free_table(child), props)
                    incoming.setdefault(child, []).extend(along)
        return out

    @classmethod
    def trace(cls, table_expr: Any) -> Diagram:
        """The rows upstream of ``table_expr``: every ancestor restricted to the rows its
        restricted children reference (OR over several children). Index it with ``D[Table]``."""
        seed = _as_instance(table_expr)
        conn = seed.connection
        deps = conn.dependencies
        deps.load_upstream_of(seed.database)
        start = node_name(seed)
        if start not in deps:
            raise DataJointError(f"Table {seed.full_table_name} is not declared.")
        ancestors = nx.ancestors(deps, start) | {start}
        graph: nx.MultiDiGraph = nx.MultiDiGraph(deps.subgraph(ancestors))
        incoming: dict[str, list[tuple[m.Node, ...]]] = {start: [tuple(seed._restriction)]}
        restricted: dict[str, Any] = {}
        for node in reversed(list(nx.lexicographical_topological_sort(graph))):
            table = seed._free_table(node)._derive(restriction=any_of(incoming[node]))
            restricted[node] = table
            for parent, _, props in graph.in_edges(node, data=True):
                along = _upward(table, seed._free_table(parent), props)
                incoming.setdefault(parent, []).append(along)
        out = cls()
        out._connection = conn
        out._full = graph
        out._tables = set(ancestors)
        out._mode = "trace"
        out._restricted = restricted
        out._rebuild()
        return out

    def __getitem__(self, item: Any) -> Any:
        if self._mode != "trace":
            return super().__getitem__(item)
        if isinstance(item, str):
            return self._restricted[self._node_named(item)]
        table = _as_instance(item)
        node = node_name(table)
        if node not in self._restricted:
            raise DataJointError(
                f"Table {table.full_table_name} is not in this trace's subgraph "
                "(not an ancestor of the seed)."
            )
        return table._derive(restriction=tuple(self._restricted[node]._restriction))

    def _node_named(self, name: str) -> str:
        """The node a class name (``Session``, ``Session.Trial``) or a full table name means."""
        cleaned = name.replace("`", "").replace('"', "")
        if cleaned in self._restricted:
            return cleaned
        matches = [
            n
            for n, data in self.nodes(data=True)
            if name in (data["label"], data["label"].rpartition(".")[2])
            or data["label"].endswith(f".{name}")
        ]
        if not matches:
            raise DataJointError(
                f"Table {name} is not in this trace's subgraph (not an ancestor of the seed)."
            )
        if len(matches) > 1:
            quoted = ", ".join(sorted(self._quoted(n) for n in matches))
            raise DataJointError(
                f"Table name {name} is ambiguous in this trace: it matches {quoted}. "
                "Use the quoted full table name instead."
            )
        return matches[0]

    def __iter__(self) -> Iterator[Any]:
        if self._mode not in ("cascade", "restrict"):
            return super().__iter__()
        return (self._restricted[n] for n in self._topological() if n in self._restricted)

    def __reversed__(self) -> Iterator[Any]:
        if self._mode not in ("cascade", "restrict"):
            return iter(reversed(list(super().__iter__())))
        order = [n for n in self._topological() if n in self._restricted]
        return (self._restricted[n] for n in reversed(order))

    def _topological(self) -> list[str]:
        return list(nx.lexicographical_topological_sort(self._full.subgraph(self._tables)))

    def _quoted(self, node: str) -> str:
        schema, _, table = node.partition(".")
        return self._connection.dialect.full_table_name(schema, table)

    def counts(self) -> dict[str, int]:
        """Rows per table (by quoted full name) under a cascade, restrict or trace."""
        if self._mode is None:
            raise DataJointError(
                "No restrictions applied. Use Diagram.cascade(), Diagram.restrict() or "
                "Diagram.trace() first."
            )
        return {
            self._quoted(n): len(self._restricted[n])
            for n in self._topological()
            if n in self._restricted
        }

    def prune(self) -> Diagram:
        """This diagram without the tables that have no rows (under its restriction, if any)."""
        if self._mode == "cascade":
            raise DataJointError(
                "Cannot prune a Diagram produced by Diagram.cascade(): its tables are exactly "
                "those the delete reaches."
            )
        keep = set()
        for node in self._tables:
            table = self._restricted.get(node)
            if table is None:
                table = _free_table(self._connection, node)
            if len(table):
                keep.add(node)
        out = Diagram(self)
        out._tables = keep
        out._restricted = {n: t for n, t in self._restricted.items() if n in keep}
        out._rebuild()
        return out

    # ---- output (implemented in render.py) ---------------------------------------------------
    # ``theme`` ("light", "dark", "auto") and ``direction`` ("TB", "LR") default to the
    # connection's display.diagram_theme and display.diagram_direction.
    def make_mermaid(self, direction: str | None = None) -> str:
        """The diagram as Mermaid flowchart text."""
        from .render import make_mermaid

        return make_mermaid(self, direction=direction)

    def make_svg(self, theme: str | None = None, direction: str | None = None) -> str:
        """The diagram as SVG text (Graphviz when installed, else the built-in renderer)."""
        from .render import make_svg

        return make_svg(self, theme=theme, direction=direction)

    def svg_string(self) -> str:
        """The diagram as SVG text."""
        return self.make_svg()

    def make_dot(self, theme: str | None = None, direction: str | None = None) -> Any:
        """The diagram as a ``pydot.Dot`` graph (needs pydot)."""
        from .render import make_dot

        return make_dot(self, theme=theme, direction=direction)

    def make_png(self, theme: str | None = None, direction: str | None = None) -> bytes:
        """The diagram as PNG bytes (needs pydot and Graphviz)."""
        from .render import make_png

        return make_png(self, theme=theme, direction=direction)

    def make_image(self, theme: str | None = None, direction: str | None = None) -> Any:
        """The diagram as an image array (needs pydot, Graphviz and matplotlib)."""
        from .render import make_image

        return make_image(self, theme=theme, direction=direction)

    def draw(self, theme: str | None = None, direction: str | None = None) -> None:
        """Show the diagram with matplotlib (needs pydot, Graphviz and matplotlib)."""
        from .render import draw

        draw(self, theme=theme, direction=direction)

    def save(self, filename: str, format: str | None = None) -> None:
        """Write the diagram to ``filename``; the format comes from its extension by default."""
        from .render import save

        save(self, filename, format=format)

    def _repr_svg_(self) -> str:
        from .render import repr_svg

        return repr_svg(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .render import repr_mimebundle

        return repr_mimebundle(self, include=include, exclude=exclude)

    def __repr__(self) -> str:
        shown = ", ".join(sorted(d["label"] for _, d in self.nodes(data=True)))
        mode = f" {self._mode}" if self._mode else ""
        return f"<dj.Diagram{mode}: {shown}>"


# ---- helpers ---------------------------------------------------------------------------------
def _class_name(table_name: str) -> str:
    return to_camel_case(table_name.lstrip("#_"))


def _class_node(value: Any) -> str | None:
    """``schema.table`` of a bound table class, else None."""
    from ..table import Table

    if not isinstance(value, type) or not issubclass(value, Table) or value.database is None:
        return None
    try:
        return node_name(value())
    except Exception:  # an unbound or abstract class names no table
        return None


def _as_instance(table: Any) -> Any:
    return table() if isinstance(table, type) else table


def _free_table(conn: Any, node: str) -> Any:
    from ..table import FreeTable

    return FreeTable(conn, node)


def _conjunction(existing: Iterable[m.Node], more: Iterable[m.Node]) -> tuple[m.Node, ...]:
    out: list[m.Node] = []
    for node in [*existing, *more]:
        if node not in out:
            out.append(node)
    return tuple(out)


def _resolve(source: Any) -> tuple[Any, set[str], set[str] | None]:
    """(connection, schemas to load, the tables to show or None for whole schemas)."""
    from ..schema import Schema
    from ..table import Table

    schema = getattr(source, "schema", None) if not isinstance(source, Schema) else source
    if isinstance(schema, Schema) and schema.database is not None:
        return schema.connection, {schema.database}, None
    table = _as_instance(source) if isinstance(source, type) else source
    if isinstance(table, Table):
        try:
            conn, database, name = table.connection, table.database, table.table_name
        except DataJointError:
            conn = None
        if conn is not None:
            return conn, {database}, {f"{database}.{name}"}
    raise DataJointError(
        f"Could not find database connection in {source!r}: pass an activated schema, a module "
        "with an activated `schema`, or a table class bound to one."
    )


def _upward(child: Any, parent_table: Any, props: dict) -> tuple[m.Node, ...]:
    """The restriction a parent receives from its restricted child along one FK: the rows the
    child's rows reference."""
    attr_map: dict[str, str] = props["attr_map"]
    restriction = tuple(child._restriction)
    if not props["aliased"]:
        names = named_attributes(restriction)
        if names and names <= set(parent_table.primary_key) & set(attr_map):
            return restriction  # the child's conditions name only the parent's key
        source = child.proj(*attr_map)
    else:
        kept = [c for c, p in attr_map.items() if c == p]
        source = child.proj(*kept, **{p: c for c, p in attr_map.items() if c != p})
    compiled = compile_condition(parent_table, source, negate=False, semantic_check=False)
    if compiled is True:
        return ()
    return (m.Literal(False) if compiled is False else compiled,)


__all__ = ["COLLAPSED", "Diagram"]
