"""``fetch1`` of a table restricted by key values, through a statement compiled once per shape.

``(Table & key).fetch1(...)`` is the first line of most ``make()`` methods. From one key to the
next its statement differs only in the values it binds, so the SELECT is rendered once per
table, restricting columns and attribute list, kept with the table's heading, and each call
binds its own values to it exactly as rendering the expression would
(:meth:`~datajoint.backend.dialect.Dialect.bound_value`). Expressions of any other shape, and
attribute lists with codec columns (whose decoders are built per call), take the general path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..algebra import model as m
from ..algebra.keyed import key_statement
from ..heading import compiled
from .reader import column_decoders, dict_maker, result_types


class KeyedFetch:
    """The compiled ``fetch1`` of one shape: its statement, result types and row maker."""

    __slots__ = ("bind", "key", "make", "sql", "types")

    def __init__(
        self,
        bind: Callable[[Any], Any],
        sql: str,
        types: list[str] | None,
        make: Callable[[list[tuple]], list[dict[str, Any]]],
        key: list[str],
    ) -> None:
        self.bind, self.sql, self.types, self.make, self.key = bind, sql, types, make, key

    def rows(self, connection: Any, values: list[Any]) -> list[dict[str, Any]]:
        """The decoded rows (at most two) for the key ``values``."""
        bind = self.bind
        params = [bind(v) for v in values]
        cursor = connection.query(self.sql, params, column_types=self.types, transient=True)
        return self.make(cursor.fetchall())


def _key_restriction(query: Any) -> tuple[tuple[str, ...], list[Any]] | None:
    """The columns and values of a restriction made only of ``column = value`` conditions
    (what a key dict compiles to), else None."""
    columns: list[str] = []
    values: list[Any] = []
    for node in query._restriction:
        items = node.items if type(node) is m.And else (node,)
        for item in items:
            if type(item) is not m.Compare or item.op != "=":
                return None
            left, right = item.left, item.right
            if type(left) is not m.Column or left.source is not None or type(right) is not m.Param:
                return None
            columns.append(left.name)
            values.append(right.value)
    return tuple(columns), values


def keyed_fetch1(
    query: Any, attrs: Sequence[str], squeeze: bool
) -> tuple[list[dict[str, Any]], list[str]] | None:
    """The rows ``fetch1`` reads (with the primary-key names of the result) when ``query`` is
    a base table restricted by key values only; None for the general path."""
    if query._top is not None or query._group_by is not None or query._distinct:
        return None
    source = query._source
    if type(source) is not m.TableSource:
        return None
    restriction = _key_restriction(query)
    if restriction is None:
        return None
    columns, values = restriction
    shape = ("keyed fetch1", source, columns, tuple(attrs), squeeze)
    plan = compiled(
        query.heading,
        query.connection.dialect,
        shape,
        lambda: _compile(query, columns, attrs, squeeze),
    )
    if plan is None:  # a codec column, or a shape that does not render as expected
        return None
    return plan.rows(query.connection, values), plan.key


def _compile(
    query: Any, columns: tuple[str, ...], attrs: Sequence[str], squeeze: bool
) -> KeyedFetch | None:
    """The statement of the general path for this shape, with one placeholder per key value,
    selecting only the attributes asked for (and the primary key for ``"KEY"``)."""
    result = query.proj(*dict.fromkeys(a for a in attrs if a != "KEY")) if attrs else query
    if result._source is not query._source or result._restriction != query._restriction:
        return None  # the projection is not a select list over the same rows
    heading = result.heading
    names = heading.names
    if attrs:  # only what fetch1 returns: without DISTINCT the rows are the same
        asked = [a for a in dict.fromkeys(attrs) if a != "KEY"]
        key_too = heading.primary_key if "KEY" in attrs else []
        names = asked + [k for k in key_too if k not in asked]
    if any(heading[name].codec_name is not None for name in names):
        return None
    dialect = query.connection.dialect
    sql = key_statement(dialect, result.make_select(list(names), max_rows=2), columns)
    if sql is None:
        return None
    make = dict_maker(names, column_decoders(result, names, squeeze))
    return KeyedFetch(
        dialect.bound_value, sql, result_types(result, names), make, heading.primary_key
    )
