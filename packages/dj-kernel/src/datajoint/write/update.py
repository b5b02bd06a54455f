"""``update1``: change the secondary attributes of one existing row (SPEC §8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..algebra import model as m
from ..encode import DEFAULT, AttributeEncoder
from ..errors import DataJointError
from ..transfers import insert_call
from .atomic import atomic


def update1(table: Any, row: Any) -> None:
    """``UPDATE t SET <secondary attributes> WHERE <primary key>`` for exactly one existing row.

    Values are encoded as in insert; ``None`` resets an attribute to its default. Objects
    written to stores while encoding are removed again when the update fails.
    """
    with insert_call(table.connection, table.database):
        _update1(table, row)


def _update1(table: Any, row: Any) -> None:
    if not isinstance(row, Mapping):
        raise DataJointError("The argument of update1 must be dict-like.")
    heading = table.heading
    primary_key = heading.primary_key
    if not set(row).issuperset(primary_key):
        raise DataJointError("The argument of update1 must supply all primary key values.")
    for name in row:
        if name not in heading._attributes:
            raise DataJointError(f"Attribute `{name}` not found.")
    if table._restriction or getattr(table, "_top", None) is not None:
        raise DataJointError("Update cannot be applied to a restricted table.")
    key = {k: row[k] for k in primary_key}
    matched = table & key
    if len(matched) != 1:
        raise DataJointError("Update can only be applied to one existing entry.")
    conn = table.connection
    dialect = conn.dialect
    assignments: list[tuple[str, str]] = []
    params: list[Any] = []
    for name, value in row.items():
        if name in key:
            continue
        encoded = AttributeEncoder(table, name)(value, row)
        if encoded is DEFAULT:
            attr = heading[name]
            sql, default_params = dialect.reset_to_default_sql(attr.default, attr.nullable)
            assignments.append((name, sql))
            params.extend(default_params)
        else:
            assignments.append((name, dialect.placeholder))
            params.append(encoded)
    if not assignments:
        return
    # a singleton table's key is empty: its one row is updated without a condition
    where = m.conjunction(list(matched._restriction)) or m.Literal(True)
    where_sql, where_params = dialect.render(where)
    sql = dialect.update_sql(table.database, table.table_name, assignments, where_sql)
    with atomic(conn, f"Update of {table.full_table_name}", single=True):
        conn.query(sql, params + where_params)
