"""Live: tables created through the dialect read back exactly through the introspection."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from datajoint.backend.contract import (
    Backend,
    ColumnInfo,
    ColumnSpec,
    ForeignKeyInfo,
    ForeignKeySpec,
    IndexInfo,
    IndexSpec,
    TableSpec,
)

from .conftest import Run

pytestmark = pytest.mark.backend


def create(backend: Backend, run: Run, spec: TableSpec) -> None:
    for sql in backend.dialect.create_table_sql(spec):
        run(sql, [])


def core(backend: Backend, core_type: str) -> str:
    return backend.dialect.core_type_sql(core_type, schema="")


def subject_spec(db: str, backend: Backend) -> TableSpec:
    return TableSpec(
        schema=db,
        name="#subject",
        columns=(
            ColumnSpec("lab", core(backend, "varchar(16)"), comment=":varchar(16):lab 100%"),
            ColumnSpec("subject_id", core(backend, "int32"), comment=":int32:subject id"),
            ColumnSpec("name", core(backend, "varchar(30)"), default="'it''s \\\\ \"x\"'"),
            ColumnSpec("empty", core(backend, "varchar(8)"), default="''"),
            ColumnSpec("word_null", core(backend, "varchar(8)"), nullable=True, default="'NULL'"),
            ColumnSpec("sex", "enum('F','M','U')", default="'U'", enum_values=("F", "M", "U")),
            ColumnSpec("weight", core(backend, "decimal(5,2)"), default="'1.50'"),
            ColumnSpec("alive", core(backend, "bool"), default="'1'", comment=":bool:"),
            ColumnSpec("born", core(backend, "date"), nullable=True, default="NULL"),
            ColumnSpec("entered", core(backend, "datetime(3)"), default="CURRENT_TIMESTAMP(3)"),
            ColumnSpec("stamp", core(backend, "datetime"), default="CURRENT_TIMESTAMP"),
            ColumnSpec("uid", core(backend, "uuid"), nullable=True, comment=":uuid:"),
            ColumnSpec("meta", core(backend, "json"), nullable=True, comment=":json:"),
            ColumnSpec("doc", core(backend, "json"), comment=":json:required"),
            ColumnSpec("raw", core(backend, "bytes"), nullable=True, comment=":<blob>:"),
            ColumnSpec("big", "bigint unsigned", default="'0'"),
            ColumnSpec("ratio", core(backend, "float64"), nullable=True),
        ),
        primary_key=("lab", "subject_id"),
        comment='subjects "of" the lab',
    )


def test_columns_exact(backend: Backend, run: Run, db: str) -> None:
    create(backend, run, subject_spec(db, backend))
    got = backend.introspection.columns(run, db, "#subject")

    def col(name: str, sql_type: str, default: str | None, **kw: object) -> ColumnInfo:
        kw.setdefault("nullable", False)
        kw.setdefault("comment", "")
        kw.setdefault("in_key", False)
        return ColumnInfo(name=name, sql_type=sql_type, default=default, **kw)  # type: ignore[arg-type]

    assert got == [
        col("lab", "varchar(16)", None, in_key=True, comment=":varchar(16):lab 100%"),
        col("subject_id", "int", None, in_key=True, comment=":int32:subject id"),
        col("name", "varchar(30)", 'it\'s \\ "x"'),
        col("empty", "varchar(8)", ""),
        col("word_null", "varchar(8)", "NULL", nullable=True),
        col("sex", "enum('F','M','U')", "U"),
        col("weight", "decimal(5,2)", "1.50"),
        col("alive", "tinyint", "1", comment=":bool:"),
        col("born", "date", "null", nullable=True),
        col("entered", "datetime(3)", "CURRENT_TIMESTAMP(3)"),
        col("stamp", "datetime", "CURRENT_TIMESTAMP"),
        col("uid", "binary(16)", "null", nullable=True, comment=":uuid:"),
        col("meta", "json", "null", nullable=True, comment=":json:"),
        col("doc", "json", None, comment=":json:required"),
        col("raw", "longblob", "null", nullable=True, comment=":<blob>:"),
        col("big", "bigint unsigned", "0"),
        col("ratio", "double", "null", nullable=True),
    ]
    assert backend.introspection.table_comment(run, db, "#subject") == 'subjects "of" the lab'
    assert backend.introspection.indexes(run, db, "#subject") == []


def test_missing_table_reads_empty(backend: Backend, run: Run, db: str) -> None:
    intro = backend.introspection
    assert intro.columns(run, db, "nope") == []
    assert intro.table_comment(run, db, "nope") == ""
    assert intro.indexes(run, db, "nope") == []


def test_autoincrement_and_schema_listing(backend: Backend, run: Run, db: str) -> None:
    intro = backend.introspection
    spec = TableSpec(db, "~lineage", (ColumnSpec("id", "int", autoincrement=True),), ("id",))
    create(backend, run, spec)
    create(backend, run, TableSpec(db, "~~jobs", (ColumnSpec("k", "int"),), ("k",)))
    run(f"CREATE VIEW `{db}`.`v` AS SELECT 1 AS x", [])
    assert intro.columns(run, db, "~lineage") == [
        ColumnInfo("id", "int", False, None, "", in_key=True, autoincrement=True)
    ]
    assert intro.list_tables(run, db) == ["~lineage", "~~jobs"]
    assert intro.schema_exists(run, db)
    assert not intro.schema_exists(run, db + "_missing")
    schemas = intro.list_schemas(run)
    assert db in schemas
    assert not {"information_schema", "mysql", "performance_schema", "sys"} & set(schemas)


def test_foreign_keys_indexes_and_links(
    backend: Backend, run: Run, new_db: Callable[[], str]
) -> None:
    up, db, down = new_db(), new_db(), new_db()
    intro = backend.introspection
    create(
        backend,
        run,
        TableSpec(up, "#rig", (ColumnSpec("rig", "varchar(8)"),), ("rig",)),
    )
    create(
        backend,
        run,
        TableSpec(
            db,
            "parent",
            (ColumnSpec("a", "int"), ColumnSpec("b", "int"), ColumnSpec("rig", "varchar(8)")),
            ("a", "b"),
            foreign_keys=(ForeignKeySpec(("rig",), up, "#rig", ("rig",)),),
        ),
    )
    create(
        backend,
        run,
        TableSpec(
            db,
            "child",
            (
                ColumnSpec("c", "int"),
                ColumnSpec("pb", "int"),
                ColumnSpec("pa", "int"),
                ColumnSpec("x", "int"),
                ColumnSpec("y", "varchar(10)"),
            ),
            ("c",),
            foreign_keys=(ForeignKeySpec(("pa", "pb"), db, "parent", ("a", "b")),),
            indexes=(IndexSpec(("y", "x"), unique=True), IndexSpec(("x",))),
        ),
    )
    create(
        backend,
        run,
        TableSpec(
            down,
            "far",
            (ColumnSpec("a", "int"), ColumnSpec("b", "int")),
            ("a", "b"),
            foreign_keys=(ForeignKeySpec(("a", "b"), db, "parent", ("a", "b")),),
        ),
    )
    fks = intro.foreign_keys(run, [db])
    assert [
        (f.schema, f.table, f.columns, f.ref_schema, f.ref_table, f.ref_columns) for f in fks
    ] == [
        (db, "child", ("pa", "pb"), db, "parent", ("a", "b")),
        (db, "parent", ("rig",), up, "#rig", ("rig",)),
    ]
    assert all(isinstance(f, ForeignKeyInfo) and f.name for f in fks)
    assert intro.foreign_keys(run, []) == []
    assert len(intro.foreign_keys(run, [db, down, up])) == 3

    indexes = {i.columns: i for i in intro.indexes(run, db, "child")}
    assert indexes[("y", "x")].unique
    assert not indexes[("x",)].unique
    # InnoDB indexes the foreign key itself (auto_indexes_foreign_keys)
    assert ("pa", "pb") in indexes and not indexes[("pa", "pb")].unique
    assert all(isinstance(i, IndexInfo) and i.name for i in indexes.values())

    assert intro.downstream_schemas(run, [db]) == [down]
    assert intro.upstream_schemas(run, [db]) == [up]
    assert intro.downstream_schemas(run, [up]) == [db]
    assert intro.upstream_schemas(run, [db, up]) == []
    assert intro.downstream_schemas(run, []) == []
