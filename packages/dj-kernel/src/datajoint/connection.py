"""Connections: one database session through a backend plugin, with transactions and reconnect."""

from __future__ import annotations

import getpass
import hashlib
import itertools
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, cast

from . import errors
from .backend.contract import (
    Backend,
    BeginWithQueryDriver,
    ConnectParams,
    CopyDriver,
    Statement,
    TypedCursorDriver,
)
from .plugin_host import host as plugin_host

logger = logging.getLogger("datajoint")

BACKEND_ALIASES = {"postgres": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}
#: kept cursors of transient statements (one per typed cursor's column types) at most
MAX_KEPT_CURSORS = 16


def thread_safe_mode() -> bool:
    """``DJ_THREAD_SAFE`` in {true, 1, yes}: global state is refused (read on every call)."""
    return os.environ.get("DJ_THREAD_SAFE", "").strip().lower() in ("true", "1", "yes")


def guard_global_state() -> None:
    """Raise ThreadSafetyError when thread-safe mode is on."""
    if thread_safe_mode():
        raise errors.ThreadSafetyError(errors.THREAD_SAFE_MESSAGE)


def get_backend(name: str) -> Backend:
    """The backend plugin registered under ``name`` (aliases accepted)."""
    name = BACKEND_ALIASES.get(name, name)
    factory = plugin_host().get("backend", name)
    return factory() if callable(factory) else factory


class Connection:
    """A connection to one database server (or SQLite file) through a backend plugin.

    ``Connection(host, user, password, port=None, use_tls=None, *, database_name=None,
    backend=None, config_override=None)``: a host written ``"h:port"`` overrides ``port``; missing
    values come from the configuration. It connects at once.
    """

    def __init__(
        self,
        host: str | None = None,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        use_tls: bool | dict | None = None,
        *,
        database_name: str | None = None,
        backend: str | None = None,
        config_override: Any = None,
    ) -> None:
        from .settings import config as global_config

        self.config = config_override if config_override is not None else global_config
        db = self.config.database
        backend_name = BACKEND_ALIASES.get(backend or "", backend) or self.config.resolved_backend()
        self.backend: Backend = get_backend(backend_name)
        self.dialect = self.backend.dialect
        #: the driver's cursor factory, read once: every statement needs one
        self._new_cursor = self.backend.driver.cursor
        #: (session, cursor) handed out again for transient statements (see :meth:`query`), by
        #: the column types of a typed cursor (None: the plain cursor)
        self._kept: dict[tuple[str, ...] | None, tuple[Any, Any]] = {}
        if self.backend.requires_server:
            host = host if host is not None else db.host
            # "h:port" overrides the port, also in database.host (`dj --host h:port`, SPEC §11)
            if host and ":" in host and not host.startswith("["):
                host, _, port_text = host.rpartition(":")
                port = int(port_text)
            port = port if port is not None else (db.port or self.backend.default_port)
            database_name = database_name if database_name is not None else db.name
        else:
            host, port = None, None
            database_name = str(database_name or db.sqlite_file)
            if database_name != ":memory:":  # sqlite3's name for a private in-memory database
                database_name = str(Path(database_name).expanduser().resolve())
        self.conn_info: dict[str, Any] = {
            "host": host,
            "port": port,
            "user": user,
            "passwd": password,
            "database_name": database_name,
            "use_tls": use_tls if use_tls is not None else db.use_tls,
            "backend": self.backend.name,
        }
        self.schemas: dict[str, Any] = {}
        self._query_cache: str | None = None
        self._raw: Any = None
        self._in_transaction = False
        self._after_transaction: list[Callable[[bool], object]] = []
        #: inside :meth:`chained_transactions`: a commit opens the next transaction
        self._chaining = False
        #: a transaction opened by COMMIT AND CHAIN that no unit of work has taken yet
        self._idle_chained = False
        self._dependencies: Any = None
        self.connect()

    # ---- session ---------------------------------------------------------------------------
    @property
    def adapter(self) -> Backend:
        return self.backend

    def _params(self) -> ConnectParams:
        info = self.conn_info
        charset = getattr(getattr(self.config, "connection", None), "charset", "") or ""
        return ConnectParams(
            host=info["host"],
            port=info["port"],
            user=info["user"],
            password=info["passwd"],
            database_name=info["database_name"],
            use_tls=info["use_tls"],
            charset=charset,
        )

    def connect(self) -> None:
        """Open the session (again)."""
        self._raw = self.backend.driver.connect(self._params())
        self._in_transaction = self._idle_chained = False
        self._kept = {}
        if not self.backend.driver.ping(self._raw):
            raise errors.LostConnectionError(f"Connection failed {self._where()}")
        self.connection_id = self.backend.driver.connection_id(self._raw)
        self._transaction_ended(False)  # a transaction of the previous session was discarded

    def _where(self) -> str:
        info = self.conn_info
        if not self.backend.requires_server:
            return f"sqlite:{info['database_name']}"
        return f"{info['user']}@{info['host']}:{info['port']}"

    def close(self) -> None:
        if self._raw is not None:
            self.backend.driver.close(self._raw)
            self._raw = None

    def ping(self) -> bool:
        return self._raw is not None and self.backend.driver.ping(self._raw)

    @property
    def is_connected(self) -> bool:
        try:
            return self.ping()
        except Exception:
            return False

    def get_user(self) -> str:
        """The database user of this session ("user@host" on MySQL); the OS user on SQLite."""
        sql = self.dialect.current_user_sql
        if sql is None:
            return getpass.getuser()
        return str(self.query(sql).fetchone()[0])

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and self.conn_info == other.conn_info

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else "disconnected"
        info = self.conn_info
        if not self.backend.requires_server:
            return f"DataJoint connection ({state}) sqlite:{info['database_name']}"
        db = f"/{info['database_name']}" if info["database_name"] else ""
        return f"DataJoint connection ({state}) {self._where()}{db}"

    # ---- queries ---------------------------------------------------------------------------
    def query(
        self,
        sql: str,
        args: Sequence[Any] = (),
        *,
        as_dict: bool = False,
        suppress_warnings: bool = True,
        reconnect: bool | None = None,
        streaming: bool = False,
        column_types: Sequence[str] | None = None,
        transient: bool = False,
    ) -> Any:
        """Execute one statement with bound ``args`` and return the driver's cursor.

        A dialect's :class:`~datajoint.backend.contract.Statement` brings its own parameters.
        ``column_types`` (the native types of a SELECT's result columns) asks the driver for its
        ``typed_cursor()`` where the dialect declares ``capabilities.typed_cursors``.
        ``transient=True`` promises that the caller is done with the cursor (its row count, its
        rows) before the connection's next statement, and does not close it: the connection may
        then run the statement on a cursor it keeps (one per ``column_types``), instead of
        creating one per statement.
        """
        if not args and isinstance(sql, Statement):
            args = sql.params
        if self._query_cache is not None:
            return self._cached_query(sql, args, as_dict)
        try:
            return self._execute(
                sql, args, as_dict, suppress_warnings, streaming, column_types, transient
            )
        except errors.LostConnectionError:
            if self._in_transaction:
                self._in_transaction = self._idle_chained = False
                self._transaction_ended(False)
                raise errors.LostConnectionError(
                    "Connection was lost during a transaction."
                ) from None
            if not self._reconnected(reconnect):
                raise
            return self._execute(
                sql, args, as_dict, suppress_warnings, streaming, column_types, transient
            )

    def _execute(
        self,
        sql: str,
        args: Sequence[Any],
        as_dict: bool,
        suppress_warnings: bool,
        streaming: bool,
        column_types: Sequence[str] | None = None,
        transient: bool = False,
    ) -> Any:
        if self._raw is None:
            raise errors.LostConnectionError("Server connection lost", "the connection is closed")
        # a plain try (not _translated_errors): this runs for every statement
        try:
            types = None
            if column_types is not None and self.dialect.capabilities.typed_cursors:
                types = tuple(column_types)
            if transient and not (as_dict or streaming):
                kept = self._kept.get(types)
                if kept is not None and kept[0] is self._raw:
                    cursor = kept[1]
                else:
                    cursor = self._cursor(types, False, False)
                    if len(self._kept) >= MAX_KEPT_CURSORS:
                        self._kept.clear()
                    self._kept[types] = (self._raw, cursor)
            else:
                cursor = self._cursor(types, as_dict, streaming)
            if suppress_warnings:
                cursor.execute(sql, args if type(args) is list else list(args))
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("always")
                    cursor.execute(sql, list(args))
        except errors.DataJointError:
            raise
        except Exception as error:
            translated = self._translated(error, sql)
            if translated is None:
                raise
            raise translated from error
        return cursor

    def _cursor(self, column_types: Sequence[str] | None, as_dict: bool, streaming: bool) -> Any:
        """A new cursor: the driver's typed cursor when ``column_types`` are given."""
        if column_types is None:
            return self._new_cursor(self._raw, as_dict=as_dict, streaming=streaming)
        driver = cast(TypedCursorDriver, self.backend.driver)  # capabilities.typed_cursors
        return driver.typed_cursor(self._raw, column_types, as_dict=as_dict, streaming=streaming)

    # ---- query cache -----------------------------------------------------------------------
    def set_query_cache(self, query_cache: str | None = None) -> None:
        """Serve SELECT/SHOW results from files under ``config.query_cache``, keyed by
        ``query_cache`` (None turns caching off)."""
        self._query_cache = query_cache

    def _cache_folder(self) -> Path:
        folder = self.config.query_cache
        if folder is None:
            raise errors.DataJointError(
                "Provide filepath dj.config['query_cache'] when using query caching."
            )
        return Path(folder)

    def purge_query_cache(self) -> None:
        """Delete every cached result in ``config.query_cache``."""
        folder = self.config.query_cache
        if folder is not None and Path(folder).is_dir():
            for entry in Path(folder).iterdir():
                if entry.is_file():
                    entry.unlink()

    def _cached_query(self, sql: str, args: Sequence[Any], as_dict: bool) -> Any:
        from .codecs import get_codec

        if not _CACHEABLE.match(sql):
            raise errors.DataJointError("Only SELECT queries are allowed when query caching is on.")
        blob = get_codec("blob")
        folder = self._cache_folder()
        digest = hashlib.md5(
            str(self._query_cache).encode() + blob.encode(list(args)) + sql.encode()
        ).hexdigest()
        path = folder / digest
        if path.exists():
            return CachedCursor(blob.decode(path.read_bytes()))
        rows = list(self._execute(sql, args, as_dict, True, False).fetchall())
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.encode(rows))
        return CachedCursor(rows)

    @contextmanager
    def _translated_errors(self, sql: str) -> Iterator[None]:
        """Re-raise driver errors as DataJoint errors where the backend maps them."""
        try:
            yield
        except errors.DataJointError:
            raise
        except Exception as error:
            translated = self._translated(error, sql)
            if translated is None:
                raise
            raise translated from error

    def _translated(self, error: Exception, sql: str) -> BaseException | None:
        """The DataJoint error for a driver error (None when the backend maps none)."""
        shown = sql if len(sql) <= 1000 else sql[:1000] + " ..."  # bulk inserts are long
        return self.backend.errors.translate(error, shown)

    def copy_rows(self, schema: str, table: str, columns: Sequence[str], rows: Any) -> None:
        """Bulk-load encoded rows with the driver's copy path (``capabilities.copy_rows``)."""
        if self._raw is None:
            raise errors.LostConnectionError("Server connection lost", "the connection is closed")
        dialect = self.dialect
        table_sql = dialect.full_table_name(schema, table)
        columns_sql = [dialect.quote(c) for c in columns]
        with self._translated_errors(f"COPY {table_sql}"):
            driver = cast(CopyDriver, self.backend.driver)  # capabilities.copy_rows says so
            driver.copy_rows(self._raw, table_sql, columns_sql, rows)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Execute and return every row as a tuple (the introspection runner)."""
        return list(self.query(sql, params).fetchall())

    def execute_model(
        self,
        node: Any,
        *,
        as_dict: bool = False,
        streaming: bool = False,
        column_types: Sequence[str] | None = None,
    ) -> Any:
        """Render a query-model node with this backend's dialect and execute it.

        ``column_types``, the native types of the result's columns where the caller knows them,
        go to :meth:`query`.
        """
        sql, params = self.dialect.render(node)
        return self.query(
            sql, params, as_dict=as_dict, streaming=streaming, column_types=column_types
        )

    # ---- transactions ----------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def start_transaction(self) -> None:
        if self._idle_chained:  # opened by the last commit: nothing to send
            self._idle_chained = False
            return
        if self._in_transaction:
            raise errors.DataJointError("Nested connections are not supported.")
        self.query(self.dialect.begin_sql(), transient=True)
        self._in_transaction = True

    def start_transaction_with(
        self, sql: str, params: Sequence[Any] = (), *, transient: bool = False
    ) -> Any:
        """Start a transaction and run ``sql`` (with bound ``params``) as its first statement;
        return the driver's cursor on its result (``transient`` as in :meth:`query`).

        Where the dialect declares ``capabilities.begin_with_query`` the driver sends BEGIN and
        ``sql`` in one round trip (two SQL statements, one message); elsewhere, and while the
        query cache is on, this is :meth:`start_transaction` then :meth:`query`. The call is all
        or nothing: it returns with the transaction open, or raises with none open -- after a
        failed ``sql`` the BEGIN is rolled back as a :class:`UnitOfWork` rolls back (the session
        is closed instead when the connection was lost or an interrupt came mid-reply). When the
        combined send finds the connection lost, the connection is reopened and the pair sent
        once more (unless ``database.reconnect`` is off), as :meth:`query` does for a lone BEGIN:
        nothing of the lost transaction was seen. A transaction that the last commit chained
        (:meth:`chained_transactions`) is taken as it is: ``sql`` runs as its first statement.
        """
        if self._idle_chained:
            return self._query_in_chained(sql, params, transient)
        if self._in_transaction:
            raise errors.DataJointError("Nested connections are not supported.")
        if not self.dialect.capabilities.begin_with_query or self._query_cache is not None:
            self.start_transaction()
            try:
                return self.query(sql, params, transient=transient)
            except BaseException as error:
                self._undo_begin(error)
                raise
        try:
            return self._begin_with_query(sql, params)
        except errors.LostConnectionError:
            if not self._reconnected():
                raise
            return self._begin_with_query(sql, params)

    def _reconnected(self, allowed: bool | None = None) -> bool:
        """Reopen a session found lost, unless ``allowed`` is False or, when it is None,
        ``database.reconnect`` is off (then False). The setting is read only here: the hot path
        touches no settings."""
        if allowed is None:
            allowed = bool(getattr(self.config.database, "reconnect", True))
        if not allowed:
            return False
        logger.warning("Reconnecting to the database server.")
        self.connect()
        return True

    def _begin_with_query(self, sql: str, params: Sequence[Any]) -> Any:
        """The combined send of :meth:`start_transaction_with`: one round trip to the server."""
        if self._raw is None:
            raise errors.LostConnectionError("Server connection lost", "the connection is closed")
        driver = cast(BeginWithQueryDriver, self.backend.driver)  # the capability says so
        self._in_transaction = True
        try:
            with self._translated_errors(sql):
                return driver.begin_with_query(
                    self._raw, self.dialect.begin_sql(), sql, list(params)
                )
        except BaseException as error:
            self._undo_begin(error)
            raise

    def _query_in_chained(self, sql: str, params: Sequence[Any], transient: bool) -> Any:
        """``sql`` as the first statement of the transaction the last commit chained. The
        transaction held nothing yet: when the connection turns out lost, the pair is begun
        anew on a new session, as a lost BEGIN would be."""
        self._idle_chained = False
        try:
            return self.query(sql, params, reconnect=False, transient=transient)
        except errors.LostConnectionError:
            if not self._reconnected():
                raise
            return self.start_transaction_with(sql, params, transient=transient)
        except BaseException as error:
            self._undo_begin(error)
            raise

    def _undo_begin(self, error: BaseException) -> None:
        """End the transaction that a failed :meth:`start_transaction_with` opened (or may
        have opened: a rollback without one is harmless)."""
        unit = UnitOfWork(self, None, mode="transaction")
        unit.open = True
        unit.rollback(error)

    def cancel_transaction(self) -> None:
        self._in_transaction = self._idle_chained = False
        try:
            self.query(self.dialect.rollback_sql(), reconnect=False, transient=True)
        finally:
            self._transaction_ended(False)

    def commit_transaction(self) -> None:
        # chained only when nothing waits for the end of the transaction: such callbacks run
        # outside any transaction
        chain = self._chaining and not self._after_transaction
        self._in_transaction = False
        sql = self.dialect.commit_and_chain_sql() if chain else self.dialect.commit_sql()
        try:
            self.query(sql, reconnect=False, transient=True)
        except BaseException:
            self._transaction_ended(False)
            if chain:
                self._end_chain_quietly()
            raise
        self._in_transaction = self._idle_chained = chain
        self._transaction_ended(True)

    @contextmanager
    def chained_transactions(self) -> Iterator[None]:
        """Within the block, each commit also opens the next transaction (``COMMIT AND
        CHAIN``), which the next :meth:`start_transaction` or :meth:`start_transaction_with`
        takes without a BEGIN of its own: a loop of transactions saves one round trip each.

        Between two transactions the connection is inside the chained (still empty) one, so
        the block must send nothing outside its transactions; a rollback ends the chain until
        the next commit. The chained transaction left at the end is rolled back. Where the
        dialect lacks ``capabilities.chain_transactions`` (or the query cache is on) commits
        are plain.
        """
        if (
            self._chaining
            or not self.dialect.capabilities.chain_transactions
            or self._query_cache is not None
        ):
            yield
            return
        self._chaining = True
        try:
            yield
        finally:
            self._chaining = False
            if self._idle_chained:
                self._end_chain_quietly()

    def _end_chain_quietly(self) -> None:
        """Roll back the transaction a commit chained (it holds nothing); a failure to do so
        closes the session, which ends it just the same."""
        self._in_transaction = self._idle_chained = False
        try:
            self.query(self.dialect.rollback_sql(), reconnect=False, transient=True)
        except BaseException:
            self._discard()

    def after_transaction(self, callback: Callable[[bool], object]) -> None:
        """Call ``callback(committed)`` once the open transaction has ended: ``True`` after a
        commit, ``False`` after a rollback or when the transaction was lost with its session.

        Callbacks run in order, outside the transaction; an error in one is logged, never
        raised. With no transaction open, DataJointError.
        """
        if not self._in_transaction:
            raise errors.DataJointError("after_transaction() needs an open transaction.")
        self._after_transaction.append(callback)

    def _transaction_ended(self, committed: bool) -> None:
        callbacks, self._after_transaction = self._after_transaction, []
        for callback in callbacks:
            try:
                callback(committed)
            except Exception:
                logger.exception("A callback run after a transaction ended failed.")

    @property
    def transaction(self) -> UnitOfWork:
        """``with conn.transaction:`` commits on success and rolls back on any exception."""
        return UnitOfWork(self, None, mode="transaction")

    def unit(self, what: str, *, single: bool = False, enabled: bool = True) -> UnitOfWork:
        """A unit of work named ``what`` (in error notes): all or nothing, whatever is open.

        It is its own transaction when none is open, and a savepoint of the caller's transaction
        otherwise. ``single=True`` promises exactly one statement, atomic by itself, so neither is
        needed; ``enabled=False`` (outside a transaction) runs without one.
        """
        mode: Mode
        if single:
            mode = "statement"
        elif self._in_transaction:
            mode = "savepoint"
        else:
            mode = "transaction" if enabled else "none"
        return UnitOfWork(self, what, mode=mode)

    def _discard(self) -> None:
        """Close the session so that the server rolls back whatever it still holds open."""
        self._in_transaction = self._idle_chained = False
        try:
            self.close()
        except Exception:  # closing a dead connection must not hide the original error
            self._raw = None
        self._transaction_ended(False)

    # ---- catalog ---------------------------------------------------------------------------
    @property
    def introspection(self) -> Any:
        return self.backend.introspection

    @property
    def dependencies(self) -> Any:
        if self._dependencies is None:
            from .dependencies import Dependencies

            self._dependencies = Dependencies(self)
        return self._dependencies


_CACHEABLE = re.compile(r"^\s*(SELECT|SHOW)")

_savepoints = itertools.count(1)

#: how a unit of work is undone: its own transaction, a savepoint of the caller's, nothing
#: (one statement, atomic by itself), or nothing at all (no transaction asked for)
Mode = Literal["transaction", "savepoint", "statement", "none"]

#: the note added to an error, by mode: (undone, connection closed, undo failed)
_OUTCOMES: dict[Mode, tuple[str, str, str]] = {
    "transaction": (
        "the transaction was rolled back; nothing was written.",
        "the connection was closed to discard the transaction; nothing was written.",
        "the rollback failed, so the connection was closed to discard the transaction.",
    ),
    "savepoint": (
        "its changes were undone; the enclosing transaction is still open.",
        "the connection was closed, which also discarded the enclosing transaction.",
        "undoing it failed, so the connection was closed, which also discarded the enclosing "
        "transaction.",
    ),
    "statement": ("the statement was not applied.",) * 3,
    "none": ("no transaction was used: statements already run stay.",) * 3,
}


class UnitOfWork:
    """One unit of work on a connection, decided by :meth:`commit` or :meth:`rollback`.

    The connection's one transaction engine: ``conn.transaction``, every write call (through
    :func:`datajoint.write.atomic.atomic`) and delete (which asks before it commits) use it. Its
    ``mode`` is ``"transaction"`` (it owns one), ``"savepoint"`` (inside the caller's
    transaction, so that a failure undoes this unit only and leaves the caller's work usable),
    ``"statement"`` (one statement, atomic by itself) or ``"none"`` (no transaction).

    When the undo cannot be trusted -- the connection was lost, or an interrupt (Ctrl-C) arrived
    while a network driver was reading a reply and the protocol state is unknown -- the
    connection is closed instead: the server then discards the open transaction, the only safe way
    to guarantee that nothing of it persists; the next query reconnects. Used in ``with``, it
    begins on entry, commits on success and rolls back on any exception; with a ``what`` it notes
    on the error what failed and what became of the work.
    """

    def __init__(self, conn: Connection, what: str | None, *, mode: Mode) -> None:
        self.conn, self.what, self.mode = conn, what, mode
        self.name = f"dj_write_{next(_savepoints)}" if mode == "savepoint" else ""
        self.open = False

    @property
    def owns_transaction(self) -> bool:
        return self.mode == "transaction"

    def begin(self) -> None:
        if self.mode == "transaction":
            self.conn.start_transaction()
        elif self.mode == "savepoint":
            self.conn.query(
                self.conn.dialect.savepoint_sql(self.name), reconnect=False, transient=True
            )
        self.open = True

    def begin_with(self, sql: str, params: Sequence[Any] = (), *, transient: bool = False) -> Any:
        """Begin a unit of mode "transaction" with ``sql`` as its first statement, in one round
        trip where the backend can (:meth:`Connection.start_transaction_with`); return the
        cursor on its result. On an error no transaction is left open."""
        cursor = self.conn.start_transaction_with(sql, params, transient=transient)
        self.open = True
        return cursor

    def commit(self) -> None:
        if not self.open:
            return
        self.open = False
        if self.mode == "transaction":
            self.conn.commit_transaction()
        elif self.mode == "savepoint":
            self.conn.query(
                self.conn.dialect.release_savepoint_sql(self.name), reconnect=False, transient=True
            )

    def rollback(self, error: BaseException | None = None) -> None:
        """Undo everything since :meth:`begin`; with ``error``, note on it what happened."""
        if not self.open:
            return
        self.open = False
        undone, closed, failed = _OUTCOMES[self.mode]
        outcome = undone
        if error is not None and self._untrusted(error):
            self.conn._discard()
            outcome = closed
        elif self.mode in ("transaction", "savepoint"):
            try:
                self._undo()
            except BaseException:
                self.conn._discard()
                outcome = failed
        if error is not None and self.what is not None and hasattr(error, "add_note"):
            error.add_note(f"{self.what} failed; {outcome}")

    def _undo(self) -> None:
        if self.mode == "transaction":
            self.conn.cancel_transaction()
        else:
            self.conn.query(
                self.conn.dialect.rollback_to_savepoint_sql(self.name),
                reconnect=False,
                transient=True,
            )

    def _untrusted(self, error: BaseException) -> bool:
        """Whether the connection cannot be trusted to undo the work by itself."""
        if isinstance(error, errors.LostConnectionError):
            return True
        # an interrupt inside a network driver may have left half a reply unread
        return not isinstance(error, Exception) and bool(self.conn.backend.requires_server)

    def __enter__(self) -> Connection:
        self.begin()
        return self.conn

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        if error is None:
            self.commit()
        else:
            self.rollback(error)


class CachedCursor:
    """A cursor-like view of cached rows."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = list(rows)
        self._position = 0
        self.rowcount = len(self._rows)

    def fetchone(self) -> Any:
        if self._position >= len(self._rows):
            return None
        self._position += 1
        return self._rows[self._position - 1]

    def fetchmany(self, size: int = 1) -> list[Any]:
        rows = self._rows[self._position : self._position + size]
        self._position += len(rows)
        return rows

    def fetchall(self) -> list[Any]:
        rows = self._rows[self._position :]
        self._position = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._rows = []


_singleton: Connection | None = None


def conn(
    host: str | None = None,
    user: str | None = None,
    password: str | None = None,
    *,
    reset: bool = False,
    use_tls: bool | dict | None = None,
) -> Connection:
    """The process-wide connection, built from the configuration on first use."""
    global _singleton
    guard_global_state()
    from .settings import config

    passed = any(v is not None for v in (host, user, password))
    if _singleton is None or reset:
        backend = get_backend(config.resolved_backend())
        implicit = not passed
        user = user if user is not None else config.database.user
        password = password if password is not None else _secret(config.database.password)
        if backend.requires_server:
            where = " or DJ_USER environment variable." if implicit else "."
            if user is None:
                raise errors.DataJointError(
                    "Database user not configured. Set dj.config['database.user'] or pass "
                    f"user= argument{where}"
                )
            if password is None:
                where = " or DJ_PASS environment variable." if implicit else "."
                raise errors.DataJointError(
                    "Database password not configured. Set dj.config['database.password'] or "
                    f"pass password= argument{where}"
                )
        _singleton = Connection(host, user, password, use_tls=use_tls, backend=backend.name)
        if not backend.requires_server:
            logger.info(
                "DataJoint is using the embedded SQLite database %s. To use a server, set "
                "dj.config['database.host'] (MySQL) or dj.config['database.backend'].",
                _singleton.conn_info["database_name"],
            )
    return _singleton


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def reset_singleton() -> None:
    """Close and forget the process-wide connection (tests)."""
    global _singleton
    if _singleton is not None:
        _singleton.close()
    _singleton = None
