"""DataJoint 0.14 external storage -> 2.x store codecs (SPEC §4.3, §12).

In 0.14 a ``blob@store``, ``attach@store`` or ``filepath@store`` column holds a uuid (binary(16))
that references a row of the schema's ``~external_<store>`` table. The objects themselves live
in the store at ``{schema}/{h[0:2]}/{h[2:4]}/{h}`` (blobs: the serialized blob;
attachments: ``{h}.{attachment_name}``, the file's bytes), and a filepath row records the path
relative to the store. 2.x keeps JSON metadata in the column instead: ``<blob@store>`` and
``<attach@store>`` are hash-addressed objects (``<hash@store>``), ``<filepath@store>`` a path.

The migration of a column ``c`` runs in two resumable steps and deletes nothing:

1. ``dry_run=False``: add ``c_v2`` (json, with the 2.x marker) and fill it row by row: the object is
   read from its 0.14 location and written to its hash-addressed 2.x location (filepaths are
   only checked). Rows already filled are skipped, so an interrupted run just continues.
2. ``finalize=True``: once every row is filled, rename ``c`` to the hidden ``_c_v1`` (kept, with
   its foreign key to ``~external_<store>``, so the 0.14 data stays referenced) and ``c_v2`` to
   ``c``. From then on ``c`` reads through the 2.x codec.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

from ..backend.contract import AlterClause, ColumnInfo, ColumnSpec
from ..codecs import get_codec
from ..errors import DataJointError
from ..heading import split_comment
from ..storage import content_hash, get_backend
from ._catalog import execute, resolve_schema, table_spec

logger = logging.getLogger("datajoint")

_KINDS = ("blob", "attach", "filepath")
_LEGACY_FOLDS = (2, 2)  # 0.14's default subfolding of uuid hex names


@dataclass(frozen=True)
class LegacyColumn:
    """A 0.14 store-backed column (or one half-way through its migration)."""

    table: str
    column: ColumnInfo
    kind: str  # blob, attach, filepath
    store: str
    comment: str  # the user comment, without the marker

    @property
    def name(self) -> str:
        """The attribute's name (without the ``_``/``_v1`` of a finalized-but-one rename)."""
        if self.column.name.startswith("_") and self.column.name.endswith("_v1"):
            return self.column.name[1:-3]
        return self.column.name

    @property
    def marker(self) -> str:
        return f"<{self.kind}@{self.store}>"


def legacy_columns(conn: Any, schema: str, kinds: tuple[str, ...] = _KINDS) -> list[LegacyColumn]:
    """Every column of ``schema`` that still holds 0.14 external references of ``kinds``."""
    out = []
    for table, columns in conn.introspection.schema_columns(conn.run, schema).items():
        if table.startswith("~"):
            continue
        names = {c.name for c in columns}
        for column in columns:
            declared, comment = split_comment(column.comment)
            if declared is None or declared.startswith("<") or "@" not in declared:
                continue
            kind, _, store = declared.partition("@")
            if kind not in kinds:
                continue
            entry = LegacyColumn(table, column, kind, store, comment)
            # a finalized column keeps its 0.14 data under _c_v1: nothing left unless the
            # second rename (c_v2 -> c) was interrupted
            if column.name != entry.name and f"{entry.name}_v2" not in names:
                continue
            out.append(entry)
    return out


def _fold(name: str, folds: tuple[int, ...]) -> str:
    parts, start = [], 0
    for length in folds:
        parts.append(name[start : start + length])
        start += length
    return "/".join(parts)


def legacy_object_path(schema: str, uuid_hex: str, attachment_name: str | None, spec: dict) -> str:
    """Where 0.14 put an external blob or attachment, relative to the store location."""
    folds = tuple(spec.get("subfolding") or _LEGACY_FOLDS)
    name = uuid_hex if attachment_name is None else f"{uuid_hex}.{attachment_name}"
    return f"{schema}/{_fold(uuid_hex, folds)}/{name}"


def as_uuid(ref: Any) -> uuid.UUID:
    """A 0.14 reference as fetched (16 bytes on MySQL, a UUID where the server has the type)."""
    if isinstance(ref, uuid.UUID):
        return ref
    if isinstance(ref, bytes | bytearray | memoryview):
        return uuid.UUID(bytes=bytes(ref))
    return uuid.UUID(str(ref))


def _external_row(conn: Any, schema: str, store: str, ref: uuid.UUID) -> dict[str, Any] | None:
    dialect = conn.dialect
    table = dialect.full_table_name(schema, f"~external_{store}")
    row = conn.query(
        f"SELECT size, attachment_name, filepath FROM {table} WHERE {dialect.quote('hash')} = "
        f"{dialect.placeholder}",
        [dialect.encode_param(ref, "uuid")],
        as_dict=True,
    ).fetchone()
    return None if row is None else dict(row)


class _Converter:
    """Turns the 0.14 reference of one row into 2.x metadata, writing objects as needed."""

    def __init__(self, conn: Any, schema: str, source_store: str, dest_store: str) -> None:
        self.conn, self.schema = conn, schema
        self.source_store, self.dest_store = source_store, dest_store
        self.config = conn.config
        self.source = get_backend(source_store, self.config)
        # what the kernel hands store codecs: the schema (path) and the config (stores)
        self.key = {"_schema": schema, "_config": self.config}
        self.files_copied = 0

    def convert(self, kind: str, ref: uuid.UUID, copy_files: bool = True) -> dict[str, Any]:
        entry = _external_row(self.conn, self.schema, self.source_store, ref)
        if entry is None:
            raise DataJointError(
                f"No row {ref.hex} in `{self.schema}`.`~external_{self.source_store}`."
            )
        if kind == "filepath":
            codec = get_codec("filepath")
            return dict(codec.encode(entry["filepath"], key=self.key, store_name=self.dest_store))
        name = entry["attachment_name"] if kind == "attach" else None
        path = legacy_object_path(self.schema, ref.hex, name, self.source.spec)
        data = self.source.get_buffer(path)
        if name is not None:
            data = name.encode() + b"\0" + data
        if not copy_files:  # reference the 0.14 object where it is (blobs only)
            return {
                "hash": content_hash(data),
                "path": path,
                "schema": self.schema,
                "store": self.source_store,
                "size": len(data),
            }
        meta = dict(get_codec("hash").encode(data, key=self.key, store_name=self.dest_store))
        self.files_copied += 1
        return meta


def _pk(conn: Any, schema: str, table: str) -> list[str]:
    return [c.name for c in conn.introspection.columns(conn.run, schema, table) if c.in_key]


def _count(conn: Any, schema: str, table: str, where: str) -> int:
    sql = f"SELECT COUNT(*) FROM {conn.dialect.full_table_name(schema, table)} WHERE {where}"
    return int(conn.query(sql).fetchone()[0])


def _add_v2_column(conn: Any, schema: str, legacy: LegacyColumn) -> list[str]:
    """The DDL adding ``c_v2`` (json, 2.x marker, nullable) right after ``c``."""
    spec = table_spec(conn, schema, legacy.table)
    json_type = conn.dialect.core_type_sql("json", schema=schema)
    column = ColumnSpec(
        name=f"{legacy.name}_v2",
        sql_type=json_type,
        nullable=True,
        comment=f":{legacy.marker}:{legacy.comment}",
    )
    after = legacy.column.name if conn.dialect.capabilities.column_positions else None
    clause = AlterClause("add_column", column=column, after=after)
    return list(
        conn.dialect.alter_table_sql(replace(spec, columns=(*spec.columns, column)), [clause])
    )


def _fill(
    conn: Any,
    schema: str,
    legacy: LegacyColumn,
    converter: _Converter,
    copy_files: bool = True,
) -> tuple[int, list[str]]:
    """Fill ``c_v2`` for every row whose ``c`` is set and ``c_v2`` is not; (rows, errors)."""
    dialect = conn.dialect
    key = _pk(conn, schema, legacy.table)
    old, new = dialect.quote(legacy.column.name), dialect.quote(f"{legacy.name}_v2")
    table = dialect.full_table_name(schema, legacy.table)
    select = ", ".join(dialect.quote(k) for k in key)
    rows = conn.query(
        f"SELECT {select}, {old} FROM {table} WHERE {old} IS NOT NULL AND {new} IS NULL"
    ).fetchall()
    where = " AND ".join(f"{dialect.quote(k)} = {dialect.placeholder}" for k in key)
    done, errors = 0, []
    for row in rows:
        *pk, ref = row
        try:
            meta = converter.convert(legacy.kind, as_uuid(ref), copy_files)
        except (DataJointError, OSError) as error:
            where_text = dict(zip(key, pk, strict=True))
            errors.append(f"{schema}.{legacy.table}.{legacy.name} {where_text}: {error}")
            continue
        conn.query(
            f"UPDATE {table} SET {new} = {dialect.placeholder} WHERE {where}",
            [dialect.encode_param(meta, "json"), *pk],
        )
        done += 1
    return done, errors


def _finalize_sql(conn: Any, schema: str, legacy: LegacyColumn) -> list[str]:
    """Renames ``c`` -> ``_c_v1`` (unless done) and ``c_v2`` -> ``c``, one statement each."""
    statements: list[str] = []
    dialect = conn.dialect
    spec = table_spec(conn, schema, legacy.table)
    current = {c.name: c for c in spec.columns}
    renames = []
    if legacy.column.name == legacy.name:
        renames.append((legacy.name, f"_{legacy.name}_v1"))
    renames.append((f"{legacy.name}_v2", legacy.name))
    for old, new in renames:
        column = current.pop(old)
        renamed = replace(column, name=new)
        columns = tuple(renamed if c.name == old else c for c in spec.columns)
        spec = replace(spec, columns=columns)
        clause = AlterClause("rename_column", column=renamed, old_column=column, name=old)
        statements.extend(dialect.alter_table_sql(spec, [clause]))
        current[new] = renamed
    return statements


def _migrate(
    conn: Any,
    schema: str,
    columns: list[LegacyColumn],
    *,
    dry_run: bool,
    finalize: bool,
    dest_store: str | None = None,
    copy_files: bool = True,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "columns_found": len(columns),
        "columns_migrated": 0,
        "columns_finalized": 0,
        "rows_migrated": 0,
        "files_copied": 0,
        "errors": [],
        "details": [],
        "dry_run": dry_run,
    }
    for legacy in columns:
        names = {c.name for c in conn.introspection.columns(conn.run, schema, legacy.table)}
        has_v2 = f"{legacy.name}_v2" in names
        old = conn.dialect.quote(legacy.column.name)
        pending = _count(conn, schema, legacy.table, f"{old} IS NOT NULL")
        if has_v2:
            new = conn.dialect.quote(f"{legacy.name}_v2")
            pending = _count(conn, schema, legacy.table, f"{old} IS NOT NULL AND {new} IS NULL")
        detail: dict[str, Any] = {
            "table": f"{schema}.{legacy.table}",
            "column": legacy.name,
            "type": legacy.kind,
            "store": legacy.store,
            "rows": pending,
            "status": "dry_run" if dry_run else "migrated",
        }
        report["details"].append(detail)
        if dry_run:
            continue
        if not has_v2:
            execute(conn, schema, _add_v2_column(conn, schema, legacy), [legacy.table])
        converter = _Converter(conn, schema, legacy.store, dest_store or legacy.store)
        rows, errors = _fill(conn, schema, legacy, converter, copy_files)
        report["rows_migrated"] += rows
        report["files_copied"] += converter.files_copied
        report["errors"].extend(errors)
        report["columns_migrated"] += 1
        if finalize:
            if errors:
                detail["status"] = "not finalized: some rows failed"
                continue
            execute(conn, schema, _finalize_sql(conn, schema, legacy), [legacy.table])
            detail["status"] = "finalized"
            report["columns_finalized"] += 1
        logger.info("Migrated %s.%s: %d rows", detail["table"], legacy.name, rows)
    return report


def migrate_external(schema: Any, dry_run: bool = True, finalize: bool = False) -> dict[str, Any]:
    """Move the 0.14 ``blob@store`` and ``attach@store`` columns of ``schema`` to the 2.x
    hash-addressed ``<blob@store>`` / ``<attach@store>`` codecs (see the module docstring for
    the two steps; ``finalize=True`` also runs the first step for rows not yet copied).

    The 0.14 stores must be configured in ``dj.config.stores`` under their 0.14 names. Returns
    ``columns_found``, ``columns_migrated``, ``columns_finalized``, ``rows_migrated``,
    ``files_copied``, ``errors`` (rows whose object could not be read; such a column is not
    finalized) and ``details`` (per column: ``table``, ``column``, ``type``, ``store``, ``rows``
    still to copy, ``status``). A run after finalizing finds nothing to do.
    """
    conn, name = resolve_schema(schema)
    return _migrate(
        conn,
        name,
        legacy_columns(conn, name, ("blob", "attach")),
        dry_run=dry_run,
        finalize=finalize,
    )


def migrate_filepath(schema: Any, dry_run: bool = True, finalize: bool = False) -> dict[str, Any]:
    """Move the 0.14 ``filepath@store`` columns of ``schema`` to ``<filepath@store>`` (JSON
    metadata of a path relative to the store; each file must exist there). Same steps and report
    as :func:`migrate_external`; no file is copied."""
    conn, name = resolve_schema(schema)
    return _migrate(
        conn, name, legacy_columns(conn, name, ("filepath",)), dry_run=dry_run, finalize=finalize
    )


def migrate_external_pointers_v2(
    schema: str,
    table: str,
    attribute: str,
    source_store: str,
    dest_store: str,
    copy_files: bool = False,
    connection: Any = None,
) -> dict[str, Any]:
    """Migrate one 0.14 external column (e.g. of a schema copied with
    :func:`create_parallel_schema`) to 2.x metadata, reading objects from ``source_store`` and
    recording ``dest_store``, then finalize it.

    With ``copy_files`` the objects are written hash-addressed into ``dest_store``; without, a
    blob's metadata points at its 0.14 object where it is (attachments are always copied: their
    2.x bytes include the file name). Returns ``rows_migrated``, ``files_copied``, ``errors``.
    """
    conn, schema = resolve_schema(schema, connection)
    found = [
        c
        for c in legacy_columns(conn, schema)
        if c.table == table and c.name == attribute and c.kind in ("blob", "attach")
    ]
    if not found:
        raise DataJointError(
            f"`{schema}`.`{table}` has no 0.14 external blob or attachment column `{attribute}`."
        )
    legacy = replace(found[0], store=dest_store)  # the 2.x marker names the destination
    names = {c.name for c in conn.introspection.columns(conn.run, schema, table)}
    if f"{legacy.name}_v2" not in names:
        execute(conn, schema, _add_v2_column(conn, schema, legacy), [table])
    converter = _Converter(conn, schema, source_store, dest_store)
    rows, errors = _fill(conn, schema, legacy, converter, copy_files or legacy.kind == "attach")
    if not errors:
        execute(conn, schema, _finalize_sql(conn, schema, legacy), [table])
    return {"rows_migrated": rows, "files_copied": converter.files_copied, "errors": errors}


def _store_references(conn: Any, schema: str) -> dict[str, list[str]]:
    """Store name -> where it is referenced (0.14 markers, 2.x codec markers, ~external tables)."""
    refs: dict[str, list[str]] = {}
    for table, columns in conn.introspection.schema_columns(conn.run, schema).items():
        if table.startswith("~external_"):
            refs.setdefault(table[len("~external_") :], []).append(f"{schema}.{table}")
            continue
        if table.startswith("~"):
            continue
        for column in columns:
            declared, _ = split_comment(column.comment)
            if declared and "@" in declared:
                store = declared.strip("<>").partition("@")[2]
                refs.setdefault(store, []).append(f"{schema}.{table}.{column.name}")
    return refs


def check_store_configuration(schema: Any) -> dict[str, Any]:
    """Check that every store the schema references (0.14 ``~external_<store>`` tables and
    markers, 2.x ``<codec@store>`` columns; ``""`` is the default store) is configured in
    ``dj.config.stores`` and reachable. Returns ``stores_configured``, ``stores_missing``,
    ``stores_unreachable`` and ``details`` (per store: ``referenced_by``, ``protocol``,
    ``location``, ``status``, ``error``)."""
    conn, name = resolve_schema(schema)
    report: dict[str, Any] = {
        "stores_configured": [],
        "stores_missing": [],
        "stores_unreachable": [],
        "details": {},
    }
    for store, where in sorted(_store_references(conn, name).items()):
        detail: dict[str, Any] = {"referenced_by": where, "status": "ok", "error": None}
        report["details"][store] = detail
        try:
            spec = conn.config.get_store_spec(store or None)
        except DataJointError as error:
            detail.update(status="missing", error=str(error))
            report["stores_missing"].append(store)
            continue
        detail.update(protocol=spec.get("protocol"), location=spec.get("location"))
        try:
            get_backend(store, conn.config).exists("")
        except Exception as error:  # any failure to reach the store is the finding
            detail.update(status="unreachable", error=f"{type(error).__name__}: {error}")
            report["stores_unreachable"].append(store)
            continue
        report["stores_configured"].append(store)
    return report


def verify_external_integrity(schema: Any, store_name: str | None = None) -> dict[str, Any]:
    """Check that every object the schema references exists in its store: the rows of the 0.14
    ``~external_<store>`` tables, and the metadata of 2.x store-backed columns. ``store_name``
    limits the check to one store. Returns ``total_references``, ``valid``, ``missing`` (per
    object: ``store``, ``table``, ``filepath``, ``error``) and ``stores_checked``."""
    conn, name = resolve_schema(schema)
    report: dict[str, Any] = {
        "total_references": 0,
        "valid": 0,
        "missing": [],
        "stores_checked": [],
    }
    checks: list[tuple[str, str, str]] = []  # (store, table, path)
    catalog = conn.introspection.schema_columns(conn.run, name)
    dialect = conn.dialect
    for table, columns in catalog.items():
        if table.startswith("~external_"):
            store = table[len("~external_") :]
            if store_name is not None and store != store_name:
                continue
            spec = conn.config.get_store_spec(store) if _configured(conn, store) else {}
            sql = f"SELECT {dialect.quote('hash')}, attachment_name, filepath FROM " + (
                dialect.full_table_name(name, table)
            )
            for ref, attachment, filepath in conn.query(sql).fetchall():
                path = filepath or legacy_object_path(name, as_uuid(ref).hex, attachment, spec)
                checks.append((store, table, path))
            continue
        if table.startswith("~"):
            continue
        for column in columns:
            declared, _ = split_comment(column.comment)
            if not declared or not declared.startswith("<") or "@" not in declared:
                continue
            sql = (
                f"SELECT {dialect.quote(column.name)} FROM {dialect.full_table_name(name, table)} "
                f"WHERE {dialect.quote(column.name)} IS NOT NULL"
            )
            decode = dialect.column_decoder("json", column.sql_type)
            for (value,) in conn.query(sql).fetchall():
                meta = decode(value) if decode else value
                if isinstance(meta, str):
                    meta = json.loads(meta)
                store = meta.get("store") or ""
                if store_name is not None and store != store_name:
                    continue
                checks.append((store, table, meta["path"]))
    stores: set[str] = set()
    for store, table, path in checks:
        stores.add(store)
        report["total_references"] += 1
        try:
            ok = bool(get_backend(store, conn.config).exists(path))
            error = None if ok else "not found"
        except Exception as failure:  # an unreadable store counts as missing objects
            ok, error = False, f"{type(failure).__name__}: {failure}"
        if ok:
            report["valid"] += 1
        else:
            report["missing"].append(
                {"store": store, "table": f"{name}.{table}", "filepath": path, "error": error}
            )
    report["stores_checked"] = sorted(stores)
    return report


def _configured(conn: Any, store: str) -> bool:
    try:
        conn.config.get_store_spec(store)
    except DataJointError:
        return False
    return True
