"""All-or-nothing execution of one write call: its own transaction, or a savepoint in the caller's.

Every insert, delete, drop and alter runs through :func:`atomic`. Outside a transaction it starts
one and commits at the end; inside the caller's transaction it sets a savepoint, so that a failure
undoes this call only and leaves the caller's earlier work (and its transaction) usable. A single
statement needs neither (``single=True``): every backend applies one statement atomically.

When the undo itself cannot run -- the connection was killed, or an interrupt (Ctrl-C) arrived while
the driver was reading a reply and the protocol state is unknown -- the connection is closed. The
server then discards the open transaction, which is the only safe way to guarantee that nothing of
it persists; the next query reconnects.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import LostConnectionError

logger = logging.getLogger("datajoint")

_savepoints = itertools.count(1)


def _discard_connection(conn: Any) -> None:
    """Close the session so that the server rolls back whatever it still holds open."""
    conn._in_transaction = False
    try:
        conn.close()
    except Exception:  # closing a dead connection must not hide the original error
        conn._raw = None


def _needs_discard(conn: Any, error: BaseException) -> bool:
    """Whether the connection cannot be trusted to roll back by itself."""
    if isinstance(error, LostConnectionError):
        return True
    # an interrupt inside a network driver may have left half a reply unread
    return not isinstance(error, Exception) and bool(conn.backend.requires_server)


def _note(error: BaseException, what: str, outcome: str) -> None:
    if hasattr(error, "add_note"):
        error.add_note(f"{what} failed; {outcome}")


@contextmanager
def atomic(conn: Any, what: str, *, single: bool = False) -> Iterator[None]:
    """Run the body as one unit of work on ``conn``; ``what`` names it in error notes.

    With ``single=True`` the body runs exactly one statement, which is atomic by itself.
    """
    if single:
        try:
            yield
        except BaseException as error:
            if _needs_discard(conn, error):
                # an interrupted reply leaves the session unusable, the caller's transaction too
                _discard_connection(conn)
            _note(error, what, "the statement was not applied.")
            raise
        return
    if conn.in_transaction:
        with _savepoint(conn, what):
            yield
        return
    conn.start_transaction()
    try:
        yield
    except BaseException as error:
        outcome = "the transaction was rolled back; nothing was written."
        if _needs_discard(conn, error):
            _discard_connection(conn)
            outcome = "the connection was closed to discard the transaction; nothing was written."
        else:
            try:
                conn.cancel_transaction()
            except BaseException:
                _discard_connection(conn)
                outcome = (
                    "the rollback failed, so the connection was closed to discard the transaction."
                )
        _note(error, what, outcome)
        raise
    conn.commit_transaction()


@contextmanager
def _savepoint(conn: Any, what: str) -> Iterator[None]:
    dialect = conn.dialect
    name = f"dj_write_{next(_savepoints)}"
    conn.query(dialect.savepoint_sql(name), reconnect=False)
    try:
        yield
    except BaseException as error:
        outcome = "its changes were undone; the enclosing transaction is still open."
        if _needs_discard(conn, error):
            _discard_connection(conn)
            outcome = "the connection was closed, which also discarded the enclosing transaction."
        else:
            try:
                conn.query(dialect.rollback_to_savepoint_sql(name), reconnect=False)
            except BaseException:
                _discard_connection(conn)
                outcome = (
                    "undoing it failed, so the connection was closed, which also discarded the "
                    "enclosing transaction."
                )
        _note(error, what, outcome)
        raise
    conn.query(dialect.release_savepoint_sql(name), reconnect=False)


class Unit:
    """A unit of work whose outcome is decided later: :meth:`commit` or :meth:`rollback`.

    Used by delete, which runs its statements and only then asks whether to keep them. It owns a
    transaction (none open), a savepoint (inside the caller's) or nothing (``enabled=False``).
    """

    def __init__(self, conn: Any, what: str, *, enabled: bool = True) -> None:
        self.conn, self.what = conn, what
        self.mode = "none" if not enabled else "savepoint" if conn.in_transaction else "own"
        self.name = f"dj_write_{next(_savepoints)}"
        self.open = False

    @property
    def owns_transaction(self) -> bool:
        return self.mode == "own"

    def begin(self) -> None:
        if self.mode == "own":
            self.conn.start_transaction()
        elif self.mode == "savepoint":
            self.conn.query(self.conn.dialect.savepoint_sql(self.name), reconnect=False)
        self.open = True

    def commit(self) -> None:
        if not self.open:
            return
        self.open = False
        if self.mode == "own":
            self.conn.commit_transaction()
        elif self.mode == "savepoint":
            self.conn.query(self.conn.dialect.release_savepoint_sql(self.name), reconnect=False)

    def rollback(self, error: BaseException | None = None) -> None:
        """Undo everything since :meth:`begin`; with ``error``, note what happened on it."""
        if not self.open:
            return
        self.open = False
        if self.mode == "none":
            if error is not None:
                _note(error, self.what, "no transaction was used: statements already run stay.")
            return
        outcome = "the transaction was rolled back; nothing was changed."
        if self.mode == "savepoint":
            outcome = "its changes were undone; the enclosing transaction is still open."
        if error is not None and _needs_discard(self.conn, error):
            _discard_connection(self.conn)
            outcome = "the connection was closed to discard the transaction; nothing was changed."
        else:
            try:
                if self.mode == "own":
                    self.conn.cancel_transaction()
                else:
                    self.conn.query(
                        self.conn.dialect.rollback_to_savepoint_sql(self.name), reconnect=False
                    )
            except BaseException:
                _discard_connection(self.conn)
                outcome = "the rollback failed, so the connection was closed to discard it."
        if error is not None:
            _note(error, self.what, outcome)
