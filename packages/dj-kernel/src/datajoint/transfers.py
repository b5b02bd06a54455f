"""Object-store transfers of the kernel: what an insert call wrote, and objects fetched ahead.

**The journal.** A codec that keeps a value in an object store writes the object before the row
that refers to it is inserted. The storage backends report every object they create to
:func:`record_write`; during an insert call (:func:`insert_call`) the reports go to the call's
:class:`Journal`, so that when the call fails the objects it created can be removed again.
Outside an insert call :func:`record_write` does nothing. Objects are removed only when no row
refers to them (:func:`remove_unreferenced`): hash-addressed content is shared by every row of a
schema holding the same bytes, and another insert may have come to refer to an object this call
created. Inside an open transaction the removal waits until the transaction has ended, so that
the check sees what other sessions committed (and, when the transaction is rolled back after a
successful insert call, the objects of that call are removed then).

**Prefetching.** A fetch reads the objects of many rows in one batch (the backend's
``get_buffers``: one ``cat`` on an asynchronous filesystem) and decodes the rows inside
:func:`serving`; a backend's ``get_buffer`` answers from that batch (:func:`prefetched`).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .errors import DataJointError
from .heading import Attribute
from .parallel import ordered_map

logger = logging.getLogger("datajoint")

__all__ = [
    "Journal",
    "insert_call",
    "prefetch",
    "prefetched",
    "record_write",
    "referenced_paths",
    "remove_unreferenced",
    "serving",
]

#: store paths compared in one reference-check statement
CHECK_BATCH = 500


class Journal:
    """The objects written to object stores during one insert call into a table of ``schema``."""

    def __init__(self, connection: Any, schema: str) -> None:
        self.connection = connection
        self.schema = schema
        self._lock = threading.Lock()
        #: ``(backend, relpath)`` of every object written, in the order reported
        self.writes: list[tuple[Any, str]] = []

    def add(self, backend: Any, relpath: str) -> None:
        """Note that ``backend`` created the object at store-relative ``relpath``."""
        with self._lock:
            self.writes.append((backend, relpath))

    def absorb(self, other: Journal) -> None:
        """Take over the writes of a call nested in this one that succeeded."""
        with self._lock:
            self.writes.extend(other.writes)

    def discard(self) -> None:
        """Remove the objects written that no row refers to: now, or when the open
        transaction has ended."""
        writes = list(self.writes)
        if not writes:
            return
        connection, schema = self.connection, self.schema
        if connection.in_transaction:
            connection.after_transaction(
                lambda committed: remove_unreferenced(connection, schema, writes)
            )
        else:
            remove_unreferenced(connection, schema, writes)


_journal: contextvars.ContextVar[Journal | None] = contextvars.ContextVar(
    "datajoint_transfer_journal", default=None
)


def record_write(backend: Any, relpath: str) -> None:
    """Report that ``backend`` created the object at store-relative ``relpath``.

    Storage backends call this for every object they create; it goes to the journal of the
    insert call in progress, if any.
    """
    journal = _journal.get()
    if journal is not None:
        journal.add(backend, relpath)


@contextmanager
def insert_call(connection: Any, schema: str) -> Iterator[Journal]:
    """Run one insert call (its encoding and its statements) with a journal of its writes.

    When the body raises, the objects it wrote that no row refers to are removed (best effort:
    errors are logged, the body's error is raised). When it succeeds inside a transaction
    that is later rolled back, they are removed then. A call nested in another one hands its
    writes to the outer call when it succeeds.
    """
    parent = _journal.get()
    journal = Journal(connection, schema)
    token = _journal.set(journal)
    try:
        yield journal
    except BaseException:
        _journal.reset(token)
        try:
            journal.discard()
        except Exception:  # the cleanup never hides the call's own error
            logger.exception("Removing the objects of a failed insert failed.")
        raise
    _journal.reset(token)
    if not journal.writes:
        return
    if parent is not None:
        parent.absorb(journal)
    elif connection.in_transaction:

        def settle(committed: bool) -> None:
            if not committed:
                journal.discard()

        connection.after_transaction(settle)


# ---- removing what no row refers to ----------------------------------------------------------
def remove_unreferenced(connection: Any, schema: str, writes: Iterable[tuple[Any, str]]) -> None:
    """Delete the objects of ``writes`` that no row of ``schema`` refers to.

    Best effort: when the references cannot be checked (e.g. the server is gone), nothing is
    deleted and a warning names the objects left for ``dj.gc``; a failed deletion is logged.
    """
    by_backend: dict[int, tuple[Any, set[str]]] = {}
    for backend, relpath in writes:
        by_backend.setdefault(id(backend), (backend, set()))[1].add(relpath)
    everything = {p for _, paths in by_backend.values() for p in paths}
    try:
        referenced = referenced_paths(connection, schema, everything)
    except Exception as error:
        shown = sorted(everything)
        logger.warning(
            "Could not check which rows refer to the %d object(s) written by a failed insert "
            "(%s); they are left in place for dj.gc: %s%s",
            len(shown),
            error,
            ", ".join(shown[:10]),
            " ..." if len(shown) > 10 else "",
        )
        return
    removals = [
        (backend, relpath)
        for backend, paths in by_backend.values()
        for relpath in sorted(paths)
        if not _is_referenced(relpath, referenced)
    ]
    if removals:
        ordered_map(_remove, removals, io=True)


def _remove(item: tuple[Any, str]) -> None:
    backend, relpath = item
    try:
        backend.remove(relpath)
    except Exception as error:
        logger.warning("Could not remove %s after a failed insert: %s", relpath, error)


_MANIFEST = ".manifest.json"


def _referents(relpath: str) -> Iterator[str]:
    """The paths a row may hold that make ``relpath`` referenced: itself, each folder it is in,
    and for a folder manifest the folder."""
    path = relpath.strip("/")
    if path.endswith(_MANIFEST):
        yield path[: -len(_MANIFEST)]
    while path:
        yield path
        path = path.rpartition("/")[0]


def _is_referenced(relpath: str, referenced: set[str]) -> bool:
    return any(p in referenced for p in _referents(relpath))


def referenced_paths(connection: Any, schema: str, relpaths: Iterable[str]) -> set[str]:
    """Which of the paths that make ``relpaths`` referenced (see :func:`_referents`) a row of
    ``schema`` holds in the ``path`` of a store-backed column.

    The columns are read from the catalog (one query, never a cached heading). Then one
    statement per store-backed column and :data:`CHECK_BATCH` paths, comparing the JSON
    ``path`` with bound values; only tables with such columns are read. The store a row names
    is not compared, so a path in another store counts too (which only keeps more objects).
    """
    candidates = sorted({p for relpath in relpaths for p in _referents(relpath)})
    if not candidates:
        return set()
    dialect = connection.dialect
    found: set[str] = set()
    catalog = connection.introspection.schema_columns(connection.run, schema)
    for name, table_columns in catalog.items():
        attributes = []
        for column in table_columns:
            try:
                attributes.append(Attribute.from_column(column))
            except DataJointError:  # a legacy type: holds no store path of ours
                continue
        columns = [
            a.name
            for a in attributes
            if a.codec_name is not None and a.store is not None and a.is_json
        ]
        if not columns:
            continue
        table_sql = dialect.full_table_name(schema, name)
        for column in columns:
            path_sql = dialect.json_path_sql(column, "path")
            for start in range(0, len(candidates), CHECK_BATCH):
                batch = candidates[start : start + CHECK_BATCH]
                marks = ", ".join([dialect.placeholder] * len(batch))
                sql = f"SELECT DISTINCT {path_sql} FROM {table_sql} WHERE {path_sql} IN ({marks})"
                found.update(row[0] for row in connection.query(sql, batch).fetchall())
    return found


# ---- objects fetched ahead -------------------------------------------------------------------
_Key = tuple[int, str]

_prefetched: contextvars.ContextVar[Mapping[_Key, bytes] | None] = contextvars.ContextVar(
    "datajoint_prefetched", default=None
)


def _key(backend: Any, relpath: str) -> _Key:
    return id(backend.fs), backend.full_path(relpath)


def prefetch(backend: Any, relpaths: Iterable[str]) -> dict[_Key, bytes]:
    """The contents of ``relpaths`` in ``backend``, read in one batch (``get_buffers``), keyed
    for :func:`serving`."""
    paths = list(dict.fromkeys(relpaths))
    if not paths:
        return {}
    return {
        _key(backend, p): data for p, data in zip(paths, backend.get_buffers(paths), strict=True)
    }


@contextmanager
def serving(objects: Mapping[_Key, bytes]) -> Iterator[None]:
    """Let :func:`prefetched` answer from ``objects`` (from :func:`prefetch`) inside the block
    (and in the pool threads it starts)."""
    token = _prefetched.set(objects)
    try:
        yield
    finally:
        _prefetched.reset(token)


def prefetched(backend: Any, relpath: str) -> bytes | None:
    """The contents of ``relpath`` in ``backend`` when the fetch in progress read it ahead,
    else None. A backend's ``get_buffer`` asks this first."""
    objects = _prefetched.get()
    if not objects:
        return None
    return objects.get(_key(backend, relpath))
