"""Deploy-time helpers (SPEC §12): idempotent catalog changes an operator applies to a running
pipeline. Each takes a Schema, a Table class or a Table instance, previews by default
(``dry_run=True``) and returns a report of what it did or would do."""

from __future__ import annotations

from typing import Any, Literal

from .declare.compile import PROVENANCE, _hidden, compile_attribute
from .dependencies import node_tier
from .errors import DataJointError
from .migrate._catalog import add_columns_sql, execute, target_tables
from .write.provenance import PROV_COLUMN

_IDENTITY = {"full": "f", "default": "d"}


def set_replica_identity(
    target: Any, mode: Literal["default", "full"] = "full", dry_run: bool = True
) -> dict[str, Any]:
    """Set PostgreSQL's ``REPLICA IDENTITY`` of the target's tables, for change-data capture
    (e.g. Databricks) that needs whole old rows in the write-ahead log (``"full"``), or back to
    the primary key (``"default"``).

    Tables already in that mode are left alone. Returns ``tables_analyzed``,
    ``tables_modified`` and ``ddl`` (the statements run, or that would be). A mode other than
    ``"full"``/``"default"``, or a backend other than PostgreSQL, raises DataJointError.
    """
    if mode not in _IDENTITY:
        raise DataJointError(
            f'Invalid replica identity mode "{mode}". Use mode="full" or mode="default".'
        )
    conn, schema, tables = target_tables(target)
    dialect = conn.dialect
    if dialect.name != "postgresql":
        raise DataJointError(
            f"set_replica_identity applies to PostgreSQL only; this connection uses "
            f"{dialect.name}, which has no replica identity."
        )
    placeholder = dialect.placeholder
    current = dict(
        conn.query(
            "SELECT c.relname, c.relreplident FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {placeholder} AND c.relkind = 'r'",
            [schema],
        ).fetchall()
    )
    ddl = [
        f"ALTER TABLE {dialect.full_table_name(schema, t)} REPLICA IDENTITY {mode.upper()}"
        for t in tables
        if current.get(t) != _IDENTITY[mode]
    ]
    if not dry_run:
        execute(conn, schema, ddl, [])
    return {"tables_analyzed": len(tables), "tables_modified": len(ddl), "ddl": ddl}


def add_prov_column(target: Any, dry_run: bool = True) -> dict[str, Any]:
    """Add the hidden ``_prov = null : json`` column (extrinsic provenance, SPEC §3.3) to the
    Manual (Entry) tables of the target that lack it; other tiers are skipped. The column is
    filled by inserts once the table's heading is read again (next schema load).

    Returns ``tables_analyzed`` (Manual tables looked at), ``tables_modified``,
    ``columns_added``, ``ddl`` and ``details`` (per Manual table: ``table`` and ``status``,
    one of ``"present"``, ``"dry_run"``, ``"added"``).
    """
    conn, schema, tables = target_tables(target)
    catalog = conn.introspection.schema_columns(conn.run, schema)
    line = _hidden(PROVENANCE, False)
    report: dict[str, Any] = {
        "tables_analyzed": 0,
        "tables_modified": 0,
        "columns_added": 0,
        "ddl": [],
        "details": [],
    }
    for table in tables:
        if node_tier(table) != "Manual":
            continue
        report["tables_analyzed"] += 1
        name = f"{schema}.{table}"
        if PROV_COLUMN in {c.name for c in catalog.get(table, [])}:
            report["details"].append({"table": name, "status": "present"})
            continue
        column = compile_attribute(conn.dialect, schema, line, table=table)
        ddl = add_columns_sql(conn, schema, table, [column])
        if not dry_run:
            execute(conn, schema, ddl, [table])
        report["ddl"].extend(ddl)
        report["tables_modified"] += 1
        report["columns_added"] += 1
        report["details"].append({"table": name, "status": "dry_run" if dry_run else "added"})
    return report
