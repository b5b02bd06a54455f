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

_COLUMNS_SQL = """
SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT, c.EXTRA, c.COLUMN_COMMENT,
  EXISTS(SELECT 1 FROM information_schema.STATISTICS s
         WHERE s.TABLE_SCHEMA = c.TABLE_SCHEMA AND s.TABLE_NAME = c.TABLE_NAME
           AND s.COLUMN_NAME = c.COLUMN_NAME AND s.INDEX_NAME = %s),
  VERSION()
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = %s AND c.TABLE_NAME = %s
ORDER BY c.ORDINAL_POSITION
"""

# MariaDB stores json as longtext guarded by a json_valid() check constraint named after the column
_MARIADB_CHECKS_SQL = """
SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s
"""

_FOREIGN_KEYS_SQL = """
SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME,
  k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.TABLE_SCHEMA IN ({schemas}) AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""

_INDEXES_SQL = """
SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND INDEX_NAME <> %s
ORDER BY INDEX_NAME, SEQ_IN_INDEX
"""


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
        rows = run(_COLUMNS_SQL, [PRIMARY_INDEX, schema, table])
        if not rows:
            return []
        mariadb = "mariadb" in _text(rows[0][7]).lower()
        json_columns: set[str] = set()
        if mariadb and any(normalize_type(_text(r[1])) == "longtext" for r in rows):
            for _name, clause in run(_MARIADB_CHECKS_SQL, [schema, table]):
                col = json_check_column(_text(clause))
                if col is not None:
                    json_columns.add(col)
        out: list[ColumnInfo] = []
        for name, col_type, is_nullable, default, extra, comment, in_key, _version in rows:
            name, extra = _text(name), _text(extra)
            nullable = _text(is_nullable).upper() == "YES"
            sql_type = normalize_type(_text(col_type))
            if sql_type == "longtext" and name in json_columns:
                sql_type = "json"
            out.append(
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
                    in_key=bool(in_key),
                    autoincrement="auto_increment" in extra.lower(),
                )
            )
        return out

    def table_comment(self, run: Runner, schema: str, table: str) -> str:
        """The table's comment ("" when none or when the table does not exist)."""
        rows = run(
            "SELECT TABLE_COMMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            [schema, table],
        )
        return _text(rows[0][0]) if rows else ""

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
        grouped: dict[str, list[tuple]] = {}
        for row in run(_INDEXES_SQL, [schema, table, PRIMARY_INDEX]):
            grouped.setdefault(_text(row[0]), []).append(row)
        return [
            IndexInfo(
                name=name,
                columns=tuple(_text(r[1]) for r in rows if r[1] is not None),
                unique=not int(rows[0][2]),
            )
            for name, rows in grouped.items()
        ]

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
