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

from datajoint.backend.contract import Capabilities, ColumnSpec, IndexSpec, TableSpec
from datajoint.backend.dialect import AlterClause, BaseDialect

from .catalog import CATALOG, SCHEMATA, physical_name

_CURRENT_TIMESTAMP = re.compile(r"^current_timestamp\s*(\(\s*(\d+)\s*\))?$", re.I)
_CHAR_LENGTH = re.compile(r"^(?:var)?char\s*\(\s*(\d+)\s*\)$", re.I)
_DECIMAL_SCALE = re.compile(r"^(?:decimal|numeric)\s*\(\s*\d+\s*,\s*(\d+)\s*\)", re.I)


def storage_class(sql_type: str) -> str:
    """The column type written in SQLite DDL: it fixes the column affinity and nothing else.

    ``int`` (not ``integer``) keeps a single-column integer key from becoming a rowid alias,
    which would silently number rows whose key is missing.
    """
    t = sql_type.lower()
    if "int" in t and not t.startswith("point"):
        return "int"
    if t.startswith(("float", "double", "real")):
        return "real"
    if t.startswith(("decimal", "numeric", "dec", "fixed", "bool")):
        return "numeric"
    if "blob" in t or t.startswith("binary") or t == "bytea":
        return "blob"
    return "text"


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
        return [f"INSERT INTO `{SCHEMATA}` (schema_name) VALUES ({self.string_literal(schema)})"]

    def drop_schema_sql(self, schema: str) -> list[str]:
        name = self.string_literal(schema)
        return [
            f"DELETE FROM `{CATALOG}` WHERE schema_name = {name}",
            f"DELETE FROM `{SCHEMATA}` WHERE schema_name = {name}",
        ]

    def default_literal(self, column: ColumnSpec) -> str | None:
        """SQLite spelling of a default: current-time defaults become local-time expressions."""
        if column.default is None:
            return None
        match = _CURRENT_TIMESTAMP.match(column.default.strip())
        if match:
            if match.group(2) and int(match.group(2)) > 0:
                return "(strftime('%Y-%m-%d %H:%M:%f', 'now', 'localtime'))"
            return "(datetime('now', 'localtime'))"
        return column.default

    def column_sql(self, column: ColumnSpec) -> str:
        if column.autoincrement:
            return f"{self.quote(column.name)} integer NOT NULL"
        default = self.default_literal(column)
        null = "NULL" if column.nullable else "NOT NULL"
        sql = f"{self.quote(column.name)} {storage_class(column.sql_type)} {null}"
        if default is not None:
            sql += f" DEFAULT {default}"
        length = _CHAR_LENGTH.match(column.sql_type)
        if length:  # SQLite does not enforce declared lengths; the other backends do
            sql += f" CHECK (length({self.quote(column.name)}) <= {int(length.group(1))})"
        if column.enum_values is not None:
            values = ", ".join(self.string_literal(v) for v in column.enum_values)
            sql += f" CHECK ({self.quote(column.name)} IN ({values}))"
        return sql

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
        s, t = self.string_literal(spec.schema), self.string_literal(spec.name)
        rows = [f"({s}, {t}, '', '', {self.string_literal(spec.comment)})"]
        for c in spec.columns:
            rows.append(
                f"({s}, {t}, {self.string_literal(c.name)}, {self.string_literal(c.sql_type)}, "
                f"{self.string_literal(c.comment)})"
            )
        return [
            f"DELETE FROM `{CATALOG}` WHERE schema_name = {s} AND table_name = {t}",
            f"INSERT INTO `{CATALOG}` (schema_name, table_name, column_name, sql_type, comment) "
            "VALUES " + ", ".join(rows),
        ]

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
        s, t = self.string_literal(schema), self.string_literal(table)
        return [
            f"DROP TABLE IF EXISTS {self.full_table_name(schema, table)}",
            f"DELETE FROM `{CATALOG}` WHERE schema_name = {s} AND table_name = {t}",
        ]

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
        return (
            "SELECT * FROM pragma_foreign_key_check("
            f"{self.string_literal(physical_name(schema, table))})"
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
        if value is None:
            return None
        if core_type in ("json", "jsonb"):
            return json.dumps(value)
        if core_type == "uuid":
            return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, datetime.datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
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
            return lambda v: datetime.datetime.fromisoformat(v) if isinstance(v, str) else v
        match = _DECIMAL_SCALE.match(sql_type.lower())
        if match:
            quantum = decimal.Decimal(1).scaleb(-int(match.group(1)))
            return lambda v: None if v is None else decimal.Decimal(str(v)).quantize(quantum)
        return None
