"""The streaming cursor: one statement's result read as it arrives, a chunk of rows at a time.

The statement is sent once, as a buffered cursor would send it, in libpq's chunked-rows mode
(single-row mode where the libpq is older than 17): no server-side cursor, no round trips beyond
the statement's own, and the first rows are at hand while the rest is still on its way. Only one
chunk of rows is held in memory at a time.

A result with a ``bytea`` column is read in binary where that loads the same values as text
(:mod:`.binary`), in small chunks (its rows may be large); other results as text, in larger ones.

The connection carries the result until its last row is read: closing the cursor early reads and
drops the rest (inside a transaction; outside one it cancels the statement first), so the
connection stays usable and a transaction is never aborted by an early stop. A statement started
by any other cursor of the driver, or a ping, first finishes the stream it finds open on the
connection; the stream's cursor then raises :class:`psycopg.InterfaceError` on its next fetch
instead of returning fewer rows.

The cursor drives the generators behind psycopg's ``Cursor.stream()`` (psycopg 3.2+) itself,
taking the connection's lock for each chunk rather than for the whole result as ``stream()``
does: a statement sent while the stream is open (from this thread or a codec's) then finishes
it instead of waiting forever for the lock.
"""

from __future__ import annotations

from typing import Any, Self

import psycopg
from psycopg import capabilities
from psycopg.abc import Params, Query
from psycopg.pq import TransactionStatus
from psycopg.rows import RowFactory

from .binary import load_unknown_as_text, same_as_text
from .driver import OPEN_STREAMS, finish_stream
from .errors import PostgresErrors

#: rows per chunk of a result without a ``bytea`` column
CHUNK_ROWS = 1024
#: rows per chunk of a result with a ``bytea`` column (or of unknown column types)
BYTEA_CHUNK_ROWS = 8

_ERRORS = PostgresErrors()


def chunk_rows(rows: int) -> int:
    """``rows``, or 1 (single-row mode) where the libpq has no chunked-rows mode."""
    return rows if capabilities.has_stream_chunked() else 1


class StreamCursor(psycopg.Cursor[Any]):
    """A cursor streaming each statement's result (see the module).

    ``plan`` is ``(enum_columns, n_columns)`` of :func:`~.binary.binary_plan` when the result is
    to be read in binary (a statement whose result has other column types than planned is read
    again, as text), None to read it as text. ``chunk`` is the number of rows libpq hands over at
    a time.
    """

    def __init__(
        self,
        connection: psycopg.Connection[Any],
        plan: tuple[frozenset[int], int] | None,
        chunk: int,
        *,
        row_factory: RowFactory[Any],
    ) -> None:
        if plan is not None and plan[0]:
            load_unknown_as_text(connection)  # before the cursor copies the connection's loaders
        super().__init__(connection, row_factory=row_factory)
        self._plan = plan
        self._chunk = chunk
        self._rows: list[Any] = []  # the current chunk's rows
        self._next = 0  # position in ``_rows`` of the next row to hand out
        self._open = False  # rows of the result are still to come from the server
        self._interrupted = False  # another statement discarded the rest of the result
        self._keep_transaction = False  # a transaction was open when the statement was sent
        self._sql = ""

    def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        """Send ``query`` and read the first chunk of its result (in binary per the plan, unless
        ``binary`` says otherwise). ``prepare`` is accepted for the cursor interface: a streamed
        statement is never prepared."""
        finish_stream(self._conn)
        as_binary = self._plan is not None if binary is None else binary
        self._start(query, params, as_binary)
        plan = self._plan
        if binary is None and plan is not None and not same_as_text(self.pgresult, *plan):
            self.discard(interrupted=False)
            self._start(query, params, False)
        return self

    def _start(self, query: Query, params: Params | None, binary: bool) -> None:
        self._rows, self._next, self._interrupted = [], 0, False
        self._sql = query if isinstance(query, str) else str(query)
        status = self._conn.info.transaction_status
        self._keep_transaction = status != TransactionStatus.IDLE
        with self._conn.lock:
            self._conn.wait(self._stream_send_gen(query, params, binary=binary, size=self._chunk))
        self._open = True
        OPEN_STREAMS[self._conn] = self
        self._read_chunk(first=True)

    def _read_chunk(self, first: bool = False) -> None:
        """Replace the handed-out rows by the next chunk (none when the result has ended)."""
        try:
            with self._conn.lock:
                result = self._conn.wait(self._stream_fetchone_gen(first))
        except BaseException as error:
            self.discard(interrupted=False, cancel=False)  # the statement has ended
            if not first and isinstance(error, Exception):  # (the kernel translates execute's)
                translated = _ERRORS.translate(error, self._sql)
                if translated is not None:
                    raise translated from error
            raise
        if result is None:
            self._end()
            self._rows, self._next = [], 0
            return
        self._rows = self._tx.load_rows(0, result.ntuples, self._make_row)
        self._next = 0

    def _end(self) -> None:
        self._open = False
        if OPEN_STREAMS.get(self._conn) is self:
            del OPEN_STREAMS[self._conn]

    def discard(self, *, interrupted: bool, cancel: bool = True) -> None:
        """Read and drop what remains of the result; outside a transaction, and with ``cancel``,
        cancel the statement first."""
        self._rows, self._next = [], 0
        if not self._open:
            return
        self._end()
        self._interrupted = interrupted
        pgconn = self._pgconn
        with self._conn.lock:
            if cancel and not self._keep_transaction:
                try:
                    self._conn.cancel_safe(timeout=5.0)
                except psycopg.Error:
                    pass  # not cancelled: the rest is read instead
            try:
                while self._conn.wait(self._stream_fetchone_gen(False)):
                    pass
            except Exception:
                pass  # the statement's error or the cancellation's
            if pgconn.transaction_status == TransactionStatus.ACTIVE:
                try:  # the end of the result after an error
                    self._conn.wait(self._stream_fetchone_gen(False))
                except Exception:
                    pass

    def _available(self) -> bool:
        """Whether a row is at hand, reading the next chunk when the current one is used up."""
        while self._next >= len(self._rows):
            if self._interrupted:
                raise psycopg.InterfaceError(
                    "the rest of the streamed result was discarded: another statement ran on "
                    "the connection before its last row was read"
                )
            if not self._open:
                return False
            self._read_chunk()
        return True

    def fetchone(self) -> Any | None:
        """The next row, or None after the last."""
        if not self._available():
            return None
        row = self._rows[self._next]
        self._next += 1
        return row

    def fetchmany(self, size: int = 0) -> list[Any]:
        """Up to ``size`` (default ``arraysize``) next rows; [] after the last."""
        size = size or self.arraysize
        out: list[Any] = []
        while len(out) < size and self._available():
            end = self._next + size - len(out)
            out.extend(self._rows[self._next : end])
            self._next = min(end, len(self._rows))
        return out

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        out: list[Any] = []
        while self._available():
            out.extend(self._rows[self._next :])
            self._next = len(self._rows)
        return out

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def close(self) -> None:
        """Close the cursor, first reading and dropping the rest of an unfinished result."""
        if self._open and not self._conn.closed:
            self.discard(interrupted=False)
        self._end()
        super().close()
