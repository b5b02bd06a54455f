"""Reads the SQLite catalog: sqlite_master, the pragma table functions and ``~catalog``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from datajoint.backend.contract import ColumnInfo, ForeignKeyInfo, IndexInfo, Runner

from .catalog import CATALOG, SCHEMATA, physical_name, split_physical_name

_LOCAL_NOW = re.compile(r"^\(?\s*(datetime|strftime)\s*\(.*'now'.*\)\s*\)?$", re.I | re.S)


def _normalise_default(raw: str | None, nullable: bool) -> str | None:
    """The contract's spelling of a default as SQLite reports it (its DDL text)."""
    if raw is None:
        return "null" if nullable else None
    text = raw.strip()
    if text.upper() == "NULL":
        return "null"
    match = _LOCAL_NOW.match(text)
    if match:
        return "CURRENT_TIMESTAMP(3)" if "%f" in text else "CURRENT_TIMESTAMP"
    if text.upper() == "CURRENT_TIMESTAMP":
        return "CURRENT_TIMESTAMP"
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _tables_of(schema: str, table: str | None) -> tuple[str, list[str]]:
    """A FROM clause (``sqlite_master m``, filtered) with the tables of ``schema``, or just
    ``table`` of it, and its parameters; table-valued pragmas join to it by ``m.name``."""
    if table is not None:
        return "(SELECT name, sql FROM sqlite_master WHERE type = ? AND name = ?) m", [
            "table",
            physical_name(schema, table),
        ]
    prefix = physical_name(schema, "")
    return (
        "(SELECT name, sql FROM sqlite_master WHERE type = ? AND substr(name, 1, length(?)) = ?) m",
        ["table", prefix, prefix],
    )


class SQLiteIntrospection:
    """Catalog queries for the one-file layout described in :mod:`dj_backend_sqlite.catalog`."""

    def list_schemas(self, run: Runner) -> list[str]:
        return [r[0] for r in run(f"SELECT schema_name FROM `{SCHEMATA}` ORDER BY schema_name", [])]

    def schema_exists(self, run: Runner, schema: str) -> bool:
        return bool(run(f"SELECT 1 FROM `{SCHEMATA}` WHERE schema_name = ?", [schema]))

    def list_tables(self, run: Runner, schema: str) -> list[str]:
        rows = run(
            "SELECT name FROM sqlite_master WHERE type = ? "
            "AND substr(name, 1, length(?)) = ? ORDER BY name",
            ["table", physical_name(schema, ""), physical_name(schema, "")],
        )
        return [split_physical_name(r[0])[1] for r in rows]

    def columns(self, run: Runner, schema: str, table: str) -> list[ColumnInfo]:
        return self._columns(run, schema, table).get(table, [])

    def schema_columns(self, run: Runner, schema: str) -> dict[str, list[ColumnInfo]]:
        """The columns of every table of the schema: two queries (pragmas joined per table)."""
        return self._columns(run, schema, None)

    def _columns(self, run: Runner, schema: str, table: str | None) -> dict[str, list[ColumnInfo]]:
        one = () if table is None else (table,)
        declared = {
            (r[0], r[1]): (r[2], r[3])
            for r in run(
                f"SELECT table_name, column_name, sql_type, comment FROM `{CATALOG}` "
                f"WHERE schema_name = ? {'AND table_name = ?' if one else ''}",
                [schema, *one],
            )
        }
        sql, params = _tables_of(schema, table)
        out: dict[str, list[ColumnInfo]] = {}
        for physical, create_sql, col, col_type, notnull, default, pk in run(
            'SELECT m.name, m.sql, p.name, p.type, p."notnull", p.dflt_value, p.pk '
            f"FROM {sql} JOIN pragma_table_info(m.name) p ORDER BY m.name, p.cid",
            params,
        ):
            table_name = split_physical_name(physical)[1]
            autoincrement = "AUTOINCREMENT" in (create_sql or "").upper()
            sql_type, comment = declared.get((table_name, col), (col_type.lower(), ""))
            nullable = not notnull and not pk
            out.setdefault(table_name, []).append(
                ColumnInfo(
                    name=col,
                    sql_type=sql_type or col_type.lower(),
                    nullable=nullable,
                    default=_normalise_default(default, nullable),
                    comment=comment,
                    in_key=bool(pk),
                    autoincrement=autoincrement and bool(pk) and col_type.lower() == "integer",
                )
            )
        return out

    def table_comment(self, run: Runner, schema: str, table: str) -> str:
        rows = run(
            f"SELECT comment FROM `{CATALOG}` "
            "WHERE schema_name = ? AND table_name = ? AND column_name = ?",
            [schema, table, ""],
        )
        return rows[0][0] if rows else ""

    def table_comments(self, run: Runner, schema: str) -> dict[str, str]:
        comments = dict(
            run(
                f"SELECT table_name, comment FROM `{CATALOG}` "
                "WHERE schema_name = ? AND column_name = ?",
                [schema, ""],
            )
        )
        return {table: comments.get(table, "") for table in self.list_tables(run, schema)}

    def foreign_keys(self, run: Runner, schemas: Sequence[str]) -> list[ForeignKeyInfo]:
        """One query per schema: the foreign-key pragma joined to every table of the schema."""
        out = []
        for schema in schemas:
            sql, params = _tables_of(schema, None)
            groups: dict[tuple[str, int], list[tuple]] = {}
            for row in run(
                'SELECT m.name, f.id, f."table", f."from", f."to" '
                f"FROM {sql} JOIN pragma_foreign_key_list(m.name) f ORDER BY m.name, f.id, f.seq",
                params,
            ):
                groups.setdefault((row[0], row[1]), []).append(row)
            for (physical, fk_id), group in groups.items():
                table = split_physical_name(physical)[1]
                ref_schema, ref_table = split_physical_name(group[0][2])
                out.append(
                    ForeignKeyInfo(
                        name=f"{table}_fk{fk_id}",
                        schema=schema,
                        table=table,
                        columns=tuple(r[3] for r in group),
                        ref_schema=ref_schema,
                        ref_table=ref_table,
                        ref_columns=tuple(r[4] for r in group),
                    )
                )
        return out

    def indexes(self, run: Runner, schema: str, table: str) -> list[IndexInfo]:
        return self._indexes(run, schema, table).get(table, [])

    def schema_indexes(self, run: Runner, schema: str) -> dict[str, list[IndexInfo]]:
        """The secondary indexes of every table of the schema, in one query."""
        return self._indexes(run, schema, None)

    def _indexes(self, run: Runner, schema: str, table: str | None) -> dict[str, list[IndexInfo]]:
        sql, params = _tables_of(schema, table)
        groups: dict[tuple[str, str], list[tuple]] = {}
        for row in run(
            'SELECT m.name, il.name, il."unique", ii.name '
            f"FROM {sql} JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii "
            "WHERE il.origin <> ? ORDER BY m.name, il.name, ii.seqno",
            [*params, "pk"],
        ):
            groups.setdefault((row[0], row[1]), []).append(row)
        out: dict[str, list[IndexInfo]] = {}
        for (physical, name), rows in groups.items():
            out.setdefault(split_physical_name(physical)[1], []).append(
                IndexInfo(name=name, columns=tuple(r[3] for r in rows), unique=bool(rows[0][2]))
            )
        return out

    def _references(self, run: Runner) -> list[tuple[str, str]]:
        """(child schema, parent schema) for every foreign key in the file."""
        pairs = []
        for schema in self.list_schemas(run):
            for fk in self.foreign_keys(run, [schema]):
                pairs.append((fk.schema, fk.ref_schema))
        return pairs

    def downstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        given = set(schemas)
        return sorted({c for c, p in self._references(run) if p in given and c not in given})

    def upstream_schemas(self, run: Runner, schemas: Sequence[str]) -> list[str]:
        given = set(schemas)
        return sorted({p for c, p in self._references(run) if c in given and p not in given})
