"""The backend contract: what a database backend plugin provides to the kernel.

A backend is four small parts bundled in a :class:`Backend`:

* :class:`Dialect` -- pure SQL text: quoting, placeholders, type mapping, DDL, rendering of the
  kernel's query model. Testable without a server. Backends subclass
  :class:`datajoint.backend.dialect.BaseDialect`, which renders ANSI SQL, and override what differs.
* :class:`Driver` -- opens DB-API connections, hands out cursors, pings, reports connection ids.
* :class:`Introspection` -- reads the catalog (schemas, tables, columns, keys, indexes) through a
  ``run(sql, params) -> list[tuple]`` callable the kernel passes in.
* :class:`ErrorTranslator` -- maps a driver exception to a :mod:`datajoint.errors` class.

Capabilities are declared in :class:`Capabilities`, never discovered by ``NotImplementedError``.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

#: ``run(sql, params)`` executes one statement and returns all rows as tuples.
Runner = Callable[[str, Sequence[Any]], list[tuple]]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the kernel branches on these flags, never on backend names."""

    column_positions: bool = False  # ALTER TABLE ... ADD ... AFTER col
    inline_indexes: bool = True  # INDEX (...) inside CREATE TABLE
    inline_comments: bool = True  # COMMENT '...' inside CREATE TABLE
    auto_indexes_foreign_keys: bool = False  # the server indexes FK columns by itself
    transactional_ddl: bool = False  # DDL can be rolled back
    server_side_cursors: bool = False  # streaming cursors
    #: the streaming cursor reads the reply of the one statement as it arrives, with no round
    #: trips beyond a buffered read's: a fetch may stream rows of any count and decode them
    #: while reading (MySQL's unbuffered cursor, PostgreSQL's chunked-rows stream; not a
    #: DECLARE/FETCH cursor). Closing it before its last row leaves the connection and an open
    #: transaction usable.
    cheap_streaming: bool = False
    having_on_aliases: bool = True  # HAVING may refer to select-list aliases
    rename_column: bool = True  # alter() may rename a column
    max_bind_parameters: int = 65535  # per statement
    drop_schema_cascades: bool = True  # False: the kernel drops the tables before the schema
    copy_rows: bool = False  # the driver has copy_rows(): a bulk path faster than multi-row INSERT
    #: the driver has begin_with_query(): BEGIN and a first query of the transaction in one
    #: round trip (else the kernel sends them one after the other)
    begin_with_query: bool = False
    #: the driver has typed_cursor(): a cursor told the native types of its result's columns,
    #: which may read them in a faster format (else the kernel asks for a plain cursor())
    typed_cursors: bool = False
    #: ``COMMIT AND CHAIN`` (:meth:`~datajoint.backend.dialect.Dialect.commit_and_chain_sql`):
    #: commit and open the next transaction in the same statement, saving the next BEGIN's
    #: round trip
    chain_transactions: bool = False


@dataclass(frozen=True)
class ConnectParams:
    """Everything a driver needs to open one connection."""

    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database_name: str | None = None  # PostgreSQL database; SQLite file path
    use_tls: bool | dict | None = None
    charset: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table to create; ``sql_type`` is already the backend's native type."""

    name: str
    sql_type: str
    nullable: bool = False
    default: str | None = (
        None  # SQL text of the default (a literal like 'x', NULL, CURRENT_TIMESTAMP)
    )
    comment: str = ""  # stored verbatim, e.g. ":int32:subject id"
    autoincrement: bool = False
    enum_values: tuple[str, ...] | None = None  # set when the core type is enum(...)


@dataclass(frozen=True)
class ForeignKeySpec:
    """A foreign key of a table to create."""

    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class IndexSpec:
    """A secondary index (``unique`` or not) of a table to create."""

    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A complete table to create: the dialect turns it into one or more DDL statements."""

    schema: str
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKeySpec, ...] = ()
    indexes: tuple[IndexSpec, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the catalog reports it."""

    name: str
    #: lower-case native type, normalised: no integer display widths ("int", "int unsigned"),
    #: "varchar(255)", "datetime(3)", "decimal(10,2)", enums as "enum('a','b')" on every backend
    sql_type: str
    nullable: bool
    #: None: no default; "null": DEFAULT NULL; "CURRENT_TIMESTAMP[(n)]" for current-time defaults;
    #: otherwise the literal value, unquoted and unescaped (e.g. "abc", "0", "1.5")
    default: str | None
    comment: str  # the stored column comment, verbatim (e.g. ":int32:subject id")
    in_key: bool
    autoincrement: bool = False


@dataclass(frozen=True)
class ForeignKeyInfo:
    """One foreign key as the catalog reports it (columns in constraint order)."""

    name: str
    schema: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class IndexInfo:
    """A secondary index (the primary key is not listed)."""

    name: str
    columns: tuple[str, ...]
    unique: bool


OnDuplicate = Literal["error", "skip", "replace"]


class Statement(str):
    """SQL text that carries its own bound parameters.

    A dialect method whose statements the kernel runs as they come (schema, table and catalog
    DDL) returns a ``Statement`` where a value can travel as a parameter: ``Connection.query``
    binds ``params`` when it is given no arguments of its own.
    """

    params: tuple[Any, ...]

    def __new__(cls, sql: str, params: Sequence[Any] = ()) -> Statement:
        statement = super().__new__(cls, sql)
        statement.params = tuple(params)
        return statement


@dataclass(frozen=True)
class AlterClause:
    """One change of :meth:`Dialect.alter_table_sql`.

    ``action`` is one of ``add_column``, ``drop_column``, ``modify_column``, ``rename_column``,
    ``table_comment``, ``add_foreign_key``, ``drop_foreign_key``, ``add_index``, ``drop_index``.
    ``column`` is the new definition (add, modify, rename) and ``old_column`` the current one
    (modify, rename) when known; ``name`` the old column name (drop,
    rename) or the catalog name of a constraint or index (drop_foreign_key, drop_index);
    ``after`` the column this one follows (``""``: first; None: no position, as on backends
    without column positions).
    """

    action: str
    column: ColumnSpec | None = None
    old_column: ColumnSpec | None = None
    name: str | None = None
    after: str | None = None
    foreign_key: ForeignKeySpec | None = None
    index: IndexSpec | None = None
    comment: str | None = None


@runtime_checkable
class Dialect(Protocol):
    """Pure SQL text for one backend: every member the kernel uses on a dialect.

    :class:`datajoint.backend.dialect.BaseDialect` implements all of them for ANSI SQL; a backend
    may subclass it or implement this protocol from scratch. Statements are executed with a
    (possibly empty) parameter list, so on ``%s`` backends a literal ``%`` must be doubled.
    """

    # Class attributes: BaseDialect and every backend's dialect declare them on the class.
    #: the backend name, as in error messages ("sqlite", "mysql", "postgresql")
    name: ClassVar[str]
    #: the driver's placeholder for one bound parameter ("%s" or "?")
    placeholder: ClassVar[str]
    #: the longest table name the server accepts
    max_table_name_length: ClassVar[int]
    #: what the backend can do; the kernel branches on these flags
    capabilities: ClassVar[Capabilities]
    #: a query returning the session's database user; None for backends without users
    current_user_sql: ClassVar[str | None]

    # ---- identifiers and literals ----------------------------------------------------------
    def quote(self, identifier: str) -> str:
        """The quoted identifier, embedded quote characters escaped."""
        ...

    def full_table_name(self, schema: str, table: str) -> str:
        """The qualified, quoted name of ``schema``.``table``."""
        ...

    def string_literal(self, value: str) -> str:
        """A quoted SQL string literal for DDL, where parameters cannot be bound."""
        ...

    def escape_raw(self, text: str) -> str:
        """SQL text as it must appear in a statement executed with bound parameters."""
        ...

    # ---- types and values ------------------------------------------------------------------
    def core_type_sql(self, core_type: str, *, schema: str) -> str:
        """The native column type of a core type text such as ``varchar(30)``."""
        ...

    def encode_param(self, value: Any, core_type: str | None) -> Any:
        """A Python value adapted to what the driver binds for a column of ``core_type``."""
        ...

    def column_decoder(self, core_type: str | None, sql_type: str) -> Callable[[Any], Any] | None:
        """A function turning a fetched value into its Python value, or None if none is needed."""
        ...

    # ---- DDL -------------------------------------------------------------------------------
    def create_schema_sql(self, schema: str) -> list[str]:
        """Statements creating a schema."""
        ...

    def drop_schema_sql(self, schema: str) -> list[str]:
        """Statements dropping a schema (and its tables where ``drop_schema_cascades``)."""
        ...

    def create_table_sql(self, spec: TableSpec) -> list[str]:
        """Statements creating a table (``IF NOT EXISTS``) with its keys, indexes and comments."""
        ...

    def drop_table_sql(self, schema: str, table: str) -> list[str]:
        """Statements dropping one table if it exists."""
        ...

    def drop_tables_sql(self, tables: Sequence[tuple[str, str]]) -> list[str]:
        """Statements dropping ``(schema, table)`` pairs in the given order (leaves first)."""
        ...

    def alter_table_sql(self, spec: TableSpec, clauses: Sequence[AlterClause]) -> list[str]:
        """Statements turning a table into ``spec`` (the complete new table) by ``clauses``."""
        ...

    def alter_session_sql(
        self, spec: TableSpec, clauses: Sequence[AlterClause]
    ) -> tuple[list[str], list[str]]:
        """Session statements to run before and after an ALTER's transaction."""
        ...

    def foreign_key_check_sql(self, schema: str, table: str) -> str | None:
        """A query returning a row per foreign-key violation (None: the server checks itself)."""
        ...

    # ---- DML -------------------------------------------------------------------------------
    def insert_sql(
        self,
        schema: str,
        table: str,
        columns: Sequence[str],
        n_rows: int,
        *,
        on_duplicate: OnDuplicate = "error",
        primary_key: Sequence[str] = (),
    ) -> str:
        """A multi-row INSERT with ``n_rows`` groups of placeholders, duplicates per mode."""
        ...

    def insert_select_sql(
        self,
        schema: str,
        table: str,
        columns: Sequence[str],
        select_sql: str,
        *,
        on_duplicate: OnDuplicate = "error",
        primary_key: Sequence[str] = (),
    ) -> str:
        """``INSERT INTO t (columns)`` from rendered ``select_sql``, duplicates per mode."""
        ...

    def delete_sql(self, schema: str, table: str, where: str | None) -> str:
        """``DELETE FROM t [WHERE where]``; ``where`` is rendered SQL."""
        ...

    def update_sql(
        self, schema: str, table: str, assignments: Sequence[tuple[str, str]], where: str
    ) -> str:
        """``UPDATE t SET col = <value sql>, ... WHERE where``."""
        ...

    def reset_to_default_sql(self, default: str | None, nullable: bool) -> tuple[str, list[Any]]:
        """The SET value (and its parameters) that resets a column to its catalog default."""
        ...

    # ---- transactions ----------------------------------------------------------------------
    def begin_sql(self) -> str:
        """The statement starting a transaction."""
        ...

    def commit_sql(self) -> str:
        """The statement committing a transaction."""
        ...

    def rollback_sql(self) -> str:
        """The statement rolling a transaction back."""
        ...

    def commit_and_chain_sql(self) -> str:
        """The statement committing a transaction and starting the next one, for dialects
        declaring ``capabilities.chain_transactions``."""
        ...

    def savepoint_sql(self, name: str) -> str:
        """The statement setting savepoint ``name``."""
        ...

    def release_savepoint_sql(self, name: str) -> str:
        """The statement releasing savepoint ``name``."""
        ...

    def rollback_to_savepoint_sql(self, name: str) -> str:
        """The statement rolling back to savepoint ``name``."""
        ...

    # ---- server time -----------------------------------------------------------------------
    def current_timestamp_sql(self, precision: int | None = None) -> str:
        """The server's current time (as its datetime columns store it), ``precision`` digits."""
        ...

    def shifted_timestamp_sql(self, timestamp_sql: str) -> str:
        """``timestamp_sql`` plus a number of seconds given as one bound parameter (a float)."""
        ...

    # ---- queries ---------------------------------------------------------------------------
    def render(self, node: Any) -> tuple[str, list[Any]]:
        """A query-model node as SQL text and its bound parameters, in order."""
        ...

    def bound_value(self, value: Any) -> Any:
        """What the driver is given for a bound parameter of ``value`` (as ``render`` binds it)."""
        ...

    def limit_sql(self, limit: int | None, offset: int) -> str:
        """The LIMIT/OFFSET clause (with its leading space), or ""."""
        ...

    def translate_user_sql(self, text: str) -> str:
        """User SQL in this backend's spelling (e.g. string aggregation functions)."""
        ...

    def json_path_sql(self, column: str, path: str, return_type: str | None = None) -> str:
        """SQL reading ``path`` (``a.b[0]``) from JSON ``column``, as text or ``return_type``."""
        ...


@runtime_checkable
class Driver(Protocol):
    """Opens connections and cursors. Connections run in autocommit; the kernel sends BEGIN."""

    def connect(self, params: ConnectParams) -> Any: ...
    def close(self, raw: Any) -> None: ...
    def ping(self, raw: Any) -> bool: ...
    def connection_id(self, raw: Any) -> int: ...
    def server_version(self, raw: Any) -> str: ...
    def cursor(self, raw: Any, *, as_dict: bool = False, streaming: bool = False) -> Any: ...


@runtime_checkable
class CopyDriver(Driver, Protocol):
    """A driver with a bulk-load path; its dialect declares ``capabilities.copy_rows``."""

    def copy_rows(
        self, raw: Any, table_sql: str, columns_sql: Sequence[str], rows: Iterable[tuple]
    ) -> None:
        """Load rows (already encoded for binding) in one round trip, e.g. PostgreSQL COPY."""
        ...


@runtime_checkable
class BeginWithQueryDriver(Driver, Protocol):
    """A driver that starts a transaction and runs its first query in one round trip; its
    dialect declares ``capabilities.begin_with_query``."""

    def begin_with_query(self, raw: Any, begin_sql: str, sql: str, params: Sequence[Any]) -> Any:
        """Send ``begin_sql`` and ``sql`` together -- two SQL statements, one round trip -- with
        ``params`` bound by the driver (never spliced into the text by the caller), and return a
        cursor on the result of ``sql``.

        When the server cannot take both in one message the driver may send them one after the
        other. An error raised here may come after ``begin_sql`` has run: the caller rolls back.
        """
        ...


@runtime_checkable
class TypedCursorDriver(Driver, Protocol):
    """A driver whose cursors may read a result faster when told its column types; its dialect
    declares ``capabilities.typed_cursors``."""

    def typed_cursor(
        self,
        raw: Any,
        column_types: Sequence[str],
        *,
        as_dict: bool = False,
        streaming: bool = False,
    ) -> Any:
        """A cursor as :meth:`Driver.cursor` gives, for one SELECT whose result columns have the
        native types ``column_types`` (``ColumnInfo.sql_type`` spellings, in select-list order).

        The rows must be the same as :meth:`Driver.cursor` would give; the types only let the
        driver choose how to read them (a type it does not expect may cost it a second read).
        """
        ...


@runtime_checkable
class Introspection(Protocol):
    """Reads the catalog. Every method receives ``run``, which executes SQL on the connection."""

    def list_schemas(self, run: Runner) -> list[str]: ...
    def schema_exists(self, run: Runner, schema: str) -> bool: ...
    def list_tables(self, run: Runner, schema: str) -> list[str]:
        """Every base table of the schema, hidden ones (``~lineage``, ``~~jobs``) included."""
        ...

    def columns(self, run: Runner, schema: str, table: str) -> list[ColumnInfo]: ...
    def table_comment(self, run: Runner, schema: str, table: str) -> str: ...
    def foreign_keys(self, run: Runner, schemas: Sequence[str]) -> list[ForeignKeyInfo]:
        """Foreign keys of every table in ``schemas`` (the child side), columns in key order."""
        ...

    def indexes(self, run: Runner, schema: str, table: str) -> list[IndexInfo]:
        """Secondary indexes (not the primary key), columns in index order."""
        ...

    # Bulk reads: a whole schema in a constant number of queries, however many tables it has.
    # Opening a schema reads these instead of asking table by table.
    def schema_columns(self, run: Runner, schema: str) -> dict[str, list[ColumnInfo]]:
        """The columns of every base table of the schema (hidden ones included), as
        :meth:`columns` reports them, by table name; tables in name order."""
        ...

    def table_comments(self, run: Runner, schema: str) -> dict[str, str]:
        """The comment of every base table of the schema ("" when none), by table name."""
        ...

    def schema_indexes(self, run: Runner, schema: str) -> dict[str, list[IndexInfo]]:
        """The secondary indexes of every table of the schema that has any, as :meth:`indexes`
        reports them, by table name."""
        ...

    def downstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        """Schemas (not among ``schemas``) with tables whose foreign keys reference ``schemas``."""
        ...

    def upstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        """Schemas (not among ``schemas``) whose tables are referenced from ``schemas``."""
        ...


@runtime_checkable
class ErrorTranslator(Protocol):
    """Maps driver exceptions onto :mod:`datajoint.errors`."""

    def translate(self, error: BaseException, sql: str) -> BaseException | None:
        """Return the DataJoint exception for ``error``, or None to let it pass unchanged."""
        ...

    def is_lost_connection(self, error: BaseException) -> bool: ...


@dataclass(frozen=True)
class Backend:
    """What a backend plugin's factory returns."""

    name: str
    dialect: Dialect
    driver: Driver
    introspection: Introspection
    errors: ErrorTranslator
    default_port: int | None = None
    requires_server: bool = True  # False for embedded backends (SQLite)


def protocol_mismatches(implementation: object, protocol: type) -> list[str]:
    """How ``implementation`` falls short of ``protocol``; empty when it conforms.

    Every attribute the protocol declares must exist (with a value of the declared type where
    the type is a class or a union of classes), and every method must exist with the same
    parameters: names, kinds (positional, keyword-only, ...) and defaults. ``isinstance`` with a
    runtime-checkable protocol checks names only, which lets a wrong signature pass.
    """
    problems: list[str] = []
    kind = type(implementation).__name__
    for name, hint in typing.get_type_hints(protocol).items():
        if not hasattr(implementation, name):
            problems.append(f"{kind} lacks the attribute {name!r}")
            continue
        value = getattr(implementation, name)
        if typing.get_origin(hint) is ClassVar:
            hint = typing.get_args(hint)[0]
        if isinstance(hint, type | types.UnionType) and not isinstance(value, hint):
            problems.append(f"{kind}.{name} is {value!r}, not of type {hint}")
    for name, member in vars(protocol).items():
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        found = getattr(implementation, name, None)
        if not callable(found):
            problems.append(f"{kind} lacks the method {name}()")
            continue
        wanted = list(inspect.signature(member).parameters.values())[1:]  # without self
        try:
            got = list(inspect.signature(found).parameters.values())
        except (TypeError, ValueError):
            problems.append(f"{kind}.{name} has no inspectable signature")
            continue
        shape = [(p.name, p.kind, p.default) for p in wanted]
        if [(p.name, p.kind, p.default) for p in got] != shape:
            problems.append(
                f"{kind}.{name}{inspect.signature(found)} does not match the protocol's "
                f"{name}({', '.join(str(p) for p in wanted)})"
            )
    return problems
