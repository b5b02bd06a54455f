"""Random schemas, rows and query expressions for the algebra property tests.

Three layers:

* :func:`generate_shapes` builds a fixed pool of schema *shapes* from a deterministic seed (plain
  :mod:`random`, not Hypothesis, because shapes are declared once per backend per session):
  2-5 tables, primary keys of 1-3 attributes over tiny integer/string domains, primary and
  secondary foreign keys (some renamed with ``.proj``, some ``[nullable]``, diamonds sharing an
  inherited attribute), secondary attributes (some nullable) whose names recur across tables.
* :func:`table_rows` (Hypothesis) fills a shape with rows that respect its keys and foreign keys.
* :func:`expressions` / :class:`ExpressionGenerator` (Hypothesis) build expression trees of
  :mod:`reference` nodes up to depth 4 that are valid per SPEC §6: joins, restrictions by a query
  and aggregations are made semantically compatible (§6.7) by renaming or projecting away clashing
  attributes of the right operand; union operands get the same primary key and disjoint
  secondary attributes; aggregation groups contain the grouping key; left joins are determined;
  Tops order by attributes that cannot be NULL (NULL ordering differs between backends).
"""

from __future__ import annotations

import itertools
import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .reference import (
    Aggr,
    CAnd,
    CBool,
    CDict,
    CNot,
    Cond,
    COr,
    CQuery,
    CStr,
    Heading,
    Join,
    Node,
    Proj,
    RAttr,
    Reference,
    Restrict,
    Row,
    Table,
    Top,
    UAggr,
    Union,
    UProj,
)

SHAPE_SEED = 20240917
SHAPE_COUNT = 8

SQL_TYPES = {"int": "int16", "str": "varchar(4)", "float": "float64"}
DOMAINS: dict[str, tuple[Any, ...]] = {
    "int": (0, 1, 2, 3),
    "str": ("a", "b", "c"),  # lowercase ASCII: the same order and equality under every collation
    "float": (-1.5, 0.0, 0.25, 2.5),  # exact binary fractions
}
CONDITION_EXTRAS: dict[str, tuple[Any, ...]] = {"int": (4,), "str": ("it's",), "float": (1.0,)}
PK_NAMES = (("id", "int"), ("k", "str"), ("grp", "int"), ("tag", "str"), ("idx", "int"))
SECONDARY_NAMES = (
    ("val", "float"),
    ("num", "int"),
    ("note", "str"),
    ("amt", "float"),
    ("cnt", "int"),
)

ALL_OPS = ("restrict", "proj", "join", "aggr", "union", "uproj", "uaggr", "top")
OP_WEIGHTS = {
    "restrict": 4,
    "proj": 4,
    "join": 4,
    "aggr": 3,
    "union": 2,
    "uproj": 1,
    "uaggr": 2,
    "top": 2,
}


def enabled_ops() -> tuple[str, ...]:
    """The operators expressions may use: all, or those listed in ``DJ_ALGEBRA_OPS`` (a
    debugging aid, e.g. ``DJ_ALGEBRA_OPS=restrict,proj``)."""
    raw = os.environ.get("DJ_ALGEBRA_OPS", "")
    chosen = tuple(op.strip() for op in raw.split(",") if op.strip() in ALL_OPS)
    return chosen or ALL_OPS


# =============================================================================================
# schema shapes
# =============================================================================================


@dataclass
class ColumnSpec:
    """A column of a generated table; ``origin`` is (table index, name) of the native primary-key
    attribute it descends from through foreign keys (None for a native secondary attribute)."""

    name: str
    kind: str
    in_key: bool
    nullable: bool
    origin: tuple[int, str] | None


@dataclass
class ForeignKeySpec:
    """``-> [nullable] Parent[.proj(child="parent", ...)]``; ``mapping`` pairs each child column
    with the parent primary-key attribute it references, in the parent's key order."""

    parent: int
    mapping: tuple[tuple[str, str], ...]
    primary: bool
    nullable: bool = False


@dataclass
class TableSpec:
    """One generated table: its definition lines and the columns they declare (in order)."""

    class_name: str
    lines: list[str] = field(default_factory=list)
    columns: list[ColumnSpec] = field(default_factory=list)
    foreign_keys: list[ForeignKeySpec] = field(default_factory=list)

    @property
    def definition(self) -> str:
        return "\n".join(self.lines) + "\n"

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def primary_key(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.in_key]


@dataclass
class ShapeSpec:
    """A schema shape: tables in declaration (topological) order."""

    index: int
    tables: list[TableSpec]

    def describe(self) -> str:
        out = []
        for t in self.tables:
            out.append(f"{t.class_name}:\n    " + "\n    ".join(t.lines))
        return "\n".join(out)


def generate_shapes(seed: int = SHAPE_SEED, count: int = SHAPE_COUNT) -> list[ShapeSpec]:
    """``count`` schema shapes, the same for the same seed."""
    rng = random.Random(seed)
    return [_shape(rng, i) for i in range(count)]


def _shape(rng: random.Random, index: int) -> ShapeSpec:
    tables: list[TableSpec] = []
    for i in range(rng.randint(2, 5)):
        tables.append(_table(rng, index, i, tables))
    return ShapeSpec(index, tables)


def _fresh_column(table: TableSpec, base: str, i: int) -> str:
    for n in itertools.count():
        name = f"{base}_{chr(97 + i)}{n or ''}"
        if table.column(name) is None:
            return name
    raise AssertionError("unreachable")


def _add_foreign_key(
    rng: random.Random,
    table: TableSpec,
    i: int,
    tables: list[TableSpec],
    parent: int,
    *,
    primary: bool,
    nullable: bool = False,
) -> bool:
    """Add an FK line and the columns it declares; False (nothing added) when it would not fit."""
    parent_key = tables[parent].primary_key
    rename_all = rng.random() < 0.3
    while True:
        mapping: list[tuple[str, str]] = []
        for pc in parent_key:
            name = pc.name
            existing = table.column(name)
            shareable = existing is not None and existing.origin == pc.origin and not nullable
            if rename_all or (existing is not None and not shareable):
                name = _fresh_column(table, pc.name, i)
            mapping.append((name, pc.name))
        new = [(c, p) for c, p in mapping if table.column(c) is None]
        if new or primary or rename_all:
            break
        rename_all = True  # a secondary FK that would add nothing: reference it under new names
    if primary and len(table.primary_key) + len(new) > 3:
        return False
    for c, p in new:
        pc = next(x for x in parent_key if x.name == p)
        table.columns.append(ColumnSpec(c, pc.kind, primary, nullable, pc.origin))
    ref = tables[parent].class_name
    renames = [(c, p) for c, p in mapping if c != p]
    if renames:
        ref += ".proj(" + ", ".join(f'{c}="{p}"' for c, p in renames) + ")"
    table.lines.append(f"-> [nullable] {ref}" if nullable else f"-> {ref}")
    table.foreign_keys.append(ForeignKeySpec(parent, tuple(mapping), primary, nullable))
    return True


def _table(rng: random.Random, shape: int, i: int, tables: list[TableSpec]) -> TableSpec:
    table = TableSpec(f"S{shape}T{i}")
    # primary key: foreign keys to earlier tables and native attributes, in random line order
    items: list[tuple[str, Any]] = []
    if i:
        for parent in rng.sample(range(i), min(i, rng.choice((0, 1, 1, 2)))):
            items.append(("fk", parent))
    for name, kind in rng.sample(PK_NAMES, rng.randint(0 if items else 1, 2)):
        items.append(("attr", (name, kind)))
    rng.shuffle(items)
    for what, item in items:
        if what == "fk":
            _add_foreign_key(rng, table, i, tables, item, primary=True)
        elif table.column(item[0]) is None and len(table.primary_key) < 3:
            name, kind = item
            table.columns.append(ColumnSpec(name, kind, True, False, (i, name)))
            table.lines.append(f"{name} : {SQL_TYPES[kind]}")
    if not table.primary_key:
        name = "id" if table.column("id") is None else "idx"
        table.columns.append(ColumnSpec(name, "int", True, False, (i, name)))
        table.lines.append(f"{name} : int16")
    table.lines.append("---")
    # secondary: maybe a foreign key, and native attributes whose names recur across tables
    secondary: list[tuple[str, Any]] = []
    if i and rng.random() < 0.45:
        secondary.append(("fk", (rng.randrange(i), rng.random() < 0.5)))
    for name, kind in rng.sample(SECONDARY_NAMES, rng.randint(0, 3)):
        secondary.append(("attr", (name, kind, rng.random() < 0.4)))
    rng.shuffle(secondary)
    for what, item in secondary:
        if what == "fk":
            parent, nullable = item
            _add_foreign_key(rng, table, i, tables, parent, primary=False, nullable=nullable)
        elif table.column(item[0]) is None:
            name, kind, nullable = item
            table.columns.append(ColumnSpec(name, kind, False, nullable, None))
            default = " = null" if nullable else ""
            table.lines.append(f"{name}{default} : {SQL_TYPES[kind]}")
    return table


def shape_headings(shape: ShapeSpec, lineage_of: Callable[[int, str], str]) -> list[Heading]:
    """Reference headings of a shape's tables; ``lineage_of(table index, attr)`` gives the
    lineage string of a native primary-key attribute."""
    return [
        Heading(
            tuple(
                RAttr(
                    c.name,
                    c.kind,
                    in_key=c.in_key,
                    nullable=c.nullable,
                    lineage=lineage_of(*c.origin) if c.origin else None,
                )
                for c in t.columns
            )
        )
        for t in shape.tables
    ]


# =============================================================================================
# rows
# =============================================================================================


@st.composite
def table_rows(draw: Any, shape: ShapeSpec, max_rows: int = 5) -> list[list[Row]]:
    """Rows for every table of ``shape``: unique primary keys, foreign keys that reference
    existing parent rows (or are NULL when nullable), values from the small domains."""
    data: list[list[Row]] = []
    for table in shape.tables:
        rows: list[Row] = []
        keys: set[tuple] = set()
        for _ in range(draw(st.integers(0, max_rows))):
            row = _draw_row(draw, table, data)
            if row is None:
                continue
            key = tuple(row[c.name] for c in table.primary_key)
            if key not in keys:
                keys.add(key)
                rows.append(row)
        data.append(rows)
    return data


def _draw_row(draw: Any, table: TableSpec, data: list[list[Row]]) -> Row | None:
    row: Row = {}
    for fk in table.foreign_keys:
        if fk.nullable and draw(st.integers(0, 3)) == 0:
            row.update({c: None for c, _ in fk.mapping})
            continue
        candidates = [
            pr for pr in data[fk.parent] if all(row.get(c, pr[p]) == pr[p] for c, p in fk.mapping)
        ]
        if not candidates:
            if not fk.nullable:
                return None
            row.update({c: None for c, _ in fk.mapping})
            continue
        chosen = candidates[draw(st.integers(0, len(candidates) - 1))]
        row.update({c: chosen[p] for c, p in fk.mapping})
    for column in table.columns:
        if column.name not in row:
            domain = DOMAINS[column.kind] + ((None,) if column.nullable else ())
            row[column.name] = draw(st.sampled_from(domain))
    return row


# =============================================================================================
# expressions
# =============================================================================================


class ExpressionGenerator:
    """Draws valid expression trees over one shape (``tables``: the reference headings)."""

    def __init__(self, draw: Any, tables: Sequence[Heading], ops: Sequence[str] | None = None):
        self.draw = draw
        self.reference = Reference(tables)
        self.table_count = len(tables)
        self.ops = tuple(ops or enabled_ops())
        weighted = [op for op in self.ops for _ in range(OP_WEIGHTS[op])]
        self._op_strategy = st.sampled_from(weighted)
        self._counter = itertools.count(1)
        self.all_names = sorted({a.name for h in tables for a in h.attrs})

    # ---- helpers --------------------------------------------------------------------------
    def heading(self, node: Node) -> Heading:
        return self.reference.heading(node)

    def fresh(self, base: str, taken: set[str]) -> str:
        """A new attribute name derived from ``base`` (unique within the tree)."""
        stem = re.sub(r"_\d+$", "", base)[:10]
        while True:
            name = f"{stem}_{next(self._counter)}"
            if name not in taken:
                taken.add(name)
                return name

    def flag(self, probability_one_in: int = 2) -> bool:
        """True with probability about ``1/probability_one_in`` (shrinks to False)."""
        return self.draw(st.integers(0, probability_one_in - 1)) == probability_one_in - 1

    def subset(self, items: Sequence[str], max_size: int, min_size: int = 0) -> tuple[str, ...]:
        if not items:
            return ()
        chosen = self.draw(
            st.lists(
                st.sampled_from(list(items)), min_size=min_size, max_size=max_size, unique=True
            )
        )
        return tuple(chosen)

    def compatible(self, node: Node, target: Heading, protect: Sequence[str] = ()) -> Node | None:
        """``node`` projected so that every attribute name it shares with ``target`` has the
        same, non-None lineage on both sides (SPEC §6.7): clashing attributes are renamed
        (primary key) or renamed/excluded (secondary). None if a ``protect`` name clashes."""
        h = self.heading(node)
        bad = [
            n
            for n in h.names
            if n in target.names and (h[n].lineage is None or h[n].lineage != target[n].lineage)
        ]
        if not bad:
            return node
        if any(n in protect for n in bad):
            return None
        taken = set(h.names) | set(target.names)
        exclude, renames = [], []
        for n in bad:
            if not h[n].in_key and self.flag():
                exclude.append(n)
            else:
                renames.append((self.fresh(n, taken), n))
        return Proj(node, ellipsis=True, exclude=tuple(exclude), renames=tuple(renames))

    # ---- expressions ----------------------------------------------------------------------
    def expr(self, depth: int) -> Node:
        """An expression of operator depth at most ``depth``."""
        if depth <= 0:
            return self.table()
        op = self.draw(self._op_strategy)
        node = getattr(self, f"_{op}")(depth)
        return node if node is not None else self._restrict(depth)

    def table(self) -> Node:
        return Table(self.draw(st.integers(0, self.table_count - 1)))

    def _child_depth(self, depth: int) -> int:
        return self.draw(st.integers(0, depth - 1))

    def _restrict(self, depth: int) -> Node:
        child = self.expr(depth - 1)
        cond = self.condition(self.heading(child), query_depth=min(1, depth - 1))
        return Restrict(child, cond, negate=self.flag(3))

    def _proj(self, depth: int) -> Node:
        child = self.expr(depth - 1)
        h = self.heading(child)
        taken = set(h.names)
        kinds = ["keep", "ellipsis", "rename", "duplicate", "computed"]
        features = {self.draw(st.sampled_from(kinds))} | self.draw(
            st.sets(st.sampled_from(kinds), max_size=2)
        )
        keep = self.subset(h.secondary, 2, min_size=1) if "keep" in features else ()
        renamed = self.subset(h.names, 2, min_size=1) if "rename" in features else ()
        renames = tuple((self.fresh(n, taken), n) for n in renamed)
        exclude: tuple[str, ...] = ()
        ellipsis = "ellipsis" in features
        if ellipsis:
            exclude = self.subset([n for n in h.secondary if n not in keep + renamed], 2)
        duplicates: tuple[tuple[str, str], ...] = ()
        if "duplicate" in features:
            pool = h.primary_key if h.primary_key and self.flag() else h.names
            original = self.draw(st.sampled_from(pool))
            duplicates = ((self.fresh(original, taken), original),)
        computed: tuple[tuple[str, str], ...] = ()
        numeric = [a.name for a in h.attrs if a.numeric]
        if numeric and "computed" in features:
            computed = ((self.fresh("calc", taken), self.draw(st.sampled_from(numeric))),)
        return Proj(child, keep, ellipsis, exclude, renames, duplicates, computed)

    def parent_child_pairs(self) -> list[tuple[int, int]]:
        """(parent, child) base tables where the child has the parent's primary key (same
        lineage) and the parent lacks the child's: joining them takes the B → A branch."""
        tables = self.reference.tables
        return [
            (p, c)
            for p in range(self.table_count)
            for c in self.tables_containing(tables[p], tables[p].primary_key)
            if not set(tables[c].primary_key) <= set(tables[p].names)
        ]

    def _join(self, depth: int) -> Node:
        """A join; the mode picks which branch of the join rule is likely (SPEC §6.3)."""
        pairs = self.parent_child_pairs()
        modes = ["any", "any", "outer", "child", "neither"]
        modes += ["parent * child"] * 2 if pairs else []
        mode = self.draw(st.sampled_from(modes))
        if mode == "neither":  # a cross join with renamed copies: neither side determines
            left = self.expr(depth - 1)
            hl = self.heading(left)
            table = Table(self.draw(st.integers(0, self.table_count - 1)))
            ht = self.heading(table)
            if hl.primary_key and ht.primary_key:
                taken = set(hl.names) | set(ht.names)
                renames = tuple((self.fresh(n, taken), n) for n in ht.names)
                return Join(left, Proj(table, ellipsis=True, renames=renames))
        if mode == "parent * child":  # B → A
            parent, child = self.draw(st.sampled_from(pairs))
            parent_node: Node = Table(parent)
            if depth > 1 and self.flag():
                condition = self.condition(self.heading(parent_node), query_depth=0)
                parent_node = Restrict(parent_node, condition)
            hp = self.heading(parent_node)
            child_node = self.compatible(Table(child), hp, protect=hp.primary_key)
            if child_node is not None:
                return Join(parent_node, child_node)
        left = self.expr(depth - 1)
        hl = self.heading(left)
        if mode == "outer":
            determined = self.determined_by(left, depth - 1)
            if determined is not None:
                api = self.draw(st.sampled_from(["join", "extend"]))
                return Join(left, determined, outer=True, api=api)
        right: Node | None = None
        containing = [
            i
            for i in self.tables_containing(hl, hl.primary_key)
            if not set(self.reference.tables[i].primary_key) <= set(hl.names)
        ]
        if mode == "child" and containing:  # a right operand that determines the left: B → A
            right = Table(self.draw(st.sampled_from(containing)))
            if self.flag():
                right = Restrict(right, self.condition(self.heading(right), query_depth=0))
            right = self.compatible(right, hl, protect=hl.primary_key)
        if right is None:
            right = self.compatible(self.expr(self._child_depth(depth)), hl)
        assert right is not None
        if self.flag(4):
            left, right = right, left  # the same pair the other way round
        return Join(left, right)

    def tables_containing(self, h: Heading, names: Sequence[str]) -> list[int]:
        """Base tables that have every attribute of ``names`` with the lineage it has in ``h``
        (none when one of them has no lineage)."""
        if any(h[n].lineage is None for n in names):
            return []
        return [
            i
            for i, t in enumerate(self.reference.tables)
            if all(n in t.names and t[n].lineage == h[n].lineage for n in names)
        ]

    def determined_by(self, left: Node, depth: int) -> Node | None:
        """An operand B with ``left → B`` that can be left-joined to ``left``, or None."""
        hl = self.heading(left)
        tables = [
            i
            for i in range(self.table_count)
            if all(
                a.name in hl.names and hl[a.name].lineage == a.lineage
                for a in self.reference.tables[i].attrs
                if a.in_key
            )
        ]
        lined = [a.name for a in hl.attrs if a.lineage is not None]
        options = (["table"] if tables else []) + (["uaggr"] if lined else [])
        if not options:
            return None
        if self.draw(st.sampled_from(options)) == "table":
            node: Node = Table(self.draw(st.sampled_from(tables)))
            if depth > 0 and self.flag():
                node = Restrict(node, self.condition(self.heading(node), query_depth=0))
            return self.compatible(node, hl, protect=self.heading(node).primary_key)
        attrs = self.subset(lined, 2, min_size=1)
        taken = set(hl.names)
        computations = self.computations(hl, exclude=attrs, taken=taken)
        return UAggr(attrs, left, computations)

    def computations(
        self, source: Heading, exclude: Sequence[str], taken: set[str], min_size: int = 1
    ) -> tuple[tuple[str, str, str | None], ...]:
        """1-2 aggregate computations over ``source``'s attributes not in ``exclude``."""
        choices: list[tuple[str, str | None]] = [("count", None)]
        for a in source.attrs:
            if a.name in exclude:
                continue
            choices.append(("count", a.name))
            if a.numeric:
                choices += [("max", a.name), ("min", a.name)]
        picked = self.draw(st.lists(st.sampled_from(choices), min_size=min_size, max_size=2))
        return tuple(
            (self.fresh(f"{fn}_{attr or 'all'}"[:8], taken), fn, attr) for fn, attr in picked
        )

    def _aggr(self, depth: int) -> Node | None:
        a = self.expr(depth - 1)
        ha = self.heading(a)
        if any(ha[n].lineage is None for n in ha.primary_key):
            return None
        key = ha.primary_key
        tables = self.tables_containing(ha, key)
        group: Node | None = None
        if tables and self.flag(3) is False:
            group = Table(self.draw(st.sampled_from(tables)))
            if self.flag():
                group = Restrict(group, self.condition(self.heading(group), query_depth=0))
            group = self.compatible(group, ha, protect=key)
        if group is None:
            keys_only = Proj(a)
            other = self.compatible(self.expr(self._child_depth(depth)), self.heading(keys_only))
            assert other is not None
            group = self.compatible(Join(keys_only, other), ha, protect=key)
            assert group is not None
        hb = self.heading(group)
        taken = set(ha.names) | set(hb.names)
        computations = self.computations(
            hb, exclude=[n for n in hb.names if n in ha.names], taken=taken
        )
        return Aggr(a, group, self.flag(), computations, exclude_nonmatching=self.flag())

    def _union(self, depth: int) -> Node | None:
        a = self.expr(depth - 1)
        ha = self.heading(a)
        if any(ha[n].lineage is None for n in ha.primary_key):
            return None
        other: Node | None = None
        if self.flag(3):
            candidate = self.expr(self._child_depth(depth))
            hc = self.heading(candidate)
            if set(hc.primary_key) == set(ha.primary_key) and all(
                hc[n].lineage == ha[n].lineage for n in ha.primary_key
            ):
                other = candidate
        if other is None:
            other = Restrict(a, self.condition(ha, query_depth=0), negate=self.flag())
        if self.flag(3):  # keys only: a plain UNION
            return Union(Proj(a), Proj(other))
        left: Node = a
        if ha.secondary and self.flag():
            left = Proj(a, keep=self.subset(ha.secondary, 2))
        hl, ho = self.heading(left), self.heading(other)
        taken = set(hl.names) | set(ho.names)
        clash = [n for n in ho.secondary if n in hl.names]
        exclude = tuple(n for n in clash if self.flag())
        renames = tuple((self.fresh(n, taken), n) for n in clash if n not in exclude)
        right = Proj(other, ellipsis=True, exclude=exclude, renames=renames) if clash else other
        return Union(left, right)

    def _uproj(self, depth: int) -> Node | None:
        child = self.expr(depth - 1)
        names = self.heading(child).names
        if not names:
            return None
        return UProj(self.subset(names, 2, min_size=1), child)

    def _uaggr(self, depth: int) -> Node | None:
        child = self.expr(depth - 1)
        h = self.heading(child)
        attrs = self.subset(h.names, 2, min_size=0 if self.flag(4) else 1)
        taken = set(h.names)
        return UAggr(attrs, child, self.computations(h, exclude=attrs, taken=taken))

    def _top(self, depth: int) -> Node | None:
        child = self.expr(depth - 1)
        h = self.heading(child)
        if not h.primary_key or any(h[n].nullable for n in h.primary_key):
            return None
        orders: list[tuple[str, ...] | None] = [("KEY",), ("KEY DESC",)]
        for a in h.attrs:
            if not a.in_key and not a.nullable:
                orders += [(a.name, *h.primary_key), (f"{a.name} DESC", *h.primary_key)]
        if isinstance(child, Top):
            orders += [None, child.order_by, child.order_by]
        order_by = self.draw(st.sampled_from(orders))
        limit = self.draw(st.sampled_from([1, 2, 3, None, 0]))
        offset = self.draw(st.sampled_from([0, 1, 2]))
        return Top(child, limit, order_by, offset)

    # ---- conditions -----------------------------------------------------------------------
    def condition(
        self, h: Heading, query_depth: int = 0, level: int = 0, unknown_keys: bool = True
    ) -> Cond:
        """A restriction condition for an expression of heading ``h``; ``query_depth`` < 0
        leaves out query expressions, ``unknown_keys=False`` dict keys outside ``h``."""
        kinds = ["dict"] * 3 + ["str"] * 3 + ["bool"]
        if level < 2:
            kinds += ["or", "or", "and", "not"]
        if query_depth >= 0 and level < 2:
            kinds += ["query", "query"]
        kind = self.draw(st.sampled_from(kinds))
        if kind == "str":
            numeric = [a for a in h.attrs if a.numeric]
            if not numeric:
                kind = "dict"
            else:
                attr = self.draw(st.sampled_from(numeric))
                op = self.draw(
                    st.sampled_from(
                        [">", "<", ">=", "<=", "=", "<>", "between", "is null", "is not null"]
                    )
                )
                domain = DOMAINS[attr.kind] + CONDITION_EXTRAS[attr.kind]
                if op == "between":
                    lo, hi = sorted(
                        self.draw(st.lists(st.sampled_from(domain), min_size=2, max_size=2))
                    )
                    return CStr(attr.name, op, (lo, hi))
                value = None if op.startswith("is") else self.draw(st.sampled_from(domain))
                return CStr(attr.name, op, value)
        if kind == "dict":
            return self.dict_condition(h, unknown_keys=unknown_keys)
        if kind == "bool":
            return CBool(self.draw(st.booleans()))
        if kind == "or":
            n = self.draw(st.integers(0, 3))
            return COr(
                tuple(self.condition(h, query_depth, level + 1, unknown_keys) for _ in range(n))
            )
        if kind == "and":
            n = self.draw(st.integers(0, 2))
            return CAnd(
                tuple(self.condition(h, query_depth, level + 1, unknown_keys) for _ in range(n))
            )
        if kind == "not":
            return CNot(self.condition(h, query_depth, level + 1, unknown_keys))
        other = self.compatible(self.expr(self.draw(st.integers(0, query_depth))), h)
        assert other is not None
        return CQuery(other)

    def dict_condition(self, h: Heading, unknown_keys: bool = True) -> CDict:
        """A dict over 1-2 attributes of ``h``, now and then (``unknown_keys``) a key outside
        ``h`` (ignored by the kernel); values from the attribute's domain or None."""
        names = list(h.names)
        items = []
        for _ in range(self.draw(st.integers(1, 2))):
            if names and not (unknown_keys and self.flag(6)):
                attr = h[self.draw(st.sampled_from(names))]
                domain = DOMAINS[attr.kind] + CONDITION_EXTRAS[attr.kind] + (None,)
                items.append((attr.name, self.draw(st.sampled_from(domain))))
            else:
                unknown = [n for n in self.all_names if n not in h.names] or ["no_such"]
                items.append((self.draw(st.sampled_from(unknown)), 1))
        return CDict(tuple(dict(items).items()))


@st.composite
def expressions(
    draw: Any, tables: Sequence[Heading], max_depth: int = 4, min_depth: int = 1
) -> Node:
    """An expression tree over a shape whose tables have the reference headings ``tables``."""
    generator = ExpressionGenerator(draw, tables)
    return generator.expr(draw(st.integers(min_depth, max_depth)))
