"""PostgresIntrospection: the catalog (pg_catalog) read into the contract's dataclasses.

Every value (schema and table names) is passed as a bound parameter; results follow the ColumnInfo
conventions of :mod:`datajoint.backend.contract` (see :mod:`dj_backend_postgres.normalize`).
"""

from __future__ import annotations

from collections.abc import Sequence

from datajoint.backend.contract import ColumnInfo, ForeignKeyInfo, IndexInfo, Runner

from .normalize import enum_sql_type, normalize_default, normalize_type

_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "public")

#: boolean defaults are reported as the 1/0 a definition declares them with
_BOOLEAN_DEFAULTS = {"true": "1", "false": "0"}

# catalog codes, bound as parameters like every other value
_TABLE_KINDS = ("r", "p")  # pg_class.relkind: ordinary and partitioned tables
_ENUM = "e"  # pg_type.typtype
_PRIMARY_KEY_KIND = "p"  # pg_constraint.contype
_FOREIGN_KEY_KIND = "f"

_LIST_SCHEMAS = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT IN (%s, %s, %s) AND left(nspname, 8) <> %s AND left(nspname, 7) <> %s
ORDER BY nspname
"""

_LIST_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN (%s, %s)
ORDER BY c.relname
"""

_COLUMNS = """
SELECT a.attname,
       format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       col_description(a.attrelid, a.attnum),
       COALESCE(a.attnum = ANY (pk.conkey), FALSE),
       a.attidentity <> %s,
       CASE WHEN t.typtype = %s THEN ARRAY(
           SELECT e.enumlabel::text FROM pg_enum e
           WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = %s
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_TABLE_COMMENT = """
SELECT obj_description(c.oid, %s)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""

# one row per (constraint, key position), in constraint order
_FOREIGN_KEYS = """
SELECT con.conname, n.nspname, c.relname, a.attname, rn.nspname, rc.relname, ra.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, pos)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum
WHERE con.contype = %s AND {side}.nspname IN ({placeholders})
ORDER BY n.nspname, c.relname, con.conname, k.pos
"""

# one row per (index, key position), in index order; expressions are reported as their text
_INDEXES = """
SELECT ic.relname, i.indisunique,
       COALESCE(a.attname::text, pg_get_indexdef(i.indexrelid, k.pos::int, TRUE))
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum AND k.attnum > 0
WHERE n.nspname = %s AND c.relname = %s AND NOT i.indisprimary AND k.pos <= i.indnkeyatts
ORDER BY ic.relname, k.pos
"""

_PRIMARY_KEY = """
SELECT a.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, pos)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = %s AND c.relname = %s AND con.contype = %s
ORDER BY k.pos
"""

_LINKED_SCHEMAS = """
SELECT DISTINCT {other}.nspname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype = %s AND {side}.nspname IN ({placeholders})
  AND {other}.nspname NOT IN ({placeholders})
ORDER BY 1
"""


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


class PostgresIntrospection:
    """Reads schemas, tables, columns, keys and indexes from pg_catalog."""

    def list_schemas(self, run: Runner) -> list[str]:
        """User schemas of the database (system, toast, temp and ``public`` excluded)."""
        return [r[0] for r in run(_LIST_SCHEMAS, [*_SYSTEM_SCHEMAS, "pg_toast", "pg_temp"])]

    def schema_exists(self, run: Runner, schema: str) -> bool:
        """Whether the schema exists."""
        rows = run("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [schema])
        return bool(rows and rows[0][0])

    def list_tables(self, run: Runner, schema: str) -> list[str]:
        """Every base (or partitioned) table of the schema, hidden ones included, by name."""
        return [r[0] for r in run(_LIST_TABLES, [schema, *_TABLE_KINDS])]

    def columns(self, run: Runner, schema: str, table: str) -> list[ColumnInfo]:
        """The columns of a table in declaration order, normalised per the contract."""
        out = []
        for name, formatted, nullable, default, comment, in_key, identity, labels in run(
            _COLUMNS, ["", _ENUM, _PRIMARY_KEY_KIND, schema, table]
        ):
            sql_type = enum_sql_type(labels) if labels is not None else normalize_type(formatted)
            value, serial = normalize_default(default, bool(nullable))
            if sql_type == "boolean" and value in _BOOLEAN_DEFAULTS:
                value = _BOOLEAN_DEFAULTS[value]  # as declared (and as MySQL reports it)
            out.append(
                ColumnInfo(
                    name=name,
                    sql_type=sql_type,
                    nullable=bool(nullable),
                    default=value,
                    comment=comment or "",
                    in_key=bool(in_key),
                    autoincrement=bool(identity) or serial,
                )
            )
        return out

    def table_comment(self, run: Runner, schema: str, table: str) -> str:
        """The table comment, or "" when there is none."""
        rows = run(_TABLE_COMMENT, ["pg_class", schema, table])
        return (rows[0][0] or "") if rows else ""

    def primary_key(self, run: Runner, schema: str, table: str) -> list[str]:
        """The primary-key columns in key order (not part of the contract; a convenience)."""
        return [r[0] for r in run(_PRIMARY_KEY, [schema, table, _PRIMARY_KEY_KIND])]

    def foreign_keys(self, run: Runner, schemas: Sequence[str]) -> list[ForeignKeyInfo]:
        """Foreign keys of every table in ``schemas`` (child side), columns in constraint order."""
        if not schemas:
            return []
        sql = _FOREIGN_KEYS.format(side="n", placeholders=_placeholders(len(schemas)))
        groups: dict[tuple[str, str, str], list[tuple]] = {}
        for row in run(sql, [_FOREIGN_KEY_KIND, *schemas]):
            groups.setdefault((row[1], row[2], row[0]), []).append(row)
        return [
            ForeignKeyInfo(
                name=rows[0][0],
                schema=rows[0][1],
                table=rows[0][2],
                columns=tuple(r[3] for r in rows),
                ref_schema=rows[0][4],
                ref_table=rows[0][5],
                ref_columns=tuple(r[6] for r in rows),
            )
            for rows in groups.values()
        ]

    def indexes(self, run: Runner, schema: str, table: str) -> list[IndexInfo]:
        """Secondary indexes in name order, columns in index order.

        The primary key's index is excluded, and so is a unique index over exactly the
        primary-key columns (it adds nothing to the primary key).
        """
        groups: dict[str, list[tuple]] = {}
        for row in run(_INDEXES, [schema, table]):
            groups.setdefault(row[0], []).append(row)
        if not groups:
            return []
        pk = set(self.primary_key(run, schema, table))
        out = []
        for name, rows in groups.items():
            columns = tuple(r[2] for r in rows)
            unique = bool(rows[0][1])
            if unique and pk and set(columns) == pk and len(columns) == len(pk):
                continue
            out.append(IndexInfo(name=name, columns=columns, unique=unique))
        return out

    def downstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        """Schemas (not among ``schemas``) with tables whose foreign keys reference ``schemas``."""
        return self._linked(run, schemas, side="rn", other="n")

    def upstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        """Schemas (not among ``schemas``) whose tables are referenced from ``schemas``."""
        return self._linked(run, schemas, side="n", other="rn")

    @staticmethod
    def _linked(run: Runner, schemas: Sequence[str], *, side: str, other: str) -> list[str]:
        if not schemas:
            return []
        sql = _LINKED_SCHEMAS.format(
            side=side, other=other, placeholders=_placeholders(len(schemas))
        )
        return [r[0] for r in run(sql, [_FOREIGN_KEY_KIND, *schemas, *schemas])]
