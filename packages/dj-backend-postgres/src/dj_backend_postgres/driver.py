"""PostgresDriver: psycopg 3 connections (autocommit) and cursors.

psycopg is imported inside the methods, so importing this module (or the plugin) stays cheap.

Streaming cursors are psycopg server-side (named) cursors declared ``WITH HOLD``
(``withhold=True``). Connections run in autocommit, where a plain ``DECLARE`` would fail outside
a transaction block; a holdable cursor survives the end of the implicit transaction. Inside a
kernel transaction (after ``BEGIN``) rows are produced lazily until ``COMMIT``; in autocommit the
server materialises the result once (on the server, not in Python) and the client still fetches
it in batches, so client memory stays bounded either way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from datajoint.backend.contract import ConnectParams

logger = logging.getLogger("datajoint")

#: MySQL-style TLS option names and their libpq equivalents
_TLS_KEYS = {"ca": "sslrootcert", "cert": "sslcert", "key": "sslkey", "crl": "sslcrl"}

#: MySQL character-set names that mean UTF-8 on PostgreSQL
_UTF8_CHARSETS = {"utf8", "utf8mb3", "utf8mb4", "utf-8"}


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
        """Close the connection (a no-op when it is already closed)."""
        if not raw.closed:
            raw.close()

    def ping(self, raw: Any) -> bool:
        """Whether the server answers on this connection (a failed transaction still counts)."""
        import psycopg

        if raw.closed:
            return False
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
        row = raw.execute("SHOW server_version").fetchone()
        return str(row[0])

    def copy_rows(
        self, raw: Any, table_sql: str, columns_sql: Sequence[str], rows: Iterable[tuple]
    ) -> None:
        """Load rows with ``COPY ... FROM STDIN``: one round trip, values never in SQL text."""
        statement = f"COPY {table_sql} ({', '.join(columns_sql)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def cursor(self, raw: Any, *, as_dict: bool = False, streaming: bool = False) -> Any:
        """A client cursor, or a named ``WITH HOLD`` server-side cursor when ``streaming``.

        Rows are tuples, or dicts keyed by column name when ``as_dict``. A streaming cursor runs
        one SELECT per ``execute`` and fetches rows from the server in batches.
        """
        from psycopg.rows import dict_row, tuple_row

        factory = dict_row if as_dict else tuple_row
        if streaming:
            name = "dj_stream_" + uuid.uuid4().hex[:16]
            return raw.cursor(name=name, row_factory=factory, withhold=True)
        return raw.cursor(row_factory=factory)
