"""Declared schema pools, translation of reference trees into kernel expressions, and checks.

A :class:`Pool` holds, for one backend, the shapes of :func:`strategies.generate_shapes` declared
once in a throwaway schema. Each Hypothesis example inserts its rows inside a transaction and
rolls it back afterwards (:meth:`Pool.example`), which is much cheaper than deleting.
:class:`Builder` turns a tree of :mod:`reference` nodes into the kernel's query expression (and
:func:`render` into the equivalent Python source, for failure reports).
"""

from __future__ import annotations

import decimal
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datajoint as dj
from datajoint.testing.fixtures import make_connection, throwaway_schema

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
    Reference,
    Restrict,
    Row,
    Sig,
    Table,
    Top,
    UAggr,
    Union,
    UProj,
    computation_sql,
    expected_sig,
    operands,
    walk,
)
from .strategies import ShapeSpec, shape_headings

# =============================================================================================
# declared pools
# =============================================================================================


@dataclass
class DeclaredShape:
    """A shape declared on one backend: its table classes and reference headings."""

    spec: ShapeSpec
    classes: list[type]
    headings: list[Heading]

    def __repr__(self) -> str:  # short: Hypothesis prints drawn values
        return f"<shape {self.spec.index}: {', '.join(c.__name__ for c in self.classes)}>"


@dataclass
class Pool:
    """The declared shapes of one backend, with the connection and schema they live in."""

    backend: str
    connection: Any
    schema: Any
    shapes: list[DeclaredShape]
    _stack: ExitStack = field(repr=False, default_factory=ExitStack)

    @classmethod
    def open(cls, backend: str, sqlite_file: Path, specs: Sequence[ShapeSpec]) -> Pool:
        """Connect, create a throwaway schema and declare every shape in it."""
        stack = ExitStack()
        connection = make_connection(backend, sqlite_file)
        stack.callback(connection.close)
        schema = stack.enter_context(throwaway_schema(connection, prefix="djalg"))
        try:
            shapes = [declare_shape(schema, spec) for spec in specs]
        except BaseException:
            stack.close()
            raise
        return cls(backend, connection, schema, shapes, stack)

    def close(self) -> None:
        self._stack.close()

    @contextmanager
    def example(self, shape: DeclaredShape, data: Sequence[list[Row]]) -> Iterator[None]:
        """Insert ``data`` into ``shape``'s tables for the duration of the block (rolled back)."""
        self.connection.start_transaction()
        try:
            for table, rows in zip(shape.classes, data, strict=True):
                if rows:
                    table.insert(rows)
            yield
        finally:
            self.connection.cancel_transaction()


def declare_shape(schema: Any, spec: ShapeSpec) -> DeclaredShape:
    """Declare the tables of ``spec`` in ``schema`` as Manual tables."""
    context: dict[str, Any] = {}
    classes = []
    for table in spec.tables:
        cls = type(
            table.class_name, (dj.Manual,), {"definition": table.definition, "__module__": __name__}
        )
        schema(cls, context=context)
        context[table.class_name] = cls
        classes.append(cls)
    database = schema.database

    def lineage_of(index: int, attr: str) -> str:
        return f"{database}.{classes[index].table_name}.{attr}"

    return DeclaredShape(spec, classes, shape_headings(spec, lineage_of))


# =============================================================================================
# building kernel expressions
# =============================================================================================


class Builder:
    """Translates reference trees into kernel query expressions over one declared shape."""

    def __init__(self, classes: Sequence[type]):
        self.classes = list(classes)
        self._built: dict[Node, Any] = {}

    def build(self, node: Node) -> Any:
        """The kernel expression of ``node`` (built once per node)."""
        found = self._built.get(node)
        if found is None:
            found = self._build(node)
            self._built[node] = found
        return found

    def _build(self, node: Node) -> Any:
        if isinstance(node, Table):
            return self.classes[node.index]()
        if isinstance(node, Restrict):
            child = self.build(node.child)
            cond = self.condition(node.cond)
            return child - cond if node.negate else child & cond
        if isinstance(node, Proj):
            args, named = proj_arguments(node)
            return self.build(node.child).proj(*args, **named)
        if isinstance(node, Join):
            a, b = self.build(node.left), self.build(node.right)
            if not node.outer:
                return a * b
            return a.extend(b) if node.api == "extend" else a.join(b, left=True)
        if isinstance(node, Aggr):
            extra = (...,) if node.ellipsis else ()
            kwargs: dict[str, Any] = dict(computation_arguments(node.computations))
            if node.exclude_nonmatching:
                kwargs["exclude_nonmatching"] = True
            return self.build(node.child).aggr(self.build(node.group), *extra, **kwargs)
        if isinstance(node, Union):
            return self.build(node.left) + self.build(node.right)
        if isinstance(node, UProj):
            return dj.U(*node.attrs) & self.build(node.child)
        if isinstance(node, UAggr):
            named = computation_arguments(node.computations)
            return dj.U(*node.attrs).aggr(self.build(node.child), **named)
        if isinstance(node, Top):
            return self.build(node.child) & dj.Top(**top_arguments(node))
        raise TypeError(f"unknown node {node!r}")

    def condition(self, cond: Cond) -> Any:
        """The Python object the kernel receives for ``cond``."""
        if isinstance(cond, CBool):
            return cond.value
        if isinstance(cond, CDict):
            return dict(cond.items)
        if isinstance(cond, CStr):
            return cond.sql
        if isinstance(cond, COr):
            return [self.condition(c) for c in cond.items]
        if isinstance(cond, CAnd):
            return dj.AndList([self.condition(c) for c in cond.items])
        if isinstance(cond, CNot):
            return dj.Not(self.condition(cond.item))
        if isinstance(cond, CQuery):
            return self.build(cond.node)
        raise TypeError(f"unknown condition {cond!r}")


def proj_arguments(node: Proj) -> tuple[list[Any], dict[str, str]]:
    """Positional and named arguments of the ``proj`` call a :class:`Proj` node stands for."""
    args: list[Any] = list(node.keep)
    if node.ellipsis:
        args.append(...)
    args += [f"-{n}" for n in node.exclude]
    named = {new: old for new, old in node.renames}
    named.update({new: f"({old})" for new, old in node.duplicates})
    named.update({new: f"{src} + 1" for new, src in node.computed})
    return args, named


def computation_arguments(
    computations: Sequence[tuple[str, str, str | None]],
) -> dict[str, str]:
    return {name: computation_sql(fn, attr) for name, fn, attr in computations}


def top_arguments(node: Top) -> dict[str, Any]:
    order: Any = node.order_by
    if order is not None:
        order = order[0] if order == ("KEY",) else list(order)
    return {"limit": node.limit, "order_by": order, "offset": node.offset}


# =============================================================================================
# rendering (Python source of an expression, for failure reports)
# =============================================================================================


def render(node: Node, classes: Sequence[type]) -> str:
    """Python source that builds ``node`` with the kernel (``dj`` and the table classes)."""
    r = lambda n: render(n, classes)  # noqa: E731
    if isinstance(node, Table):
        return f"{classes[node.index].__name__}()"
    if isinstance(node, Restrict):
        return f"({r(node.child)} {'-' if node.negate else '&'} {render_condition(node.cond, classes)})"
    if isinstance(node, Proj):
        args, named = proj_arguments(node)
        parts = ["..." if a is ... else repr(a) for a in args]
        parts += [f"{k}={v!r}" for k, v in named.items()]
        return f"{r(node.child)}.proj({', '.join(parts)})"
    if isinstance(node, Join):
        if not node.outer:
            return f"({r(node.left)} * {r(node.right)})"
        if node.api == "extend":
            return f"{r(node.left)}.extend({r(node.right)})"
        return f"{r(node.left)}.join({r(node.right)}, left=True)"
    if isinstance(node, Aggr):
        parts = [r(node.group)] + (["..."] if node.ellipsis else [])
        if node.exclude_nonmatching:
            parts.append("exclude_nonmatching=True")
        parts += [f"{k}={v!r}" for k, v in computation_arguments(node.computations).items()]
        return f"{r(node.child)}.aggr({', '.join(parts)})"
    if isinstance(node, Union):
        return f"({r(node.left)} + {r(node.right)})"
    if isinstance(node, UProj):
        return f"(dj.U({', '.join(map(repr, node.attrs))}) & {r(node.child)})"
    if isinstance(node, UAggr):
        parts = [r(node.child)]
        parts += [f"{k}={v!r}" for k, v in computation_arguments(node.computations).items()]
        return f"dj.U({', '.join(map(repr, node.attrs))}).aggr({', '.join(parts)})"
    if isinstance(node, Top):
        args = ", ".join(f"{k}={v!r}" for k, v in top_arguments(node).items())
        return f"({r(node.child)} & dj.Top({args}))"
    raise TypeError(f"unknown node {node!r}")


def render_condition(cond: Cond, classes: Sequence[type]) -> str:
    """Python source of a condition."""
    if isinstance(cond, CBool):
        return repr(cond.value)
    if isinstance(cond, CDict):
        return repr(dict(cond.items))
    if isinstance(cond, CStr):
        return repr(cond.sql)
    if isinstance(cond, COr):
        return "[" + ", ".join(render_condition(c, classes) for c in cond.items) + "]"
    if isinstance(cond, CAnd):
        return "dj.AndList([" + ", ".join(render_condition(c, classes) for c in cond.items) + "])"
    if isinstance(cond, CNot):
        return f"dj.Not({render_condition(cond.item, classes)})"
    if isinstance(cond, CQuery):
        return render(cond.node, classes)
    raise TypeError(f"unknown condition {cond!r}")


def reproduction(shape: DeclaredShape, data: Sequence[list[Row]], node: Node | None) -> str:
    """A self-contained description of an example: definitions, rows and the expression."""
    lines = ["# tables (declared in this order):", shape.spec.describe(), "# rows:"]
    for cls, rows in zip(shape.classes, data, strict=True):
        lines.append(f"{cls.__name__}.insert({rows!r})")
    if node is not None:
        lines += ["# expression:", render(node, shape.classes)]
    return "\n".join(lines)


# =============================================================================================
# comparisons
# =============================================================================================


def kernel_sig(query: Any) -> Sig:
    """(visible names in heading order, primary key) of a kernel expression."""
    return tuple(query.heading.names), tuple(query.primary_key)


def normalize(value: Any) -> Any:
    """A value in a form comparable across backends (numbers as rounded floats)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | decimal.Decimal) or hasattr(value, "item"):
        number = float(value)
        return None if math.isnan(number) else round(number, 6)
    return value


def row_multiset(rows: Sequence[Row], names: Sequence[str]) -> Counter:
    """Rows as a multiset of normalized tuples over ``names``."""
    return Counter(tuple(normalize(r[n]) for n in names) for r in rows)


def multiset_diff(actual: Counter, expected: Counter) -> str:
    missing = expected - actual
    extra = actual - expected
    return f"missing rows {sorted(missing.elements(), key=repr)}; unexpected rows {sorted(extra.elements(), key=repr)}"


def signature_problems(root: Node, builder: Builder, reference: Reference) -> list[str]:
    """For every node of the tree: the kernel's heading and primary key must equal (1) the
    SPEC rule applied to the kernel's own operand headings and (2) the reference heading."""
    problems = []
    for node in walk(root):
        actual = kernel_sig(builder.build(node))
        ops = operands(node)
        if ops:
            rule = expected_sig(node, [kernel_sig(builder.build(o)) for o in ops])
            if actual != rule:
                problems.append(
                    f"{type(node).__name__}: kernel heading/PK {actual} != SPEC rule {rule} "
                    f"for operands {[kernel_sig(builder.build(o)) for o in ops]}"
                )
        expected = reference.heading(node).sig
        if actual != expected:
            problems.append(
                f"{type(node).__name__}: kernel heading/PK {actual} != reference {expected}"
            )
    return problems


def lineage_problems(query: Any, heading: Heading) -> list[str]:
    """Attributes whose kernel lineage differs from the SPEC §6.7 lineage."""
    out = []
    for attr in heading.attrs:
        if attr.name in query.heading.names:
            got = query.heading[attr.name].lineage
            if got != attr.lineage:
                out.append(f"lineage of `{attr.name}`: kernel {got!r}, SPEC {attr.lineage!r}")
    return out
