"""Staged inserts (SPEC §4.5): write large ``<object@>`` values straight into the store.

``Table.staged_insert1`` returns a :class:`StagedInsert`. Inside its ``with`` block the row's
primary key goes into ``st.rec``; ``st.store(field)`` (an fsspec mapping, e.g. for zarr) and
``st.open(field)`` (a writable file) give a place in the store at the object's final path, so the
data is written once, where it stays. On a clean exit the metadata of what was written goes into
``st.rec`` and the row is inserted; on an exception (one from that insert included) the staged
objects are removed and the exception propagates::

    with Recording.staged_insert1 as st:
        st.rec["recording_id"] = 7
        z = zarr.open(st.store("traces", ext=".zarr"), mode="w", shape=(n, 64), dtype="f4")
        z[:] = traces
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import datajoint as dj
from datajoint.codecs import resolved_store_name
from datajoint.errors import DataJointError
from datajoint.storage import get_backend

from .manifest import manifest_bytes, manifest_path

__all__ = ["StagedInsert"]

logger = logging.getLogger("datajoint")

_NOT_CONFIGURED = (
    "Storage is not configured. Set stores.default and stores.<name> settings in datajoint.json."
)


@dataclass
class _Staged:
    """One staged attribute: where its object is written."""

    backend: Any
    store: str | None
    path: str
    ext: str | None


def _manifest(path: str, files: dict[str, int]) -> dict[str, Any]:
    """The manifest of the staged folder at ``path`` whose files (store-relative) are ``files``."""
    entries = [
        {"path": p[len(path) :].lstrip("/"), "size": size} for p, size in sorted(files.items())
    ]
    return {
        "files": entries,
        "total_size": sum(files.values()),
        "item_count": len(entries),
        "created": datetime.now(UTC).isoformat(),
    }


def _normalized_ext(ext: str | None) -> str | None:
    if not ext:
        return None
    return ext if ext.startswith(".") else "." + ext


class StagedInsert:
    """A row of ``table`` whose ``<object@>`` values are written to the store in place.

    Use it as a context manager (``with Table.staged_insert1 as st``): fill ``st.rec``, write
    through :meth:`store` or :meth:`open`; the row is inserted on a clean exit.
    """

    def __init__(self, table: Any) -> None:
        self._table = table
        self._config = table.connection.config
        self.rec: dict[str, Any] = {}
        self._staged: dict[str, _Staged] = {}

    # ---- the context manager ---------------------------------------------------------------
    def __enter__(self) -> StagedInsert:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is not None:
            self._remove_staged()
            return
        try:
            for field, staged in self._staged.items():
                self.rec[field] = self._metadata(field, staged)
            self._table.insert1(self.rec)
        except BaseException:
            self._remove_staged()
            raise
        connection = self._table.connection
        if self._staged and connection.in_transaction:
            # the row exists only if the enclosing transaction commits
            connection.after_transaction(self._settle)

    def _settle(self, committed: bool) -> None:
        if not committed:
            self._remove_staged()

    # ---- where to write --------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        """The fsspec filesystem of the default store."""
        return self._backend(None).fs

    def store(self, field: str, ext: str = "") -> Any:
        """An fsspec mapping (``FSMap``) rooted at the object path of ``field``, e.g. for zarr."""
        staged = self._stage(field, ext)
        return staged.backend.get_fsmap(staged.path)

    def open(self, field: str, ext: str = "", mode: str = "wb") -> Any:
        """A file object at the object path of ``field`` (opened with ``mode``)."""
        staged = self._stage(field, ext)
        return staged.backend.open(staged.path, mode)

    def _backend(self, store: str | None) -> Any:
        try:
            return get_backend(store or None, self._config)
        except DataJointError as error:
            raise DataJointError(_NOT_CONFIGURED) from error

    def _stage(self, field: str, ext: str) -> _Staged:
        """The staged object of ``field``, created on first use; checks the attribute and
        the primary key."""
        table = self._table
        heading = table.heading
        try:
            attr = heading[field]
        except KeyError:
            raise DataJointError(
                f"Attribute '{field}' not found in table heading of {table.full_table_name}"
            ) from None
        if attr.codec_name != "object":
            raise DataJointError(
                f"Attribute '{field}' is not an <object> type (declared "
                f"{attr.declared_type}); only <object@> attributes can be staged."
            )
        missing = [k for k in heading.primary_key if k not in self.rec]
        if missing:
            names = ", ".join(repr(k) for k in missing)
            raise DataJointError(
                "Primary key values must be set in staged.rec before calling store() or "
                f"open(). Missing: {{{names}}}"
            )
        ext_text = _normalized_ext(ext)
        staged = self._staged.get(field)
        if staged is not None:
            if staged.ext != ext_text:
                raise DataJointError(
                    f"Attribute '{field}' is already staged at {staged.path}; stage it once per "
                    "row, with one extension."
                )
            return staged
        store = resolved_store_name(attr.store, self._config)
        backend = self._backend(store)
        primary_key = {k: self.rec[k] for k in heading.primary_key}
        codec = dj.get_codec("object")
        if not isinstance(codec, dj.SchemaCodec):
            raise DataJointError(
                f"The codec <object> ({type(codec).__name__}) is not a SchemaCodec; "
                "staged inserts need the <object> codec of dj-codecs-builtin."
            )
        path, _token = codec._build_path(
            table.database,
            type(table).__name__,
            field,
            primary_key,
            ext=ext_text,
            store_name=store,
            config=self._config,
        )
        staged = _Staged(backend, store, path, ext_text)
        self._staged[field] = staged
        return staged

    # ---- finishing -------------------------------------------------------------------------
    def _metadata(self, field: str, staged: _Staged) -> dict[str, Any]:
        """The ``<object>`` metadata of what was written for ``field``."""
        backend, path = staged.backend, staged.path
        if backend.isdir(path):
            files = backend.list_files(path)
            size, item_count, is_dir = sum(files.values()), len(files), True
            backend.put_buffer(manifest_bytes(_manifest(path, files)), manifest_path(path))
        elif backend.exists(path):
            size, item_count, is_dir = backend.size(path), None, False
        else:
            raise DataJointError(
                f"Nothing was written for staged attribute '{field}' of "
                f"{self._table.full_table_name} (expected an object at {path}). Write through "
                "st.store(field) or st.open(field) before leaving the block."
            )
        return {
            "path": path,
            "store": staged.store,
            "size": size,
            "ext": staged.ext,
            "is_dir": is_dir,
            "item_count": item_count,
            "timestamp": datetime.now(UTC).isoformat(),
        }

    def _remove_staged(self) -> None:
        """Remove every staged object, best effort (the original error is what matters)."""
        for field, staged in self._staged.items():
            try:
                if staged.backend.isdir(staged.path):
                    staged.backend.remove_folder(staged.path)
                else:
                    staged.backend.remove(staged.path)
            except Exception as error:
                logger.warning(
                    f"Staged insert into {self._table.full_table_name}: could not remove the "
                    f"staged object of '{field}' at {staged.path}: {error}"
                )
        self._staged.clear()
