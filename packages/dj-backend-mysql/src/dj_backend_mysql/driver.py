"""MySQLDriver: pymysql connections and cursors (SPEC §1.2).

Sessions run in autocommit with DataJoint's sql_mode; the kernel sends its own transaction
statements. Cursors always apply pyformat interpolation (an absent parameter list counts as
empty), so every statement -- DDL included -- follows one rule: a literal ``%`` is written ``%%``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pymysql
import pymysql.cursors

from datajoint.backend.contract import ConnectParams

from . import long_data
from .statement import bytes_statement, has_large_bytes

logger = logging.getLogger("datajoint")

SQL_MODE = (
    "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,STRICT_ALL_TABLES,"
    "NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY"
)
DEFAULT_CHARSET = "utf8mb4"
DEFAULT_PORT = 3306

#: pymysql's "SSL connection error" client code
CR_SSL_CONNECTION_ERROR = 2026

#: TLS without certificate checks: what "use TLS if the server offers it" means by default
_DEFAULT_TLS: dict[str, Any] = {"check_hostname": False, "verify_mode": False}


class _Interpolating:
    """Cursor mixin: ``execute(sql)`` interpolates like ``execute(sql, ())``; a statement with
    a large bytes value sends that value through the binary protocol (:mod:`.long_data`) or,
    where that path does not apply (a statement that returns rows), is built as bytes with hex
    literals (:func:`.statement.bytes_statement`)."""

    def execute(self, query: str, args: Any = None) -> int:
        """Execute ``query``, always interpolating ``args`` (None counts as no arguments)."""
        if type(args) in (list, tuple) and has_large_bytes(args):
            return self._execute_large(query, args)
        return super().execute(query, () if args is None else args)  # type: ignore[misc]

    def _execute_large(self, query: str, args: Sequence[Any]) -> int:
        connection = self._get_db()  # type: ignore[attr-defined]
        while self.nextset():  # type: ignore[attr-defined]
            pass
        self._clear_result()  # type: ignore[attr-defined]
        if long_data.execute(connection, query, args):
            self._do_get_result()  # type: ignore[attr-defined]
            self._executed = query
            return int(self.rowcount)  # type: ignore[attr-defined]
        statement = bytes_statement(connection, query, args)
        return super().execute(statement, None)  # type: ignore[misc]  # sent as it is


class Cursor(_Interpolating, pymysql.cursors.Cursor):
    """Buffered cursor returning tuples."""


class DictCursor(_Interpolating, pymysql.cursors.DictCursor):
    """Buffered cursor returning dicts."""


class SSCursor(_Interpolating, pymysql.cursors.SSCursor):
    """Server-side (streaming) cursor returning tuples."""


class SSDictCursor(_Interpolating, pymysql.cursors.SSDictCursor):
    """Server-side (streaming) cursor returning dicts."""


def _tls_option(use_tls: bool | dict | None) -> dict[str, Any] | None:
    """pymysql's ``ssl`` argument for ``use_tls`` (None: no TLS)."""
    if use_tls is False:
        return None
    if isinstance(use_tls, Mapping) and use_tls:
        return dict(use_tls)
    return dict(_DEFAULT_TLS)


class MySQLDriver:
    """Opens pymysql connections and hands out cursors."""

    def connect_kwargs(self, params: ConnectParams) -> dict[str, Any]:
        """The keyword arguments of ``pymysql.connect`` for ``params`` (TLS excluded)."""
        kwargs: dict[str, Any] = {
            "host": params.host or "localhost",
            "port": int(params.port or DEFAULT_PORT),
            "user": params.user,
            "password": params.password or "",
            "charset": params.charset or DEFAULT_CHARSET,
            "sql_mode": SQL_MODE,
            "autocommit": True,
            "binary_prefix": True,
            "cursorclass": Cursor,
        }
        kwargs.update(params.options)
        return kwargs

    def connect(self, params: ConnectParams) -> Any:
        """Open a connection; ``use_tls=None`` tries TLS and falls back to plain with a warning."""
        kwargs = self.connect_kwargs(params)
        tls = _tls_option(params.use_tls)
        if tls is None:
            return pymysql.connect(**kwargs, ssl_disabled=True)
        if params.use_tls is None:
            try:
                raw = pymysql.connect(**kwargs, ssl=tls)
            except Exception as error:
                logger.warning(
                    "TLS connection to %s:%s failed (%s); connecting without TLS.",
                    kwargs["host"],
                    kwargs["port"],
                    error,
                )
                return pymysql.connect(**kwargs, ssl_disabled=True)
            if not self.tls_active(raw):
                logger.warning(
                    "The server at %s:%s does not offer TLS; the connection is not encrypted.",
                    kwargs["host"],
                    kwargs["port"],
                )
            return raw
        raw = pymysql.connect(**kwargs, ssl=tls)
        if not self.tls_active(raw):  # older pymysql may fall back silently
            raw.close()
            raise pymysql.err.OperationalError(
                CR_SSL_CONNECTION_ERROR, "TLS was requested but the server does not support it"
            )
        return raw

    def tls_active(self, raw: Any) -> bool:
        """Whether the session is encrypted (the server reports a TLS cipher)."""
        with raw.cursor(pymysql.cursors.Cursor) as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            row = cur.fetchone()
        return bool(row and row[1])

    def close(self, raw: Any) -> None:
        """Close the connection; closing a dead or closed connection is not an error."""
        try:
            raw.close()
        except Exception:
            pass

    def ping(self, raw: Any) -> bool:
        """True when the server answers; never reconnects."""
        try:
            raw.ping(reconnect=False)
        except Exception:
            return False
        return True

    def connection_id(self, raw: Any) -> int:
        """The server's id of this session (``SELECT connection_id()``)."""
        with raw.cursor(pymysql.cursors.Cursor) as cur:
            cur.execute("SELECT connection_id()")
            return int(cur.fetchone()[0])

    def server_version(self, raw: Any) -> str:
        """``@@version``, e.g. ``8.0.36`` or ``10.11.6-MariaDB``."""
        with raw.cursor(pymysql.cursors.Cursor) as cur:
            cur.execute("SELECT @@version")
            return str(cur.fetchone()[0])

    def begin_with_query(self, raw: Any, begin_sql: str, sql: str, params: Sequence[Any]) -> Any:
        """``begin_sql`` and ``sql`` in one round trip; the cursor on the result of ``sql``.

        On MariaDB the two travel as one anonymous compound statement, ``BEGIN NOT ATOMIC
        begin_sql; sql; END``, with ``params`` escaped by pymysql as in any query. Sessions keep
        one statement per message (no ``CLIENT.MULTI_STATEMENTS``), so SQL text elsewhere can
        never smuggle in a second statement. The block's closing OK stays unread until the
        next command, which pymysql makes read it first. MySQL runs compound statements only
        inside stored programs: there the two are sent one after the other, as they are when
        ``params`` hold a large bytes value (sent apart by :mod:`.long_data`, outside any block).
        """
        cursor = raw.cursor(Cursor)
        if "MariaDB" in raw.get_server_info() and not has_large_bytes(params):
            cursor.execute(f"BEGIN NOT ATOMIC {begin_sql}; {sql}; END", params)
        else:
            cursor.execute(begin_sql)
            cursor.execute(sql, params)
        return cursor

    def cursor(self, raw: Any, *, as_dict: bool = False, streaming: bool = False) -> Any:
        """A cursor: buffered or server-side (``streaming``), tuples or dicts (``as_dict``)."""
        if streaming:
            return raw.cursor(SSDictCursor if as_dict else SSCursor)
        return raw.cursor(DictCursor if as_dict else Cursor)
