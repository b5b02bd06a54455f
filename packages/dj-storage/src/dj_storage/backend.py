"""``StorageBackend``: one object store over fsspec (SPEC §14).

Paths given to a backend are relative to the store root; :meth:`StorageBackend.full_path` places
them in the filesystem (``location/path`` for ``file``, ``bucket/location/path`` for the cloud
protocols). Every object a backend creates is reported to :func:`datajoint.transfers.record_write`,
so an insert call that fails can remove what it wrote.

The batch methods (:meth:`~StorageBackend.get_buffers`, :meth:`~StorageBackend.put_buffers`,
:meth:`~StorageBackend.exists_many`) run their transfers concurrently: on an asynchronous
filesystem (s3fs, gcsfs, adlfs) as coroutines on the filesystem's event loop, batched by fsspec;
otherwise on a bounded thread pool.
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

import fsspec
from fsspec.asyn import _run_coros_in_chunks, sync
from fsspec.mapping import FSMap

from datajoint import DataJointError, transfers
from datajoint.errors import MissingExternalFile
from datajoint.storage import StorageAdapter, get_storage_adapter
from datajoint.transfers import prefetched

from .manifest import build_manifest, local_files, manifest_bytes, manifest_path

__all__ = ["MAX_WORKERS", "StorageBackend"]

#: the size of the thread pool of the batch methods on synchronous filesystems
MAX_WORKERS = 16

T = TypeVar("T")
R = TypeVar("R")

_WRITE_MODES = frozenset("wax+")
#: protocols whose filesystem writes a file only when it is absent (``pipe_file(mode="create")``)
_EXCLUSIVE_CREATE = frozenset({"file", "memory", "s3"})


class StorageBackend:
    """The object store described by ``spec`` (a store's settings; ``protocol`` defaults to file).

    Attributes: ``spec`` (a copy), ``protocol``, ``adapter`` (the protocol's
    :class:`datajoint.StorageAdapter`) and ``fs`` (its fsspec filesystem, built once here).
    A protocol no adapter is registered for raises DataJointError "Unsupported storage
    protocol: <p>"; the adapter checks the settings and builds the filesystem.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec: dict[str, Any] = dict(spec)
        self.protocol: str = str(self.spec.get("protocol") or "file").lower()
        adapter = get_storage_adapter(self.protocol)
        if adapter is None:
            raise DataJointError(f"Unsupported storage protocol: {self.protocol}")
        adapter.validate_spec(self.spec)
        self.adapter: StorageAdapter = adapter
        self.fs: Any = adapter.create_filesystem(self.spec)
        self._root = self.fs._strip_protocol(self.full_path("")).rstrip("/")

    def __repr__(self) -> str:
        return f"StorageBackend({self.protocol}: {self.get_url('')})"

    # ---- paths ---------------------------------------------------------------------------
    def full_path(self, relpath: str) -> str:
        """The filesystem path of the store-relative ``relpath``."""
        return self.adapter.full_path(self.spec, str(relpath))

    def get_url(self, relpath: str) -> str:
        """The URL of ``relpath`` (``s3://bucket/...``, ``gs://``, ``az://``; file: absolute path)."""
        return self.adapter.get_url(self.spec, self.full_path(relpath))

    def _relative(self, path: str) -> str:
        """The store-relative form of a normalized filesystem path inside the store."""
        path = path.rstrip("/")
        if not self._root:
            return path.lstrip("/")
        return path[len(self._root) :].lstrip("/")

    # ---- single objects ------------------------------------------------------------------
    def put_buffer(self, buffer: bytes, relpath: str) -> None:
        """Write ``buffer`` as the object ``relpath`` (replacing one that exists)."""
        self.fs.pipe_file(self.full_path(relpath), bytes(buffer))
        transfers.record_write(self, relpath)

    def put_buffer_if_absent(self, buffer: bytes, relpath: str) -> bool:
        """Write ``buffer`` as the object ``relpath`` unless one is there; whether it wrote.

        For content-addressed objects. On the ``file``, ``memory`` and ``s3`` protocols this is
        one exclusive create (S3: a conditional ``If-None-Match`` PUT, one request instead of an
        existence check and a write); elsewhere, or when an S3-compatible server refuses the
        conditional PUT, an existence check, then the write.
        """
        path = self.full_path(relpath)
        created = False
        if self.protocol in _EXCLUSIVE_CREATE:
            try:
                self.fs.pipe_file(path, bytes(buffer), mode="create")
                created = True
            except FileExistsError:
                return False
            except (NotImplementedError, OSError):
                pass  # no conditional write here: check, then write
        if not created:
            if self.exists(relpath):
                return False
            self.fs.pipe_file(path, bytes(buffer))
        transfers.record_write(self, relpath)
        return True

    def get_buffer(self, relpath: str) -> bytes:
        """The contents of the object ``relpath``; missing: MissingExternalFile.

        Inside a fetch that read the object ahead (:func:`datajoint.transfers.prefetched`),
        those bytes are returned.
        """
        data = prefetched(self, relpath)
        if data is not None:
            return data
        try:
            return bytes(self.fs.cat_file(self.full_path(relpath)))
        except FileNotFoundError as error:
            raise self._missing(relpath) from error

    def put_file(self, local_path: str | os.PathLike[str], relpath: str) -> None:
        """Upload the local file ``local_path`` as the object ``relpath``."""
        self.fs.put_file(os.fspath(local_path), self.full_path(relpath))
        transfers.record_write(self, relpath)

    def get_file(self, relpath: str, local_path: str | os.PathLike[str]) -> None:
        """Download the object ``relpath`` to ``local_path`` (its directory is created)."""
        Path(local_path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.fs.get_file(self.full_path(relpath), os.fspath(local_path))
        except FileNotFoundError as error:
            raise self._missing(relpath) from error

    def exists(self, relpath: str) -> bool:
        """Whether an object (or folder) ``relpath`` exists."""
        return bool(self.fs.exists(self.full_path(relpath)))

    def isdir(self, relpath: str) -> bool:
        """Whether ``relpath`` is a folder."""
        return bool(self.fs.isdir(self.full_path(relpath)))

    def remove(self, relpath: str) -> None:
        """Delete the object ``relpath``; a missing one is not an error."""
        try:
            self.fs.rm_file(self.full_path(relpath))
        except FileNotFoundError:
            pass

    def size(self, relpath: str) -> int:
        """The size in bytes of the object ``relpath``; missing: MissingExternalFile."""
        try:
            return int(self.fs.size(self.full_path(relpath)))
        except FileNotFoundError as error:
            raise self._missing(relpath) from error

    def modified(self, relpath: str) -> datetime.datetime | None:
        """When the object ``relpath`` was last written (UTC), or None when missing or unknown."""
        try:
            when = self.fs.modified(self.full_path(relpath))
        except (FileNotFoundError, NotImplementedError):
            return None
        if not isinstance(when, datetime.datetime):
            return None
        if when.tzinfo is None:
            return when.replace(tzinfo=datetime.UTC)
        return when.astimezone(datetime.UTC)

    def open(self, relpath: str, mode: str = "rb") -> IO[Any]:
        """The object ``relpath`` as a file object; a writing mode reports the object written."""
        path = self.full_path(relpath)
        if _WRITE_MODES & set(mode):
            handle = self.fs.open(path, mode)
            transfers.record_write(self, relpath)
            return handle
        try:
            return self.fs.open(path, mode)
        except FileNotFoundError as error:
            raise self._missing(relpath) from error

    def _missing(self, relpath: str) -> MissingExternalFile:
        return MissingExternalFile(
            f"Object {relpath!r} is missing from the {self.protocol} store at {self.get_url('')}"
        )

    # ---- folders -------------------------------------------------------------------------
    def put_folder(self, local_dir: str | os.PathLike[str], relpath: str) -> dict[str, Any]:
        """Upload the local folder ``local_dir`` to ``relpath`` and write its manifest.

        Returns the manifest (SPEC §4.3). A path that is not a directory raises DataJointError.
        """
        folder = Path(local_dir)
        if not folder.is_dir():
            raise DataJointError(f"Cannot upload {local_dir} as a folder: it is not a directory")
        manifest = build_manifest(folder)
        uploads = [(path, f"{relpath.rstrip('/')}/{rel}") for path, rel in local_files(folder)]
        self._each(
            uploads,
            lambda item: self.fs.put_file(os.fspath(item[0]), self.full_path(item[1])),
            lambda item: item[1],
        )
        self.put_buffer(manifest_bytes(manifest), manifest_path(relpath))
        return manifest

    def remove_folder(self, relpath: str) -> None:
        """Delete the folder ``relpath`` with everything in it, and its manifest."""
        path = self.full_path(relpath)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)
        self.remove(manifest_path(relpath))

    def get_fsmap(self, relpath: str) -> FSMap:
        """A key-value view (fsspec FSMapper) of the folder ``relpath``, e.g. for zarr.

        Keys written through the mapping are reported as objects written.
        """
        return _RecordingMap(self, relpath)

    def list_files(self, relprefix: str = "") -> dict[str, int]:
        """Every object under ``relprefix`` (recursively): store-relative path -> size.

        A prefix that does not exist gives an empty dict.
        """
        try:
            found = self.fs.find(self.full_path(relprefix), detail=True)
        except FileNotFoundError:
            return {}
        return {
            self._relative(path): int(info.get("size") or 0)
            for path, info in found.items()
            if info.get("type", "file") != "directory"
        }

    # ---- sources outside the store -------------------------------------------------------
    def copy_from_url(self, url: str, relpath: str) -> None:
        """Copy the file or folder at ``url`` (any fsspec URL or local path) to ``relpath``."""
        source_fs, source = fsspec.core.url_to_fs(url)
        if source_fs.isdir(source):
            base = source.rstrip("/")
            items = [
                (path, f"{relpath.rstrip('/')}/{path[len(base) :].lstrip('/')}")
                for path in source_fs.find(base)
            ]
        elif source_fs.exists(source):
            items = [(source, relpath)]
        else:
            raise DataJointError(f"Source path not found: {url}")

        def copy(item: tuple[str, str]) -> None:
            with (
                source_fs.open(item[0], "rb") as src,
                self.fs.open(self.full_path(item[1]), "wb") as dst,
            ):
                shutil.copyfileobj(src, dst)

        self._each(items, copy, lambda item: item[1])

    @staticmethod
    def source_is_directory(path: str | os.PathLike[str]) -> bool:
        """Whether the local ``path`` is a directory."""
        return Path(path).is_dir()

    @staticmethod
    def source_exists(path: str | os.PathLike[str]) -> bool:
        """Whether the local ``path`` exists."""
        return Path(path).exists()

    @staticmethod
    def get_source_size(path: str | os.PathLike[str]) -> int:
        """The size of the local file ``path``, or the total size of the files of a folder."""
        source = Path(path)
        if source.is_dir():
            return sum(file.stat().st_size for file, _ in local_files(source))
        return source.stat().st_size

    # ---- batches -------------------------------------------------------------------------
    @property
    def is_async(self) -> bool:
        """Whether the filesystem is asynchronous (its batches run as coroutines)."""
        return bool(getattr(self.fs, "async_impl", False))

    def _gather(self, coros: list[Any]) -> list[Any]:
        """Run coroutines on the filesystem's loop in fsspec's batches; exceptions are returned."""

        async def run() -> list[Any]:
            return await _run_coros_in_chunks(coros, nofiles=True, return_exceptions=True)

        return sync(self.fs.loop, run)

    def _pool(self, function: Callable[[T], R], items: Sequence[T]) -> list[R | BaseException]:
        """``function`` over ``items`` on the thread pool; exceptions are returned in place."""

        def call(item: T) -> R | BaseException:
            try:
                return function(item)
            except Exception as error:
                return error

        if len(items) <= 1:
            return [call(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(items))) as pool:
            return list(pool.map(call, items))

    def _each(
        self,
        items: Sequence[T],
        write: Callable[[T], Any],
        relpath_of: Callable[[T], str],
    ) -> None:
        """Run ``write`` over ``items`` concurrently, report each success, raise the first error."""
        results = self._pool(write, items)
        _report(
            self, (relpath_of(i) for i, r in zip(items, results, strict=True) if not _failed(r))
        )
        _raise_first(results)

    def get_buffers(self, relpaths: Sequence[str]) -> list[bytes]:
        """The contents of many objects, in order, fetched concurrently.

        A missing one raises MissingExternalFile (after the others have been fetched).
        """
        relpaths = list(relpaths)
        if self.is_async:
            results = self._gather([self.fs._cat_file(self.full_path(p)) for p in relpaths])
        else:
            results = self._pool(lambda p: bytes(self.fs.cat_file(self.full_path(p))), relpaths)
        for relpath, result in zip(relpaths, results, strict=True):
            if isinstance(result, FileNotFoundError):
                raise self._missing(relpath) from result
        _raise_first(results)
        return [bytes(result) for result in results]

    def put_buffers(self, items: Mapping[str, bytes]) -> None:
        """Write many objects (relpath -> bytes) concurrently; each one written is reported."""
        pairs = [(relpath, bytes(data)) for relpath, data in items.items()]
        if self.is_async:
            results = self._gather(
                [self.fs._pipe_file(self.full_path(p), data) for p, data in pairs]
            )
        else:
            results = self._pool(
                lambda pair: self.fs.pipe_file(self.full_path(pair[0]), pair[1]), pairs
            )
        _report(self, (p for (p, _), r in zip(pairs, results, strict=True) if not _failed(r)))
        _raise_first(results)

    def exists_many(self, relpaths: Sequence[str]) -> list[bool]:
        """Whether each of ``relpaths`` exists, checked concurrently."""
        relpaths = list(relpaths)
        if self.is_async:
            results = self._gather([self.fs._exists(self.full_path(p)) for p in relpaths])
        else:
            results = self._pool(lambda p: self.fs.exists(self.full_path(p)), relpaths)
        _raise_first(results)
        return [bool(result) for result in results]


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)


def _report(backend: StorageBackend, relpaths: Iterable[str]) -> None:
    for relpath in relpaths:
        transfers.record_write(backend, relpath)


def _raise_first(results: Iterable[object]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            raise result


class _RecordingMap(FSMap):
    """An fsspec FSMap of a store folder that reports every key it writes."""

    def __init__(self, backend: StorageBackend, relpath: str) -> None:
        super().__init__(backend.full_path(relpath), backend.fs)
        self._backend = backend
        self._relpath = relpath.rstrip("/")

    def _report(self, key: str) -> None:
        transfers.record_write(self._backend, f"{self._relpath}/{str(key).lstrip('/')}")

    def __setitem__(self, key: str, value: bytes) -> None:
        super().__setitem__(key, value)
        self._report(key)

    def setitems(self, values_dict: Mapping[str, bytes]) -> None:
        super().setitems(values_dict)
        for key in values_dict:
            self._report(key)
