"""SQL text for SQLite (see :mod:`dj_backend_sqlite.catalog` for the catalog conventions)."""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from datajoint.backend.contract import (
    AlterClause,
    Capabilities,
    ColumnSpec,
    IndexSpec,
    OnDuplicate,
    Statement,
    TableSpec,
)
from datajoint.backend.dialect import BaseDialect
from datajoint.values import naive_utc

from .catalog import CATALOG, SCHEMATA, physical_name
from .types import (
    CHECK_PREFIX,
    DECIMAL_COLLATION,
    canonical_decimal,
    decimal_as_text,
    decimal_shape,
    storage_class,
    value_rule,
)

_CURRENT_TIMESTAMP = re.compile(r"^current_timestamp\s*(\(\s*(\d+)\s*\))?$", re.I)
#: the current local time with fractional seconds, in the six-digit form the encoder writes
#: (and the datetime CHECK rule accepts); SQLite itself has millisecond precision
_NOW_FRACTIONAL = "strftime('%Y-%m-%d %H:%M:%f', 'now', 'localtime') || '000'"
_FRACTION = re.compile(r"^(?:datetime|timestamp)\s*\(\s*(\d+)\s*\)", re.I)


class SQLiteDialect(BaseDialect):
    """SQLite: one file, schema-prefixed table names, comments in the ``~catalog`` table."""

    name = "sqlite"
    placeholder = "?"
    # SQLite reads an unknown "double-quoted" name as a string literal; `backquoted` names are
    # always identifiers, so a misspelt column is an error rather than a silent constant
    identifier_quote = "`"
    max_table_name_length = 64
    capabilities = Capabilities(
        column_positions=False,
        inline_indexes=False,
        inline_comments=False,
        auto_indexes_foreign_keys=False,
        transactional_ddl=True,
        server_side_cursors=False,
        having_on_aliases=True,
        rename_column=True,
        max_bind_parameters=32766,
        drop_schema_cascades=False,
    )
    core_types: ClassVar[dict[str, str]] = {
        "int8": "tinyint",
        "int16": "smallint",
        "int32": "int",
        "int64": "bigint",
        "float32": "float",
        "float64": "double",
        "bool": "boolean",
        "uuid": "binary(16)",
        "bytes": "blob",
        "json": "json",
        "date": "date",
        "datetime": "datetime{args}",
        "char": "char{args}",
        "varchar": "varchar{args}",
        "decimal": "decimal{args}",
        "enum": "enum{args}",
    }

    def full_table_name(self, schema: str, table: str) -> str:
        return self.quote(physical_name(schema, table))

    def core_type_sql(self, core_type: str, *, schema: str) -> str:
        if core_type.strip().lower() == "jsonb":
            return "json"
        return super().core_type_sql(core_type, schema=schema)

    # ---- DDL -------------------------------------------------------------------------------
    def create_schema_sql(self, schema: str) -> list[str]:
        return [Statement(f"INSERT INTO `{SCHEMATA}` (schema_name) VALUES (?)", [schema])]

    def drop_schema_sql(self, schema: str) -> list[str]:
        return [
            Statement(f"DELETE FROM `{CATALOG}` WHERE schema_name = ?", [schema]),
            Statement(f"DELETE FROM `{SCHEMATA}` WHERE schema_name = ?", [schema]),
        ]

    def default_literal(self, column: ColumnSpec) -> str | None:
        """SQLite spelling of a default: current-time defaults become local-time expressions."""
        if column.default is None:
            return None
        match = _CURRENT_TIMESTAMP.match(column.default.strip())
        if match:
            if match.group(2) and int(match.group(2)) > 0:
                return f"({_NOW_FRACTIONAL})"
            return "(datetime('now', 'localtime'))"
        return column.default

    def column_sql(self, column: ColumnSpec) -> str:
        if column.autoincrement:
            return f"{self.quote(column.name)} integer NOT NULL"
        default = self.default_literal(column)
        null = "NULL" if column.nullable else "NOT NULL"
        name = self.quote(column.name)
        sql = f"{name} {storage_class(column.sql_type)} {null}"
        if decimal_as_text(column.sql_type):
            sql += f" COLLATE {DECIMAL_COLLATION}"
        if default is not None:
            sql += f" DEFAULT {default}"
        # the values the servers accept for this type, kept by the file itself (see .types)
        rule = value_rule(name, column.sql_type, column.enum_values, self.string_literal)
        if rule is not None:
            constraint = self.quote(CHECK_PREFIX + column.name)
            sql += f" CONSTRAINT {constraint} CHECK ({name} IS NULL OR ({rule}))"
        return sql

    def table_options_sql(self, spec: TableSpec) -> str:
        """STRICT: each column holds values of its storage class only (SQLite 3.37+)."""
        return " STRICT"

    def begin_sql(self) -> str:
        """BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        then writes fails at once ("database is locked") when another connection wrote in
        between, while an immediate one waits for the busy timeout."""
        return "BEGIN IMMEDIATE"

    def current_timestamp_sql(self, precision: int | None = None) -> str:
        """Local time as text, spelled like the current-time column defaults (see
        :meth:`default_literal`), so that comparing it with stored values is exact."""
        return f"({_NOW_FRACTIONAL})" if precision else "datetime('now', 'localtime')"

    def shifted_timestamp_sql(self, timestamp_sql: str) -> str:
        """A date-time modifier ``'<n> seconds'`` built from the bound number."""
        return (
            f"(strftime('%Y-%m-%d %H:%M:%f', {timestamp_sql}, {self.placeholder} || ' seconds')"
            " || '000')"
        )

    def create_table_sql(self, spec: TableSpec) -> list[str]:
        auto = [c for c in spec.columns if c.autoincrement]
        if auto and tuple(spec.primary_key) == (auto[0].name,):
            # an autoincrement key must be the rowid alias: declare the key inline
            statements = super().create_table_sql(spec)
            col = self.quote(auto[0].name)
            statements[0] = (
                statements[0]
                .replace(
                    f"{col} integer NOT NULL",
                    f"{col} integer PRIMARY KEY AUTOINCREMENT NOT NULL",
                    1,
                )
                .replace(f",\n  PRIMARY KEY ({col})", "", 1)
            )
            return statements
        return super().create_table_sql(spec)

    def comment_sql(self, spec: TableSpec) -> list[str]:
        """The table's ``~catalog`` rows: the table comment (column ``''``), then per column its
        declared type and comment."""
        rows = [("", "", spec.comment), *((c.name, c.sql_type, c.comment) for c in spec.columns)]
        params = [v for row in rows for v in (spec.schema, spec.name, *row)]
        return [
            self._forget_table_sql(spec.schema, spec.name),
            Statement(
                f"INSERT INTO `{CATALOG}` (schema_name, table_name, column_name, sql_type, comment) "
                "VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows)),
                params,
            ),
        ]

    def _forget_table_sql(self, schema: str, table: str) -> Statement:
        """Deletes the table's ``~catalog`` rows."""
        return Statement(
            f"DELETE FROM `{CATALOG}` WHERE schema_name = ? AND table_name = ?", [schema, table]
        )

    def create_index_sql(self, spec: TableSpec, index: IndexSpec) -> str:
        # index names share one namespace per database file: qualify them with the schema
        name = physical_name(spec.schema, self.index_name(spec.name, index.columns, index.unique))
        cols = ", ".join(self.quote(c) for c in index.columns)
        unique = "UNIQUE " if index.unique else ""
        return (
            f"CREATE {unique}INDEX IF NOT EXISTS {self.quote(name)} "
            f"ON {self.full_table_name(spec.schema, spec.name)} ({cols})"
        )

    def drop_table_sql(self, schema: str, table: str) -> list[str]:
        return [
            f"DROP TABLE IF EXISTS {self.full_table_name(schema, table)}",
            self._forget_table_sql(schema, table),
        ]

    # ---- DML -------------------------------------------------------------------------------
    def insert_select_source_sql(self, select_sql: str, on_duplicate: OnDuplicate) -> str:
        """With ``skip`` the SELECT is wrapped and given a WHERE: SQLite would otherwise read the
        ``ON CONFLICT`` after a join's constraint as part of the join."""
        if on_duplicate != "skip":
            return select_sql
        return f"SELECT * FROM ({select_sql}) AS {self.quote('_dj_source')} WHERE TRUE"

    # ---- write operations (update defaults, alter) -----------------------------------------
    def reset_to_default_sql(self, default: str | None, nullable: bool) -> tuple[str, list[Any]]:
        """SQLite has no ``SET col = DEFAULT``: the column's default is written out."""
        if default is None or default == "null":
            return "NULL", []
        if _CURRENT_TIMESTAMP.match(default.strip()):
            literal = self.default_literal(ColumnSpec("_", "", default=default))
            return literal or "NULL", []
        return self.placeholder, [default]

    def _adds_natively(self, column: ColumnSpec | None) -> bool:
        """ADD COLUMN works in place only for a column with a constant (or NULL) default."""
        if column is None or column.autoincrement:
            return False
        if column.default is None:
            return column.nullable
        return not _CURRENT_TIMESTAMP.match(column.default.strip())

    def _alters_natively(self, clauses: Sequence[AlterClause]) -> bool:
        for clause in clauses:
            if clause.action in ("table_comment", "add_index", "drop_index"):
                continue
            if clause.action == "add_column" and self._adds_natively(clause.column):
                continue
            if clause.action in ("modify_column", "rename_column"):
                old, new = clause.old_column, clause.column
                if (
                    old is not None
                    and new is not None
                    and self.column_sql(replace(old, name=new.name)) == self.column_sql(new)
                ):
                    continue  # only the catalog (declared type or comment) changes
            return False
        return True

    def alter_session_sql(
        self, spec: TableSpec, clauses: Sequence[AlterClause]
    ) -> tuple[list[str], list[str]]:
        """A table rebuild runs with foreign keys off (checked explicitly before commit)."""
        if self._alters_natively(clauses):
            return [], []
        return ["PRAGMA foreign_keys = OFF"], ["PRAGMA foreign_keys = ON"]

    def foreign_key_check_sql(self, schema: str, table: str) -> str | None:
        return Statement(
            "SELECT * FROM pragma_foreign_key_check(?)", [physical_name(schema, table)]
        )

    def alter_table_sql(self, spec: TableSpec, clauses: Sequence[AlterClause]) -> list[str]:
        """In-place ALTER TABLE where SQLite allows it, else the documented table rebuild:
        create the new table, copy the rows, drop the old one and rename the new one; indexes and
        ``~catalog`` rows are written again either way."""
        table = self.full_table_name(spec.schema, spec.name)
        if not self._alters_natively(clauses):
            return self._rebuild_sql(spec, clauses)
        out: list[str] = []
        for clause in clauses:
            if clause.action == "rename_column" and clause.column is not None:
                out.append(
                    f"ALTER TABLE {table} RENAME COLUMN {self.quote(clause.name or '')} "
                    f"TO {self.quote(clause.column.name)}"
                )
            elif clause.action == "add_column" and clause.column is not None:
                out.append(f"ALTER TABLE {table} ADD COLUMN {self.column_sql(clause.column)}")
            elif clause.action == "drop_index":
                out.append(f"DROP INDEX IF EXISTS {self.quote(clause.name or '')}")
            elif clause.action == "add_index" and clause.index is not None:
                out.append(self.create_index_sql(spec, clause.index))
        return out + self.comment_sql(spec)

    def _rebuild_sql(self, spec: TableSpec, clauses: Sequence[AlterClause]) -> list[str]:
        temporary = replace(spec, name=spec.name + "~alter", indexes=())
        renamed = {
            c.column.name: c.name for c in clauses if c.action == "rename_column" and c.column
        }
        added = {c.column.name for c in clauses if c.action == "add_column" and c.column}
        kept = [c.name for c in spec.columns if c.name not in added]
        columns = ", ".join(self.quote(n) for n in kept)
        sources = ", ".join(self.quote(renamed.get(n) or n) for n in kept)
        old = self.full_table_name(spec.schema, spec.name)
        new = self.full_table_name(temporary.schema, temporary.name)
        statements = [
            self.create_table_sql(temporary)[0],
            f"INSERT INTO {new} ({columns}) SELECT {sources} FROM {old}",
            f"DROP TABLE {old}",
            f"ALTER TABLE {new} RENAME TO {self.quote(physical_name(spec.schema, spec.name))}",
        ]
        statements.extend(self.create_index_sql(spec, index) for index in spec.indexes)
        return statements + self.comment_sql(spec)

    # ---- values ----------------------------------------------------------------------------
    def encode_param(self, value: Any, core_type: str | None) -> Any:
        """Adapt a value to the column's storage: dates and datetimes as ISO text (aware ones in
        UTC), decimals as fixed-point text, uuids as 16 bytes, json as text, bools as 0/1."""
        if value is None:
            return None
        if core_type in ("json", "jsonb"):
            return json.dumps(value)
        if core_type == "uuid":
            return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes
        if core_type == "date" or core_type == "datetime":
            value = as_calendar_value(value, core_type)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, datetime.datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return canonical_decimal(value)
        if isinstance(value, uuid.UUID):
            return value.bytes
        return value

    def column_decoder(self, core_type: str | None, sql_type: str) -> Callable[[Any], Any] | None:
        t = (core_type or sql_type).lower()
        if t in ("json", "jsonb"):
            return lambda v: json.loads(v) if isinstance(v, str | bytes) else v
        if t == "uuid":
            return lambda v: uuid.UUID(bytes=bytes(v)) if isinstance(v, bytes | memoryview) else v
        if t in ("bool", "boolean"):
            return lambda v: None if v is None else bool(v)
        if t == "date":
            return lambda v: datetime.date.fromisoformat(v) if isinstance(v, str) else v
        if t.startswith("datetime") or t.startswith("timestamp"):
            match = _FRACTION.match(sql_type)
            return _datetime_decoder(int(match.group(1)) if match else 0)
        shape = decimal_shape(sql_type)
        if shape is not None:
            quantum = decimal.Decimal(1).scaleb(-shape[1])
            # repr() of a REAL gives back the (at most 15-digit) decimal it was stored from
            return lambda v: (
                None
                if v is None
                else decimal.Decimal(repr(v) if isinstance(v, float) else v).quantize(
                    quantum, decimal.ROUND_HALF_UP
                )
            )
        return None


def as_calendar_value(value: Any, core_type: str) -> Any:
    """A value for a ``date`` or ``datetime`` column as the servers take it: ISO text parsed,
    a datetime stored in a date column keeps its date, a date in a datetime column is midnight,
    and a timezone-aware datetime is converted to UTC and stored naive. Text that is no date
    stays as it is, for the column's CHECK to refuse."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if not isinstance(value, datetime.date):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = naive_utc(value)
        return value.date() if core_type == "date" else value
    return value if core_type == "date" else datetime.datetime.combine(value, datetime.time())


def _datetime_decoder(fraction_digits: int) -> Callable[[Any], Any]:
    """Reads ISO text, rounding the fraction to the declared digits as the servers store it."""
    if fraction_digits >= 6:
        return lambda v: datetime.datetime.fromisoformat(v) if isinstance(v, str) else v
    step = 10 ** (6 - fraction_digits)

    def decode(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        value = datetime.datetime.fromisoformat(v)
        extra = value.microsecond % step
        if not extra:
            return value
        rounded = value.microsecond - extra + (step if 2 * extra >= step else 0)
        return value.replace(microsecond=0) + datetime.timedelta(microseconds=rounded)

    return decode
