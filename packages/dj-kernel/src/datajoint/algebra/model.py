"""The backend-neutral query model.

Query expressions compile to these nodes; a dialect renders them to SQL text plus bound parameters
(:meth:`datajoint.backend.dialect.BaseDialect.render`). User values only ever appear as
:class:`Param` nodes, so they reach the driver as bound parameters. :class:`RawSQL` carries SQL
text the user wrote (restriction strings, computed attributes).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

_N = TypeVar("_N", bound="Node")


class Node:
    """Base class of every query-model node."""


def _direct_init(cls: type[_N]) -> type[_N]:
    """Give a frozen dataclass node an ``__init__`` that fills the instance dict directly.

    The generated one sets each field through ``object.__setattr__``, a call per field; this one
    takes the same arguments and defaults. It pays only for a node with many fields built once
    per statement (:class:`Select`): an instance dict written directly is a real dict, so reading
    a field becomes slower and the node larger -- not for the nodes a restriction has thousands of.
    """
    defaults: dict[str, Any] = {}
    params, body = [], []
    for f in fields(cls):  # type: ignore[arg-type]
        if f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: default factories are not supported")
        if f.default is MISSING:
            params.append(f.name)
        else:
            defaults[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    values[{f.name!r}] = {f.name}\n")
    source = f"def __init__(self, {', '.join(params)}):\n    values = self.__dict__\n"
    namespace: dict[str, Any] = {}
    exec(source + "".join(body), defaults, namespace)  # field names only: identifiers
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


@dataclass(frozen=True)
class Param(Node):
    """A value bound as a parameter."""

    value: Any


@dataclass(frozen=True)
class Column(Node):
    """A column reference, optionally qualified by a source alias."""

    name: str
    source: str | None = None


@dataclass(frozen=True)
class JsonPath(Node):
    """The value at ``path`` (e.g. ``a.b[0]``) of a JSON column, cast to ``return_type`` if given."""

    column: str
    path: str
    return_type: str | None = None


@dataclass(frozen=True)
class RawSQL(Node):
    """SQL text written by the user (or by the kernel from identifiers only)."""

    text: str


@dataclass(frozen=True)
class Literal(Node):
    """A constant truth value: TRUE or FALSE."""

    value: bool


@dataclass(frozen=True)
class Compare(Node):
    """``left op right`` with ``op`` one of =, <>, <, <=, >, >=."""

    left: Node
    op: str
    right: Node


@dataclass(frozen=True)
class IsNull(Node):
    """``expr IS NULL``."""

    expr: Node


@dataclass(frozen=True)
class And(Node):
    """Conjunction; an empty one is TRUE."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    """Disjunction; an empty one is FALSE."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    """Negation."""

    item: Node


@dataclass(frozen=True)
class InSelect(Node):
    """``(cols) IN (SELECT ...)``, or NOT IN when ``negate``."""

    columns: tuple[str, ...]
    select: Select
    negate: bool = False


@dataclass(frozen=True)
class InValues(Node):
    """``(cols) IN ((v, v), ...)``: a disjunction of equalities over the same columns."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True)
class TableSource(Node):
    """A base table."""

    schema: str
    table: str
    alias: str | None = None


@dataclass(frozen=True)
class SubquerySource(Node):
    """A SELECT (or a UNION of SELECTs) used as a FROM entry."""

    select: Select | Union
    alias: str


@dataclass(frozen=True)
class JoinSource(Node):
    """``left [LEFT] JOIN right USING (cols)``; with no columns a cross join."""

    left: Node
    right: Node
    using: tuple[str, ...] = ()
    left_outer: bool = False


@dataclass(frozen=True)
class SelectItem(Node):
    """One entry of the select list: an expression and the name it is given."""

    expr: Node
    alias: str | None = None


@dataclass(frozen=True)
class OrderItem(Node):
    """One ORDER BY entry."""

    expr: Node
    descending: bool = False


@_direct_init
@dataclass(frozen=True)
class Select(Node):
    """A SELECT statement. ``items=None`` selects ``*``."""

    source: Node
    items: tuple[SelectItem, ...] | None = None
    where: Node | None = None
    group_by: tuple[Node, ...] = ()
    having: Node | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int = 0
    distinct: bool = False


@dataclass(frozen=True)
class Union(Node):
    """``(a) UNION (b)``."""

    selects: tuple[Select, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Exists(Node):
    """``SELECT EXISTS(select)``."""

    select: Select


def conjunction(items: list[Node]) -> Node | None:
    """AND the items together, dropping TRUE literals; None means no condition."""
    kept: list[Node] = []
    for item in items:
        if isinstance(item, Literal):
            if item.value:
                continue
            return item
        kept.append(item)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(tuple(kept))
