"""Dropping tables and schemas (SPEC §2, §8), with their lineage rows and enum types.

On backends with transactional DDL (PostgreSQL, SQLite) a drop is one transaction (or a savepoint
of the caller's). MySQL/MariaDB commit implicitly on DDL, so there a drop refuses to run inside a
transaction, drops every table in one ``DROP TABLE a, b, ...`` statement (atomic on MySQL 8; table
by table on MariaDB) and only then deletes the lineage rows, so that a failed drop never leaves a
table without its lineage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..dependencies import node_name
from ..errors import AccessError, DataJointError
from ..heading import forget_schema, heading_cache
from ..lineage import LINEAGE_TABLE, forget_lineage, lineage_table_exists
from .atomic import atomic
from .cascade import check_part_integrity
from .prompt import ask_yes

logger = logging.getLogger("datajoint")


def _refuse_open_transaction(conn: Any, what: str) -> None:
    if conn.in_transaction and not conn.dialect.capabilities.transactional_ddl:
        raise DataJointError(
            f"Cannot {what} inside a transaction on {conn.dialect.name}: its DDL would commit "
            "the open transaction. Commit or cancel the transaction first."
        )


def _delete_lineage_rows(conn: Any, tables: Sequence[tuple[str, str]]) -> None:
    by_schema: dict[str, list[str]] = {}
    for schema, table in tables:
        by_schema.setdefault(schema, []).append(table)
    dialect = conn.dialect
    for schema, names in by_schema.items():
        if not lineage_table_exists(conn, schema):
            continue
        marks = ", ".join([dialect.placeholder] * len(names))
        where = f"{dialect.escape_raw(dialect.quote('table_name'))} IN ({marks})"
        conn.query(dialect.delete_sql(schema, LINEAGE_TABLE, where), names)


def drop_tables(conn: Any, tables: Sequence[tuple[str, str]], what: str) -> None:
    """Drop ``(schema, table)`` pairs in the given order (leaves first) with their lineage rows.

    On PostgreSQL the dialect's drop statements also remove enum types no column uses any more.
    """
    if not tables:
        return
    _refuse_open_transaction(conn, what)
    dialect = conn.dialect
    statements = dialect.drop_tables_sql(list(tables))
    try:
        if dialect.capabilities.transactional_ddl:
            with atomic(conn, what):
                for sql in statements:
                    conn.query(sql)
                _delete_lineage_rows(conn, tables)
        else:
            with atomic(conn, what, single=len(statements) == 1):
                for sql in statements:
                    conn.query(sql)
            with atomic(conn, f"Removing the lineage rows of dropped tables ({what})"):
                _delete_lineage_rows(conn, tables)
    finally:
        for key in tables:
            heading_cache(conn).pop(key, None)
        for schema in {schema for schema, _ in tables}:
            forget_lineage(conn, schema)  # read again when needed: rows went with the tables
        conn.dependencies.clear()
    for schema, table in tables:
        logger.info("Dropped table %s", dialect.full_table_name(schema, table))


def drop_quick(table: Any) -> None:
    """Drop one table: no cascade, no prompt (SPEC §8)."""
    if not table.is_declared:
        logger.info("Nothing to drop: table %s is not declared", table.full_table_name)
        return
    drop_tables(
        table.connection, [(table.database, table.table_name)], f"Drop of {table.full_table_name}"
    )


def drop(table: Any, prompt: bool | None = None, part_integrity: str = "enforce") -> None:
    """Drop the table and every table that depends on it, leaves first (SPEC §8)."""
    check_part_integrity(part_integrity, ("enforce", "ignore"))
    if table._restriction or getattr(table, "_top", None) is not None:
        raise DataJointError(
            "A table with an applied restriction cannot be dropped. "
            "Call drop() on the unrestricted Table."
        )
    conn = table.connection
    if not table.is_declared:
        logger.info("Nothing to drop: table %s is not declared", table.full_table_name)
        return
    graph = conn.dependencies.load_downstream_of(table.database, force=True)
    nodes = graph.descendants(node_name(table))
    if part_integrity == "enforce":
        for node in nodes:
            master = graph.master_of(node)
            if master is not None and master not in nodes and graph.has_edge(master, node):
                raise DataJointError(
                    f"Attempt to drop part table {graph.quoted(node)} before its master "
                    f"{graph.quoted(master)}. Drop the master first."
                )
    if prompt is None:
        prompt = bool(conn.config.safemode)
    if prompt:
        for node in nodes:
            logger.info("%s (%d tuples)", graph.quoted(node), len(table._free_table(node)))
        if not ask_yes("Proceed?"):
            logger.info("Drop cancelled")
            return
    pairs = [(n.partition(".")[0], n.partition(".")[2]) for n in reversed(nodes)]
    drop_tables(conn, pairs, f"Drop of {table.full_table_name}")


def drop_schema(schema: Any, prompt: bool | None = None) -> None:
    """``Schema.drop``: the whole database; refused while other schemas' tables depend on it."""
    conn = schema.connection
    name = schema.database
    intro, run = conn.introspection, conn.run
    if name is None or not intro.schema_exists(run, name):
        logger.info("Schema named `%s` does not exist. Doing nothing.", name)
        return
    _refuse_open_transaction(conn, f"drop schema `{name}`")
    outside = [
        conn.dialect.full_table_name(fk.schema, fk.table)
        for fk in intro.foreign_keys(run, intro.downstream_schemas(run, [name]))
        if fk.ref_schema == name and fk.schema != name
    ]
    if outside:
        raise DataJointError(
            f"Cannot drop schema `{name}`: tables in other schemas depend on it: "
            f"{', '.join(sorted(set(outside)))}. Drop those tables (or their schemas) first."
        )
    if prompt is None:
        prompt = bool(conn.config.safemode)
    if prompt and not ask_yes(f"Proceed to delete entire schema `{name}`?"):
        return
    dialect = conn.dialect
    statements: list[str] = []
    if not dialect.capabilities.drop_schema_cascades:
        graph = conn.dependencies
        graph.load(force=True, schema_names=set(conn.schemas) | {name})
        inside = [n for n in graph.nodes if n.startswith(name + ".")]
        ordered = [n.partition(".")[2] for n in graph.topological(inside)]
        names = intro.list_tables(run, name)
        order = ordered + [t for t in names if t not in ordered]
        statements = dialect.drop_tables_sql([(name, t) for t in reversed(order)])
    statements += dialect.drop_schema_sql(name)
    try:
        with atomic(conn, f"Drop of schema `{name}`", single=len(statements) == 1):
            for sql in statements:
                conn.query(sql)
    except AccessError:
        raise AccessError(
            f"An attempt to drop schema `{name}` has failed. Check permissions."
        ) from None
    finally:
        forget_schema(conn, name)
        conn.dependencies.clear()
    conn.schemas.pop(name, None)
