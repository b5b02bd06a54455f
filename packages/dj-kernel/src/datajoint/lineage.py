"""The ``~lineage`` table: where each key attribute of a schema's tables originates (SPEC §2)."""

from __future__ import annotations

from typing import Any

from .algebra import model as m
from .backend.contract import ColumnSpec, TableSpec

LINEAGE_TABLE = "~lineage"


def lineage_table_spec(connection: Any, schema: str) -> TableSpec:
    """The ``~lineage`` table of ``schema``, in the backend's native types."""
    varchar = connection.dialect.core_type_sql
    return TableSpec(
        schema=schema,
        name=LINEAGE_TABLE,
        columns=(
            ColumnSpec(
                "table_name",
                varchar("varchar(64)", schema=schema),
                comment="table name within the schema",
            ),
            ColumnSpec(
                "attribute_name", varchar("varchar(64)", schema=schema), comment="attribute name"
            ),
            ColumnSpec(
                "lineage",
                varchar("varchar(255)", schema=schema),
                comment="origin: schema.table.attribute",
            ),
        ),
        primary_key=("table_name", "attribute_name"),
    )


#: table -> {attribute: origin}
_Rows = dict[str, dict[str, str]]


def _cache(connection: Any) -> dict[str, _Rows | None]:
    """Per connection: schema -> its lineage rows, or None when the schema has no ``~lineage``
    table; kept current by the writes below, forgotten when a schema is created or dropped."""
    cache = getattr(connection, "_lineage_cache", None)
    if cache is None:
        cache = connection._lineage_cache = {}
    return cache


def forget_lineage(connection: Any, schema: str) -> None:
    """Read ``schema``'s lineage from the catalog again next time it is needed."""
    _cache(connection).pop(schema, None)


def lineage_table_exists(connection: Any, schema: str) -> bool:
    cached = _cache(connection)
    if schema in cached:
        return cached[schema] is not None
    return LINEAGE_TABLE in connection.introspection.list_tables(connection.run, schema)


def ensure_lineage_table(connection: Any, schema: str) -> None:
    """CREATE TABLE IF NOT EXISTS for the schema's ``~lineage`` table (nothing to do when this
    connection has already read it), and read its rows."""
    if _cache(connection).get(schema) is not None:
        return
    for statement in connection.dialect.create_table_sql(lineage_table_spec(connection, schema)):
        connection.query(statement)
    forget_lineage(connection, schema)
    read_lineage(connection, schema)


def write_lineage(connection: Any, schema: str, table: str, lineage: dict[str, str]) -> None:
    """Replace the lineage rows of ``table`` with ``lineage`` (attribute -> origin)."""
    delete_lineage(connection, schema, table)
    if not lineage:
        return
    sql = connection.dialect.insert_sql(
        schema, LINEAGE_TABLE, ("table_name", "attribute_name", "lineage"), len(lineage)
    )
    params = [v for attr, origin in lineage.items() for v in (table, attr, origin)]
    connection.query(sql, params)
    rows = _cache(connection).get(schema)
    if rows is not None:
        rows[table] = dict(lineage)


def delete_lineage(connection: Any, schema: str, table: str) -> None:
    """Remove the lineage rows of ``table`` (when the schema has a lineage table)."""
    if not lineage_table_exists(connection, schema):
        return
    name = connection.dialect.full_table_name(schema, LINEAGE_TABLE)
    sql, params = connection.dialect.render(m.Compare(m.Column("table_name"), "=", m.Param(table)))
    connection.query(f"DELETE FROM {name} WHERE {sql}", params)
    rows = _cache(connection).get(schema)
    if rows is not None:
        rows.pop(table, None)


def read_lineage(connection: Any, schema: str) -> _Rows | None:
    """table -> {attribute: lineage} for the schema, or None when it has no lineage table.

    Read once per connection and schema; the result is shared: do not modify it.
    """
    cached = _cache(connection)
    if schema in cached:
        return cached[schema]
    if LINEAGE_TABLE not in connection.introspection.list_tables(connection.run, schema):
        cached[schema] = None
        return None
    select = m.Select(
        source=m.TableSource(schema, LINEAGE_TABLE),
        items=tuple(m.SelectItem(m.Column(c)) for c in ("table_name", "attribute_name", "lineage")),
    )
    out: _Rows = {}
    for table, attr, origin in connection.execute_model(select).fetchall():
        out.setdefault(table, {})[attr] = origin
    cached[schema] = out
    return out
