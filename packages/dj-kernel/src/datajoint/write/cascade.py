"""The delete plan (SPEC §8, §10 ``Diagram.cascade``): every table a delete reaches, restricted.

The restriction starts at the seed and flows down each foreign key, parent to child:

1. FK not renamed, the parent's restriction names at least one attribute, and those attributes
   are FK attributes that are all in the child's primary key: the child gets a copy of the
   parent's conditions (no subquery at all);
2. renamed FK: the child is restricted by ``parent_restricted.proj(child_attr="parent_attr")``;
3. otherwise: by ``parent_restricted.proj()`` (a semi-join on the parent's primary key).

An unrestricted parent passes "every row" on (rows with a NULL in a nullable FK excepted). A child
reached along several edges gets their conditions OR-ed. With ``part_integrity="cascade"`` each
restricted part also restricts its master to the rows its deleted rows reference (materialized as
literal keys), and the master's descendants join the plan. Nothing here runs a DELETE and no driver
error text is ever parsed: the plan comes from the catalog only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import networkx as nx

from ..algebra import model as m
from ..algebra.conditions import Not, attributes_in_sql, compile_condition
from ..dependencies import node_name
from ..errors import DataJointError

PART_INTEGRITY = ("enforce", "ignore", "cascade")

#: a restriction that keeps every row
EVERYTHING: tuple[m.Node, ...] = ()


def check_part_integrity(value: Any, allowed: Iterable[str] = PART_INTEGRITY) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"part_integrity must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}"
        )


def named_attributes(nodes: Iterable[m.Node]) -> set[str] | None:
    """The attribute names a restriction mentions, or None when it cannot be told."""
    names: set[str] = set()

    def walk(node: Any) -> bool:
        if isinstance(node, m.Column):
            names.add(node.name)
        elif isinstance(node, m.InSelect):
            names.update(node.columns)
        elif isinstance(node, m.RawSQL):
            names.update(attributes_in_sql(node.text))
        elif isinstance(node, m.Param | m.Literal):
            pass
        elif isinstance(node, m.And | m.Or):
            return all(walk(i) for i in node.items)
        elif isinstance(node, m.Not):
            return walk(node.item)
        elif isinstance(node, m.Compare):
            return walk(node.left) and walk(node.right)
        elif isinstance(node, m.IsNull):
            return walk(node.expr)
        else:
            return False
        return True

    return names if all(walk(n) for n in nodes) else None


def restriction_along(parent: Any, child_table: Any, props: dict) -> tuple[m.Node, ...]:
    """The restriction a child receives from its restricted ``parent`` along one FK (``props``
    as the dependency graph gives them), by the three rules of this module's docstring."""
    attr_map: dict[str, str] = props["attr_map"]
    restriction = tuple(parent._restriction)
    if not restriction:
        nullable = [c for c in attr_map if child_table.heading[c].nullable]
        return tuple(m.Not(m.IsNull(m.Column(c))) for c in nullable)
    if not props["aliased"]:
        names = named_attributes(restriction)
        if names and props["primary"] and names <= set(attr_map):
            return restriction  # rule 1: the conditions apply to the child as they are
        source = parent.proj()
    else:
        source = parent.proj(**{c: p for c, p in attr_map.items() if c != p})
    compiled = compile_condition(child_table, source, negate=False, semantic_check=False)
    if compiled is True:
        return EVERYTHING
    return (m.Literal(False) if compiled is False else compiled,)


def any_of(alternatives: list[tuple[m.Node, ...]]) -> tuple[m.Node, ...]:
    """OR the alternatives (each an AND of nodes); any unrestricted one keeps every row."""
    if any(len(a) == 0 for a in alternatives):
        return EVERYTHING
    terms: list[m.Node] = []
    for alternative in alternatives:
        term = m.conjunction(list(alternative))
        if term is None:
            return EVERYTHING
        if term not in terms:
            terms.append(term)
    return (terms[0],) if len(terms) == 1 else (m.Or(tuple(terms)),)


def path_attr_map(graph: Any, ancestor: str, node: str) -> dict[str, str]:
    """{node_attr: ancestor_attr} along the shortest FK path ancestor -> ... -> node: the
    attributes through which ``node``'s rows reference ``ancestor``'s rows."""
    path = nx.shortest_path(graph, ancestor, node)
    mapping: dict[str, str] | None = None
    for parent, child in reversed(list(itertools.pairwise(path))):
        edges = graph.get_edge_data(parent, child).values()
        props = next((p for p in edges if p["primary"]), next(iter(edges)))
        step: dict[str, str] = props["attr_map"]
        if mapping is None:
            mapping = dict(step)
        else:
            mapping = {c: step[a] for c, a in mapping.items() if a in step}
    return mapping or {}


class CascadePlan:
    """Every table a delete of ``seed`` reaches, with its restriction, in topological order.

    ``order`` lists graph nodes parents first; ``tables[node]`` is the restricted table.
    """

    def __init__(self, seed: Any, part_integrity: str = "enforce", *, force: bool = False) -> None:
        check_part_integrity(part_integrity)
        self.seed = seed
        self.part_integrity = part_integrity
        self.connection = conn = seed.connection
        self.graph = conn.dependencies.load_downstream_of(seed.database, force=force)
        self.seed_node = node_name(seed)
        if self.seed_node not in self.graph:
            raise DataJointError(f"Table {seed.full_table_name} is not declared.")
        self._free = seed._free_table
        seed_restriction = tuple(seed._restriction)
        if getattr(seed, "_top", None) is not None:  # a Top selects rows: use their keys
            keys = seed.keys()
            seed_restriction = self._key_restriction(self.seed_node, keys)
        self.injected: dict[str, list[tuple[m.Node, ...]]] = {self.seed_node: [seed_restriction]}
        self._propagate()
        if part_integrity == "cascade":
            self._cascade_to_masters()

    # ---- propagation -----------------------------------------------------------------------
    def _key_restriction(self, node: str, keys: list[dict]) -> tuple[m.Node, ...]:
        compiled = compile_condition(self._free(node), list(keys), negate=False)
        if compiled is True:
            return EVERYTHING
        return (m.Literal(False) if compiled is False else compiled,)

    def _propagate(self) -> None:
        graph = self.graph
        reached: set[str] = set()
        for start in self.injected:
            reached |= {start} | nx.descendants(graph, start)
        self.order = graph.topological(reached)
        incoming: dict[str, list[tuple[m.Node, ...]]] = {
            n: list(alts) for n, alts in self.injected.items()
        }
        self.tables: dict[str, Any] = {}
        self.restrictions: dict[str, tuple[m.Node, ...]] = {}
        for node in self.order:
            alternatives = incoming.get(node)
            if not alternatives:
                continue
            restriction = any_of(alternatives)
            self.restrictions[node] = restriction
            table = self._free(node)._derive(restriction=restriction)
            self.tables[node] = table
            for _, child, props in graph.out_edges(node, data=True):
                incoming.setdefault(child, []).append(
                    restriction_along(table, self._free(child), props)
                )
        self.order = [n for n in self.order if n in self.tables]

    # ---- part_integrity="cascade" ----------------------------------------------------------
    def _cascade_to_masters(self) -> None:
        """Add the master rows that deleted part rows reference, until nothing new is added."""
        for _ in range(len(self.graph) + 1):
            added = False
            for node in list(self.order):
                master = self.master(node)
                if master is None:
                    continue
                keys = self._referenced_master_keys(node, master)
                if keys:
                    restriction = self._key_restriction(master, keys)
                    self.injected.setdefault(master, []).append(restriction)
                    added = True
            if not added:
                return
            self._propagate()

    def _referenced_master_keys(self, part: str, master: str) -> list[dict]:
        """Keys of the master rows the part's planned rows reference, not yet in the plan."""
        renames = {p: c for c, p in path_attr_map(self.graph, master, part).items() if c != p}
        referenced = self.tables[part].proj(**renames)
        candidates = self._free(master).restrict(referenced, semantic_check=False)
        if master in self.tables:
            planned = self.tables[master].proj()
            candidates = candidates.restrict(Not(planned), semantic_check=False)
        return candidates.keys()

    # ---- integrity -------------------------------------------------------------------------
    def master(self, node: str) -> str | None:
        """The master of a part table that reaches it by foreign keys (directly, or through
        other parts: a part of a part), else None."""
        master = self.graph.master_of(node)
        return master if master is not None and nx.has_path(self.graph, master, node) else None

    def orphaned_parts(self) -> list[tuple[str, str]]:
        """(part, master) pairs where the plan deletes part rows but the master is not in it."""
        out = []
        for node in self.order:
            master = self.master(node)
            if master is not None and master not in self.tables and self.tables[node]:
                out.append((node, master))
        return out

    def quoted(self, node: str) -> str:
        return self.graph.quoted(node)
