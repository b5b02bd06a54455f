"""BaseDialect: ANSI SQL rendering that each backend's dialect subclasses and adjusts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, ClassVar

from ..algebra import model as m
from ..algebra.sql_functions import translate_string_aggregation
from ..declare.types import core_type_args, core_type_name
from ..errors import DataJointError
from .contract import (
    AlterClause,
    Capabilities,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    OnDuplicate,
    TableSpec,
)

__all__ = ["AlterClause", "BaseDialect", "json_path_text"]

_ON_DUPLICATE_MODES = ("error", "skip", "replace")
#: render methods by (dialect class, node class)
_RENDERERS: dict[tuple[type, type], Callable[[Any, Any, list[Any]], str]] = {}
#: parameter-free parts whose rendered text a dialect keeps
_MAX_KEPT_TEXTS = 1024


def json_path_text(path: str) -> str:
    """A JSON path in ``$.a.b[0]`` syntax from DataJoint's ``a.b[0]``."""
    return "$" + "".join(
        part if part.startswith("[") else "." + part
        for part in path.replace("[", ".[").split(".")
        if part
    )


class BaseDialect:
    """SQL text for a backend. Subclasses set the class attributes and override what differs.

    ``core_types`` maps a core type name to a native type template, where ``{args}`` is the
    parenthesised argument text of the declared type (``(30)`` for ``varchar(30)``).
    """

    name: ClassVar[str] = "ansi"
    placeholder: ClassVar[str] = "%s"
    identifier_quote: ClassVar[str] = '"'
    max_table_name_length: ClassVar[int] = 64
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: a query returning the session's database user; None for backends without users
    current_user_sql: ClassVar[str | None] = None
    #: each backend declares its own mapping (core type name -> native type template)
    core_types: ClassVar[dict[str, str]] = {}

    # ---- identifiers -----------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        """Quote an identifier, doubling any embedded quote character."""
        q = self.identifier_quote
        return q + identifier.replace(q, q + q) + q

    def full_table_name(self, schema: str, table: str) -> str:
        """The qualified, quoted name of a table."""
        return f"{self.quote(schema)}.{self.quote(table)}"

    def string_literal(self, value: str) -> str:
        """A SQL string literal; used only for kernel-made text (comments, defaults), never values.

        Statements always run with a parameter sequence, so on ``%s`` backends a ``%`` is doubled.
        """
        return self.escape_raw("'" + value.replace("'", "''") + "'")

    # ---- types -----------------------------------------------------------------------------
    def core_type_sql(self, core_type: str, *, schema: str) -> str:
        """The native column type for a core type text such as ``varchar(30)``."""
        name = core_type_name(core_type)
        if name is None or name not in self.core_types:
            raise ValueError(f"Unknown core type {core_type}")
        if (
            name == "json"
            and core_type.strip().lower() == "jsonb"
            and "jsonb" not in self.core_types
        ):
            raise ValueError(f"Unknown core type {core_type}")
        return self.core_types[name].format(args=core_type_args(core_type))

    def encode_param(self, value: Any, core_type: str | None) -> Any:
        """Adapt a Python value to what the driver binds for a column of ``core_type``."""
        if core_type == "json" or core_type == "jsonb":
            return json.dumps(value)
        if isinstance(value, bool) and core_type != "bool":
            return int(value)
        return value

    def column_decoder(self, core_type: str | None, sql_type: str) -> Callable[[Any], Any] | None:
        """A function turning a fetched value into its Python value, or None when none is needed."""
        if core_type in ("json", "jsonb"):
            return lambda v: json.loads(v) if isinstance(v, str | bytes) else v
        return None

    # ---- DDL -------------------------------------------------------------------------------
    def create_schema_sql(self, schema: str) -> list[str]:
        return [f"CREATE SCHEMA {self.quote(schema)}"]

    def drop_schema_sql(self, schema: str) -> list[str]:
        return [f"DROP SCHEMA IF EXISTS {self.quote(schema)} CASCADE"]

    def default_sql(self, column: ColumnSpec) -> str:
        """The ``NULL``/``NOT NULL``/``DEFAULT`` part of a column definition."""
        if column.nullable:
            return "NULL" if column.default is None else f"NULL DEFAULT {column.default}"
        return "NOT NULL" if column.default is None else f"NOT NULL DEFAULT {column.default}"

    def column_sql(self, column: ColumnSpec) -> str:
        parts = [self.quote(column.name), column.sql_type, self.default_sql(column)]
        if column.autoincrement:
            parts.append(self.autoincrement_sql())
        if column.comment and self.capabilities.inline_comments:
            parts.append("COMMENT " + self.string_literal(column.comment))
        return " ".join(parts)

    def autoincrement_sql(self) -> str:
        return "AUTO_INCREMENT"

    def index_name(self, table: str, columns: Sequence[str], unique: bool) -> str:
        """A deterministic index name (backends with a per-schema index namespace need one)."""
        return ("uq_" if unique else "ix_") + "_".join([table.strip("#_~"), *columns])[:55]

    def create_table_sql(self, spec: TableSpec) -> list[str]:
        """CREATE TABLE IF NOT EXISTS plus whatever separate statements the backend needs."""
        lines = [self.column_sql(c) for c in spec.columns]
        lines.append("PRIMARY KEY (" + ", ".join(self.quote(c) for c in spec.primary_key) + ")")
        lines.extend(self.foreign_key_sql(fk) for fk in spec.foreign_keys)
        after: list[str] = []
        for index in spec.indexes:
            cols = ", ".join(self.quote(c) for c in index.columns)
            if self.capabilities.inline_indexes:
                lines.append(("UNIQUE " if index.unique else "") + f"INDEX ({cols})")
            else:
                after.append(self.create_index_sql(spec, index))
        if not self.capabilities.inline_comments:
            after.extend(self.comment_sql(spec))
        create = (
            f"CREATE TABLE IF NOT EXISTS {self.full_table_name(spec.schema, spec.name)} (\n  "
            + ",\n  ".join(lines)
            + "\n)"
            + self.table_options_sql(spec)
        )
        return [create, *after]

    def create_index_sql(self, spec: TableSpec, index: IndexSpec) -> str:
        """A separate CREATE INDEX statement (backends without inline indexes)."""
        cols = ", ".join(self.quote(c) for c in index.columns)
        return (
            ("CREATE UNIQUE INDEX " if index.unique else "CREATE INDEX ")
            + self.quote(self.index_name(spec.name, index.columns, index.unique))
            + f" ON {self.full_table_name(spec.schema, spec.name)} ({cols})"
        )

    def table_options_sql(self, spec: TableSpec) -> str:
        return ""

    def comment_sql(self, spec: TableSpec) -> list[str]:
        """COMMENT ON statements for backends without inline comments."""
        name = self.full_table_name(spec.schema, spec.name)
        out = (
            [f"COMMENT ON TABLE {name} IS {self.string_literal(spec.comment)}"]
            if spec.comment
            else []
        )
        for c in spec.columns:
            if c.comment:
                out.append(
                    f"COMMENT ON COLUMN {name}.{self.quote(c.name)} IS {self.string_literal(c.comment)}"
                )
        return out

    def drop_table_sql(self, schema: str, table: str) -> list[str]:
        return [f"DROP TABLE IF EXISTS {self.full_table_name(schema, table)}"]

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
        """A multi-row INSERT with ``n_rows`` groups of placeholders (no columns: rows of
        defaults, see :meth:`default_rows_sql`); duplicates per :meth:`insert_verb` and
        :meth:`on_duplicate_sql`."""
        if n_rows < 1:
            raise ValueError("insert_sql needs at least one row")
        if columns:
            group = "(" + ", ".join([self.placeholder] * len(columns)) + ")"
            source = "VALUES " + ", ".join([group] * n_rows)
        else:
            source = self.default_rows_sql(n_rows)
        return self._insert(schema, table, columns, source, on_duplicate, primary_key)

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
        """``INSERT INTO t (cols) SELECT ...`` in one statement; ``select_sql`` is rendered SQL."""
        source = self.insert_select_source_sql(select_sql, on_duplicate)
        return self._insert(schema, table, columns, source, on_duplicate, primary_key)

    def _insert(
        self,
        schema: str,
        table: str,
        columns: Sequence[str],
        source: str,
        on_duplicate: OnDuplicate,
        primary_key: Sequence[str],
    ) -> str:
        """``<verb> INTO t (cols) <source> <on duplicate clause>``; ``source`` is escaped SQL."""
        if on_duplicate not in _ON_DUPLICATE_MODES:
            raise DataJointError(
                f"Unknown on_duplicate mode {on_duplicate!r}; use one of {_ON_DUPLICATE_MODES}."
            )
        name = self.full_table_name(schema, table)
        verb = self.insert_verb(on_duplicate, columns, primary_key)
        cols = " (" + ", ".join(self.quote(c) for c in columns) + ")" if columns else ""
        clause = self.on_duplicate_sql(name, columns, on_duplicate, primary_key)
        return self.escape_raw(f"{verb} INTO {name}{cols} ") + source + self.escape_raw(clause)

    def default_rows_sql(self, n_rows: int) -> str:
        """The source of ``n_rows`` rows made of column defaults only (an INSERT without
        columns); ANSI SQL has ``DEFAULT VALUES``, one row per statement."""
        if n_rows != 1:
            raise ValueError(f"The {self.name} dialect inserts one row of defaults per statement")
        return "DEFAULT VALUES"

    def insert_select_source_sql(self, select_sql: str, on_duplicate: OnDuplicate) -> str:
        """The rendered SELECT as the source of an INSERT (a backend may need to wrap it)."""
        return select_sql

    def insert_verb(
        self, on_duplicate: OnDuplicate, columns: Sequence[str], primary_key: Sequence[str]
    ) -> str:
        """The statement's verb: ``REPLACE`` replaces duplicates, ``INSERT`` otherwise."""
        return "REPLACE" if on_duplicate == "replace" else "INSERT"

    def on_duplicate_sql(
        self,
        table_sql: str,
        columns: Sequence[str],
        on_duplicate: OnDuplicate,
        primary_key: Sequence[str],
    ) -> str:
        """The clause after the rows (with its leading space): ``skip`` is ``ON CONFLICT ...
        DO NOTHING``; a row of defaults (no columns) takes no clause."""
        if on_duplicate != "skip" or not columns:
            return ""
        if not primary_key:
            return " ON CONFLICT DO NOTHING"
        return " ON CONFLICT (" + ", ".join(self.quote(c) for c in primary_key) + ") DO NOTHING"

    def begin_sql(self) -> str:
        return "BEGIN"

    def commit_sql(self) -> str:
        return "COMMIT"

    def rollback_sql(self) -> str:
        return "ROLLBACK"

    def commit_and_chain_sql(self) -> str:
        """Commit and start the next transaction at once (``capabilities.chain_transactions``)."""
        return "COMMIT AND CHAIN"

    # ---- server time (jobs tables) ---------------------------------------------------------
    def current_timestamp_sql(self, precision: int | None = None) -> str:
        """The server's current time, with ``precision`` fractional-second digits."""
        return "CURRENT_TIMESTAMP" if precision is None else f"CURRENT_TIMESTAMP({int(precision)})"

    def shifted_timestamp_sql(self, timestamp_sql: str) -> str:
        """``timestamp_sql`` plus a number of seconds bound as one parameter (a float; a negative
        number goes back in time)."""
        return f"({timestamp_sql} + {self.placeholder} * INTERVAL '1 second')"

    # ---- write operations: DELETE, UPDATE, savepoints, ALTER, DROP ---------------------------
    def delete_sql(self, schema: str, table: str, where: str | None) -> str:
        """``DELETE FROM t [WHERE ...]``; ``where`` is rendered SQL (with its own parameters)."""
        sql = "DELETE FROM " + self.escape_raw(self.full_table_name(schema, table))
        return sql + (f" WHERE {where}" if where else "")

    def update_sql(
        self, schema: str, table: str, assignments: Sequence[tuple[str, str]], where: str
    ) -> str:
        """``UPDATE t SET col = <value sql>, ... WHERE ...``; values are placeholders or
        :meth:`reset_to_default_sql` text."""
        sets = ", ".join(f"{self.escape_raw(self.quote(c))} = {v}" for c, v in assignments)
        return (
            f"UPDATE {self.escape_raw(self.full_table_name(schema, table))} SET {sets} "
            f"WHERE {where}"
        )

    def reset_to_default_sql(self, default: str | None, nullable: bool) -> tuple[str, list[Any]]:
        """The value that resets a column to its default in UPDATE ... SET, with its parameters.

        ``default`` is the catalog's normalised default (ColumnInfo conventions).
        """
        return "DEFAULT", []

    def savepoint_sql(self, name: str) -> str:
        return f"SAVEPOINT {name}"

    def release_savepoint_sql(self, name: str) -> str:
        return f"RELEASE SAVEPOINT {name}"

    def rollback_to_savepoint_sql(self, name: str) -> str:
        return f"ROLLBACK TO SAVEPOINT {name}"

    def drop_tables_sql(self, tables: Sequence[tuple[str, str]]) -> list[str]:
        """Statements dropping ``(schema, table)`` pairs in the given order (leaves first)."""
        return [sql for schema, table in tables for sql in self.drop_table_sql(schema, table)]

    def foreign_key_sql(self, fk: ForeignKeySpec) -> str:
        """A ``FOREIGN KEY (...) REFERENCES ...`` clause as DataJoint declares it."""
        return (
            f"FOREIGN KEY ({', '.join(self.quote(c) for c in fk.columns)}) REFERENCES "
            f"{self.full_table_name(fk.ref_schema, fk.ref_table)} "
            f"({', '.join(self.quote(c) for c in fk.ref_columns)}) "
            "ON UPDATE CASCADE ON DELETE RESTRICT"
        )

    def alter_session_sql(
        self, spec: TableSpec, clauses: Sequence[AlterClause]
    ) -> tuple[list[str], list[str]]:
        """Statements to run before and after the ALTER's transaction (session settings)."""
        return [], []

    def foreign_key_check_sql(self, schema: str, table: str) -> str | None:
        """A query returning one row per foreign-key violation of ``table`` (None: the server
        enforces foreign keys during ALTER itself)."""
        return None

    def alter_table_sql(self, spec: TableSpec, clauses: Sequence[AlterClause]) -> list[str]:
        """The statements that turn the table into ``spec`` (the complete new table) by applying
        ``clauses``, in order. This ANSI version (PostgreSQL-like) emits renames first, then one
        ``ALTER TABLE`` with every column and constraint action, then indexes and comments."""
        table = self.full_table_name(spec.schema, spec.name)
        renames, actions, after = [], [], []
        for clause in clauses:
            kind, col = clause.action, clause.column
            if kind == "rename_column":
                assert col is not None and clause.name is not None
                renames.append(
                    f"ALTER TABLE {table} RENAME COLUMN {self.quote(clause.name)} "
                    f"TO {self.quote(col.name)}"
                )
                actions.extend(self._alter_column_actions(col))
            elif kind == "add_column":
                assert col is not None
                actions.append("ADD COLUMN " + self.column_sql(col))
            elif kind == "drop_column":
                actions.append(f"DROP COLUMN {self.quote(clause.name or '')}")
            elif kind == "modify_column":
                assert col is not None
                actions.extend(self._alter_column_actions(col))
            elif kind == "add_foreign_key":
                assert clause.foreign_key is not None
                actions.append("ADD " + self.foreign_key_sql(clause.foreign_key))
            elif kind == "drop_foreign_key":
                actions.append(f"DROP CONSTRAINT {self.quote(clause.name or '')}")
            elif kind == "add_index":
                assert clause.index is not None
                after.append(self.create_index_sql(spec, clause.index))
            elif kind == "drop_index":
                after.insert(
                    0, f"DROP INDEX {self.quote(spec.schema)}.{self.quote(clause.name or '')}"
                )
            elif kind == "table_comment":
                after.append(
                    f"COMMENT ON TABLE {table} IS {self.string_literal(clause.comment or '')}"
                )
            else:
                raise DataJointError(f"Unknown alter action {kind!r}")
            if (
                col is not None
                and kind in ("add_column", "modify_column", "rename_column")
                and not self.capabilities.inline_comments
            ):
                after.append(
                    f"COMMENT ON COLUMN {table}.{self.quote(col.name)} IS "
                    f"{self.string_literal(col.comment)}"
                )
        statements = list(renames)
        if actions:
            statements.append(f"ALTER TABLE {table} " + ", ".join(actions))
        return statements + after

    def _alter_column_actions(self, column: ColumnSpec) -> list[str]:
        """``ALTER COLUMN`` actions setting a column's type, nullability and default."""
        name = self.quote(column.name)
        default = self.default_sql(column)
        actions = [
            # no USING: the assignment cast refuses values the new type cannot hold, where an
            # explicit cast would silently truncate them (varchar(n))
            f"ALTER COLUMN {name} TYPE {column.sql_type}",
            f"ALTER COLUMN {name} " + ("DROP NOT NULL" if column.nullable else "SET NOT NULL"),
        ]
        if " DEFAULT " in f" {default} ":
            actions.append(f"ALTER COLUMN {name} SET DEFAULT {default.split(' DEFAULT ', 1)[1]}")
        else:
            actions.append(f"ALTER COLUMN {name} DROP DEFAULT")
        return actions

    # ---- query model -----------------------------------------------------------------------
    def escape_raw(self, text: str) -> str:
        """User SQL text as it must appear in a statement that also has bound parameters."""
        return text.replace("%", "%%") if self.placeholder == "%s" else text

    def render(self, node: m.Node) -> tuple[str, list[Any]]:
        """Render a query-model node to SQL text and its bound parameters, in order."""
        params: list[Any] = []
        return self._render(node, params), params

    def _render(self, node: m.Node, params: list[Any]) -> str:
        kind = type(node)
        method = _RENDERERS.get((type(self), kind))
        if method is None:
            method = getattr(type(self), "_render_" + kind.__name__, None)
            if method is None:
                raise DataJointError(f"The {self.name} dialect cannot render {kind.__name__}")
            _RENDERERS[(type(self), kind)] = method
        return method(self, node, params)

    @cached_property
    def _texts(self) -> dict[int, tuple[Any, str]]:
        """Rendered text of parameter-free parts (select lists, table names), by the identity
        of the part, which each entry keeps alive so that its id is never reused meanwhile."""
        return {}

    def _kept_text(self, part: Any, params: list[Any], render: Callable[[], str]) -> str:
        """``render()``'s text of ``part``, kept for the next statement with this same (immutable)
        part when rendering it bound no parameter."""
        entry = self._texts.get(id(part))
        if entry is not None and entry[0] is part:
            return entry[1]
        bound = len(params)
        text = render()
        if len(params) == bound:
            texts = self._texts
            if len(texts) >= _MAX_KEPT_TEXTS:  # ad-hoc parts must not grow it without bound
                texts.clear()
            texts[id(part)] = (part, text)
        return text

    def bound_value(self, value: Any) -> Any:
        """What the driver is given for a :class:`~datajoint.algebra.model.Param` of ``value``
        (dialects whose driver needs another form of some values convert them here)."""
        return value

    def _render_Param(self, node: m.Param, params: list[Any]) -> str:
        params.append(self.bound_value(node.value))
        return self.placeholder

    def _render_Column(self, node: m.Column, params: list[Any]) -> str:
        col = self.quote(node.name)
        return f"{self.quote(node.source)}.{col}" if node.source else col

    def _render_JsonPath(self, node: m.JsonPath, params: list[Any]) -> str:
        return self.json_path_sql(node.column, node.path, node.return_type)

    def json_path_sql(self, column: str, path: str, return_type: str | None = None) -> str:
        """SQL reading ``path`` from JSON column ``column`` (SQLite's ``json_extract`` here).

        Without ``return_type`` the value is compared as text, as on the other backends.
        """
        expr = f"json_extract({self.quote(column)}, {self.string_literal(json_path_text(path))})"
        return f"CAST({expr} AS {return_type or 'TEXT'})"

    def translate_user_sql(self, text: str) -> str:
        """User SQL in this backend's spelling (string aggregation functions)."""
        return translate_string_aggregation(text, self.name)

    def _render_RawSQL(self, node: m.RawSQL, params: list[Any]) -> str:
        return self.escape_raw(self.translate_user_sql(node.text))

    def _render_Literal(self, node: m.Literal, params: list[Any]) -> str:
        return "TRUE" if node.value else "FALSE"

    def _render_Compare(self, node: m.Compare, params: list[Any]) -> str:
        return f"{self._render(node.left, params)} {node.op} {self._render(node.right, params)}"

    def _render_IsNull(self, node: m.IsNull, params: list[Any]) -> str:
        return f"{self._render(node.expr, params)} IS NULL"

    def _render_And(self, node: m.And, params: list[Any]) -> str:
        if not node.items:
            return "TRUE"
        return "(" + " AND ".join(self._render(i, params) for i in node.items) + ")"

    def _render_Or(self, node: m.Or, params: list[Any]) -> str:
        if not node.items:
            return "FALSE"
        return "(" + " OR ".join(self._render(i, params) for i in node.items) + ")"

    def _render_Not(self, node: m.Not, params: list[Any]) -> str:
        return f"NOT ({self._render(node.item, params)})"

    def _render_InSelect(self, node: m.InSelect, params: list[Any]) -> str:
        cols = ", ".join(self.quote(c) for c in node.columns)
        neg = "NOT " if node.negate else ""
        return f"(({cols}) {neg}IN ({self._render(node.select, params)}))"

    def _render_InValues(self, node: m.InValues, params: list[Any]) -> str:
        if all(type(v) is m.Param for row in node.rows for v in row):
            # the common case, rendered without a call per value: every entry is a parameter
            params.extend(v.value for row in node.rows for v in row)  # type: ignore[attr-defined]
            group = ", ".join([self.placeholder] * len(node.columns))
            rendered = [group] * len(node.rows)
        else:
            rendered = [", ".join(self._render(v, params) for v in row) for row in node.rows]
        if len(node.columns) == 1:
            return f"({self.quote(node.columns[0])} IN ({', '.join(rendered)}))"
        cols = ", ".join(self.quote(c) for c in node.columns)
        return f"(({cols}) IN ({', '.join('(' + r + ')' for r in rendered)}))"

    def _render_TableSource(self, node: m.TableSource, params: list[Any]) -> str:
        # a table's source node is built once per table (and so rendered once)
        return self._kept_text(node, params, lambda: self._table_source(node))

    def _table_source(self, node: m.TableSource) -> str:
        name = self.full_table_name(node.schema, node.table)
        return f"{name} AS {self.quote(node.alias)}" if node.alias else name

    def _render_SubquerySource(self, node: m.SubquerySource, params: list[Any]) -> str:
        return f"({self._render(node.select, params)}) AS {self.quote(node.alias)}"

    def _render_JoinSource(self, node: m.JoinSource, params: list[Any]) -> str:
        left = self._render(node.left, params)
        right = self._render(node.right, params)
        if isinstance(node.right, m.JoinSource):
            right = f"({right})"  # a join on the right binds as one operand
        if node.using:
            kind = "LEFT JOIN" if node.left_outer else "JOIN"
            cols = ", ".join(self.quote(c) for c in node.using)
            return f"{left} {kind} {right} USING ({cols})"
        if node.left_outer:
            return f"{left} LEFT JOIN {right} ON TRUE"
        return f"{left} CROSS JOIN {right}"

    def _render_SelectItem(self, node: m.SelectItem, params: list[Any]) -> str:
        expr = self._render(node.expr, params)
        return f"{expr} AS {self.quote(node.alias)}" if node.alias else expr

    def _render_OrderItem(self, node: m.OrderItem, params: list[Any]) -> str:
        return self._render(node.expr, params) + (" DESC" if node.descending else "")

    def _render_Select(self, node: m.Select, params: list[Any]) -> str:
        items = node.items
        if items is None:
            listed = "*"
        else:  # a heading's select lists are built once (and so rendered once)
            listed = self._kept_text(items, params, lambda: self._select_list(items, params))
        sql = ("SELECT DISTINCT " if node.distinct else "SELECT ") + listed
        sql += " FROM " + self._render(node.source, params)
        if node.where is not None:
            sql += " WHERE " + self._render(node.where, params)
        if node.group_by:
            sql += " GROUP BY " + ", ".join(self._render(g, params) for g in node.group_by)
        if node.having is not None:
            sql += " HAVING " + self._render(node.having, params)
        if node.order_by:
            sql += " ORDER BY " + ", ".join(self._render(o, params) for o in node.order_by)
        sql += self.limit_sql(node.limit, node.offset)
        return sql

    def _select_list(self, items: tuple[m.SelectItem, ...], params: list[Any]) -> str:
        # an empty heading still selects a constant: SQL needs a select list
        return ", ".join([self._render(i, params) for i in items]) or "1 AS " + self.quote("_")

    def limit_sql(self, limit: int | None, offset: int) -> str:
        sql = "" if limit is None else f" LIMIT {int(limit)}"
        if offset:
            sql += f" OFFSET {int(offset)}"
        return sql

    #: operands of UNION in parentheses; without it each operand becomes a derived table (SQLite's
    #: compound SELECTs allow neither parentheses nor ORDER BY/LIMIT in their operands)
    union_operands_in_parentheses: ClassVar[bool] = False

    def _render_Union(self, node: m.Union, params: list[Any]) -> str:
        if self.union_operands_in_parentheses:
            # keeps NULL columns of one operand typed by the other (PostgreSQL types a NULL in a
            # derived table as text, which then fails to match e.g. smallint)
            return " UNION ".join("(" + self._render(s, params) + ")" for s in node.selects)
        return " UNION ".join(
            f"SELECT * FROM ({self._render(s, params)}) AS {self.quote(f'_u{i}')}"
            for i, s in enumerate(node.selects)
        )

    def _render_Exists(self, node: m.Exists, params: list[Any]) -> str:
        return f"SELECT EXISTS({self._render(node.select, params)})"
