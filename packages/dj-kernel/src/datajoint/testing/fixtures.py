"""Connections and throwaway schemas for tests, on any backend."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import parallel
from ..connection import Connection
from . import servers

if TYPE_CHECKING:  # imported where used: schema imports the table layer
    from ..schema import Schema

_counter = itertools.count()


def make_connection(backend: str, sqlite_file: Path | str | None = None) -> Connection:
    """A new connection to the test server of ``backend`` (a file database for sqlite)."""
    if backend == "sqlite":
        return Connection(backend="sqlite", database_name=str(sqlite_file or ":memory:"))
    p = servers.connect_params(backend)
    return Connection(
        p.host,
        p.user,
        p.password,
        p.port,
        use_tls=False,
        backend=backend,
        database_name=p.database_name,
    )


def end_session(conn: Connection, other: Connection | None = None) -> None:
    """End ``conn``'s database session from outside, as an administrator, a server restart or a
    crash would: ``KILL`` (MySQL) or ``pg_terminate_backend`` (PostgreSQL) sent through ``other``
    (a new connection when None); on SQLite the file handle goes away."""
    name = conn.backend.name
    if name not in ("mysql", "postgresql"):
        conn._raw.close()
        return
    session = other if other is not None else make_connection(name)
    try:
        if name == "mysql":
            session.query(f"KILL {int(conn.connection_id)}")
        else:
            session.query("SELECT pg_terminate_backend(%s)", [conn.connection_id])
    finally:
        if other is None:
            session.close()


def seen_elsewhere(table: Any, key: dict[str, Any]) -> bool:
    """Whether a new session sees a row of ``table`` matching ``key``: committed, not held in
    an open transaction of the table's connection (the same file for sqlite)."""
    conn = table.connection
    other = make_connection(conn.backend.name, conn.conn_info["database_name"])
    try:
        d = other.dialect
        where = " AND ".join(f"{d.quote(name)} = {d.placeholder}" for name in key)
        sql = f"SELECT COUNT(*) FROM {table.full_table_name} WHERE {where}"
        return other.query(sql, list(key.values())).fetchone()[0] > 0
    finally:
        other.close()


@contextmanager
def codec_threads(count: int) -> Iterator[None]:
    """At most ``count`` threads for the codec pool while the block runs (1: the single-threaded
    path, no pool)."""
    saved = parallel.MAX_WORKERS
    parallel.MAX_WORKERS = count
    try:
        yield
    finally:
        parallel.MAX_WORKERS = saved


def unique_schema_name(prefix: str = "djtest") -> str:
    """A schema name no other test process uses at the same time."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


@contextmanager
def throwaway_schema(connection: Connection, prefix: str = "djtest") -> Iterator[Schema]:
    """A fresh activated Schema, dropped (with its tables) afterwards."""
    from ..schema import Schema

    schema = Schema(unique_schema_name(prefix), connection=connection)
    try:
        yield schema
    finally:
        if connection.in_transaction:
            connection.cancel_transaction()
        schema.drop(prompt=False)
