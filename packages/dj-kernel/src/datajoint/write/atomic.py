"""All-or-nothing execution of one write call: its own transaction, or a savepoint in the caller's.

Every insert, delete, drop and alter runs through :func:`atomic`, a unit of work of the
connection's transaction engine (:class:`datajoint.connection.UnitOfWork`): outside a transaction
it starts one and commits at the end; inside the caller's transaction it sets a savepoint, so that
a failure undoes this call only and leaves the caller's earlier work (and its transaction) usable.
A single statement needs neither (``single=True``): every backend applies one statement
atomically. When the undo itself cannot be trusted the connection is closed, which makes the
server discard the open transaction.
"""

from __future__ import annotations

from typing import Any

from ..connection import UnitOfWork


def atomic(conn: Any, what: str, *, single: bool = False) -> UnitOfWork:
    """``with atomic(conn, what):`` runs the body as one unit of work; ``what`` names it in the
    note added to an error. With ``single=True`` the body runs exactly one statement."""
    return conn.unit(what, single=single)
