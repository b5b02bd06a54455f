"""The store-backed codecs: ``<hash@>``, ``<object@>``, ``<npy@>`` and ``<filepath@>`` (SPEC §4.2).

Each keeps its value in an object store and only JSON metadata in the table. ``<hash@>`` is
hash-addressed (identical bytes are stored once per schema; ``<blob@>`` and ``<attach@>`` chain to
it); ``<object@>`` and ``<npy@>`` are schema-addressed through :class:`datajoint.SchemaCodec`;
``<filepath@>`` records a file that already is in a store. The stores are reached only through
the kernel's storage registry (``datajoint.storage``), which dj-storage fills; fetched values are
the ``ObjectRef`` / ``NpyRef`` storage services.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datajoint import Codec, SchemaCodec
from datajoint.errors import DataJointError
from datajoint.storage import content_hash

__all__ = [
    "FilepathCodec",
    "HashCodec",
    "NpyCodec",
    "ObjectCodec",
    "check_filepath_sections",
    "check_hash",
    "content_hash",
    "hash_path",
]

_HASH = re.compile(r"[a-z2-7]{26}")


def check_hash(value: Any) -> str:
    """``value`` if it is a content hash (26 characters of ``[a-z2-7]``), else DataJointError."""
    if not (isinstance(value, str) and _HASH.fullmatch(value)):
        raise DataJointError(
            f"Invalid content hash {value!r}: expected 26 characters of base32 "
            "(lowercase a-z and 2-7, no padding)."
        )
    return value


def hash_path(
    digest: str, schema: str, subfolding: Sequence[int] | None = None, prefix: str | None = "_hash"
) -> str:
    """The store-relative path of hash-addressed content (SPEC §4.3).

    ``{prefix}/{schema}/{fold1}/{fold2}/…/{hash}``: each fold is the next slice of the hash, of
    the length ``subfolding`` gives; an empty prefix drops its segment.
    """
    check_hash(digest)
    parts = [prefix.strip("/")] if prefix and prefix.strip("/") else []
    parts.append(schema)
    start = 0
    for length in subfolding or ():
        parts.append(digest[start : start + int(length)])
        start += int(length)
    parts.append(digest)
    return "/".join(parts)


# ---- shared helpers ------------------------------------------------------------------------------
def _backend(store: str | None, config: Any) -> Any:
    """The storage backend of ``store`` (None or ``""``: ``stores.default``)."""
    from datajoint import storage

    return storage.get_backend(store or None, config)


def _service(name: str) -> Any:
    from datajoint import storage

    return storage.storage_service(name)


def _metadata(stored: Any, codec: str) -> dict[str, Any]:
    """Stored metadata as a dict (JSON text is parsed)."""
    if isinstance(stored, str | bytes | bytearray):
        stored = json.loads(stored)
    if not isinstance(stored, Mapping) or "path" not in stored:
        raise DataJointError(
            f"<{codec}> expected stored metadata with a 'path', got {type(stored).__name__}"
        )
    return dict(stored)


def _now() -> str:
    return datetime.now(UTC).isoformat()


# ---- <hash@> -------------------------------------------------------------------------------------
class HashCodec(Codec):
    """``<hash@>``: bytes stored once per schema at a path named by their content hash.

    Stored metadata: ``{"hash", "path", "schema", "store", "size"}``. The object is written only
    when its path is absent (identical bytes share one object). Decoding reads the recorded path
    and checks the bytes against the recorded hash.
    """

    name = "hash"
    store_io = True
    prefetch = True  # decode reads the object at the recorded path in full

    def get_dtype(self, is_store: bool) -> str:
        """``json`` (the metadata); a column without ``@`` is refused."""
        if not is_store:
            raise DataJointError("<hash> requires @ (in-store storage only)")
        return "json"

    def validate(self, value: Any) -> None:
        """Bytes only."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"<hash> expects bytes, got {type(value).__name__}")

    def encode(
        self,
        value: Any,
        *,
        key: dict | None = None,
        store_name: str | None = None,
        context: dict | None = None,
    ) -> dict[str, Any]:
        """Store ``value`` (unless the store has it already) and return its metadata."""
        self.validate(value)
        data = bytes(value)
        config = self._codec_config(key, context)
        schema = (context or {}).get("schema") or (key or {}).get("_schema") or "unknown"
        backend = _backend(store_name, config)
        spec = backend.spec  # the store's checked settings, defaults included
        digest = content_hash(data)
        path = hash_path(digest, schema, spec.get("subfolding"), spec.get("hash_prefix"))
        backend.put_buffer_if_absent(data, path)  # identical content is stored once
        return {
            "hash": digest,
            "path": path,
            "schema": schema,
            "store": store_name or None,
            "size": len(data),
        }

    def decode(self, stored: Any, *, key: dict | None = None, context: dict | None = None) -> bytes:
        """The stored bytes, checked against the recorded hash."""
        meta = _metadata(stored, "hash")
        expected = check_hash(meta.get("hash"))
        backend = _backend(meta.get("store"), self._codec_config(key, context))
        data = backend.get_buffer(meta["path"])
        return _verified(data, expected, meta["path"])


def _verified(data: bytes, expected: str, path: str) -> bytes:
    """``data`` if its content hash is ``expected``, else DataJointError naming ``path``."""
    actual = content_hash(data)
    if actual != expected:
        raise DataJointError(
            f"Hash mismatch: expected {expected}, got {actual}. Data at {path} may be corrupted."
        )
    return data


# ---- <object@> -----------------------------------------------------------------------------------
class ObjectCodec(SchemaCodec):
    """``<object@>``: bytes, a local file or a local folder, stored at a schema-addressed path.

    Accepted values: ``bytes``; ``(ext, bytes or file-like)``; a local file or folder path (a
    folder is uploaded with its manifest); or metadata already stored (a dict with ``"path"``,
    e.g. from a staged insert), kept unchanged. Stored metadata: ``{"path", "store", "size",
    "ext", "is_dir", "item_count", "timestamp"}``. Fetching gives an ``ObjectRef``.
    """

    name = "object"
    store_io = True

    def validate(self, value: Any) -> None:
        """bytes, ``(ext, data)``, a path, or stored metadata."""
        if isinstance(value, bytes | bytearray | memoryview | str | os.PathLike):
            return
        if isinstance(value, tuple) and len(value) == 2:
            return
        if isinstance(value, Mapping) and "path" in value:
            return
        raise TypeError(f"<object> expects bytes or path, got {type(value).__name__}")

    def encode(
        self,
        value: Any,
        *,
        key: dict | None = None,
        store_name: str | None = None,
        context: dict | None = None,
    ) -> dict[str, Any]:
        """Upload the value and return its metadata."""
        if isinstance(value, Mapping) and "path" in value:
            return dict(value)
        self.validate(value)
        schema, table, field, primary_key = self._extract_context(key, context)
        config = self._codec_config(key, context)
        size: int
        item_count: int | None = None
        ext: str | None = None
        source: Path | None = None
        content: bytes | None = None
        if isinstance(value, str | os.PathLike):
            source = Path(value)
            if not source.exists():
                raise DataJointError(f"Source path not found: {source}")
            if source.is_dir():
                files = [p for p in source.rglob("*") if p.is_file()]
                item_count = len(files)
                size = sum(p.stat().st_size for p in files)
            else:
                ext = source.suffix  # "" for a file without one, as 2.3.5 records it
                size = source.stat().st_size
        elif isinstance(value, tuple):
            ext, data = value
            content = bytes(data.read() if hasattr(data, "read") else data)
            size = len(content)
        else:
            content = bytes(value)
            size = len(content)
        path, _ = self._build_path(
            schema, table, field, primary_key, ext=ext, store_name=store_name, config=config
        )
        backend = self._get_backend(store_name, config)
        is_dir = item_count is not None
        if is_dir:
            backend.put_folder(str(source), path)
        elif source is not None:
            backend.put_file(str(source), path)
        else:
            backend.put_buffer(content, path)
        return {
            "path": path,
            "store": store_name or None,
            "size": size,
            "ext": ext,
            "is_dir": is_dir,
            "item_count": item_count,
            "timestamp": _now(),
        }

    def decode(self, stored: Any, *, key: dict | None = None, context: dict | None = None) -> Any:
        """An ``ObjectRef`` to the stored object (nothing is read)."""
        meta = _metadata(stored, "object")
        backend = self._get_backend(meta.get("store"), self._codec_config(key, context))
        return _service("ObjectRef").from_json(meta, backend=backend)


# ---- <npy@> --------------------------------------------------------------------------------------
class NpyCodec(SchemaCodec):
    """``<npy@>``: a numpy array stored as a ``.npy`` file at a schema-addressed path.

    Stored metadata: ``{"path", "store", "dtype", "shape"}``. Fetching gives an ``NpyRef`` that
    knows shape and dtype without I/O and loads the array on first use.
    """

    name = "npy"
    store_io = True

    def validate(self, value: Any) -> None:
        """A numpy array of a dtype ``.npy`` holds without pickling."""
        import numpy as np

        if not isinstance(value, np.ndarray):
            raise DataJointError(f"<npy> requires numpy.ndarray, got {type(value).__name__}")
        if value.dtype.hasobject:
            raise DataJointError("<npy> does not support object dtype arrays")

    def encode(
        self,
        value: Any,
        *,
        key: dict | None = None,
        store_name: str | None = None,
        context: dict | None = None,
    ) -> dict[str, Any]:
        """Write the array as ``{field}_{token}.npy`` and return its metadata."""
        import numpy as np

        self.validate(value)
        schema, table, field, primary_key = self._extract_context(key, context)
        config = self._codec_config(key, context)
        path, _ = self._build_path(
            schema, table, field, primary_key, ext=".npy", store_name=store_name, config=config
        )
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        self._get_backend(store_name, config).put_buffer(buffer.getvalue(), path)
        return {
            "path": path,
            "store": store_name or None,
            "dtype": str(value.dtype),
            "shape": list(value.shape),
        }

    def decode(self, stored: Any, *, key: dict | None = None, context: dict | None = None) -> Any:
        """An ``NpyRef`` to the stored array (nothing is read)."""
        meta = _metadata(stored, "npy")
        backend = self._get_backend(meta.get("store"), self._codec_config(key, context))
        return _service("NpyRef")(meta, backend)


# ---- <filepath@> ---------------------------------------------------------------------------------
class FilepathCodec(Codec):
    """``<filepath@>``: a reference to a file or folder already in a store (nothing is copied).

    The path is relative to the store and may not lie in the sections DataJoint manages
    (``hash_prefix``, ``schema_prefix``); when the store sets ``filepath_prefix``, it must lie
    there. Stored metadata: ``{"path", "store", "size", "is_dir", "timestamp"}`` (``size`` None
    for a folder). Fetching gives an ``ObjectRef``.
    """

    name = "filepath"
    store_io = True
    default_store_setting = "filepath_default"  # a bare <filepath@>

    def get_dtype(self, is_store: bool) -> str:
        """``json`` (the metadata); a column without ``@`` is refused."""
        if not is_store:
            raise DataJointError(
                "<filepath> requires @ symbol. Use <filepath@> for default store or "
                "<filepath@store> to specify store."
            )
        return "json"

    def validate(self, value: Any) -> None:
        """A str or path-like value."""
        if not isinstance(value, str | os.PathLike):
            raise TypeError(f"<filepath> expects a path string or Path, got {type(value).__name__}")

    def encode(
        self,
        value: Any,
        *,
        key: dict | None = None,
        store_name: str | None = None,
        context: dict | None = None,
    ) -> dict[str, Any]:
        """Check the path against the store's sections and that it exists; return metadata.

        Without a store name the section checks use ``stores.filepath_default`` and the file is
        looked up in ``stores.default``.
        """
        self.validate(value)
        config = self._codec_config(key, context)
        path = Path(value).as_posix() if isinstance(value, os.PathLike) else str(value)
        spec = config.get_store_spec(store_name or None, use_filepath_default=True)
        check_filepath_sections(path, spec)
        backend = _backend(store_name, config)
        if not backend.exists(path):
            raise FileNotFoundError(f"File not found in store '{store_name or 'default'}': {path}")
        is_dir = bool(backend.isdir(path))
        return {
            "path": path,
            "store": store_name or None,
            "size": None if is_dir else backend.size(path),
            "is_dir": is_dir,
            "timestamp": _now(),
        }

    def decode(self, stored: Any, *, key: dict | None = None, context: dict | None = None) -> Any:
        """An ``ObjectRef`` to the referenced file (nothing is read or copied)."""
        meta = _metadata(stored, "filepath")
        backend = _backend(meta.get("store"), self._codec_config(key, context))
        return _service("ObjectRef").from_json(meta, backend=backend)


def check_filepath_sections(path: str, spec: Mapping[str, Any]) -> None:
    """ValueError when ``path`` lies in a section DataJoint manages, or outside the store's
    ``filepath_prefix`` when one is set."""
    relative = path.lstrip("/")

    def inside(prefix: str) -> bool:
        section = prefix.strip("/")
        return relative == section or relative.startswith(section + "/")

    for setting in ("hash_prefix", "schema_prefix"):
        prefix = spec.get(setting)
        if isinstance(prefix, str) and prefix.strip("/") and inside(prefix):
            raise ValueError(
                f"<filepath@> cannot use reserved section '{prefix}' ({setting}), which "
                f"DataJoint manages. Got path: {path}. Place the file outside it."
            )
    prefix = spec.get("filepath_prefix")
    if isinstance(prefix, str) and prefix.strip("/") and not inside(prefix):
        raise ValueError(
            f"<filepath@> must use prefix '{prefix}' (filepath_prefix). Got path: {path}"
        )
