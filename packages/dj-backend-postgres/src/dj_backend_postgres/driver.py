"""PostgresDriver: psycopg 3 connections (autocommit) and cursors.

psycopg is imported inside the methods, so importing this module (or the plugin) stays cheap.

Streaming cursors read the one statement's result as it arrives, a chunk of rows at a time
(:mod:`.stream`): no server-side cursor and no round trips beyond a buffered read's, which is why
the dialect declares ``cheap_streaming``. Until the last row is read the connection carries the
result; a statement started through this driver first finishes such a stream.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from datajoint.backend.contract import ConnectParams

logger = logging.getLogger("datajoint")

#: MySQL-style TLS option names and their libpq equivalents
_TLS_KEYS = {"ca": "sslrootcert", "cert": "sslcert", "key": "sslkey", "crl": "sslcrl"}

#: MySQL character-set names that mean UTF-8 on PostgreSQL
_UTF8_CHARSETS = {"utf8", "utf8mb3", "utf8mb4", "utf-8"}

#: the :class:`~.stream.StreamCursor` whose result a connection carries, until its last row is
#: read (empty almost always: a statement checks it before looking a connection up)
OPEN_STREAMS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def finish_stream(raw: Any) -> None:
    """Read and drop the rest of the stream open on connection ``raw``, if any, so that it can
    run another statement."""
    cursor = OPEN_STREAMS.get(raw) if OPEN_STREAMS else None
    if cursor is not None:
        cursor.discard(interrupted=True)


def connect_kwargs(params: ConnectParams) -> dict[str, Any]:
    """The psycopg.connect() keyword arguments for ``params``, TLS settings excluded."""
    kwargs: dict[str, Any] = {
        "host": params.host,
        "port": params.port,
        "user": params.user,
        "password": params.password or None,
        "dbname": params.database_name or "postgres",
    }
    if params.charset:
        charset = params.charset.lower()
        kwargs["client_encoding"] = "UTF8" if charset in _UTF8_CHARSETS else params.charset
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    kwargs.update(params.options)
    kwargs["autocommit"] = True
    return kwargs


def tls_kwargs(use_tls: bool | dict | None) -> dict[str, Any]:
    """libpq TLS settings: None -> prefer, True -> require, False -> disable.

    A dict means TLS is required and may give certificate files with MySQL-style names (``ca``,
    ``cert``, ``key``, ``crl``) or libpq names (``sslrootcert``, ``sslmode``, ...). With a ``ca``
    and no explicit ``sslmode`` the server certificate is verified (``verify-ca``).
    """
    if use_tls is None:
        return {"sslmode": "prefer"}
    if use_tls is False:
        return {"sslmode": "disable"}
    if use_tls is True:
        return {"sslmode": "require"}
    options: dict[str, Any] = dict(use_tls)
    out: dict[str, Any] = {_TLS_KEYS.get(k, k): v for k, v in options.items()}
    out.setdefault("sslmode", "verify-ca" if "sslrootcert" in out else "require")
    return out


@functools.cache
def _row_factory(as_dict: bool) -> Any:
    """psycopg's dict or tuple row factory (psycopg imported on first use)."""
    from psycopg.rows import dict_row, tuple_row

    return dict_row if as_dict else tuple_row


class PostgresDriver:
    """Opens psycopg 3 connections in autocommit mode and hands out cursors."""

    def connect(self, params: ConnectParams) -> Any:
        """Open a connection. With ``use_tls=None`` a failure under TLS is retried without TLS."""
        import psycopg

        kwargs = connect_kwargs(params)
        if params.use_tls is not None:
            return psycopg.connect(**kwargs, **tls_kwargs(params.use_tls))
        try:
            return psycopg.connect(**kwargs, **tls_kwargs(None))
        except psycopg.OperationalError as error:
            logger.warning(
                "Could not connect to %s:%s with TLS preferred (%s); retrying without TLS.",
                params.host,
                params.port,
                str(error).strip(),
            )
            return psycopg.connect(**kwargs, **tls_kwargs(False))

    def close(self, raw: Any) -> None:
        """Close the connection (a no-op when it is already closed), dropping any open stream."""
        OPEN_STREAMS.pop(raw, None)
        if not raw.closed:
            raw.close()

    def ping(self, raw: Any) -> bool:
        """Whether the server answers on this connection (a failed transaction still counts)."""
        import psycopg

        if raw.closed:
            return False
        finish_stream(raw)
        try:
            raw.execute("SELECT 1").fetchall()
        except psycopg.errors.InFailedSqlTransaction:
            return True
        except psycopg.Error:
            return False
        return True

    def connection_id(self, raw: Any) -> int:
        """The server process id of the session (``pg_backend_pid()``), known without a query."""
        return int(raw.info.backend_pid)

    def server_version(self, raw: Any) -> str:
        """The server version text (``SHOW server_version``), e.g. "15.6 (Debian 15.6-1)"."""
        finish_stream(raw)
        row = raw.execute("SHOW server_version").fetchone()
        return str(row[0])

    def copy_rows(
        self, raw: Any, table_sql: str, columns_sql: Sequence[str], rows: Iterable[tuple]
    ) -> None:
        """Load rows with ``COPY ... FROM STDIN``: one round trip, values never in SQL text."""
        finish_stream(raw)
        statement = f"COPY {table_sql} ({', '.join(columns_sql)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def cursor(self, raw: Any, *, as_dict: bool = False, streaming: bool = False) -> Any:
        """A client cursor, or a :class:`~.stream.StreamCursor` (text) when ``streaming``.

        Rows are tuples, or dicts keyed by column name when ``as_dict``. A stream left open on the
        connection is finished first.
        """
        if OPEN_STREAMS:
            finish_stream(raw)
        factory = _row_factory(as_dict)
        if streaming:  # the column types are unknown: they may be bytea
            from .stream import BYTEA_CHUNK_ROWS, StreamCursor, chunk_rows

            return StreamCursor(raw, None, chunk_rows(BYTEA_CHUNK_ROWS), row_factory=factory)
        return raw.cursor(row_factory=factory)

    def typed_cursor(
        self,
        raw: Any,
        column_types: Sequence[str],
        *,
        as_dict: bool = False,
        streaming: bool = False,
    ) -> Any:
        """A :meth:`cursor` for a SELECT whose result columns have the native ``column_types``.

        A result with a ``bytea`` column whose other columns load the same in both formats is
        read in psycopg's binary format (:mod:`.binary`); other results as :meth:`cursor` reads
        them. A streaming cursor reads a result with a ``bytea`` column in small chunks.
        """
        from .binary import BinaryCursor, read_plan

        enum_columns, has_bytea = read_plan(tuple(column_types))
        factory = _row_factory(as_dict)
        n_columns = len(column_types)
        if streaming:
            from .stream import BYTEA_CHUNK_ROWS, CHUNK_ROWS, StreamCursor, chunk_rows

            finish_stream(raw)
            plan = None if enum_columns is None else (enum_columns, n_columns)
            chunk = chunk_rows(BYTEA_CHUNK_ROWS if has_bytea else CHUNK_ROWS)
            return StreamCursor(raw, plan, chunk, row_factory=factory)
        if enum_columns is None:
            return self.cursor(raw, as_dict=as_dict)
        if OPEN_STREAMS:
            finish_stream(raw)
        return BinaryCursor(raw, enum_columns, n_columns, row_factory=factory)
