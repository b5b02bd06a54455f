"""Opens SQLite connections (stdlib sqlite3) in autocommit mode; the kernel sends BEGIN/COMMIT."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from datajoint.backend.contract import ConnectParams

from .catalog import BOOTSTRAP
from .types import DECIMAL_COLLATION, compare_decimal_text

#: seconds a statement waits for another process's write lock before "database is locked"
BUSY_TIMEOUT = 30.0

_ids = iter(range(1, 1 << 62))
_ids_lock = threading.Lock()


class NumberedConnection(sqlite3.Connection):
    """sqlite3 connections have no server-side id: each gets a process-unique number."""

    connection_number: int = 0


def _dict_factory(cursor: sqlite3.Cursor, row: tuple) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class SQLiteDriver:
    """stdlib sqlite3: ``database_name`` is the file path (``:memory:`` for a private database)."""

    def connect(self, params: ConnectParams) -> sqlite3.Connection:
        path = params.database_name or "datajoint.sqlite3"
        if path != ":memory:":
            Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(
            path,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT,
            factory=NumberedConnection,
        )
        raw.execute("PRAGMA foreign_keys = ON")
        raw.create_collation(DECIMAL_COLLATION, compare_decimal_text)
        if path != ":memory:":
            # WAL: readers never block the writer nor each other, so several processes (populate
            # workers) share one file; the busy timeout makes writers queue instead of failing
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA synchronous = NORMAL")
        for statement in BOOTSTRAP:
            raw.execute(statement)
        with _ids_lock:
            raw.connection_number = next(_ids)
        return raw

    def close(self, raw: sqlite3.Connection) -> None:
        raw.close()

    def ping(self, raw: sqlite3.Connection) -> bool:
        try:
            raw.execute("SELECT 1").fetchone()
        except sqlite3.ProgrammingError:
            return False
        return True

    def connection_id(self, raw: sqlite3.Connection) -> int:
        return getattr(raw, "connection_number", 0)

    def server_version(self, raw: sqlite3.Connection) -> str:
        return "SQLite " + sqlite3.sqlite_version

    def cursor(self, raw: sqlite3.Connection, *, as_dict: bool = False, streaming: bool = False):
        cursor = raw.cursor()
        if as_dict:
            cursor.row_factory = _dict_factory
        return cursor
