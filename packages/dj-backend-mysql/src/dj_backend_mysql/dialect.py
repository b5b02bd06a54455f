"""MySQLDialect: the SQL text of MySQL 8 and MariaDB 10.11+.

Every statement this dialect returns is a *pyformat* string for pymysql: bound values appear as
``%s`` and a literal percent sign is doubled (``%%``). The MySQL driver's cursors always apply
parameter interpolation (see :mod:`dj_backend_mysql.driver`), so this holds for DDL as well.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from datajoint.algebra import model as m
from datajoint.backend.contract import Capabilities, ColumnSpec, OnDuplicate, TableSpec
from datajoint.backend.dialect import AlterClause, BaseDialect, json_path_text
from datajoint.errors import DataJointError
from datajoint.values import naive_utc

#: the largest row count MySQL accepts in LIMIT; used when only an OFFSET is given
MAX_LIMIT = 18446744073709551615

_STRING_ESCAPES = {"\\": "\\\\", "\0": "\\0", "\x1a": "\\Z"}


def percent_escape(sql: str) -> str:
    """Double every ``%`` so that ``sql`` survives pyformat interpolation unchanged."""
    return sql.replace("%", "%%")


def mysql_string(value: str, quote: str = "'") -> str:
    """A MySQL string literal delimited by ``quote``, escaped per MySQL's string rules."""
    escaped = "".join(_STRING_ESCAPES.get(ch, ch) for ch in value)
    return quote + escaped.replace(quote, "\\" + quote) + quote


def _plain_scalar(value: Any) -> Any:
    """Turn a numpy scalar into the matching Python scalar (pymysql cannot bind numpy types)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def _to_uuid_bytes(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, str):
        return uuid.UUID(value).bytes
    return value


def _decode_uuid(value: Any) -> Any:
    if isinstance(value, bytes | bytearray) and len(value) == 16:
        return uuid.UUID(bytes=bytes(value))
    return value


def _decode_bool(value: Any) -> Any:
    return value if value is None else bool(value)


def _decode_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes | bytearray) else value


class MySQLDialect(BaseDialect):
    """MySQL/MariaDB SQL: backquoted identifiers, ``%s`` placeholders, inline indexes/comments."""

    name: ClassVar[str] = "mysql"
    placeholder: ClassVar[str] = "%s"
    identifier_quote: ClassVar[str] = "`"
    max_table_name_length: ClassVar[int] = 64
    current_user_sql: ClassVar[str | None] = "SELECT user()"
    union_operands_in_parentheses: ClassVar[bool] = True
    capabilities: ClassVar[Capabilities] = Capabilities(
        column_positions=True,
        inline_indexes=True,
        inline_comments=True,
        auto_indexes_foreign_keys=True,
        transactional_ddl=False,
        server_side_cursors=True,
        cheap_streaming=True,  # SSCursor: the same statement, read unbuffered
        having_on_aliases=True,
        rename_column=True,
        max_bind_parameters=60000,
        drop_schema_cascades=True,  # DROP DATABASE drops every table in it
        begin_with_query=True,  # one compound statement on MariaDB (see MySQLDriver)
        chain_transactions=True,
    )
    core_types: ClassVar[dict[str, str]] = {
        "int8": "tinyint",
        "int16": "smallint",
        "int32": "int",
        "int64": "bigint",
        "float32": "float",
        "float64": "double",
        "bool": "tinyint",
        "uuid": "binary(16)",
        "bytes": "longblob",
        "json": "json",
        "date": "date",
        "datetime": "datetime{args}",
        "char": "char{args}",
        "varchar": "varchar{args}",
        "decimal": "decimal{args}",
        "enum": "enum{args}",
    }

    # ---- literals --------------------------------------------------------------------------
    def string_literal(self, value: str) -> str:
        """A single-quoted MySQL string literal (backslashes and quotes escaped)."""
        return mysql_string(value, "'")

    def comment_literal(self, value: str) -> str:
        """A double-quoted literal for ``COMMENT "..."`` clauses (as DataJoint writes them)."""
        return mysql_string(value, '"')

    # ---- params and values -----------------------------------------------------------------
    def encode_param(self, value: Any, core_type: str | None) -> Any:
        """Adapt a Python value for binding: uuid -> 16 bytes, bool -> int, json -> text."""
        if value is None:
            return None
        value = _plain_scalar(value)
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = naive_utc(value)
        if core_type == "uuid":
            return _to_uuid_bytes(value)
        if core_type in ("json", "jsonb"):
            return json.dumps(value)
        if isinstance(value, bool):
            return int(value)
        return value

    def column_decoder(self, core_type: str | None, sql_type: str) -> Callable[[Any], Any] | None:
        """Decoders for uuid (bytes -> UUID), bool (int -> bool) and json (text -> value)."""
        if core_type == "uuid":
            return _decode_uuid
        if core_type == "bool":
            return _decode_bool
        if core_type in ("json", "jsonb"):
            return _decode_json
        return None

    # ---- DDL -------------------------------------------------------------------------------
    def create_schema_sql(self, schema: str) -> list[str]:
        """``CREATE DATABASE `schema```."""
        return [percent_escape(f"CREATE DATABASE {self.quote(schema)}")]

    def drop_schema_sql(self, schema: str) -> list[str]:
        """``DROP DATABASE IF EXISTS `schema```."""
        return [percent_escape(f"DROP DATABASE IF EXISTS {self.quote(schema)}")]

    def drop_table_sql(self, schema: str, table: str) -> list[str]:
        """``DROP TABLE IF EXISTS `schema`.`table```."""
        return [percent_escape(s) for s in super().drop_table_sql(schema, table)]

    def column_sql(self, column: ColumnSpec) -> str:
        """One column definition, e.g. ```a` int NOT NULL DEFAULT '0' COMMENT ":int32:x"``.

        The text is not percent-escaped; :meth:`create_table_sql` escapes the whole statement.
        Blob columns only take a NULL default (SPEC §3.2); MariaDB would accept others silently.
        """
        if (
            "blob" in column.sql_type.lower()
            and column.default is not None
            and column.default.strip().upper() != "NULL"
        ):
            raise DataJointError(
                "The default value for blob attributes can only be NULL in:\n"
                f"{column.name} = {column.default} : {column.sql_type}"
            )
        parts = [self.quote(column.name), column.sql_type, self.default_sql(column)]
        if column.autoincrement:
            parts.append(self.autoincrement_sql())
        if column.comment:
            parts.append("COMMENT " + self.comment_literal(column.comment))
        return " ".join(parts)

    def table_options_sql(self, spec: TableSpec) -> str:
        """`` ENGINE=InnoDB`` plus ``, COMMENT "..."`` when the table has a comment."""
        options = " ENGINE=InnoDB"
        if spec.comment:
            options += ", COMMENT " + self.comment_literal(spec.comment)
        return options

    def create_table_sql(self, spec: TableSpec) -> list[str]:
        """One ``CREATE TABLE IF NOT EXISTS`` with inline keys, indexes and comments."""
        return [percent_escape(s) for s in super().create_table_sql(spec)]

    # ---- DML -------------------------------------------------------------------------------
    def default_rows_sql(self, n_rows: int) -> str:
        """``() VALUES (), ()``: MySQL fills every column of an empty row with its default."""
        return "() VALUES " + ", ".join(["()"] * n_rows)

    def insert_verb(
        self, on_duplicate: OnDuplicate, columns: Sequence[str], primary_key: Sequence[str]
    ) -> str:
        """REPLACE replaces; ``skip`` without any key column to name is ``INSERT IGNORE``."""
        if on_duplicate == "skip" and not (primary_key or columns):
            return "INSERT IGNORE"
        return super().insert_verb(on_duplicate, columns, primary_key)

    def on_duplicate_sql(
        self,
        table_sql: str,
        columns: Sequence[str],
        on_duplicate: OnDuplicate,
        primary_key: Sequence[str],
    ) -> str:
        """``skip`` is a no-op key update, ``ON DUPLICATE KEY UPDATE `k`=`schema`.`table`.`k```
        (unlike INSERT IGNORE it turns no other error into a warning)."""
        key = primary_key[0] if primary_key else (columns[0] if columns else None)
        if on_duplicate != "skip" or key is None:
            return ""
        return f" ON DUPLICATE KEY UPDATE {self.quote(key)}={table_sql}.{self.quote(key)}"

    def begin_sql(self) -> str:
        """``START TRANSACTION WITH CONSISTENT SNAPSHOT``."""
        return "START TRANSACTION WITH CONSISTENT SNAPSHOT"

    def shifted_timestamp_sql(self, timestamp_sql: str) -> str:
        """MySQL has no interval values to multiply: the seconds become whole microseconds."""
        return f"({timestamp_sql} + INTERVAL ROUND({self.placeholder} * 1000000) MICROSECOND)"

    # ---- write operations (drop, alter) ----------------------------------------------------
    def drop_tables_sql(self, tables: Sequence[tuple[str, str]]) -> list[str]:
        """One ``DROP TABLE IF EXISTS a, b, ...`` (atomic on MySQL 8; per table on MariaDB)."""
        if not tables:
            return []
        names = ", ".join(self.full_table_name(s, t) for s, t in tables)
        return [percent_escape(f"DROP TABLE IF EXISTS {names}")]

    def alter_table_sql(self, spec: TableSpec, clauses: Sequence[AlterClause]) -> list[str]:
        """One ``ALTER TABLE`` with every clause (InnoDB applies it atomically)."""
        parts: list[str] = []
        for clause in clauses:
            kind, col = clause.action, clause.column
            position = ""
            if clause.after is not None:
                position = " FIRST" if clause.after == "" else f" AFTER {self.quote(clause.after)}"
            if kind == "add_column" and col is not None:
                parts.append("ADD " + self.column_sql(col) + position)
            elif kind == "drop_column":
                parts.append(f"DROP {self.quote(clause.name or '')}")
            elif kind == "modify_column" and col is not None:
                parts.append("MODIFY " + self.column_sql(col) + position)
            elif kind == "rename_column" and col is not None:
                parts.append(
                    f"CHANGE {self.quote(clause.name or '')} {self.column_sql(col)}{position}"
                )
            elif kind == "table_comment":
                parts.append("COMMENT=" + self.comment_literal(clause.comment or ""))
            elif kind == "add_foreign_key" and clause.foreign_key is not None:
                parts.append("ADD " + self.foreign_key_sql(clause.foreign_key))
            elif kind == "drop_foreign_key":
                parts.append(f"DROP FOREIGN KEY {self.quote(clause.name or '')}")
            elif kind == "add_index" and clause.index is not None:
                cols = ", ".join(self.quote(c) for c in clause.index.columns)
                parts.append(
                    ("ADD UNIQUE INDEX" if clause.index.unique else "ADD INDEX") + f" ({cols})"
                )
            elif kind == "drop_index":
                parts.append(f"DROP INDEX {self.quote(clause.name or '')}")
            else:
                raise DataJointError(f"Unknown alter action {kind!r}")
        if not parts:
            return []
        table = self.full_table_name(spec.schema, spec.name)
        return [percent_escape(f"ALTER TABLE {table} " + ", ".join(parts))]

    # ---- dialect functions -----------------------------------------------------------------
    def json_path_sql(self, column: str, path: str, return_type: str | None = None) -> str:
        """``json_value(`col`, '$.path')``, cast to ``return_type`` when one is given.

        ``json_value(... RETURNING T)`` is MySQL-only; ``CAST`` works on MySQL and MariaDB.
        """
        expr = f"json_value({self.quote(column)}, {self.string_literal(json_path_text(path))})"
        if return_type:
            expr = f"CAST({expr} AS {return_type})"
        return percent_escape(expr)

    # ---- query model -----------------------------------------------------------------------
    def bound_value(self, value: Any) -> Any:
        """A numpy scalar as its Python scalar; a UUID as its bytes, since a UUID can only be
        compared with a binary(16) column on MySQL."""
        value = _plain_scalar(value)
        return value.bytes if isinstance(value, uuid.UUID) else value

    def _render_Column(self, node: m.Column, params: list[Any]) -> str:
        return percent_escape(super()._render_Column(node, params))

    def _render_TableSource(self, node: m.TableSource, params: list[Any]) -> str:
        return percent_escape(super()._render_TableSource(node, params))

    def _render_InSelect(self, node: m.InSelect, params: list[Any]) -> str:
        # MySQL refuses LIMIT inside IN (subquery); a derived table lifts the restriction
        cols = percent_escape(", ".join(self.quote(c) for c in node.columns))
        neg = "NOT " if node.negate else ""
        inner = self._render(node.select, params)
        if node.select.limit is not None or node.select.offset:
            inner = f"SELECT * FROM ({inner}) AS `_dj_in`"
        return f"(({cols}) {neg}IN ({inner}))"

    def _render_JoinSource(self, node: m.JoinSource, params: list[Any]) -> str:
        if not node.using:
            return super()._render_JoinSource(node, params)
        left = self._render(node.left, params)
        right = self._render(node.right, params)
        kind = "LEFT JOIN" if node.left_outer else "JOIN"
        cols = percent_escape(", ".join(self.quote(c) for c in node.using))
        return f"{left} {kind} {right} USING ({cols})"

    def _render_SelectItem(self, node: m.SelectItem, params: list[Any]) -> str:
        expr = self._render(node.expr, params)
        return f"{expr} AS {percent_escape(self.quote(node.alias))}" if node.alias else expr

    def _render_SubquerySource(self, node: m.SubquerySource, params: list[Any]) -> str:
        inner = self._render(node.select, params)
        return f"({inner}) AS {percent_escape(self.quote(node.alias))}"

    def limit_sql(self, limit: int | None, offset: int) -> str:
        """LIMIT/OFFSET; MySQL needs a LIMIT whenever there is an OFFSET."""
        if limit is None and offset:
            limit = MAX_LIMIT
        return super().limit_sql(limit, offset)
