"""Catalog upgrades of a schema as a whole: job-metadata columns, the ``~lineage`` table, and the
check that nothing of an older catalog is left (SPEC §2, §3.3, §12)."""

from __future__ import annotations

import logging
from typing import Any

from ..declare.compile import JOB_METADATA, _hidden, compile_attribute
from ..dependencies import node_tier
from ..errors import DataJointError
from ..heading import split_comment
from ..lineage import (
    LINEAGE_TABLE,
    ensure_lineage_table,
    lineage_table_exists,
    read_lineage,
    write_lineage,
)
from ._catalog import (
    add_columns_sql,
    execute,
    forget,
    require_schema,
    resolve_schema,
    target_tables,
)
from .columns import is_blob_type, is_external_marker

logger = logging.getLogger("datajoint")


def add_job_metadata_columns(target: Any, dry_run: bool = True) -> dict[str, Any]:
    """Add the hidden ``_job_start_time``, ``_job_duration`` and ``_job_version`` columns to
    Computed and Imported tables that lack them (SPEC §3.3).

    ``target`` is a Schema (every Computed/Imported table of it), a Table class or an instance.
    Other tiers are left alone. Returns ``tables_analyzed``, ``tables_modified``,
    ``columns_added`` (what was or, on a dry run, would be added), ``ddl`` and ``details``
    (per table: ``table``, ``columns`` added, ``status``). A second run adds nothing.
    """
    conn, schema, tables = target_tables(target)
    wanted = [_hidden(line, False) for line in JOB_METADATA]
    report: dict[str, Any] = {
        "tables_analyzed": 0,
        "tables_modified": 0,
        "columns_added": 0,
        "ddl": [],
        "details": [],
        "dry_run": dry_run,
    }
    catalog = conn.introspection.schema_columns(conn.run, schema)
    for table in tables:
        if node_tier(table) not in ("Computed", "Imported"):
            continue
        report["tables_analyzed"] += 1
        present = {c.name for c in catalog.get(table, [])}
        missing = [
            compile_attribute(conn.dialect, schema, line, table=table)
            for line in wanted
            if line.name not in present
        ]
        if not missing:
            report["details"].append({"table": f"{schema}.{table}", "columns": [], "status": "ok"})
            continue
        ddl = add_columns_sql(conn, schema, table, missing)
        if not dry_run:
            execute(conn, schema, ddl, [table])
        report["ddl"].extend(ddl)
        report["tables_modified"] += 1
        report["columns_added"] += len(missing)
        report["details"].append(
            {
                "table": f"{schema}.{table}",
                "columns": [c.name for c in missing],
                "status": "dry_run" if dry_run else "added",
            }
        )
    return report


def _lineage_rows(conn: Any, schema: str) -> dict[str, dict[str, str]]:
    """The lineage rows a rebuild writes: table -> {attribute: origin} (SPEC §2)."""
    intro, run = conn.introspection, conn.run
    catalog = {t: c for t, c in intro.schema_columns(run, schema).items() if not t.startswith("~")}
    fks = intro.foreign_keys(run, [schema])
    rows: dict[str, dict[str, str]] = {}

    def lineage_of(table: str) -> dict[str, str]:
        if table in rows:
            return rows[table]
        lineage: dict[str, str] = {}
        for fk in (f for f in fks if f.table == table and not f.ref_table.startswith("~")):
            if fk.ref_schema == schema:
                parent = lineage_of(fk.ref_table) if fk.ref_table != table else {}
            else:
                parent = (read_lineage(conn, fk.ref_schema) or {}).get(fk.ref_table, {})
            for child, ref in zip(fk.columns, fk.ref_columns, strict=True):
                if not child.startswith("_"):
                    lineage[child] = parent.get(ref, f"{fk.ref_schema}.{fk.ref_table}.{ref}")
        for column in catalog.get(table, []):
            if column.in_key and column.name not in lineage and not column.name.startswith("_"):
                lineage[column.name] = f"{schema}.{table}.{column.name}"
        rows[table] = lineage
        return lineage

    for table in catalog:
        lineage_of(table)
    return rows


def rebuild_lineage(schema: Any, dry_run: bool = True) -> dict[str, Any]:
    """Recompute the ``~lineage`` table of ``schema`` from its primary and foreign keys,
    creating the table when it is missing (schemas declared by DataJoint 0.14 have none).

    Returns ``tables_analyzed``, ``lineage_entries`` (rows written, or that would be),
    ``lineage_table_existed`` and ``status`` (``"dry_run"`` or ``"rebuilt"``). Rebuilding is
    idempotent. Schemas referenced through foreign keys need their lineage first (else
    DataJointError naming the schema to rebuild first).
    """
    conn, name = resolve_schema(schema)
    require_schema(conn, name)
    existed = lineage_table_exists(conn, name)
    rows = _lineage_rows(conn, name)
    report = {
        "tables_analyzed": len(rows),
        "lineage_entries": sum(len(r) for r in rows.values()),
        "lineage_table_existed": existed,
        "status": "dry_run" if dry_run else "rebuilt",
    }
    if dry_run:
        return report
    for table in rows:  # parents in other schemas need their lineage first
        for fk in conn.introspection.foreign_keys(conn.run, [name]):
            if fk.table != table or fk.ref_schema == name or fk.ref_table.startswith("~"):
                continue
            known = (read_lineage(conn, fk.ref_schema) or {}).get(fk.ref_table, {})
            missing = [r for r in fk.ref_columns if r not in known]
            if missing:
                raise DataJointError(
                    f"Cannot rebuild lineage for `{name}`.`{table}`: referenced attribute "
                    f"`{fk.ref_schema}`.`{fk.ref_table}`.`{missing[0]}` has no lineage. "
                    f"Rebuild lineage for schema `{fk.ref_schema}` first."
                )
    ensure_lineage_table(conn, name)
    with conn.transaction:
        conn.query(f"DELETE FROM {conn.dialect.full_table_name(name, LINEAGE_TABLE)}")
        forget(conn, name)
        for table, lineage in rows.items():
            write_lineage(conn, name, table, lineage)
    forget(conn, name)
    return report


def verify_schema_v20(schema: Any, connection: Any = None) -> dict[str, Any]:
    """Check that a schema has nothing left of an older catalog (SPEC §12).

    Returns ``compatible`` (no issues), ``blob_markers`` (every in-table blob column has a
    codec or ``bytes`` marker), ``external_migrated`` (no 0.14 store-backed column is left),
    ``lineage_exists``, ``lineage_complete`` (every primary-key column has a lineage row),
    ``unmarked_columns`` (legacy columns without a marker that still read as native types) and
    ``issues`` (one sentence per problem, naming the table and column).
    """
    conn, name = resolve_schema(schema, connection)
    require_schema(conn, name)
    issues: list[str] = []
    blob_ok = external_ok = True
    unmarked: list[str] = []
    catalog = conn.introspection.schema_columns(conn.run, name)
    for table, columns in catalog.items():
        if table.startswith("~"):
            continue
        for column in columns:
            declared, _ = split_comment(column.comment)
            where = f"`{name}`.`{table}`.`{column.name}`"
            if declared is None:
                if is_blob_type(column.sql_type):
                    blob_ok = False
                    issues.append(
                        f"Blob column {where} has no :<blob>: marker "
                        "(run dj.migrate.migrate_blob_columns)."
                    )
                else:
                    unmarked.append(where)
            elif declared in ("blob", "attach"):
                blob_ok = False
                issues.append(
                    f"Column {where} has the 0.14 marker :{declared}: "
                    "(run dj.migrate.migrate_columns)."
                )
            elif is_external_marker(declared) and not column.name.startswith("_"):
                # (a hidden _c_v1 column keeps the 0.14 references of a finalized column)
                external_ok = False
                step = "migrate_filepath" if declared.startswith("filepath") else "migrate_external"
                issues.append(
                    f"Column {where} is 0.14 external storage `{declared}` "
                    f"(run dj.migrate.{step} with finalize=True)."
                )
    lineage_exists = LINEAGE_TABLE in conn.introspection.list_tables(conn.run, name)
    lineage_complete = lineage_exists
    if not lineage_exists:
        issues.append(f"Schema `{name}` has no ~lineage table (run dj.migrate.rebuild_lineage).")
    else:
        forget(conn, name)
        stored = read_lineage(conn, name) or {}
        for table, columns in catalog.items():
            if table.startswith("~"):
                continue
            for column in columns:
                missing = column.name not in stored.get(table, {})
                if column.in_key and not column.name.startswith("_") and missing:
                    lineage_complete = False
                    issues.append(
                        f"Primary-key column `{name}`.`{table}`.`{column.name}` has no "
                        "lineage (run dj.migrate.rebuild_lineage)."
                    )
    return {
        "compatible": not issues,
        "blob_markers": blob_ok,
        "external_migrated": external_ok,
        "lineage_exists": lineage_exists,
        "lineage_complete": lineage_complete,
        "unmarked_columns": unmarked,
        "issues": issues,
    }
