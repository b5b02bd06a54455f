"""Live tests against the PostgreSQL test server: DDL, introspection, inserts, enum types."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from datajoint.backend.contract import (
    ColumnInfo,
    ColumnSpec,
    ForeignKeyInfo,
    IndexInfo,
    TableSpec,
)

from .conftest import Run
from .pg_tables import KINDS, STATUS, insert_rows

pytestmark = pytest.mark.backend


def test_schemas_and_tables(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    up, down = declared
    intro = backend.introspection
    listed = intro.list_schemas(run)
    assert up in listed and down in listed
    assert not {"public", "pg_catalog", "information_schema"} & set(listed)
    assert not [s for s in listed if s.startswith(("pg_toast", "pg_temp"))]
    assert intro.schema_exists(run, up) and not intro.schema_exists(run, up + "_missing")
    assert intro.list_tables(run, down) == ["#pair", "_session", "kind_use", "~counter"]
    assert intro.list_tables(run, up) == ["#kind", "subject"]
    assert intro.downstream_schemas(run, [up]) == [down]
    assert intro.upstream_schemas(run, [down]) == [up]
    assert intro.downstream_schemas(run, [up, down]) == []
    assert intro.upstream_schemas(run, [up]) == []


def test_columns(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    up, down = declared
    intro = backend.introspection
    assert intro.columns(run, up, "subject") == [
        ColumnInfo("lab", "varchar(16)", False, None, ":varchar(16):lab", True),
        ColumnInfo("subject_id", "integer", False, None, ":int32:subject id", True),
        ColumnInfo("name", "varchar(64)", False, "it's", ":varchar(64):", False),
        ColumnInfo("pct", "varchar(8)", False, "5%", ":varchar(8):in %", False),
    ]
    enum = "enum('new','it''s','done')"
    assert intro.columns(run, down, "_session") == [
        ColumnInfo("subject_id", "integer", False, None, ":int32:", True),
        ColumnInfo("lab", "varchar(16)", False, None, ":varchar(16):", True),
        ColumnInfo("session", "smallint", False, None, ":int16:", True),
        ColumnInfo("status", enum, False, "new", ":enum('new','it''s','done'):", False),
        ColumnInfo("status2", enum, True, "null", "", False),
        ColumnInfo("note", "varchar(255)", True, "null", "", False),
        ColumnInfo("started", "timestamp(3)", False, "CURRENT_TIMESTAMP(3)", "", False),
        ColumnInfo("created", "timestamp", False, "CURRENT_TIMESTAMP", "", False),
        ColumnInfo("score", "numeric(10,2)", False, "-1.5", "", False),
        ColumnInfo("ratio", "double precision", True, "null", "", False),
        ColumnInfo("weight", "real", False, "0", "", False),
        ColumnInfo("code", "char(4)", False, "ab'c", "", False),
        ColumnInfo("flag", "boolean", False, "1", "", False),
        ColumnInfo("meta", "jsonb", True, "null", "", False),
        ColumnInfo("uid", "uuid", True, "null", "", False),
        ColumnInfo("data", "bytea", True, "null", "", False),
        ColumnInfo("day", "date", False, "2020-01-02", "", False),
        ColumnInfo("big", "bigint", False, "0", "", False),
    ]
    assert intro.columns(run, down, "~counter") == [
        ColumnInfo("id", "bigint", False, None, "", True, autoincrement=True),
        ColumnInfo("label", "varchar(8)", False, "x", "", False),
    ]
    assert intro.table_comment(run, up, "subject") == "subjects, 'quoted'"
    assert intro.table_comment(run, down, "~counter") == ""


def test_keys_and_indexes(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    up, down = declared
    intro, dialect = backend.introspection, backend.dialect
    fks = [f for f in intro.foreign_keys(run, [down]) if f.table == "_session"]
    assert len(fks) == 1
    fk = fks[0]
    assert fk == ForeignKeyInfo(
        fk.name, down, "_session", ("lab", "subject_id"), up, "subject", ("lab", "subject_id")
    )
    assert intro.foreign_keys(run, [up]) == []
    assert intro.indexes(run, down, "_session") == sorted(
        [
            IndexInfo(
                dialect.index_name("_session", ("lab", "subject_id"), False),
                ("lab", "subject_id"),
                False,
            ),
            IndexInfo(
                dialect.index_name("_session", ("note", "status"), True), ("note", "status"), True
            ),
        ],
        key=lambda i: i.name,
    )
    assert intro.indexes(run, up, "subject") == []
    run(f'CREATE UNIQUE INDEX pk_copy ON {dialect.full_table_name(down, "#pair")} ("b", "a")')
    assert intro.indexes(run, down, "#pair") == []


def test_enum_types(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    up, down = declared
    d, intro = backend.dialect, backend.introspection
    sql = (
        "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname IN (%s, %s) AND t.typtype = 'e' ORDER BY 1, 2"
    )
    # one type per value set; the FK-inherited column uses the parent schema's type
    expected = [
        (up, d.enum_type_sql(up, KINDS).split(".")[1].strip('"')),
        (down, d.enum_type_sql(down, STATUS).split(".")[1].strip('"')),
    ]
    assert run(sql, [up, down]) == sorted(expected)
    kind = ColumnInfo("kind", "enum('b','a','50%')", False, None, "", True)
    assert intro.columns(run, down, "kind_use") == [kind]
    fk = [f for f in intro.foreign_keys(run, [down]) if f.table == "kind_use"]
    assert [(f.columns, f.ref_schema, f.ref_table) for f in fk] == [(("kind",), up, "#kind")]
    insert_rows(backend, run, up, "#kind", ["kind"], [("50%",), ("a",)])
    insert_rows(backend, run, down, "kind_use", ["kind"], [("50%",)])
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        insert_rows(backend, run, down, "kind_use", ["kind"], [("zzz",)])


def test_inserts(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    _, down = declared
    table = backend.dialect.full_table_name(down, "#pair")
    cols = ["a", "b", "v"]
    insert_rows(backend, run, down, "#pair", cols, [(1, 1, 10), (1, 2, 20)])
    insert_rows(
        backend,
        run,
        down,
        "#pair",
        cols,
        [(1, 1, 99), (2, 1, 30)],
        on_duplicate="skip",
        primary_key=["a", "b"],
    )
    assert run(f"SELECT a, b, v FROM {table} ORDER BY a, b") == [(1, 1, 10), (1, 2, 20), (2, 1, 30)]
    insert_rows(
        backend,
        run,
        down,
        "#pair",
        cols,
        [(1, 2, 21), (3, 3, 33)],
        on_duplicate="replace",
        primary_key=["a", "b"],
    )
    assert run(f"SELECT a, b, v FROM {table} ORDER BY a, b") == [
        (1, 1, 10),
        (1, 2, 21),
        (2, 1, 30),
        (3, 3, 33),
    ]
    with pytest.raises(psycopg.errors.UniqueViolation):
        insert_rows(backend, run, down, "#pair", cols, [(1, 1, 0)])
    counter = backend.dialect.full_table_name(down, "~counter")
    run(backend.dialect.insert_sql(down, "~counter", [], 1))
    run(backend.dialect.insert_sql(down, "~counter", [], 3))
    assert run(f"SELECT id, label FROM {counter} ORDER BY id") == [(i, "x") for i in (1, 2, 3, 4)]


def test_encoded_values_round_trip(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    up, down = declared
    d = backend.dialect
    insert_rows(backend, run, up, "subject", ["lab", "subject_id"], [("L", 1), ("L", 2)])
    u = uuid.uuid4()
    cols = ["subject_id", "lab", "session", "status", "meta", "uid", "flag", "data"]
    types = ["int32", "varchar(16)", "int16", "enum", "json", "uuid", "bool", "bytes"]
    row = (1, "L", 1, "it's", {"a": [1, 2]}, str(u), 0, b"\x00\x01")
    insert_rows(
        backend,
        run,
        down,
        "_session",
        cols,
        [tuple(d.encode_param(v, t) for v, t in zip(row, types, strict=True))],
    )
    got = run(
        f"SELECT {', '.join(d.quote(c) for c in cols)}, note, code FROM "
        f"{d.full_table_name(down, '_session')}"
    )
    assert d.column_decoder("json", "jsonb") is None  # psycopg parses jsonb itself
    assert got[0][:4] == (1, "L", 1, "it's")
    assert got[0][4] == {"a": [1, 2]}
    assert got[0][5:] == (u, False, b"\x00\x01", None, "ab'c")


def test_transactional_ddl_and_drop(backend: Any, run: Run, declared: tuple[str, str]) -> None:
    _, down = declared
    d, intro = backend.dialect, backend.introspection
    spec = TableSpec(down, "temp", (ColumnSpec("k", "integer"),), ("k",))
    run(d.begin_sql())
    for sql in d.create_table_sql(spec):
        run(sql)
    run(d.rollback_sql())
    assert "temp" not in intro.list_tables(run, down)

    enum_sql = d.core_type_sql("enum('x','y')", schema=down)
    spec = TableSpec(down, "temp", (ColumnSpec("k", enum_sql, enum_values=("x", "y")),), ("k",))
    for sql in d.create_table_sql(spec):
        run(sql)
    type_name = enum_sql.split(".")[1].strip('"')
    count = (
        "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = %s AND t.typname = %s"
    )
    assert run(count, [down, type_name]) == [(1,)]
    for sql in d.drop_table_sql(down, "temp"):
        run(sql)
    assert run(count, [down, type_name]) == [(0,)]
    # the enum type still used by "_session" survives
    shared = d.enum_type_sql(down, STATUS).split(".")[1].strip('"')
    assert run(count, [down, shared]) == [(1,)]
