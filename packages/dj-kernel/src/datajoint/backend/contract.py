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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

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
    having_on_aliases: bool = True  # HAVING may refer to select-list aliases
    rename_column: bool = True  # alter() may rename a column
    max_bind_parameters: int = 65535  # per statement
    drop_schema_cascades: bool = True  # False: the kernel drops the tables before the schema
    copy_rows: bool = False  # the driver has copy_rows(): a bulk path faster than multi-row INSERT


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


@runtime_checkable
class Dialect(Protocol):
    """Pure SQL text for one backend. See :class:`datajoint.backend.dialect.BaseDialect`."""

    name: str
    placeholder: str
    max_table_name_length: int
    capabilities: Capabilities

    def quote(self, identifier: str) -> str: ...
    def full_table_name(self, schema: str, table: str) -> str: ...
    def core_type_sql(self, core_type: str, *, schema: str) -> str: ...
    def create_schema_sql(self, schema: str) -> list[str]: ...
    def drop_schema_sql(self, schema: str) -> list[str]: ...
    def create_table_sql(self, spec: TableSpec) -> list[str]: ...
    def drop_table_sql(self, schema: str, table: str) -> list[str]: ...
    def insert_sql(
        self,
        schema: str,
        table: str,
        columns: Sequence[str],
        n_rows: int,
        *,
        on_duplicate: OnDuplicate = "error",
        primary_key: Sequence[str] = (),
    ) -> str: ...
    def begin_sql(self) -> str: ...
    def commit_sql(self) -> str: ...
    def rollback_sql(self) -> str: ...
    def render(self, node: Any) -> tuple[str, list[Any]]: ...
    def encode_param(self, value: Any, core_type: str | None) -> Any: ...
    def column_decoder(
        self, core_type: str | None, sql_type: str
    ) -> Callable[[Any], Any] | None: ...
    def json_path_sql(self, column: str, path: str, return_type: str | None = None) -> str: ...


@runtime_checkable
class Driver(Protocol):
    """Opens connections and cursors. Connections run in autocommit; the kernel sends BEGIN."""

    def connect(self, params: ConnectParams) -> Any: ...
    def close(self, raw: Any) -> None: ...
    def ping(self, raw: Any) -> bool: ...
    def connection_id(self, raw: Any) -> int: ...
    def server_version(self, raw: Any) -> str: ...
    def cursor(self, raw: Any, *, as_dict: bool = False, streaming: bool = False) -> Any: ...

    # A driver whose dialect declares ``capabilities.copy_rows`` also provides
    # ``copy_rows(raw, table_sql: str, columns_sql: Sequence[str], rows: Iterable[tuple]) -> None``,
    # which loads rows (already encoded for binding) in one round trip, e.g. PostgreSQL COPY.


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
