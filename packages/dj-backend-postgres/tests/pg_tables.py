"""The tables of the live tests, as TableSpecs (shared by the live test modules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datajoint.backend.contract import ColumnSpec, ForeignKeySpec, IndexSpec, TableSpec
from dj_backend_postgres.normalize import enum_sql_type

STATUS = ("new", "it's", "done")
KINDS = ("b", "a", "50%")


def table_specs(dialect: Any, up: str, down: str) -> list[TableSpec]:
    """Tables in an upstream and a downstream schema covering types, defaults, keys, enums."""
    enum_sql = dialect.core_type_sql("enum('new','it''s','done')", schema=down)
    kind_sql = dialect.core_type_sql("enum('b','a','50%')", schema=up)
    return [
        TableSpec(
            schema=up,
            name="subject",
            columns=(
                ColumnSpec("lab", "varchar(16)", comment=":varchar(16):lab"),
                ColumnSpec("subject_id", "integer", comment=":int32:subject id"),
                ColumnSpec("name", "varchar(64)", default="'it''s'", comment=":varchar(64):"),
                ColumnSpec("pct", "varchar(8)", default="'5%'", comment=":varchar(8):in %"),
            ),
            primary_key=("lab", "subject_id"),
            comment="subjects, 'quoted'",
        ),
        TableSpec(
            schema=down,
            name="_session",
            columns=(
                ColumnSpec("subject_id", "integer", comment=":int32:"),
                ColumnSpec("lab", "varchar(16)", comment=":varchar(16):"),
                ColumnSpec("session", "smallint", comment=":int16:"),
                ColumnSpec(
                    "status",
                    enum_sql,
                    default="'new'",
                    enum_values=STATUS,
                    comment=":enum('new','it''s','done'):",
                ),
                ColumnSpec(
                    "status2",
                    enum_sql,
                    nullable=True,
                    default="NULL",
                    enum_values=("done", "new", "it's"),
                ),
                ColumnSpec("note", "varchar(255)", nullable=True, default="NULL"),
                ColumnSpec("started", "timestamp(3)", default="CURRENT_TIMESTAMP(3)"),
                ColumnSpec("created", "timestamp", default="CURRENT_TIMESTAMP"),
                ColumnSpec("score", "numeric(10,2)", default="-1.5"),
                ColumnSpec("ratio", "double precision", nullable=True),
                ColumnSpec("weight", "real", default="0"),
                ColumnSpec("code", "char(4)", default="'ab''c'"),
                ColumnSpec("flag", "boolean", default="1"),
                ColumnSpec("meta", "jsonb", nullable=True, default="NULL"),
                ColumnSpec("uid", "uuid", nullable=True),
                ColumnSpec("data", "bytea", nullable=True),
                ColumnSpec("day", "date", default="'2020-01-02'"),
                ColumnSpec("big", "bigint", default="0"),
            ),
            primary_key=("subject_id", "lab", "session"),
            # constraint order (lab, subject_id) differs from the table's column order
            foreign_keys=(
                ForeignKeySpec(("lab", "subject_id"), up, "subject", ("lab", "subject_id")),
            ),
            indexes=(IndexSpec(("lab", "subject_id")), IndexSpec(("note", "status"), unique=True)),
            comment="sessions",
        ),
        TableSpec(
            schema=up,
            name="#kind",
            columns=(
                ColumnSpec("kind", kind_sql, enum_values=KINDS, comment=":enum('b','a','50%'):"),
            ),
            primary_key=("kind",),
        ),
        TableSpec(
            schema=down,
            name="kind_use",
            columns=(
                # inherited through the foreign key: the parent schema's type, as the kernel does
                ColumnSpec(
                    "kind",
                    dialect.core_type_sql(enum_sql_type(KINDS), schema=up),
                    enum_values=KINDS,
                ),
            ),
            primary_key=("kind",),
            foreign_keys=(ForeignKeySpec(("kind",), up, "#kind", ("kind",)),),
        ),
        TableSpec(
            schema=down,
            name="~counter",
            columns=(
                ColumnSpec("id", "bigint", autoincrement=True),
                ColumnSpec("label", "varchar(8)", default="'x'"),
            ),
            primary_key=("id",),
        ),
        TableSpec(
            schema=down,
            name="#pair",
            columns=(
                ColumnSpec("a", "integer"),
                ColumnSpec("b", "integer"),
                ColumnSpec("v", "integer"),
            ),
            primary_key=("a", "b"),
        ),
    ]


def insert_rows(
    backend: Any,
    run: Callable[..., list[tuple]],
    schema: str,
    table: str,
    cols: list[str],
    rows: list[tuple],
    **kw: Any,
) -> None:
    sql = backend.dialect.insert_sql(schema, table, cols, len(rows), **kw)
    run(sql, [v for row in rows for v in row])
