"""Catalog access shared by the migration steps: which schema a call targets, a table's complete
spec as the catalog reports it, and the DDL that changes one column of it on every backend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ..backend.contract import (
    AlterClause,
    ColumnInfo,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    TableSpec,
)
from ..declare.types import enum_values
from ..errors import DataJointError
from ..heading import heading_cache
from ..lineage import forget_lineage


def resolve_schema(schema: Any, connection: Any = None) -> tuple[Any, str]:
    """(connection, schema name) of a Schema, a module with a ``schema``, or a schema name."""
    if isinstance(schema, str):
        if connection is None:
            from ..connection import conn

            connection = conn()
        return connection, schema
    schema = getattr(schema, "schema", schema)  # a VirtualModule or a pipeline module
    database = getattr(schema, "database", None)
    if not isinstance(database, str) or not hasattr(schema, "connection"):
        raise DataJointError(
            f"Expected a dj.Schema or a schema name, got {type(schema).__name__}. "
            "Pass the schema object (or its name) to the migration function."
        )
    return connection or schema.connection, database


def require_schema(conn: Any, name: str) -> None:
    """DataJointError unless the schema exists."""
    if not conn.introspection.schema_exists(conn.run, name):
        raise DataJointError(f"Schema `{name}` does not exist on {conn!r}.")


def column_spec(info: ColumnInfo, dialect: Any, comment: str | None = None) -> ColumnSpec:
    """A ColumnSpec that recreates ``info`` as it is, with ``comment`` when given."""
    default = info.default
    if default is None or default.lower() == "null":
        default_sql = None
    elif default.upper().startswith("CURRENT_TIMESTAMP"):
        default_sql = default
    else:
        default_sql = dialect.string_literal(default)
    enum = enum_values(info.sql_type) if info.sql_type.lower().startswith("enum") else None
    return ColumnSpec(
        name=info.name,
        sql_type=info.sql_type,
        nullable=info.nullable,
        default=default_sql,
        comment=info.comment if comment is None else comment,
        autoincrement=info.autoincrement,
        enum_values=enum,
    )


def table_spec(conn: Any, schema: str, table: str, *, into: str | None = None) -> TableSpec:
    """The complete spec of a declared table as the catalog reports it; with ``into``, the same
    table placed in schema ``into``, its foreign keys to ``schema`` redirected there."""
    intro, run, dialect = conn.introspection, conn.run, conn.dialect
    columns = intro.columns(run, schema, table)
    target = into or schema
    fks = []
    for fk in intro.foreign_keys(run, [schema]):
        if fk.table != table:
            continue
        ref_schema = target if fk.ref_schema == schema else fk.ref_schema
        fks.append(ForeignKeySpec(fk.columns, ref_schema, fk.ref_table, fk.ref_columns))
    indexes = tuple(IndexSpec(ix.columns, ix.unique) for ix in intro.indexes(run, schema, table))
    return TableSpec(
        schema=target,
        name=table,
        columns=tuple(column_spec(c, dialect) for c in columns),
        primary_key=tuple(c.name for c in columns if c.in_key),
        foreign_keys=tuple(fks),
        indexes=indexes,
        comment=intro.table_comment(run, schema, table),
    )


def set_comment_sql(conn: Any, schema: str, table: str, changes: dict[str, str]) -> list[str]:
    """Statements giving the columns of ``table`` new comments ({column: comment}); nothing else
    about the columns changes."""
    spec = table_spec(conn, schema, table)
    old = {c.name: c for c in spec.columns}
    new_columns = tuple(
        replace(c, comment=changes[c.name]) if c.name in changes else c for c in spec.columns
    )
    clauses = [
        AlterClause(
            "modify_column", column=replace(old[name], comment=comment), old_column=old[name]
        )
        for name, comment in changes.items()
    ]
    return list(conn.dialect.alter_table_sql(replace(spec, columns=new_columns), clauses))


def add_columns_sql(conn: Any, schema: str, table: str, columns: Sequence[ColumnSpec]) -> list[str]:
    """Statements adding ``columns`` at the end of ``table``."""
    spec = table_spec(conn, schema, table)
    last = spec.columns[-1].name if spec.columns else ""
    clauses = []
    position_ok = conn.dialect.capabilities.column_positions
    for column in columns:
        clauses.append(
            AlterClause("add_column", column=column, after=last if position_ok else None)
        )
        last = column.name
    new = replace(spec, columns=spec.columns + tuple(columns))
    return list(conn.dialect.alter_table_sql(new, clauses))


def execute(conn: Any, schema: str, statements: Iterable[str], tables: Iterable[str] = ()) -> None:
    """Run DDL statements, then forget what this connection had cached about the tables."""
    if conn.in_transaction:
        raise DataJointError(
            "dj.migrate changes table definitions and cannot run inside a transaction."
        )
    for sql in statements:
        conn.query(sql)
    forget(conn, schema, tables)


def forget(conn: Any, schema: str, tables: Iterable[str] = ()) -> None:
    """Drop cached headings, lineage and the dependency graph after a catalog change."""
    cache = heading_cache(conn)
    names = list(tables) or [t for (s, t) in list(cache) if s == schema]
    for table in names:
        cache.pop((schema, table), None)
    forget_lineage(conn, schema)
    conn.dependencies.clear()


def find_table(conn: Any, schema: str, name: str) -> str:
    """The SQL name of a table given by its SQL name or class name (tier prefixes tried)."""
    from ..naming import to_snake_case

    existing = set(conn.introspection.list_tables(conn.run, schema))
    if name in existing:
        return name
    base = to_snake_case(name) if name[:1].isupper() else name
    for prefix in ("", "#", "_", "__"):
        if prefix + base in existing:
            return prefix + base
    raise DataJointError(f"Table `{name}` does not exist in schema `{schema}`.")


def topological_tables(conn: Any, schema: str) -> list[str]:
    """Every base table of the schema, each after the tables of the schema it references."""
    tables = sorted(conn.introspection.list_tables(conn.run, schema))
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for fk in conn.introspection.foreign_keys(conn.run, [schema]):
        if fk.ref_schema == schema and fk.table in parents and fk.ref_table != fk.table:
            parents[fk.table].add(fk.ref_table)
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in placed and parents[t] <= placed]
        if not ready:  # a cycle: keep the remaining tables in name order
            ready = [t for t in tables if t not in placed]
        for t in ready:
            ordered.append(t)
            placed.add(t)
    return ordered


def target_tables(target: Any) -> tuple[Any, str, list[str]]:
    """(connection, schema name, tables) of a Schema (its user tables), a Table class or an
    instance (that table), or a module with a ``schema``."""
    table_name = getattr(target, "table_name", None)
    if isinstance(table_name, str) and isinstance(getattr(target, "database", None), str):
        return target.connection, target.database, [table_name]
    conn, name = resolve_schema(target)
    require_schema(conn, name)
    tables = [t for t in topological_tables(conn, name) if not t.startswith("~")]
    return conn, name, tables
