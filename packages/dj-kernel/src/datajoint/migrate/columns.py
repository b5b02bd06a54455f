"""Type markers for legacy columns (SPEC §3.3, §12).

DataJoint 2.x reads a column's declared type from its comment (``:<type>:comment``). Tables
declared by DataJoint 0.14 have no marker on plain columns, and their ``longblob`` columns hold
serialized blobs that only the ``<blob>`` codec decodes. These steps find such columns and add
the marker; they change comments only, never the stored values.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..heading import NATIVE_TO_CORE, split_comment
from ._catalog import execute, resolve_schema, set_comment_sql

logger = logging.getLogger("datajoint")

#: native types whose core type a legacy column cannot be sure of: 0.14 declared uuids as
#: binary(16), but so may any other fixed-length binary column
_AMBIGUOUS = {"binary(16)"}
_SAME_TEXT = re.compile(r"^(datetime(\(\d\))?|varchar\(\d+\)|char\(\d+\)|decimal\(\d+,\s*\d+\))$")
_TIMESTAMP = re.compile(r"^timestamp(\(\d\))?( without time zone)?$")
_NUMERIC = re.compile(r"^numeric\((\d+),\s*(\d+)\)$")
_BLOB = re.compile(r"^(tiny|medium|long)?blob$|^bytea$")
#: markers that DataJoint 0.14 wrote and that name a 2.x codec without its brackets
_LEGACY_CODEC_MARKERS = {"attach": "<attach>", "blob": "<blob>"}


def is_blob_type(sql_type: str) -> bool:
    """Whether a native column type holds bytes (MySQL blobs, PostgreSQL bytea)."""
    return bool(_BLOB.match(sql_type.lower()))


def core_marker(sql_type: str, *, postgres_timestamps: bool) -> str | None:
    """The marker a legacy column of native type ``sql_type`` gets, or None when no core type
    stands for it exactly (unsigned integers, text, time, ...: they stay native)."""
    t = " ".join(sql_type.lower().split())
    if is_blob_type(t):
        return "<blob>"
    if t in NATIVE_TO_CORE and t not in _AMBIGUOUS:
        return NATIVE_TO_CORE[t]
    if _SAME_TEXT.match(t) or t.startswith("enum("):
        return sql_type
    if postgres_timestamps and _TIMESTAMP.match(t):
        digits = re.search(r"\(\d\)", t)
        return "datetime" + (digits.group(0) if digits else "")
    numeric = _NUMERIC.match(t)
    if numeric:
        return f"decimal({numeric.group(1)},{numeric.group(2)})"
    return None


def is_external_marker(declared: str) -> bool:
    """A 0.14 store-backed marker (``blob@store``, ``attach@store``, ``filepath@store``,
    ``external-store``), whose column holds a uuid into a ``~external_<store>`` table."""
    return not declared.startswith("<") and ("@" in declared or declared.startswith("external"))


def _postgres_timestamps(conn: Any) -> bool:
    # PostgreSQL spells datetime as timestamp; MySQL's timestamp is a different (native) type
    return conn.dialect.core_type_sql("datetime", schema="x").lower().startswith("timestamp")


def _classify(conn: Any, schema: str) -> dict[str, list[dict[str, Any]]]:
    intro, run = conn.introspection, conn.run
    pg_ts = _postgres_timestamps(conn)
    out: dict[str, list[dict[str, Any]]] = {
        "needs_migration": [],
        "already_migrated": [],
        "external_storage": [],
        "native": [],
    }
    for table, columns in intro.schema_columns(run, schema).items():
        if table.startswith("~"):
            continue
        for column in columns:
            declared, comment = split_comment(column.comment)
            entry: dict[str, Any] = {
                "table": f"{schema}.{table}",
                "column": column.name,
                "native_type": column.sql_type,
                "core_type": None,
                "comment": column.comment,
                "is_nullable": column.nullable,
            }
            if declared is None:
                marker = core_marker(column.sql_type, postgres_timestamps=pg_ts)
                entry["core_type"] = marker
                entry["new_comment"] = None if marker is None else f":{marker}:{comment}"
                out["needs_migration" if marker else "native"].append(entry)
            elif declared in _LEGACY_CODEC_MARKERS:
                marker = _LEGACY_CODEC_MARKERS[declared]
                entry.update(core_type=marker, new_comment=f":{marker}:{comment}")
                entry["reason"] = "legacy_marker"
                out["needs_migration"].append(entry)
            elif is_external_marker(declared):
                entry["reason"] = "external_storage"
                entry["declared"] = declared
                out["external_storage"].append(entry)
            else:
                entry["core_type"] = declared
                out["already_migrated"].append(entry)
    return out


def analyze_columns(schema: Any) -> dict[str, Any]:
    """Find the columns of ``schema`` that need a type marker.

    Returns ``needs_migration`` (columns without a marker whose native type stands for one core
    type, or with a 0.14 marker such as ``:attach:``; each with the ``core_type`` it gets),
    ``already_migrated`` (columns with a 2.x marker), ``external_storage`` (0.14 store-backed
    columns, for :func:`migrate_external` / :func:`migrate_filepath`) and ``native`` (columns
    that stay native types, such as ``int unsigned``). Each entry has ``table``, ``column``,
    ``native_type``, ``core_type``, ``comment`` and ``is_nullable``. Hidden ``~`` tables are
    skipped.
    """
    conn, name = resolve_schema(schema)
    return _classify(conn, name)


def _apply(
    conn: Any, schema: str, entries: list[dict[str, Any]], dry_run: bool
) -> tuple[list[str], list[dict[str, Any]]]:
    """The statements adding the markers of ``entries`` (run unless ``dry_run``), table by
    table, and a detail row per column."""
    by_table: dict[str, dict[str, str]] = {}
    for e in entries:
        by_table.setdefault(e["table"].split(".", 1)[1], {})[e["column"]] = e["new_comment"]
    statements: list[str] = []
    details: list[dict[str, Any]] = []
    for table, changes in by_table.items():
        sql = set_comment_sql(conn, schema, table, changes)
        statements.extend(sql)
        if not dry_run:
            execute(conn, schema, sql, [table])
        for e in entries:
            if e["table"] == f"{schema}.{table}":
                details.append(
                    {
                        "table": e["table"],
                        "column": e["column"],
                        "native_type": e["native_type"],
                        "core_type": e["core_type"],
                        "status": "dry_run" if dry_run else "migrated",
                    }
                )
                logger.info(
                    "%s %s.%s: %s -> %s",
                    "Would migrate" if dry_run else "Migrated",
                    e["table"],
                    e["column"],
                    e["native_type"],
                    e["core_type"],
                )
    return statements, details


def migrate_columns(schema: Any, dry_run: bool = True) -> dict[str, Any]:
    """Add the ``:<type>:`` marker to every legacy column that needs one (blobs included).

    Only comments change. Returns ``columns_analyzed``, ``columns_migrated`` (0 on a dry run),
    ``columns_skipped`` (already marked, external, or staying native), ``sql_statements`` (run
    or to be run) and ``details``. A second run finds nothing left to do.
    """
    conn, name = resolve_schema(schema)
    found = _classify(conn, name)
    todo = found["needs_migration"]
    statements, details = _apply(conn, name, todo, dry_run)
    skipped = len(found["already_migrated"]) + len(found["external_storage"]) + len(found["native"])
    return {
        "columns_analyzed": len(todo) + skipped,
        "columns_migrated": 0 if dry_run else len(todo),
        "columns_skipped": skipped,
        "sql_statements": statements,
        "details": details,
        "dry_run": dry_run,
    }


def analyze_blob_columns(schema: Any) -> list[dict[str, Any]]:
    """Every in-table blob column of ``schema`` (MySQL blob types, PostgreSQL bytea).

    Each entry: ``table_name`` (``schema.table``), ``column_name``, ``column_type``,
    ``current_comment``, ``is_nullable`` and ``needs_migration`` (True when the column has no
    marker, so its serialized blobs read as raw bytes until it gets ``:<blob>:``).
    """
    return _blob_columns(*resolve_schema(schema))


def _blob_columns(conn: Any, name: str) -> list[dict[str, Any]]:
    out = []
    for table, columns in conn.introspection.schema_columns(conn.run, name).items():
        if table.startswith("~"):
            continue
        for column in columns:
            if not is_blob_type(column.sql_type):
                continue
            declared, _ = split_comment(column.comment)
            out.append(
                {
                    "table_name": f"{name}.{table}",
                    "column_name": column.name,
                    "column_type": column.sql_type,
                    "current_comment": column.comment,
                    "is_nullable": column.nullable,
                    "needs_migration": declared is None or declared == "blob",
                }
            )
    return out


def _blob_entries(conn: Any, name: str, target_type: str) -> list[dict[str, Any]]:
    marker = target_type if target_type.startswith("<") else f"<{target_type}>"
    entries = []
    for column in _blob_columns(conn, name):
        if not column["needs_migration"]:
            continue
        _, comment = split_comment(column["current_comment"])
        entries.append(
            {
                "table": column["table_name"],
                "column": column["column_name"],
                "native_type": column["column_type"],
                "core_type": marker,
                "new_comment": f":{marker}:{comment}",
            }
        )
    return entries


def generate_migration_sql(
    schema: Any, target_type: str = "blob", dry_run: bool = True
) -> list[str]:
    """The ALTER statements that give every unmarked blob column the ``:<blob>:`` marker
    (``target_type`` names another codec). Nothing is run; ``dry_run`` is accepted for
    compatibility and has no effect."""
    conn, name = resolve_schema(schema)
    statements, _ = _apply(conn, name, _blob_entries(conn, name, target_type), True)
    return statements


def migrate_blob_columns(
    schema: Any, target_type: str = "blob", dry_run: bool = True
) -> dict[str, Any]:
    """Give every unmarked blob column the ``:<blob>:`` marker (comments only; the stored bytes
    are already in the blob format). Returns ``analyzed``, ``needs_migration``, ``migrated``
    (0 on a dry run) and ``sql_statements``."""
    conn, name = resolve_schema(schema)
    analyzed = _blob_columns(conn, name)
    entries = _blob_entries(conn, name, target_type)
    statements, details = _apply(conn, name, entries, dry_run)
    return {
        "analyzed": len(analyzed),
        "needs_migration": len(entries),
        "migrated": 0 if dry_run else len(entries),
        "sql_statements": statements,
        "details": details,
        "dry_run": dry_run,
    }


def check_migration_status(schema: Any) -> dict[str, Any]:
    """How far the blob-marker migration of ``schema`` is: ``total_blob_columns``, ``migrated``
    (columns with a marker), ``pending`` (columns without) and ``columns`` (as
    :func:`analyze_blob_columns` reports them)."""
    columns = analyze_blob_columns(schema)
    pending = sum(1 for c in columns if c["needs_migration"])
    return {
        "total_blob_columns": len(columns),
        "migrated": len(columns) - pending,
        "pending": pending,
        "columns": columns,
    }
