"""A pure-Python reference evaluator of the query algebra (SPEC §6), over lists of dicts.

Nothing here touches SQL or the kernel. An expression is a tree of the frozen dataclasses below
(:class:`Table`, :class:`Restrict`, :class:`Proj`, :class:`Join`, :class:`Aggr`, :class:`Union`,
:class:`UProj`, :class:`UAggr`, :class:`Top`; conditions :class:`CDict`, :class:`CStr`,
:class:`COr`, :class:`CAnd`, :class:`CNot`, :class:`CBool`, :class:`CQuery`). :func:`heading`
computes the heading of a tree (attribute order, primary key, lineage, nullability) and
:func:`evaluate` its rows, both from the SPEC's rules:

* the heading rules are written once, as functions over ``Sig = (names, primary_key)``
  (:func:`proj_sig`, :func:`join_sig`, :func:`aggr_sig`, :func:`union_sig`, ...), so that the
  tests can also apply them to the kernel's own operand headings (:func:`expected_sig`);
* rows follow SQL's three-valued logic, because that is what the SPEC's operators are defined by:
  a comparison with NULL is unknown, ``NOT unknown`` is unknown and a restriction keeps only rows
  whose condition is true; a join or semi-join never matches on NULL; ``DISTINCT``, ``GROUP BY``
  and ``UNION`` treat NULLs as equal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

Row = dict[str, Any]
Sig = tuple[tuple[str, ...], tuple[str, ...]]  # (names in heading order, primary key)
Truth = bool | None  # SQL's three truth values: True, False, unknown (None)

TOP_NO_LIMIT = 999999999999  # SPEC §6.8: an offset without a limit sets this limit


# =============================================================================================
# headings
# =============================================================================================


@dataclass(frozen=True)
class RAttr:
    """One attribute of a reference heading.

    ``kind`` is ``"int"``, ``"float"`` or ``"str"``; ``nullable`` is a sound over-approximation
    ("may hold NULL"); ``lineage`` is the SPEC §6.7 lineage string or None.
    """

    name: str
    kind: str
    in_key: bool = False
    nullable: bool = False
    lineage: str | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")


@dataclass(frozen=True)
class Heading:
    """An ordered tuple of attributes."""

    attrs: tuple[RAttr, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs if a.in_key)

    @property
    def secondary(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs if not a.in_key)

    @property
    def sig(self) -> Sig:
        return self.names, self.primary_key

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> RAttr:
        for a in self.attrs:
            if a.name == name:
                return a
        raise KeyError(name)


@dataclass
class Relation:
    """A heading with its rows (dicts keyed by the heading's names)."""

    heading: Heading
    rows: list[Row] = field(default_factory=list)


# =============================================================================================
# expression trees
# =============================================================================================


class Node:
    """Base class of expression nodes."""


class Cond:
    """Base class of restriction conditions."""


@dataclass(frozen=True)
class Table(Node):
    """Base table number ``index`` of the schema shape."""

    index: int


@dataclass(frozen=True)
class Restrict(Node):
    """``child & cond`` (or ``child - cond`` when ``negate``)."""

    child: Node
    cond: Cond
    negate: bool = False


@dataclass(frozen=True)
class Proj(Node):
    """``child.proj(*keep, [...], *("-x" for x in exclude), **renames, **duplicates, **computed)``.

    ``renames`` are ``(new, old)``; ``duplicates`` are ``(new, old)`` written ``new="(old)"``;
    ``computed`` are ``(new, source)`` written ``new="source + 1"``.
    """

    child: Node
    keep: tuple[str, ...] = ()
    ellipsis: bool = False
    exclude: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    duplicates: tuple[tuple[str, str], ...] = ()
    computed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Join(Node):
    """``left * right``; with ``outer``: ``left.join(right, left=True)`` or ``left.extend(right)``
    (``api`` says which spelling the kernel call uses)."""

    left: Node
    right: Node
    outer: bool = False
    api: str = "*"


@dataclass(frozen=True)
class Aggr(Node):
    """``child.aggr(group, [...], exclude_nonmatching=..., **computations)``.

    ``computations`` are ``(new, function, attribute)`` with function ``count``, ``max`` or
    ``min`` and attribute None for ``count(*)``.
    """

    child: Node
    group: Node
    ellipsis: bool = False
    computations: tuple[tuple[str, str, str | None], ...] = ()
    exclude_nonmatching: bool = False


@dataclass(frozen=True)
class Union(Node):
    """``left + right``."""

    left: Node
    right: Node


@dataclass(frozen=True)
class UProj(Node):
    """``dj.U(*attrs) & child``."""

    attrs: tuple[str, ...]
    child: Node


@dataclass(frozen=True)
class UAggr(Node):
    """``dj.U(*attrs).aggr(child, **computations)`` (computations as in :class:`Aggr`)."""

    attrs: tuple[str, ...]
    child: Node
    computations: tuple[tuple[str, str, str | None], ...] = ()


@dataclass(frozen=True)
class Top(Node):
    """``child & dj.Top(limit, order_by, offset)``; ``order_by`` None means "inherit"."""

    child: Node
    limit: int | None = 1
    order_by: tuple[str, ...] | None = ("KEY",)
    offset: int = 0


@dataclass(frozen=True)
class CDict(Cond):
    """A dict condition ``{k: v, ...}`` (``None`` → ``IS NULL``; unknown keys are ignored)."""

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class CStr(Cond):
    """A SQL string condition on one attribute: ``attr <op> value``.

    ``op`` is a comparison (``>``, ``<``, ``>=``, ``<=``, ``=``, ``<>``), ``between`` (value is
    ``(lo, hi)``), ``is null`` or ``is not null``.
    """

    attr: str
    op: str
    value: Any = None

    @property
    def sql(self) -> str:
        if self.op in ("is null", "is not null"):
            return f"{self.attr} {self.op}"
        if self.op == "between":
            lo, hi = self.value
            return f"{self.attr} between {lo!r} and {hi!r}"
        return f"{self.attr} {self.op} {self.value!r}"


@dataclass(frozen=True)
class COr(Cond):
    """A list condition: the disjunction of its items (empty → False)."""

    items: tuple[Cond, ...]


@dataclass(frozen=True)
class CAnd(Cond):
    """``dj.AndList([...])``: the conjunction of its items (empty → True)."""

    items: tuple[Cond, ...]


@dataclass(frozen=True)
class CNot(Cond):
    """``dj.Not(item)``."""

    item: Cond


@dataclass(frozen=True)
class CBool(Cond):
    """``True`` or ``False``."""

    value: bool


@dataclass(frozen=True)
class CQuery(Cond):
    """A query expression as a condition (a semi-join on the common attribute names)."""

    node: Node


# =============================================================================================
# the heading rules of SPEC §6, on (names, primary key)
# =============================================================================================


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n, None)
    return tuple(seen)


def _secondary(sig: Sig) -> tuple[str, ...]:
    names, pk = sig
    return tuple(n for n in names if n not in pk)


def determines(a: Sig, b: Sig) -> bool:
    """``A → B``: PK(B) ⊆ names(A) (an empty PK(B) is always determined)."""
    return set(b[1]) <= set(a[0])


def proj_sig(
    a: Sig,
    keep: Sequence[str] = (),
    ellipsis: bool = False,
    exclude: Sequence[str] = (),
    renames: Sequence[tuple[str, str]] = (),
    duplicates: Sequence[tuple[str, str]] = (),
    computed: Sequence[str] = (),
) -> Sig:
    """SPEC §6.2: the PK is kept (renamed PK attributes stay PK under their new names, a
    duplicate of a PK attribute is PK); the heading walk emits each selected attribute, then its
    renames, then its duplicates; computed attributes come last."""
    names, pk = a
    sources = {old for _, old in renames}
    selected = set(pk) | set(keep)
    if ellipsis:
        selected |= set(_secondary(a))
    selected -= set(exclude)
    selected -= {s for s in sources if s not in keep}
    out: list[str] = []
    key: list[str] = []
    for n in names:
        group = [n] if n in selected else []
        group += [new for new, old in renames if old == n]
        group += [new for new, old in duplicates if old == n]
        out += group
        if n in pk:
            key += group
    out += list(computed)
    return tuple(out), tuple(key)


def join_sig(a: Sig, b: Sig, left: bool = False) -> Sig:
    """SPEC §6.3: the heading join (A → B wins ties; a left join requires A → B)."""
    a_names, a_pk = a
    b_names, b_pk = b
    a_sec, b_sec = _secondary(a), _secondary(b)
    if left or determines(a, b):
        return (*a_pk, *a_sec, *(n for n in b_names if n not in a_names)), a_pk
    if determines(b, a):
        return (*b_pk, *b_sec, *(n for n in a_names if n not in b_names)), b_pk
    pk = (*a_pk, *(n for n in b_pk if n not in a_pk))
    rest = [n for n in a_sec if n not in b_pk] + [n for n in b_sec if n not in a_pk]
    return _dedupe((*pk, *rest)), pk


def aggr_sig(a: Sig, b: Sig, ellipsis: bool, computed: Sequence[str]) -> Sig:
    """SPEC §6.4: PK(A), then the selected attributes (``...`` = secondary of A) in the joined
    heading's order, then the computations."""
    selected = set(_secondary(a)) if ellipsis else set()
    joined_names, _ = join_sig(a, b)
    return (*a[1], *(n for n in joined_names if n in selected), *computed), a[1]


def union_sig(a: Sig, b: Sig) -> Sig:
    """SPEC §6.5: PK(A) in A's order, secondary(A), secondary(B)."""
    return (*a[1], *_secondary(a), *_secondary(b)), a[1]


def uproj_sig(attrs: Sequence[str]) -> Sig:
    """SPEC §6.6: ``dj.U(*a) & Q`` has heading and PK ``a``."""
    return tuple(attrs), tuple(attrs)


def uaggr_sig(attrs: Sequence[str], computed: Sequence[str]) -> Sig:
    """SPEC §6.6: ``dj.U(*a).aggr(Q, ...)`` has PK ``a`` and heading ``a`` + computations."""
    return (*attrs, *computed), tuple(attrs)


def expected_sig(node: Node, operands: Sequence[Sig]) -> Sig:
    """The heading signature SPEC §6 gives ``node`` from the signatures of its operands (in the
    order of :func:`operands`)."""
    if isinstance(node, Restrict | Top):
        return operands[0]
    if isinstance(node, Proj):
        return proj_sig(
            operands[0],
            node.keep,
            node.ellipsis,
            node.exclude,
            node.renames,
            node.duplicates,
            [new for new, _ in node.computed],
        )
    if isinstance(node, Join):
        return join_sig(operands[0], operands[1], left=node.outer)
    if isinstance(node, Aggr):
        return aggr_sig(operands[0], operands[1], node.ellipsis, [c[0] for c in node.computations])
    if isinstance(node, Union):
        return union_sig(operands[0], operands[1])
    if isinstance(node, UProj):
        return uproj_sig(node.attrs)
    if isinstance(node, UAggr):
        return uaggr_sig(node.attrs, [c[0] for c in node.computations])
    raise TypeError(f"no heading rule for {type(node).__name__}")


def operands(node: Node) -> tuple[Node, ...]:
    """The expression operands of ``node`` (conditions excluded)."""
    if isinstance(node, Restrict | Proj | Top | UProj | UAggr):
        return (node.child,)
    if isinstance(node, Join | Union):
        return (node.left, node.right)
    if isinstance(node, Aggr):
        return (node.child, node.group)
    return ()


def condition_queries(cond: Cond) -> list[Node]:
    """The query expressions nested in a condition."""
    if isinstance(cond, CQuery):
        return [cond.node]
    if isinstance(cond, COr | CAnd):
        return [q for c in cond.items for q in condition_queries(c)]
    if isinstance(cond, CNot):
        return condition_queries(cond.item)
    return []


def walk(node: Node) -> Iterable[Node]:
    """Every node of the tree (operands and condition queries), children first."""
    for child in operands(node):
        yield from walk(child)
    if isinstance(node, Restrict):
        for q in condition_queries(node.cond):
            yield from walk(q)
    yield node


# =============================================================================================
# headings of expressions
# =============================================================================================


def _rebuild(
    sig: Sig, pool: dict[str, RAttr], overrides: dict[str, RAttr] | None = None
) -> Heading:
    """A heading in ``sig``'s order, taking each attribute from ``pool`` with the key flag set."""
    names, pk = sig
    overrides = overrides or {}
    return Heading(
        tuple(replace(overrides.get(n) or pool[n], name=n, in_key=n in pk) for n in names)
    )


def _computation_attr(name: str, function: str, attr: RAttr | None) -> RAttr:
    if function == "count":
        return RAttr(name, "int", nullable=False, lineage=None)
    assert attr is not None
    return RAttr(name, attr.kind, nullable=True, lineage=None)


class Reference:
    """Headings and rows of expressions over one schema shape.

    ``tables`` are the base tables' headings (with lineage); ``data`` (optional) their rows.
    """

    def __init__(self, tables: Sequence[Heading], data: Sequence[list[Row]] | None = None):
        self.tables = list(tables)
        self.data = [list(rows) for rows in data] if data is not None else None
        self._headings: dict[Node, Heading] = {}
        self._relations: dict[Node, Relation] = {}

    # ---- headings -------------------------------------------------------------------------
    def heading(self, node: Node) -> Heading:
        """The heading SPEC §6 gives ``node``: order, primary key, lineage, nullability."""
        found = self._headings.get(node)
        if found is None:
            found = self._heading(node)
            self._headings[node] = found
        return found

    def _heading(self, node: Node) -> Heading:
        if isinstance(node, Table):
            return self.tables[node.index]
        if isinstance(node, Restrict | Top):
            return self.heading(node.child)
        if isinstance(node, Proj):
            a = self.heading(node.child)
            pool = {x.name: x for x in a.attrs}
            for new, old in (*node.renames, *node.duplicates):
                pool[new] = replace(pool[old], name=new)
            for new, src in node.computed:
                pool[new] = RAttr(new, a[src].kind, nullable=a[src].nullable, lineage=None)
            return _rebuild(expected_sig(node, [a.sig]), pool)
        if isinstance(node, Join):
            a, b = self.heading(node.left), self.heading(node.right)
            pool = {x.name: x for x in b.attrs}
            if node.outer:
                pool = {n: replace(x, nullable=True) for n, x in pool.items()}
            pool.update({x.name: x for x in a.attrs})
            if not node.outer:  # a NULL never matches: common attributes are not NULL
                for n in set(a.names) & set(b.names):
                    pool[n] = replace(pool[n], nullable=False)
            return _rebuild(expected_sig(node, [a.sig, b.sig]), pool)
        if isinstance(node, Aggr):
            a, b = self.heading(node.child), self.heading(node.group)
            pool = {x.name: x for x in a.attrs}
            for name, function, attr in node.computations:
                pool[name] = _computation_attr(name, function, b[attr] if attr else None)
            return _rebuild(expected_sig(node, [a.sig, b.sig]), pool)
        if isinstance(node, Union):
            a, b = self.heading(node.left), self.heading(node.right)
            pool = {x.name: replace(x, nullable=True) for x in (*a.attrs, *b.attrs)}
            pool.update({x.name: x for x in a.attrs if x.in_key})
            return _rebuild(expected_sig(node, [a.sig, b.sig]), pool)
        if isinstance(node, UProj):
            q = self.heading(node.child)
            return _rebuild(expected_sig(node, [q.sig]), {x.name: x for x in q.attrs})
        if isinstance(node, UAggr):
            q = self.heading(node.child)
            pool = {x.name: x for x in q.attrs}
            for name, function, attr in node.computations:
                pool[name] = _computation_attr(name, function, q[attr] if attr else None)
            return _rebuild(expected_sig(node, [q.sig]), pool)
        raise TypeError(f"unknown node {node!r}")

    # ---- rows -----------------------------------------------------------------------------
    def evaluate(self, node: Node) -> Relation:
        """The rows and heading of ``node``."""
        found = self._relations.get(node)
        if found is None:
            found = Relation(self.heading(node), self._rows(node))
            self._relations[node] = found
        return found

    def rows(self, node: Node) -> list[Row]:
        return self.evaluate(node).rows

    def _rows(self, node: Node) -> list[Row]:
        names = self.heading(node).names
        if isinstance(node, Table):
            assert self.data is not None, "no data given to the reference evaluator"
            return [dict(r) for r in self.data[node.index]]
        if isinstance(node, Restrict):
            a = self.evaluate(node.child)
            test = self.condition(node.cond, a.heading)
            if node.negate:
                return [r for r in a.rows if not_(test(r)) is True]
            return [r for r in a.rows if test(r) is True]
        if isinstance(node, Proj):
            out = []
            for r in self.rows(node.child):
                row = dict(r)
                for new, old in (*node.renames, *node.duplicates):
                    row[new] = r[old]
                for new, src in node.computed:
                    row[new] = None if r[src] is None else r[src] + 1
                out.append({n: row[n] for n in names})
            return out
        if isinstance(node, Join):
            return self._join(node.left, node.right, node.outer, names)
        if isinstance(node, Aggr):
            return self._aggr(node, names)
        if isinstance(node, Union):
            return self._union(node, names)
        if isinstance(node, UProj):
            return distinct([{n: r[n] for n in names} for r in self.rows(node.child)])
        if isinstance(node, UAggr):
            return self._uaggr(node, names)
        if isinstance(node, Top):
            return self._top(resolve_top(node, self))
        raise TypeError(f"unknown node {node!r}")

    def _join(self, left: Node, right: Node, outer: bool, names: Sequence[str]) -> list[Row]:
        a, b = self.evaluate(left), self.evaluate(right)
        common = [n for n in a.heading.names if n in b.heading.names]
        out = []
        for ra in a.rows:
            matches = [rb for rb in b.rows if all(sql_eq(ra[n], rb[n]) is True for n in common)]
            if not matches and outer:
                matches = [dict.fromkeys(b.heading.names)]
            for rb in matches:
                row = {**rb, **ra}
                out.append({n: row[n] for n in names})
        return out

    def _aggr(self, node: Aggr, names: Sequence[str]) -> list[Row]:
        a, b = self.evaluate(node.child), self.evaluate(node.group)
        common = [n for n in a.heading.names if n in b.heading.names]
        out = []
        for ra in a.rows:
            group = [rb for rb in b.rows if all(sql_eq(ra[n], rb[n]) is True for n in common)]
            if not group:
                if node.exclude_nonmatching:
                    continue
                group = [dict.fromkeys(b.heading.names)]  # the LEFT JOIN's row of NULLs
            row = dict(ra)
            row.update(aggregate(node.computations, group))
            out.append({n: row[n] for n in names})
        return out

    def _union(self, node: Union, names: Sequence[str]) -> list[Row]:
        a, b = self.evaluate(node.left), self.evaluate(node.right)
        if not a.heading.secondary and not b.heading.secondary:
            rows = [{n: r[n] for n in names} for r in (*a.rows, *b.rows)]
            return distinct(rows)
        # the outer union: (A LEFT JOIN B) UNION (B - A, A's secondary attributes NULL)
        joined = self._join(node.left, node.right, True, names)
        b_only = self.rows(Restrict(node.right, CQuery(node.left), negate=True))
        rest = [{n: r.get(n) for n in names} for r in b_only]
        return distinct(joined + rest)

    def _uaggr(self, node: UAggr, names: Sequence[str]) -> list[Row]:
        q = self.evaluate(node.child)
        groups: dict[tuple, list[Row]] = {}
        for r in q.rows:
            groups.setdefault(tuple(r[n] for n in node.attrs), []).append(r)
        if not node.attrs and not groups:
            groups[()] = []  # no GROUP BY: one row even over an empty input
        out = []
        for key, group in groups.items():
            row = dict(zip(node.attrs, key, strict=True))
            row.update(aggregate(node.computations, group))
            out.append({n: row[n] for n in names})
        return out

    def _top(self, top: Top) -> list[Row]:
        child = top.child
        rows = self._top(child) if isinstance(child, Top) else self.rows(child)
        heading = self.heading(child)
        order = expand_order(top.order_by or ("KEY",), heading.primary_key)
        ordered = sorted(rows, key=functools.cmp_to_key(_row_cmp(order)))
        limit = top.limit
        if limit is None and top.offset:
            limit = TOP_NO_LIMIT
        end = None if limit is None else top.offset + limit
        return ordered[top.offset : end]

    def transparent(self, node: Node) -> Node:
        """``node`` with restrictions by constantly true conditions peeled off: the kernel
        returns the operand itself for them (SPEC §6.1), Top and all."""
        while isinstance(node, Restrict):
            value = self.constant(node.cond, self.heading(node.child))
            if value is None or value == node.negate:
                break
            node = node.child
        return node

    # ---- conditions -----------------------------------------------------------------------
    def constant(self, cond: Cond, heading: Heading) -> bool | None:
        """The value a condition folds to when the kernel builds it (SPEC §6.1), or None when it
        depends on the row: booleans; a dict with no key in the heading (True); OR lists (any
        True → True, False items dropped, empty → False); AndLists (any False → False, True
        items dropped, empty → True); Not; a query with no common attribute (its emptiness)."""
        if isinstance(cond, CBool):
            return cond.value
        if isinstance(cond, CDict):
            return True if not any(k in heading.names for k, _ in cond.items) else None
        if isinstance(cond, COr | CAnd):
            values = [self.constant(c, heading) for c in cond.items]
            absorbing = isinstance(cond, COr)  # True absorbs an OR, False an AND
            if absorbing in values:
                return absorbing
            return (not absorbing) if all(v is not None for v in values) else None
        if isinstance(cond, CNot):
            value = self.constant(cond.item, heading)
            return None if value is None else not value
        if isinstance(cond, CQuery):
            other = self.evaluate(cond.node)
            if not any(n in other.heading.names for n in heading.names):
                return bool(other.rows)
        return None

    def condition(self, cond: Cond, heading: Heading) -> Callable[[Row], Truth]:
        """A three-valued predicate for ``cond`` over rows of ``heading`` (SPEC §6.1)."""
        if isinstance(cond, CBool):
            return lambda _r, v=cond.value: v
        if isinstance(cond, CDict):
            items = [(k, v) for k, v in cond.items if k in heading.names]
            if not items:
                return lambda _r: True

            def test_dict(r: Row) -> Truth:
                return and_(*((r[k] is None) if v is None else sql_eq(r[k], v) for k, v in items))

            return test_dict
        if isinstance(cond, CStr):
            return lambda r, c=cond: compare(r[c.attr], c.op, c.value)
        if isinstance(cond, COr):
            tests = [self.condition(c, heading) for c in cond.items]
            return lambda r: or_(*(t(r) for t in tests))
        if isinstance(cond, CAnd):
            tests = [self.condition(c, heading) for c in cond.items]
            return lambda r: and_(*(t(r) for t in tests))
        if isinstance(cond, CNot):
            test = self.condition(cond.item, heading)
            return lambda r: not_(test(r))
        if isinstance(cond, CQuery):
            other = self.evaluate(cond.node)
            common = [n for n in heading.names if n in other.heading.names]
            if not common:
                nonempty = bool(other.rows)
                return lambda _r: nonempty
            values = distinct([{n: r[n] for n in common} for r in other.rows])
            tuples = [tuple(v[n] for n in common) for v in values]
            return lambda r: sql_in(tuple(r[n] for n in common), tuples)
        raise TypeError(f"unknown condition {cond!r}")


# =============================================================================================
# Top
# =============================================================================================


def resolve_top(node: Top, reference: Reference) -> Top:
    """Apply SPEC §6.8's merge rule to a chain of Tops: a Top applied to a Top-carrying query
    merges with it when its order_by is None or equal (limit = the smaller non-None limit,
    order_by kept, offsets add); otherwise it wraps the query and applies after it. Restrictions
    by constantly true conditions in between return their operand itself (§6.1), so they do not
    separate the Tops."""
    child = reference.transparent(node.child)
    if not isinstance(child, Top):
        return node if child is node.child else replace(node, child=child)
    inner = resolve_top(child, reference)
    if node.order_by is None or node.order_by == inner.order_by:
        limits = [x for x in (_effective_limit(inner), _effective_limit(node)) if x is not None]
        return Top(
            inner.child,
            limit=min(limits) if limits else None,
            order_by=inner.order_by,
            offset=inner.offset + node.offset,
        )
    return replace(node, child=inner)


def without_attached_top(node: Node, reference: Reference) -> Node:
    """``node`` without the Top attached to it: what ``bool()`` evaluates (SPEC §6.8: "bool(Q)
    ignores the Top"). A Top that an unmerged later Top wrapped in a subquery still applies."""
    node = reference.transparent(node)
    return resolve_top(node, reference).child if isinstance(node, Top) else node


def _effective_limit(top: Top) -> int | None:
    return TOP_NO_LIMIT if top.limit is None and top.offset else top.limit


def expand_order(order_by: Sequence[str], primary_key: Sequence[str]) -> list[tuple[str, bool]]:
    """``order_by`` items as ``(attribute, descending)``; ``KEY`` expands to the primary key."""
    out: list[tuple[str, bool]] = []
    for item in order_by:
        words = item.split()
        descending = len(words) > 1 and words[-1].upper() == "DESC"
        if words[0] == "KEY":
            out += [(n, descending) for n in primary_key]
        else:
            out.append((words[0], descending))
    return out


def _row_cmp(order: list[tuple[str, bool]]) -> Callable[[Row, Row], int]:
    def cmp(x: Row, y: Row) -> int:
        for name, descending in order:
            a, b = x[name], y[name]
            if a is None or b is None:
                raise ValueError(f"ordering by `{name}` meets NULL (backend-dependent order)")
            if a != b:
                return (1 if a > b else -1) * (-1 if descending else 1)
        return 0

    return cmp


# =============================================================================================
# SQL semantics helpers
# =============================================================================================


def sql_eq(x: Any, y: Any) -> Truth:
    """``x = y`` in SQL: unknown when either side is NULL."""
    if x is None or y is None:
        return None
    return x == y


def compare(x: Any, op: str, value: Any) -> Truth:
    """``x <op> value`` in SQL (see :class:`CStr`)."""
    if op == "is null":
        return x is None
    if op == "is not null":
        return x is not None
    if x is None:
        return None
    if op == "between":
        lo, hi = value
        return lo <= x <= hi
    return {
        ">": x > value,
        "<": x < value,
        ">=": x >= value,
        "<=": x <= value,
        "=": x == value,
        "<>": x != value,
    }[op]


def and_(*values: Truth) -> Truth:
    """Three-valued AND (empty → True)."""
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def or_(*values: Truth) -> Truth:
    """Three-valued OR (empty → False)."""
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def not_(value: Truth) -> Truth:
    """Three-valued NOT."""
    return None if value is None else not value


def sql_in(values: tuple, candidates: Sequence[tuple]) -> Truth:
    """``(a, b) IN (SELECT ...)``: true on an equal row, unknown when only NULLs prevent one."""
    result: Truth = False
    for cand in candidates:
        match = and_(*(sql_eq(v, c) for v, c in zip(values, cand, strict=True)))
        if match is True:
            return True
        if match is None:
            result = None
    return result


def distinct(rows: Iterable[Row]) -> list[Row]:
    """Rows without duplicates (NULLs equal, as DISTINCT/UNION/GROUP BY treat them)."""
    seen: dict[tuple, Row] = {}
    for r in rows:
        seen.setdefault(tuple(r.items()), r)
    return list(seen.values())


def aggregate(computations: Sequence[tuple[str, str, str | None]], group: list[Row]) -> Row:
    """``count(*)``, ``count(x)``, ``max(x)``, ``min(x)`` over ``group`` (NULLs ignored)."""
    out: Row = {}
    for name, function, attr in computations:
        if function == "count":
            out[name] = len(group) if attr is None else sum(r[attr] is not None for r in group)
            continue
        assert attr is not None
        values = [r[attr] for r in group if r[attr] is not None]
        out[name] = (max if function == "max" else min)(values) if values else None
    return out


def computation_sql(function: str, attr: str | None) -> str:
    """The SQL text of a computation: ``count(*)``, ``max(x)``, ..."""
    return f"{function}({attr or '*'})"
