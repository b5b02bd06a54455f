"""Parallel schemas: copy a schema's tables (and rows) to another schema to rehearse a migration
or keep a backup, and compare the two (SPEC §12).

Every step is resumable: tables that already exist in the destination are kept, rows already
there are skipped, and the source is only read.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..errors import DataJointError
from ..lineage import LINEAGE_TABLE, ensure_lineage_table, read_lineage, write_lineage
from ._catalog import (
    find_table,
    forget,
    require_schema,
    resolve_schema,
    table_spec,
    topological_tables,
)


def _create_schema(conn: Any, name: str) -> None:
    if not conn.introspection.schema_exists(conn.run, name):
        for sql in conn.dialect.create_schema_sql(name):
            conn.query(sql)


def _row_count(conn: Any, schema: str, table: str) -> int:
    return int(
        conn.query(
            f"SELECT COUNT(*) FROM {conn.dialect.full_table_name(schema, table)}"
        ).fetchone()[0]
    )


def _copy_rows(
    conn: Any,
    source: str,
    dest: str,
    table: str,
    *,
    limit: int | None = None,
    where_clause: str | None = None,
) -> int:
    """INSERT ... SELECT of the rows of ``source.table`` that ``dest.table`` lacks; the number
    of rows added."""
    dialect, intro = conn.dialect, conn.introspection
    src_columns = [c.name for c in intro.columns(conn.run, source, table)]
    dest_info = intro.columns(conn.run, dest, table)
    columns = [c.name for c in dest_info if c.name in src_columns]
    key = [c.name for c in dest_info if c.in_key]
    select = (
        f"SELECT {', '.join(dialect.quote(c) for c in columns)} FROM "
        + dialect.full_table_name(source, table)
    )
    if where_clause:
        select += f" WHERE {where_clause}"
    if key:
        select += " ORDER BY " + ", ".join(dialect.quote(c) for c in key)
    if limit is not None:
        select += dialect.limit_sql(limit, 0)
    before = _row_count(conn, dest, table)
    sql = dialect.insert_select_sql(
        dest, table, columns, dialect.escape_raw(select), on_duplicate="skip", primary_key=key
    )
    with conn.transaction:
        conn.query(sql)
    return _row_count(conn, dest, table) - before


def _copy_lineage(conn: Any, source: str, dest: str) -> None:
    rows = read_lineage(conn, source)
    if rows is None:
        return
    ensure_lineage_table(conn, dest)
    prefix = source + "."
    for table, attrs in rows.items():
        write_lineage(
            conn,
            dest,
            table,
            {
                attr: dest + "." + origin[len(prefix) :] if origin.startswith(prefix) else origin
                for attr, origin in attrs.items()
            },
        )


def create_parallel_schema(
    source: str, dest: str, copy_data: bool = False, connection: Any = None
) -> dict[str, Any]:
    """Create schema ``dest`` with every table of ``source`` (same columns, comments, keys,
    indexes; foreign keys within ``source`` point within ``dest``) and its lineage, e.g. a
    ``_v20`` schema to rehearse a migration on. With ``copy_data``, rows are copied too.

    Tables already in ``dest`` are kept as they are, so an interrupted run can be repeated.
    Returns ``tables_created`` (count), ``tables`` (names created), ``data_copied`` and
    ``rows_copied``.
    """
    conn, source = resolve_schema(source, connection)
    require_schema(conn, source)
    if source == dest:
        raise DataJointError(f"The parallel schema must differ from the source `{source}`.")
    if conn.in_transaction:
        raise DataJointError("create_parallel_schema cannot run inside a transaction.")
    _create_schema(conn, dest)
    existing = set(conn.introspection.list_tables(conn.run, dest))
    created: list[str] = []
    tables = [t for t in topological_tables(conn, source) if t != LINEAGE_TABLE]
    for table in tables:
        if table in existing:
            continue
        for sql in conn.dialect.create_table_sql(table_spec(conn, source, table, into=dest)):
            conn.query(sql)
        created.append(table)
    forget(conn, dest)
    _copy_lineage(conn, source, dest)
    rows = 0
    if copy_data:
        for table in tables:
            rows += _copy_rows(conn, source, dest, table)
    forget(conn, dest)
    return {
        "tables_created": len(created),
        "tables": created,
        "data_copied": copy_data,
        "rows_copied": rows,
    }


def copy_table_data(
    source_schema: str,
    dest_schema: str,
    table: str,
    limit: int | None = None,
    where_clause: str | None = None,
    connection: Any = None,
) -> dict[str, Any]:
    """Copy the rows of ``table`` (SQL or class name) from ``source_schema`` to the same table
    in ``dest_schema`` (created by :func:`create_parallel_schema`). ``where_clause`` (SQL text)
    and ``limit`` (rows in primary-key order) select a sample. Rows already in the destination
    are skipped. Returns ``rows_copied`` and ``time_taken`` (seconds)."""
    conn, source_schema = resolve_schema(source_schema, connection)
    require_schema(conn, source_schema)
    require_schema(conn, dest_schema)
    name = find_table(conn, source_schema, table)
    find_table(conn, dest_schema, name)
    start = time.perf_counter()
    rows = _copy_rows(
        conn, source_schema, dest_schema, name, limit=limit, where_clause=where_clause
    )
    return {"rows_copied": rows, "time_taken": time.perf_counter() - start}


def _equal(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        fa, fb = float(a), float(b)
        if math.isnan(fa) and math.isnan(fb):
            return True
        return math.isclose(fa, fb, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(a, memoryview):
        a = bytes(a)
    if isinstance(b, memoryview):
        b = bytes(b)
    return bool(a == b)


def compare_query_results(
    prod_schema: str,
    test_schema: str,
    table: str,
    tolerance: float = 1e-6,
    connection: Any = None,
) -> dict[str, Any]:
    """Compare the rows of ``table`` in two schemas, matched by primary key; floats compare
    within ``tolerance`` (relative and absolute). Returns ``match``, ``row_count`` (rows of the
    production table), ``test_row_count`` and ``discrepancies`` (per mismatch: ``key``, and
    ``column`` with both values, or ``missing_in`` naming the schema without the row)."""
    conn, prod_schema = resolve_schema(prod_schema, connection)
    name = find_table(conn, prod_schema, table)
    find_table(conn, test_schema, name)
    dialect = conn.dialect
    info = conn.introspection.columns(conn.run, prod_schema, name)
    test_names = {c.name for c in conn.introspection.columns(conn.run, test_schema, name)}
    columns = [c.name for c in info if c.name in test_names]
    key = [c.name for c in info if c.in_key] or columns

    def rows(schema: str) -> dict[tuple, dict[str, Any]]:
        sql = (
            f"SELECT {', '.join(dialect.quote(c) for c in columns)} FROM "
            f"{dialect.full_table_name(schema, name)}"
        )
        out = {}
        for row in conn.query(sql).fetchall():
            record = dict(zip(columns, row, strict=True))
            out[tuple(_hashable(record[k]) for k in key)] = record
        return out

    prod, test = rows(prod_schema), rows(test_schema)
    discrepancies: list[dict[str, Any]] = []
    for pk, record in prod.items():
        other = test.get(pk)
        if other is None:
            discrepancies.append(
                {"key": dict(zip(key, pk, strict=True)), "missing_in": test_schema}
            )
            continue
        for column in columns:
            if not _equal(record[column], other[column], tolerance):
                discrepancies.append(
                    {
                        "key": dict(zip(key, pk, strict=True)),
                        "column": column,
                        "prod": record[column],
                        "test": other[column],
                    }
                )
    for pk in test.keys() - prod.keys():
        discrepancies.append({"key": dict(zip(key, pk, strict=True)), "missing_in": prod_schema})
    return {
        "match": not discrepancies,
        "row_count": len(prod),
        "test_row_count": len(test),
        "discrepancies": discrepancies,
    }


def _hashable(value: Any) -> Any:
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, dict | list):
        return repr(value)
    return value


def backup_schema(schema: str, backup_name: str, connection: Any = None) -> dict[str, Any]:
    """Copy every table and row of ``schema`` to a new schema ``backup_name`` on the same
    server (resumable: a repeated call adds only what is missing). Returns
    ``tables_backed_up``, ``rows_backed_up`` and ``backup_location`` (the backup's name)."""
    conn, schema = resolve_schema(schema, connection)
    result = create_parallel_schema(schema, backup_name, copy_data=True, connection=conn)
    tables = [
        t for t in conn.introspection.list_tables(conn.run, backup_name) if t != LINEAGE_TABLE
    ]
    return {
        "tables_backed_up": len(tables),
        "tables_created": result["tables_created"],
        "rows_backed_up": result["rows_copied"],
        "backup_location": backup_name,
    }


def restore_schema(backup: str, dest: str, connection: Any = None) -> dict[str, Any]:
    """Copy a backup made by :func:`backup_schema` into schema ``dest``: missing tables are
    created and missing rows inserted; rows already in ``dest`` are kept (nothing is deleted).
    Returns ``tables_restored`` (tables created) and ``rows_restored``."""
    conn, backup = resolve_schema(backup, connection)
    result = create_parallel_schema(backup, dest, copy_data=True, connection=conn)
    return {"tables_restored": result["tables_created"], "rows_restored": result["rows_copied"]}
