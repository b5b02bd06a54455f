"""Handles to stored objects that fetch returns: :class:`ObjectRef` and :class:`NpyRef` (SPEC §4.4).

``<object@>`` and ``<filepath@>`` values come back as an :class:`ObjectRef`: the object's
metadata, available without I/O, plus methods that read it through the store's backend.
``<npy@>`` values come back as an :class:`NpyRef`: shape and dtype without I/O, the array loaded
on first use. The kernel reaches both through its storage services (``dj.ObjectRef``,
``dj.NpyRef``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from datajoint.errors import DataJointError
from datajoint.storage import content_hash

__all__ = ["IntegrityError", "NpyRef", "ObjectRef"]

#: the memory-map modes numpy.load accepts
MmapMode = Literal["r", "r+", "w+", "c"]

#: protocols whose ``full_path`` is a URL with a bucket (container) name
_URL_SCHEMES = {"s3": "s3", "gcs": "gs", "azure": "az"}


class IntegrityError(DataJointError):
    """A stored object does not match its recorded metadata (raised by ``ObjectRef.verify``)."""


def _no_backend() -> DataJointError:
    return DataJointError(
        "ObjectRef has no storage backend configured. It was built without one "
        "(ObjectRef.from_json(data) without backend=); fetch it from its table, or pass "
        "backend=datajoint.storage.get_backend(store, config)."
    )


def _fs_path(backend: Any, relpath: str) -> str:
    """The path of ``relpath`` as the store's filesystem reports paths (no trailing ``/``)."""
    return str(backend.fs._strip_protocol(backend.full_path(relpath))).rstrip("/")


def _parse_timestamp(value: Any) -> datetime | None:
    if isinstance(value, str) and value:
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        return datetime.fromisoformat(text)
    return value if isinstance(value, datetime) else None


def _content_digest(data: bytes, recorded: str) -> str:
    """The digest of ``data`` in the form ``recorded`` uses: ``algorithm:hex`` or, without a
    prefix, DataJoint's content hash (base32 of the MD5, lowercase, no padding)."""
    algorithm, sep, _ = recorded.partition(":")
    if sep:
        return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
    return content_hash(data)


@dataclass
class ObjectRef:
    """A file or folder in an object store, as recorded in a table.

    The fields are the stored metadata; reading methods go through the store's backend, which
    ``from_json(..., backend=...)`` attaches. ``str(ref)`` is the store-relative path.
    """

    path: str
    size: int | None
    hash: str | None = None
    ext: str | None = None
    is_dir: bool = False
    timestamp: datetime | None = None
    url: str | None = None
    store: str | None = None
    mime_type: str | None = None
    item_count: int | None = None
    _backend: Any = field(default=None, repr=False, compare=False)

    # ---- metadata ------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, json_data: Mapping[str, Any] | str, backend: Any = None) -> ObjectRef:
        """An ObjectRef from stored metadata (a dict or its JSON text); ``path`` and ``size``
        are required, an ISO timestamp string (``Z`` accepted) is parsed."""
        data = json.loads(json_data) if isinstance(json_data, str | bytes) else json_data
        if not isinstance(data, Mapping):
            raise DataJointError(
                f"ObjectRef metadata must be a JSON object, got {type(data).__name__}"
            )
        missing = [name for name in ("path", "size") if name not in data]
        if missing:
            raise DataJointError(
                f"ObjectRef metadata is missing {', '.join(missing)}: {dict(data)!r}"
            )
        return cls(
            path=data["path"],
            size=data["size"],
            hash=data.get("hash"),
            ext=data.get("ext"),
            is_dir=bool(data.get("is_dir", False)),
            timestamp=_parse_timestamp(data.get("timestamp")),
            url=data.get("url"),
            store=data.get("store"),
            mime_type=data.get("mime_type"),
            item_count=data.get("item_count"),
            _backend=backend,
        )

    def to_json(self) -> dict[str, Any]:
        """The metadata as a JSON-ready dict: ``path, size, hash, ext, is_dir, timestamp``
        always, ``url, store, mime_type, item_count`` when set."""
        data: dict[str, Any] = {
            "path": self.path,
            "size": self.size,
            "hash": self.hash,
            "ext": self.ext,
            "is_dir": self.is_dir,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
        }
        for name in ("url", "store", "mime_type", "item_count"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    # ---- the store -----------------------------------------------------------------------------
    @property
    def _store(self) -> Any:
        if self._backend is None:
            raise _no_backend()
        return self._backend

    def _sub(self, subpath: str | None) -> str:
        if not subpath:
            return self.path
        if not self.is_dir:
            raise DataJointError("Cannot use subpath on a file object")
        return posixpath.join(self.path, str(subpath).strip("/"))

    @property
    def fs(self) -> Any:
        """The store's fsspec filesystem (for libraries that take one)."""
        return self._store.fs

    @property
    def fsmap(self) -> Any:
        """An fsspec mapper rooted at the object (``zarr.open(ref.fsmap)``)."""
        return self._store.get_fsmap(self.path)

    @property
    def full_path(self) -> str:
        """Where the object is: ``location/path`` on a file store, ``s3://bucket/…``,
        ``gs://bucket/…`` or ``az://container/…`` on a cloud store."""
        backend = self._store
        protocol = str(getattr(backend, "protocol", "file"))
        if protocol in _URL_SCHEMES:
            return f"{_URL_SCHEMES[protocol]}://{backend.full_path(self.path)}"
        if protocol == "file":
            return backend.full_path(self.path)
        return backend.get_url(self.path)

    # ---- reading -------------------------------------------------------------------------------
    def read(self) -> bytes:
        """The contents of a file object."""
        if self.is_dir:
            raise DataJointError(
                f"Cannot read() the folder object {self.path}: use listdir(), walk(), "
                "open(subpath) or download()."
            )
        return self._store.get_buffer(self.path)

    def open(self, subpath: str | None = None, mode: str = "rb") -> IO:
        """Open the file object, or the file ``subpath`` inside a folder object."""
        path = self._sub(subpath)
        return self._store.open(path, mode)

    def _require_folder(self, method: str) -> None:
        if not self.is_dir:
            raise DataJointError(
                f"Cannot {method}() the file object {self.path}: it is not a folder. "
                "Use read() or open()."
            )

    def listdir(self, subpath: str = "") -> list[str]:
        """The names of the entries of the folder object (or of its sub-folder ``subpath``)."""
        self._require_folder("listdir")
        backend = self._store
        root = _fs_path(backend, self._sub(subpath))
        entries = backend.fs.ls(root, detail=False)
        return sorted(posixpath.basename(str(e).rstrip("/")) for e in entries)

    def walk(self) -> Iterator[tuple[str, list[str], list[str]]]:
        """``(dirpath, dirnames, filenames)`` for each folder under the object, like
        ``os.walk``; ``dirpath`` is relative to the object (``""`` for its root)."""
        self._require_folder("walk")
        backend = self._store
        root = _fs_path(backend, self.path)
        for folder, dirs, files in backend.fs.walk(root):
            relative = str(folder).rstrip("/")[len(root) :].strip("/")
            yield relative, sorted(dirs), sorted(files)

    def download(self, destination: str | os.PathLike[str], subpath: str | None = None) -> Path:
        """Copy the object to the local ``destination`` and return the local path.

        A folder object fills the folder ``destination``; a file goes into ``destination``
        when that is an existing folder, else it is written as ``destination``.
        """
        backend = self._store
        remote = self._sub(subpath)
        target = Path(destination)
        if self.is_dir and not subpath:
            target.mkdir(parents=True, exist_ok=True)
            for relative in self._folder_files():
                local = target.joinpath(*relative.split("/"))
                local.parent.mkdir(parents=True, exist_ok=True)
                backend.get_file(posixpath.join(self.path, relative), str(local))
            return target
        if target.is_dir():
            target = target / posixpath.basename(remote)
        target.parent.mkdir(parents=True, exist_ok=True)
        backend.get_file(remote, str(target))
        return target

    def _folder_files(self) -> list[str]:
        """The files under the folder object, relative to it (posix)."""
        backend = self._store
        root = _fs_path(backend, self.path)
        found = backend.fs.find(root)
        return sorted(str(f)[len(root) :].strip("/") for f in found if str(f) != root)

    def exists(self, subpath: str | None = None) -> bool:
        """Whether the object (or the file or folder ``subpath`` inside it) exists."""
        return bool(self._store.exists(self._sub(subpath)))

    def verify(self) -> bool:
        """Check the object against its metadata; True, or :class:`IntegrityError`.

        A file: it exists, has the recorded size (when recorded) and the recorded hash (when
        recorded). A folder: every file its manifest lists exists with the listed size (a folder
        without a manifest passes).
        """
        backend = self._store
        if self.is_dir:
            return self._verify_folder(backend)
        if not backend.exists(self.path):
            raise IntegrityError(f"Object not found in store: {self.path}")
        if self.size is not None:
            actual = backend.size(self.path)
            if actual != self.size:
                raise IntegrityError(
                    f"Size mismatch for {self.path}: expected {self.size}, got {actual}"
                )
        if self.hash:
            actual_hash = _content_digest(backend.get_buffer(self.path), self.hash)
            if actual_hash != self.hash:
                raise IntegrityError(
                    f"Hash mismatch for {self.path}: expected {self.hash}, got {actual_hash}"
                )
        return True

    def _verify_folder(self, backend: Any) -> bool:
        manifest_path = f"{self.path}.manifest.json"
        if not backend.exists(manifest_path):
            return True
        manifest = json.loads(backend.get_buffer(manifest_path))
        problems = []
        for entry in manifest.get("files", []):
            path = posixpath.join(self.path, entry["path"])
            if not backend.exists(path):
                problems.append(f"missing file {entry['path']}")
                continue
            actual = backend.size(path)
            if actual != entry.get("size"):
                problems.append(
                    f"size mismatch for {entry['path']}: expected {entry.get('size')}, got {actual}"
                )
        if problems:
            raise IntegrityError(f"Folder {self.path} fails its manifest: " + "; ".join(problems))
        return True

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        kind = "folder" if self.is_dir else "file"
        return f"ObjectRef({kind}: {self.path}, size={self.size})"


class NpyRef:
    """A numpy array stored as a ``.npy`` file, loaded on first use.

    ``shape``, ``dtype`` and the sizes come from the metadata without I/O. ``load()`` (also
    triggered by ``np.asarray(ref)``, indexing and numpy operations) reads the array once and
    keeps it; ``load(mmap_mode="r")`` memory-maps the file instead (directly on a ``file`` store;
    a remote file is first copied, once, to ``$TMP/datajoint_mmap/``).
    """

    def __init__(self, metadata: Mapping[str, Any], backend: Any) -> None:
        missing = [name for name in ("path", "dtype", "shape") if name not in metadata]
        if missing:
            raise DataJointError(
                f"<npy> metadata is missing {', '.join(missing)}: {dict(metadata)!r}"
            )
        self._meta = dict(metadata)
        self._backend = backend
        self._cached: Any = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return tuple(self._meta["shape"])

    @property
    def dtype(self) -> Any:
        """The array's numpy dtype."""
        import numpy as np

        return np.dtype(self._meta["dtype"])

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return len(self._meta["shape"])

    @property
    def size(self) -> int:
        """The number of elements."""
        count = 1
        for n in self._meta["shape"]:
            count *= int(n)
        return count

    @property
    def nbytes(self) -> int:
        """The bytes the elements take (``size * dtype.itemsize``)."""
        return self.size * self.dtype.itemsize

    @property
    def path(self) -> str:
        """The store-relative path of the ``.npy`` file."""
        return self._meta["path"]

    @property
    def store(self) -> str | None:
        """The store name recorded with the array (None: the default store)."""
        return self._meta.get("store")

    @property
    def is_loaded(self) -> bool:
        """Whether the array has been read and kept."""
        return self._cached is not None

    def load(self, mmap_mode: MmapMode | None = None) -> Any:
        """The array; with ``mmap_mode`` (``"r"``, ``"r+"``, ``"c"``) a ``numpy.memmap``."""
        import numpy as np

        if self._backend is None:
            raise _no_backend()
        if mmap_mode is None:
            if self._cached is None:
                data = self._backend.get_buffer(self.path)
                self._cached = np.load(io.BytesIO(data), allow_pickle=False)
            return self._cached
        if str(getattr(self._backend, "protocol", "")) == "file":
            local = self._backend.full_path(self.path)
        else:
            local = str(self._mmap_copy())
        return np.load(local, mmap_mode=mmap_mode, allow_pickle=False)

    def _mmap_copy(self) -> Path:
        """The local copy a remote array is memory-mapped from, made on first use."""
        folder = Path(tempfile.gettempdir()) / "datajoint_mmap"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{hashlib.md5(self.path.encode()).hexdigest()[:12]}.npy"
        if not target.exists():
            partial = target.with_name(f"{target.name}.{os.getpid()}.part")
            partial.write_bytes(self._backend.get_buffer(self.path))
            os.replace(partial, target)  # whole or absent, also with concurrent readers
        return target

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> Any:
        array = self.load()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __getitem__(self, index: Any) -> Any:
        return self.load()[index]

    def __len__(self) -> int:
        if not self._meta["shape"]:
            raise TypeError("len() of 0-dimensional array")
        return int(self._meta["shape"][0])

    def __repr__(self) -> str:
        status = "loaded" if self.is_loaded else "not loaded"
        return f"NpyRef(shape={self.shape}, dtype={self.dtype}, {status})"

    __str__ = __repr__
