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
        name = physical_name(schema, table)
        declared = {
            r[0]: (r[1], r[2])
            for r in run(
                f"SELECT column_name, sql_type, comment FROM `{CATALOG}` "
                "WHERE schema_name = ? AND table_name = ?",
                [schema, table],
            )
        }
        create_sql = run("SELECT sql FROM sqlite_master WHERE name = ?", [name])
        autoincrement = bool(create_sql) and "AUTOINCREMENT" in (create_sql[0][0] or "").upper()
        out = []
        for _cid, col, col_type, notnull, default, pk in run(
            'SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid',
            [name],
        ):
            sql_type, comment = declared.get(col, (col_type.lower(), ""))
            nullable = not notnull and not pk
            out.append(
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

    def foreign_keys(self, run: Runner, schemas: Sequence[str]) -> list[ForeignKeyInfo]:
        out = []
        for schema in schemas:
            for table in self.list_tables(run, schema):
                rows = run(
                    'SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) '
                    "ORDER BY id, seq",
                    [physical_name(schema, table)],
                )
                groups: dict[int, list[tuple]] = {}
                for row in rows:
                    groups.setdefault(row[0], []).append(row)
                for fk_id, group in sorted(groups.items()):
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
        out = []
        for index_name, unique, origin in run(
            'SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name',
            [physical_name(schema, table)],
        ):
            if origin == "pk":
                continue
            cols = run("SELECT name FROM pragma_index_info(?) ORDER BY seqno", [index_name])
            out.append(
                IndexInfo(name=index_name, columns=tuple(c[0] for c in cols), unique=bool(unique))
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
