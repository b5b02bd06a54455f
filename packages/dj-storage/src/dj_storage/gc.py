"""Garbage collection of object stores (SPEC §4.7): ``dj.gc``.

Objects in a store outlive the rows that refer to them: hash-addressed content (``<hash@>``,
``<blob@>``, ``<attach@>``) is shared by every row of a schema with the same bytes, so deleting a
row never removes it, and schema-addressed objects (``<object@>``, ``<npy@>``, any
:class:`~datajoint.SchemaCodec`) stay behind when their row is deleted. A
:class:`GarbageCollector` finds the objects of its schemas that no row refers to and, when asked,
removes them::

    collector = dj.gc.GarbageCollector(schema, store="main")
    report = collector.collect()                 # dry run: what would be removed
    report = collector.collect(dry_run=False)    # remove the orphans

Safety rules:

- a dry run is the default;
- a non-dry run refuses to delete anything when any listing or reference scan failed (a partial
  scan would make live objects look orphaned);
- an object younger than the grace period (default one hour) is never deleted: an insert uploads
  its objects before the row is committed, so a collector running beside it would otherwise see
  the new objects unreferenced. Such objects are reported as ``*_recent`` instead.

Stored objects are listed before the references are read, so an object that an insert commits
while the collector runs is either seen referenced or is younger than the grace period.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from datajoint import FreeTable, SchemaCodec
from datajoint.codecs import Codec, resolve_dtype
from datajoint.errors import DataJointError
from datajoint.storage import get_backend

from .manifest import MANIFEST_SUFFIX

__all__ = ["DEFAULT_GRACE_PERIOD", "GarbageCollector", "format_report"]

logger = logging.getLogger("datajoint")

#: objects modified more recently than this are never deleted
DEFAULT_GRACE_PERIOD = timedelta(hours=1)

_HASH_NAME = re.compile(r"^[a-z2-7]{26}$")
_FETCH_ROWS = 10_000

#: a column that refers to store objects: its name, and the codecs whose
#: ``referenced_paths`` read its stored values (outermost and innermost of its chain)
_Column = tuple[str, tuple[Codec, ...]]


def _as_timedelta(grace_period: timedelta | float | int) -> timedelta:
    if isinstance(grace_period, timedelta):
        value = grace_period
    elif isinstance(grace_period, int | float) and not isinstance(grace_period, bool):
        value = timedelta(seconds=grace_period)
    else:
        raise DataJointError(
            f"grace_period must be a timedelta or a number of seconds, got {grace_period!r}"
        )
    if value < timedelta(0):
        raise DataJointError(f"grace_period must not be negative, got {grace_period!r}")
    return value


def _as_schema(schema: Any) -> Any:
    """A Schema, or the ``schema`` of a module (e.g. a ``dj.VirtualModule``)."""
    if hasattr(schema, "database") and hasattr(schema, "connection"):
        if schema.database is None:
            raise DataJointError("GarbageCollector: the schema must be activated first.")
        return schema
    inner = getattr(schema, "schema", None)
    if inner is not None:
        return _as_schema(inner)
    raise DataJointError(
        f"GarbageCollector expects dj.Schema objects (or modules with a `schema`), got {schema!r}"
    )


def _covered(path: str, referenced: set[str]) -> bool:
    """Whether a stored schema-addressed file belongs to a referenced object: it is that object,
    its manifest, or a file inside that (folder) object."""
    if path.endswith(MANIFEST_SUFFIX):
        path = path[: -len(MANIFEST_SUFFIX)]
    while path:
        if path in referenced:
            return True
        path = path.rpartition("/")[0]
    return False


class GarbageCollector:
    """Finds and removes the objects of one store that no row of the given schemas refers to.

    ``store=None`` (or ``""``) collects ``stores.default``; ``config`` defaults to the first
    schema's connection configuration. ``grace_period`` (a timedelta or seconds) protects
    objects modified more recently than that from deletion.
    """

    def __init__(
        self,
        *schemas: Any,
        store: str | None = None,
        config: Any = None,
        grace_period: timedelta | float | int = DEFAULT_GRACE_PERIOD,
    ) -> None:
        if not schemas:
            raise DataJointError("At least one schema must be provided")
        self.schemas = tuple(_as_schema(s) for s in schemas)
        self.store = store or None
        self.config = config if config is not None else self.schemas[0].connection.config
        self.grace_period = _as_timedelta(grace_period)
        spec = self.config.get_store_spec(self.store)
        self.backend = get_backend(self.store, self.config)
        self._hash_prefix = str(spec.get("hash_prefix") or "").strip("/")
        self._schema_prefix = str(spec.get("schema_prefix") or "").strip("/")
        self._partitioned = bool(spec.get("partition_pattern"))
        default = (getattr(self.config, "stores", None) or {}).get("default")
        self._is_default_store = self.store is None or self.store == default
        self._scan_errors: list[str] = []

    # ---- references ------------------------------------------------------------------------
    def hash_references(self, verbose: bool = False) -> set[str]:
        """Store-relative paths of the hash-addressed objects that rows of the schemas refer to
        (columns whose codec chain stores through ``<hash>``: ``<hash@>``, ``<blob@>``,
        ``<attach@>``)."""
        return self._references("hash", verbose)

    def schema_references(self, verbose: bool = False) -> set[str]:
        """Store-relative paths of the schema-addressed objects that rows of the schemas refer
        to (columns of any SchemaCodec: ``<object@>``, ``<npy@>``, ...). A folder object is
        referenced by its folder path."""
        return self._references("schema", verbose)

    def _references(self, kind: str, verbose: bool) -> set[str]:
        referenced: set[str] = set()
        for schema in self.schemas:
            try:
                table_names = [t for t in schema.list_tables() if not t.startswith("~")]
            except Exception as error:
                self._scan_error(f"listing the tables of `{schema.database}`", error)
                continue
            for table_name in table_names:
                full_name = f"{schema.database}.{table_name}"
                try:
                    table = FreeTable(schema.connection, full_name)
                    columns = self._store_columns(table, kind)
                    if columns and verbose:
                        names = ", ".join(name for name, _ in columns)
                        logger.info(f"gc: reading {kind} references of {full_name}: {names}")
                    if columns:
                        referenced.update(self._read_references(table, columns))
                except Exception as error:
                    self._scan_error(f"reading references of {full_name}", error)
        return referenced

    def _store_columns(self, table: Any, kind: str) -> list[_Column]:
        """The columns of ``table`` whose values refer to ``kind`` ("hash"/"schema") objects."""
        columns: list[_Column] = []
        for attr in table.heading.all_attributes:
            if attr.codec_name is None or attr.store is None:
                continue  # no store in the declared type: the value lives in the table
            try:
                _, chain, _ = resolve_dtype(attr.type)
            except DataJointError as error:
                raise DataJointError(
                    f"cannot tell which objects column `{attr.name}` ({attr.type}) refers to: "
                    f"{error}"
                ) from error
            if kind == "hash":
                matches = any(codec.name == "hash" for codec in chain)
            else:
                matches = any(isinstance(codec, SchemaCodec) for codec in chain)
            if matches:
                readers = (chain[0],) if chain[0] is chain[-1] else (chain[0], chain[-1])
                columns.append((attr.name, readers))
        return columns

    def _read_references(self, table: Any, columns: list[_Column]) -> Iterable[str]:
        """The paths the stored (undecoded) values of ``columns`` refer to, in this store."""
        connection = table.connection
        select = table.make_select([name for name, _ in columns])
        cursor = connection.execute_model(select)
        try:
            while True:
                rows = cursor.fetchmany(_FETCH_ROWS)
                if not rows:
                    return
                for row in rows:
                    for value, (_, readers) in zip(row, columns, strict=True):
                        if value is None:
                            continue
                        for codec in readers:
                            for path, store in codec.referenced_paths(value):
                                if self._counts(store):
                                    yield path
        finally:
            cursor.close()

    def _counts(self, store: str | None) -> bool:
        """Whether a reference recorded with ``store`` refers to this collector's store."""
        if self.store is None:
            return True
        return store == self.store or (not store and self._is_default_store)

    # ---- stored objects --------------------------------------------------------------------
    def list_hash_paths(self, schema: str) -> dict[str, int]:
        """The hash-addressed objects stored for ``schema``: files under
        ``{hash_prefix}/{schema}/`` named like a content hash, path -> size in bytes."""
        prefix = "/".join(p for p in (self._hash_prefix, schema) if p)
        files = self._list(prefix, f"list_hash_paths({schema})")
        return {
            path: size for path, size in files.items() if _HASH_NAME.match(path.rpartition("/")[2])
        }

    def list_schema_paths(self, schema: str) -> dict[str, int]:
        """The schema-addressed files stored for ``schema`` (manifests included), path -> size.

        They are the files under ``{schema_prefix}/{schema}/``; with a ``partition_pattern``
        configured also those under ``{schema_prefix}/{attr=value}/…/{schema}/``.
        """
        where = f"list_schema_paths({schema})"
        files = self._list("/".join(p for p in (self._schema_prefix, schema) if p), where)
        if self._partitioned:
            skip = len(self._schema_prefix.split("/")) if self._schema_prefix else 0
            for path, size in self._list(self._schema_prefix, where).items():
                segments = path.split("/")[skip:]
                while segments and "=" in segments[0]:
                    segments.pop(0)
                if segments and segments[0] == schema and len(segments) > 1:
                    files.setdefault(path, size)
        return files

    def _list(self, prefix: str, where: str) -> dict[str, int]:
        try:
            return dict(self.backend.list_files(prefix))
        except Exception as error:
            self._scan_error(where, error)
            return {}

    def _scan_error(self, where: str, error: BaseException) -> None:
        message = f"{where}: {type(error).__name__}: {error}"
        logger.warning(f"gc: {message}")
        self._scan_errors.append(message)

    # ---- deleting --------------------------------------------------------------------------
    def delete_schema_path(self, path: str) -> bool:
        """Remove one schema-addressed file and the folders that it leaves empty.

        Returns whether the file existed.
        """
        existed = bool(self.backend.exists(path))
        self.backend.remove(path)
        self._remove_empty_parents(path)
        return existed

    def _remove_empty_parents(self, path: str) -> None:
        """Remove the folders above ``path`` that are now empty (an object store has none)."""
        fs = self.backend.fs
        stop = {"", self._schema_prefix, self._hash_prefix}
        parent = path.rpartition("/")[0]
        while parent not in stop:
            full = self.backend.full_path(parent)
            try:
                if not fs.isdir(full) or fs.ls(full, detail=False):
                    return
                fs.rmdir(full)
            except Exception:  # a folder that cannot be removed is only left behind, empty
                return
            parent = parent.rpartition("/")[0]

    def _recent(self, paths: list[str]) -> set[str]:
        """The paths modified within the grace period (or whose age cannot be read)."""
        if not self.grace_period:
            return set()
        now = datetime.now(UTC)
        recent = set()
        for path in paths:
            try:
                modified = self.backend.modified(path)
            except FileNotFoundError:
                continue  # already gone
            except Exception as error:
                logger.warning(f"gc: cannot read the age of {path}, keeping it: {error}")
                modified = None
            if modified is None or now - modified < self.grace_period:
                recent.add(path)
        return recent

    # ---- the whole run ---------------------------------------------------------------------
    def collect(self, dry_run: bool = True, verbose: bool = False) -> dict[str, Any]:
        """Report the orphaned objects of the store and, unless ``dry_run``, remove them.

        Returns a dict: ``hash_paths_referenced``/``_stored``/``_orphaned``/``_orphaned_bytes``
        and the sorted ``orphaned_hash_paths`` (the same for ``schema_paths``); the orphans
        spared because they are younger than the grace period as ``hash_paths_recent``,
        ``recent_hash_paths``, ``schema_paths_recent``, ``recent_schema_paths``;
        ``hash_paths_deleted``, ``schema_paths_deleted``, ``deleted``, ``bytes_freed``,
        ``errors`` (failed deletions), ``scan_errors`` (messages), ``grace_period`` (seconds)
        and ``dry_run``.
        """
        self._scan_errors = []
        hash_stored: dict[str, int] = {}
        schema_stored: dict[str, int] = {}
        for schema in self.schemas:
            hash_stored.update(self.list_hash_paths(schema.database))
            schema_stored.update(self.list_schema_paths(schema.database))
        hash_referenced = self.hash_references(verbose)
        schema_referenced = self.schema_references(verbose)

        hash_unreferenced = sorted(p for p in hash_stored if p not in hash_referenced)
        schema_unreferenced = sorted(p for p in schema_stored if not _covered(p, schema_referenced))
        recent = self._recent(hash_unreferenced + schema_unreferenced)
        hash_orphaned = [p for p in hash_unreferenced if p not in recent]
        schema_orphaned = [p for p in schema_unreferenced if p not in recent]

        report: dict[str, Any] = {
            "hash_paths_referenced": len(hash_referenced),
            "hash_paths_stored": len(hash_stored),
            "hash_paths_orphaned": len(hash_orphaned),
            "hash_paths_orphaned_bytes": sum(hash_stored[p] for p in hash_orphaned),
            "orphaned_hash_paths": hash_orphaned,
            "schema_paths_referenced": len(schema_referenced),
            "schema_paths_stored": len(schema_stored),
            "schema_paths_orphaned": len(schema_orphaned),
            "schema_paths_orphaned_bytes": sum(schema_stored[p] for p in schema_orphaned),
            "orphaned_schema_paths": schema_orphaned,
            "recent_hash_paths": [p for p in hash_unreferenced if p in recent],
            "recent_schema_paths": [p for p in schema_unreferenced if p in recent],
            "hash_paths_deleted": 0,
            "schema_paths_deleted": 0,
            "deleted": 0,
            "bytes_freed": 0,
            "errors": 0,
            "scan_errors": list(self._scan_errors),
            "grace_period": self.grace_period.total_seconds(),
            "dry_run": dry_run,
        }
        report["hash_paths_recent"] = len(report["recent_hash_paths"])
        report["schema_paths_recent"] = len(report["recent_schema_paths"])
        if dry_run:
            return report
        if self._scan_errors:
            raise DataJointError(
                f"Refusing to delete: {len(self._scan_errors)} scan error(s) — a partial scan "
                "could make objects in use look orphaned. Fix the errors and run gc again: "
                + "; ".join(self._scan_errors)
            )
        self._delete(report, hash_orphaned, hash_stored, "hash", verbose)
        self._delete(report, schema_orphaned, schema_stored, "schema", verbose)
        report["deleted"] = report["hash_paths_deleted"] + report["schema_paths_deleted"]
        return report

    def _delete(
        self,
        report: dict[str, Any],
        paths: list[str],
        sizes: Mapping[str, int],
        kind: str,
        verbose: bool,
    ) -> None:
        for path in paths:
            try:
                if kind == "schema":
                    existed = self.delete_schema_path(path)
                else:
                    existed = bool(self.backend.exists(path))
                    self.backend.remove(path)
                    self._remove_empty_parents(path)
            except Exception as error:
                report["errors"] += 1
                logger.warning(f"gc: could not delete {path}: {type(error).__name__}: {error}")
                continue
            if existed:
                report[f"{kind}_paths_deleted"] += 1
                report["bytes_freed"] += sizes.get(path, 0)
                if verbose:
                    logger.info(f"gc: deleted {path} ({sizes.get(path, 0)} bytes)")


def format_report(report: Mapping[str, Any]) -> str:
    """A :meth:`GarbageCollector.collect` report as text: one line per section, then the
    orphaned and recent paths."""
    action = "would delete" if report["dry_run"] else "deleted"
    lines = []
    for kind in ("hash", "schema"):
        deleted = report[f"{kind}_paths_deleted"]
        lines.append(
            f"{kind}-addressed: {report[f'{kind}_paths_stored']} stored, "
            f"{report[f'{kind}_paths_referenced']} referenced, "
            f"{report[f'{kind}_paths_orphaned']} orphaned "
            f"({report[f'{kind}_paths_orphaned_bytes']} bytes), "
            f"{report[f'{kind}_paths_recent']} unreferenced but younger than the grace period"
            + (f", {deleted} deleted" if not report["dry_run"] else "")
        )
    for kind in ("hash", "schema"):
        for path in report[f"orphaned_{kind}_paths"]:
            lines.append(f"  {action}: {path}")
        for path in report[f"recent_{kind}_paths"]:
            lines.append(f"  kept (recent): {path}")
    if not report["dry_run"]:
        lines.append(
            f"deleted {report['deleted']} object(s), {report['bytes_freed']} bytes freed, "
            f"{report['errors']} error(s)"
        )
    for error in report["scan_errors"]:
        lines.append(f"scan error: {error}")
    if report["dry_run"]:
        lines.append("dry run: nothing was deleted")
    return "\n".join(lines)
