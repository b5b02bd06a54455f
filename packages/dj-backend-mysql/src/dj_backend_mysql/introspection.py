"""MySQLIntrospection: the catalog of MySQL 8 / MariaDB, read from information_schema.

Every value travels as a bound parameter; results follow the ColumnInfo conventions of
:mod:`datajoint.backend.contract` on both servers (see :mod:`dj_backend_mysql.catalog`).
"""

from __future__ import annotations

from collections.abc import Sequence

from datajoint.backend.contract import ColumnInfo, ForeignKeyInfo, IndexInfo, Runner

from .catalog import json_check_column, normalize_default, normalize_type

SYSTEM_SCHEMAS = ("information_schema", "mysql", "performance_schema", "sys")
#: the name information_schema gives every primary key
PRIMARY_INDEX = "PRIMARY"

# The primary key is read from STATISTICS in a query of its own: a correlated subquery into
# STATISTICS per column costs tens of milliseconds on MariaDB, and COLUMN_KEY = 'PRI' also marks a
# unique NOT NULL index of a table without a primary key. (A JOIN of COLUMNS with TABLES is ten
# times slower than the IN subquery on MariaDB.)
_COLUMNS_SQL = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT, c.EXTRA,
  c.COLUMN_COMMENT, VERSION()
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = %s {table_filter} AND c.TABLE_NAME IN (
  SELECT t.TABLE_NAME FROM information_schema.TABLES t
  WHERE t.TABLE_SCHEMA = %s AND t.TABLE_TYPE = %s)
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
"""

_PRIMARY_KEY_SQL = """
SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s AND INDEX_NAME = %s {table_filter}
"""

# MariaDB stores json as longtext guarded by a json_valid() check constraint named after the column
_MARIADB_CHECKS_SQL = """
SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = %s {table_filter}
"""

_FOREIGN_KEYS_SQL = """
SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME,
  k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.TABLE_SCHEMA IN ({schemas}) AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""

_INDEXES_SQL = """
SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s AND INDEX_NAME <> %s {table_filter}
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

_TABLE_COMMENTS_SQL = """
SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = %s {table_filter}
ORDER BY TABLE_NAME
"""

#: narrows a catalog query to one table (its name is the last parameter)
_ONE_TABLE = "AND TABLE_NAME = %s"
_ONE_COLUMN_TABLE = "AND c.TABLE_NAME = %s"


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def _text(value: object) -> str:
    """A catalog value as str (some servers return bytes for information_schema columns)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")
    return "" if value is None else str(value)


class MySQLIntrospection:
    """Catalog queries over information_schema for MySQL 8 and MariaDB."""

    def list_schemas(self, run: Runner) -> list[str]:
        """Every database except the system ones, sorted."""
        rows = run(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
            f"WHERE SCHEMA_NAME NOT IN ({_placeholders(len(SYSTEM_SCHEMAS))}) ORDER BY SCHEMA_NAME",
            list(SYSTEM_SCHEMAS),
        )
        return [_text(r[0]) for r in rows]

    def schema_exists(self, run: Runner, schema: str) -> bool:
        """Whether the database exists."""
        rows = run("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [schema])
        return bool(rows)

    def list_tables(self, run: Runner, schema: str) -> list[str]:
        """Every base table of the schema (views excluded), hidden ones included, sorted."""
        rows = run(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = %s ORDER BY TABLE_NAME",
            [schema, "BASE TABLE"],
        )
        return [_text(r[0]) for r in rows]

    def columns(self, run: Runner, schema: str, table: str) -> list[ColumnInfo]:
        """The columns in table order, with normalised types and defaults."""
        return self._columns(run, schema, table).get(table, [])

    def schema_columns(self, run: Runner, schema: str) -> dict[str, list[ColumnInfo]]:
        """The columns of every base table of the schema, in three queries at most."""
        return self._columns(run, schema, None)

    def _columns(self, run: Runner, schema: str, table: str | None) -> dict[str, list[ColumnInfo]]:
        one = () if table is None else (table,)
        rows = run(
            _COLUMNS_SQL.format(table_filter=_ONE_COLUMN_TABLE if one else ""),
            [schema, *one, schema, "BASE TABLE"],
        )
        if not rows:
            return {}
        mariadb = "mariadb" in _text(rows[0][7]).lower()
        keys = {
            (_text(t), _text(c))
            for t, c in run(
                _PRIMARY_KEY_SQL.format(table_filter=_ONE_TABLE if one else ""),
                [schema, PRIMARY_INDEX, *one],
            )
        }
        json_columns: set[tuple[str, str]] = set()
        if mariadb and any(normalize_type(_text(r[2])) == "longtext" for r in rows):
            for name, clause in run(
                _MARIADB_CHECKS_SQL.format(table_filter=_ONE_TABLE if one else ""), [schema, *one]
            ):
                col = json_check_column(_text(clause))
                if col is not None:
                    json_columns.add((_text(name), col))
        out: dict[str, list[ColumnInfo]] = {}
        for table_name, name, col_type, is_nullable, default, extra, comment, _version in rows:
            table_name, name, extra = _text(table_name), _text(name), _text(extra)
            nullable = _text(is_nullable).upper() == "YES"
            sql_type = normalize_type(_text(col_type))
            if sql_type == "longtext" and (table_name, name) in json_columns:
                sql_type = "json"
            out.setdefault(table_name, []).append(
                ColumnInfo(
                    name=name,
                    sql_type=sql_type,
                    nullable=nullable,
                    default=normalize_default(
                        None if default is None else _text(default),
                        nullable=nullable,
                        extra=extra,
                        mariadb=mariadb,
                    ),
                    comment=_text(comment),
                    in_key=(table_name, name) in keys,
                    autoincrement="auto_increment" in extra.lower(),
                )
            )
        return out

    def table_comment(self, run: Runner, schema: str, table: str) -> str:
        """The table's comment ("" when none or when the table does not exist)."""
        rows = run(
            _TABLE_COMMENTS_SQL.format(table_filter=_ONE_TABLE), [schema, "BASE TABLE", table]
        )
        return _text(rows[0][1]) if rows else ""

    def table_comments(self, run: Runner, schema: str) -> dict[str, str]:
        """The comment of every base table of the schema, by table name."""
        rows = run(_TABLE_COMMENTS_SQL.format(table_filter=""), [schema, "BASE TABLE"])
        return {_text(name): _text(comment) for name, comment in rows}

    def foreign_keys(self, run: Runner, schemas: Sequence[str]) -> list[ForeignKeyInfo]:
        """Foreign keys of every table in ``schemas``, columns in constraint order."""
        schemas = list(dict.fromkeys(schemas))
        if not schemas:
            return []
        rows = run(_FOREIGN_KEYS_SQL.format(schemas=_placeholders(len(schemas))), schemas)
        grouped: dict[tuple[str, str, str], list[tuple]] = {}
        for row in rows:
            key = (_text(row[0]), _text(row[1]), _text(row[2]))
            grouped.setdefault(key, []).append(row)
        return [
            ForeignKeyInfo(
                name=name,
                schema=schema,
                table=table,
                columns=tuple(_text(r[3]) for r in fk_rows),
                ref_schema=_text(fk_rows[0][4]),
                ref_table=_text(fk_rows[0][5]),
                ref_columns=tuple(_text(r[6]) for r in fk_rows),
            )
            for (schema, table, name), fk_rows in grouped.items()
        ]

    def indexes(self, run: Runner, schema: str, table: str) -> list[IndexInfo]:
        """Secondary indexes (including those InnoDB creates for foreign keys), sorted by name."""
        return self._indexes(run, schema, table).get(table, [])

    def schema_indexes(self, run: Runner, schema: str) -> dict[str, list[IndexInfo]]:
        """The secondary indexes of every table of the schema that has any, in one query."""
        return self._indexes(run, schema, None)

    def _indexes(self, run: Runner, schema: str, table: str | None) -> dict[str, list[IndexInfo]]:
        one = () if table is None else (table,)
        grouped: dict[tuple[str, str], list[tuple]] = {}
        for row in run(
            _INDEXES_SQL.format(table_filter=_ONE_TABLE if one else ""),
            [schema, PRIMARY_INDEX, *one],
        ):
            grouped.setdefault((_text(row[0]), _text(row[1])), []).append(row)
        out: dict[str, list[IndexInfo]] = {}
        for (table_name, name), rows in grouped.items():
            out.setdefault(table_name, []).append(
                IndexInfo(
                    name=name,
                    columns=tuple(_text(r[2]) for r in rows if r[2] is not None),
                    unique=not int(rows[0][3]),
                )
            )
        return out

    def downstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        """Other schemas whose tables reference tables in ``schemas``."""
        return self._linked(run, schemas, "CONSTRAINT_SCHEMA", "UNIQUE_CONSTRAINT_SCHEMA")

    def upstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        """Other schemas whose tables are referenced from tables in ``schemas``."""
        return self._linked(run, schemas, "UNIQUE_CONSTRAINT_SCHEMA", "CONSTRAINT_SCHEMA")

    def _linked(self, run: Runner, schemas: Sequence[str], wanted: str, given: str) -> list[str]:
        schemas = list(dict.fromkeys(schemas))
        if not schemas:
            return []
        marks = _placeholders(len(schemas))
        rows = run(
            f"SELECT DISTINCT {wanted} FROM information_schema.REFERENTIAL_CONSTRAINTS "
            f"WHERE {given} IN ({marks}) AND {wanted} NOT IN ({marks}) ORDER BY {wanted}",
            [*schemas, *schemas],
        )
        return [_text(r[0]) for r in rows]
