"""Unit tests of PostgresDialect (no server needed)."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from datajoint.algebra import model as m
from datajoint.backend.contract import (
    ColumnSpec,
    Dialect,
    ForeignKeySpec,
    IndexSpec,
    TableSpec,
)
from datajoint.errors import DataJointError
from dj_backend_postgres.dialect import PostgresDialect
from dj_backend_postgres.sqltext import index_name, json_path_elements, translate_user_sql

D = PostgresDialect()


def test_protocol_and_capabilities() -> None:
    assert isinstance(D, Dialect)
    caps = D.capabilities
    assert (D.name, D.placeholder, D.max_table_name_length) == ("postgresql", "%s", 63)
    assert not caps.column_positions and not caps.inline_indexes and not caps.inline_comments
    assert not caps.auto_indexes_foreign_keys and not caps.having_on_aliases
    assert not caps.rename_column
    assert caps.transactional_ddl and caps.server_side_cursors
    assert caps.max_bind_parameters == 65535


def test_quoting() -> None:
    assert D.quote("a") == '"a"'
    assert D.quote('we"ird') == '"we""ird"'
    assert D.full_table_name("s", "#t") == '"s"."#t"'
    assert D.string_literal("it's") == "'it''s'"


@pytest.mark.parametrize(
    ("core", "native"),
    [
        ("int8", "smallint"),
        ("int16", "smallint"),
        ("int32", "integer"),
        ("int64", "bigint"),
        ("float32", "real"),
        ("float64", "double precision"),
        ("bool", "boolean"),
        ("boolean", "boolean"),
        ("uuid", "uuid"),
        ("bytes", "bytea"),
        ("json", "jsonb"),
        ("jsonb", "jsonb"),
        ("date", "date"),
        ("datetime", "timestamp"),
        ("datetime(3)", "timestamp(3)"),
        ("datetime( 6 )", "timestamp(6)"),
        ("char(4)", "char(4)"),
        ("varchar(255)", "varchar(255)"),
        ("decimal(10, 2)", "numeric(10,2)"),
        ("decimal(8)", "numeric(8)"),
    ],
)
def test_core_types(core: str, native: str) -> None:
    assert D.core_type_sql(core, schema="s") == native


def test_unknown_core_type() -> None:
    with pytest.raises(ValueError, match="Unknown core type"):
        D.core_type_sql("longblob", schema="s")


def test_enum_type_name() -> None:
    expected = "enum_" + hashlib.md5(b"a_b_c").hexdigest()[:8]
    assert D.core_type_sql("enum('c','a','b')", schema="lab") == f'"lab"."{expected}"'
    # the same value set in any order shares the type; a different schema qualifies differently
    assert D.core_type_sql("enum('a', 'b', 'c')", schema="lab") == f'"lab"."{expected}"'
    assert D.core_type_sql("enum('a','b','c')", schema="x") == f'"x"."{expected}"'
    quoted = "enum_" + hashlib.md5(b"it's_z").hexdigest()[:8]
    assert D.core_type_sql("enum('z','it''s')", schema="s") == f'"s"."{quoted}"'


def _spec() -> TableSpec:
    status = ("new", "done", "it's")
    return TableSpec(
        schema="lab",
        name="_session",
        columns=(
            ColumnSpec("subject_id", "integer", comment=":int32:subject"),
            ColumnSpec("session", "smallint", comment=":int16:"),
            ColumnSpec("note", "varchar(64)", default="'it''s'", comment=":varchar(64):a 'note'"),
            ColumnSpec(
                "status",
                D.core_type_sql("enum('new','done','it''s')", schema="lab"),
                default="'new'",
                enum_values=status,
            ),
            ColumnSpec(
                "status2",
                "enum('done','new','it''s')",  # a plain enum text: this schema's shared type
                nullable=True,
                default="NULL",
                enum_values=("done", "new", "it's"),
            ),
            ColumnSpec("flag", "boolean", default="1"),
            ColumnSpec("ts", "timestamp", default="CURRENT_TIMESTAMP"),
        ),
        primary_key=("subject_id", "session"),
        foreign_keys=(ForeignKeySpec(("subject_id",), "other", "subject", ("subject_id",)),),
        indexes=(IndexSpec(("note",)), IndexSpec(("status", "note"), unique=True)),
        comment="a session's data",
    )


def test_create_table_sql() -> None:
    statements = D.create_table_sql(_spec())
    enum_type = D.enum_type_sql("lab", ("new", "done", "it's"))
    assert statements[0] == (
        f"DO $dj$ BEGIN CREATE TYPE {enum_type} AS ENUM ('new', 'done', 'it''s');"
        " EXCEPTION WHEN duplicate_object THEN NULL; END $dj$"
    )
    assert statements[1] == (
        'CREATE TABLE IF NOT EXISTS "lab"."_session" (\n'
        '  "subject_id" integer NOT NULL,\n'
        '  "session" smallint NOT NULL,\n'
        "  \"note\" varchar(64) NOT NULL DEFAULT 'it''s',\n"
        f"  \"status\" {enum_type} NOT NULL DEFAULT 'new',\n"
        f'  "status2" {enum_type} NULL DEFAULT NULL,\n'
        '  "flag" boolean NOT NULL DEFAULT TRUE,\n'
        '  "ts" timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,\n'
        '  PRIMARY KEY ("subject_id", "session"),\n'
        '  FOREIGN KEY ("subject_id") REFERENCES "other"."subject" ("subject_id")'
        " ON UPDATE CASCADE ON DELETE RESTRICT\n)"
    )
    ix = index_name("_session", ("note",), False)
    uq = index_name("_session", ("status", "note"), True)
    assert statements[2] == f'CREATE INDEX IF NOT EXISTS "{ix}" ON "lab"."_session" ("note")'
    assert statements[3] == (
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{uq}" ON "lab"."_session" ("status", "note")'
    )
    assert statements[4:] == [
        "COMMENT ON TABLE \"lab\".\"_session\" IS 'a session''s data'",
        'COMMENT ON COLUMN "lab"."_session"."subject_id" IS \':int32:subject\'',
        'COMMENT ON COLUMN "lab"."_session"."session" IS \':int16:\'',
        "COMMENT ON COLUMN \"lab\".\"_session\".\"note\" IS ':varchar(64):a ''note'''",
    ]


def test_percent_signs_are_doubled() -> None:
    """The kernel always executes with a parameter list, so literal % must be written %%."""
    spec = TableSpec(
        "s",
        "t",
        (ColumnSpec("k", "x", default="'5%'", comment=":x:in %", enum_values=("1%", "2")),),
        ("k",),
        comment="100%",
    )
    statements = D.create_table_sql(spec)
    assert "('1%%', '2')" in statements[0]
    assert "DEFAULT '5%%'" in statements[1]
    assert statements[2:] == [
        'COMMENT ON TABLE "s"."t" IS \'100%%\'',
        'COMMENT ON COLUMN "s"."t"."k" IS \':x:in %%\'',
    ]


def test_inherited_enum_type_is_kept() -> None:
    parent_type = D.enum_type_sql("parent", ("a", "b"))
    spec = TableSpec("child", "t", (ColumnSpec("k", parent_type, enum_values=("a", "b")),), ("k",))
    statements = D.create_table_sql(spec)
    assert f"CREATE TYPE {parent_type} AS ENUM ('a', 'b')" in statements[0]
    assert f'"k" {parent_type} NOT NULL' in statements[1]
    plain = TableSpec(
        "child", "t", (ColumnSpec("k", "enum('a','b')", enum_values=("a", "b")),), ("k",)
    )
    assert D.enum_type_sql("child", ("a", "b")) in D.create_table_sql(plain)[1]


def test_enum_type_named_earlier_is_created_without_values() -> None:
    dialect = PostgresDialect()
    type_sql = dialect.core_type_sql("enum('x','y')", schema="s")
    statements = dialect.create_table_sql(TableSpec("s", "t", (ColumnSpec("k", type_sql),), ("k",)))
    assert f"CREATE TYPE {type_sql} AS ENUM ('x', 'y')" in statements[0]


def test_autoincrement_column() -> None:
    spec = TableSpec("s", "t", (ColumnSpec("id", "bigint", autoincrement=True),), ("id",))
    assert '"id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY' in D.create_table_sql(spec)[0]


def test_index_names() -> None:
    a = index_name("session", ("a",), False)
    assert a.startswith("ix_session_a_") and len(a) == len("ix_session_a_") + 8
    assert index_name("session", ("a",), False) == a  # deterministic
    assert index_name("session", ("a",), True).startswith("uq_")
    # tables differing only by tier prefix get different names
    assert index_name("#session", ("a",), False) != a
    assert index_name("a_b", ("c",), False) != index_name("a", ("b_c",), False)
    long = index_name("t" * 60, ("c" * 60, "d" * 60), False)
    assert len(long.encode()) <= 63
    assert len(index_name("é" * 60, ("ü" * 30,), True).encode()) <= 63


def test_schema_and_drop_sql() -> None:
    assert D.create_schema_sql("x") == ['CREATE SCHEMA "x"']
    assert D.drop_schema_sql("x") == ['DROP SCHEMA IF EXISTS "x" CASCADE']
    drop = D.drop_table_sql("x", "t")
    assert drop[0] == 'DROP TABLE IF EXISTS "x"."t"'
    # the schema name reaches the clean-up block as a bound parameter, never as SQL text
    assert drop[1] == "SELECT set_config('datajoint.enum_schema', %s, false)"
    assert drop[1].params == ("x",)
    assert drop[2].startswith("DO $dj$") and "DROP TYPE IF EXISTS" in drop[2]
    assert "%" not in drop[2] and "'x'" not in drop[2]
    assert (D.begin_sql(), D.commit_sql(), D.rollback_sql()) == ("BEGIN", "COMMIT", "ROLLBACK")


def test_insert_sql() -> None:
    base = 'INSERT INTO "s"."t" ("a", "b", "c") VALUES (%s, %s, %s), (%s, %s, %s)'
    assert D.insert_sql("s", "t", ["a", "b", "c"], 2) == base
    assert D.insert_sql("s", "t", ["a", "b", "c"], 2, on_duplicate="skip", primary_key=["a"]) == (
        base + ' ON CONFLICT ("a") DO NOTHING'
    )
    assert (
        D.insert_sql("s", "t", ["a", "b", "c"], 2, on_duplicate="replace", primary_key=["a", "b"])
        == base + ' ON CONFLICT ("a", "b") DO UPDATE SET "c" = EXCLUDED."c"'
    )
    assert D.insert_sql("s", "t", ["a"], 1, on_duplicate="replace", primary_key=["a"]) == (
        'INSERT INTO "s"."t" ("a") VALUES (%s) ON CONFLICT ("a") DO NOTHING'
    )


def test_insert_sql_without_columns() -> None:
    assert D.insert_sql("s", "t", [], 1) == 'INSERT INTO "s"."t" DEFAULT VALUES'
    assert D.insert_sql("s", "t", [], 3) == (
        'INSERT INTO "s"."t" SELECT FROM generate_series(1, 3)'
    )
    assert D.insert_sql("s", "t", [], 1, on_duplicate="skip", primary_key=["id"]) == (
        'INSERT INTO "s"."t" DEFAULT VALUES ON CONFLICT ("id") DO NOTHING'
    )


def test_insert_replace_needs_primary_key() -> None:
    with pytest.raises(DataJointError):
        D.insert_sql("s", "t", ["a"], 1, on_duplicate="replace")


def test_encode_param() -> None:
    u = uuid.uuid4()
    assert D.encode_param(str(u), "uuid") == u
    assert D.encode_param(u, "uuid") is u
    assert D.encode_param(u.bytes, "uuid") == u
    with pytest.raises(ValueError):
        D.encode_param("not-a-uuid", "uuid")
    assert json.loads(D.encode_param({"a": [1, 2]}, "json")) == {"a": [1, 2]}
    assert json.loads(D.encode_param([1], "jsonb")) == [1]
    assert D.encode_param(None, "json") is None
    assert D.encode_param(True, "bool") is True
    assert D.encode_param(0, "bool") is False
    assert D.encode_param(1.0, "bool") is True
    assert D.encode_param(True, "int32") == 1
    assert D.encode_param("x", "varchar(3)") == "x"
    assert D.encode_param(5, None) == 5


def test_column_decoder() -> None:
    # psycopg returns jsonb parsed, a JSON string as str: decoding it again would fail
    for core, native in [
        ("json", "jsonb"),
        ("int32", "integer"),
        ("uuid", "uuid"),
        ("bool", "boolean"),
        (None, "x"),
    ]:
        assert D.column_decoder(core, native) is None


def _select(**kw: object) -> m.Select:
    return m.Select(source=m.TableSource("s", "t"), **kw)  # type: ignore[arg-type]


def test_render_nodes() -> None:
    assert D.render(m.Param(5)) == ("%s", [5])
    assert D.render(m.Column("a", "x")) == ('"x"."a"', [])
    assert D.render(m.Literal(True))[0] == "TRUE"
    assert D.render(m.Compare(m.Column("a"), "<>", m.Param("v"))) == ('"a" <> %s', ["v"])
    assert D.render(m.IsNull(m.Column("a")))[0] == '"a" IS NULL'
    assert D.render(m.And(()))[0] == "TRUE" and D.render(m.Or(()))[0] == "FALSE"
    both = m.And((m.Compare(m.Column("a"), "=", m.Param(1)), m.Not(m.Literal(False))))
    assert D.render(both) == ('("a" = %s AND NOT (FALSE))', [1])
    assert D.render(m.Or((m.Param(1), m.Param(2)))) == ("(%s OR %s)", [1, 2])
    sub = m.Select(source=m.TableSource("s", "u"), items=(m.SelectItem(m.Column("a")),))
    assert D.render(m.InSelect(("a", "b"), sub, negate=True))[0] == (
        '(("a", "b") NOT IN (SELECT "a" FROM "s"."u"))'
    )


def test_render_select() -> None:
    sql, params = D.render(
        m.Select(
            source=m.JoinSource(
                m.TableSource("s", "a", alias="$1"),
                m.SubquerySource(_select(), alias="$2"),
                using=("k",),
                left_outer=True,
            ),
            items=(m.SelectItem(m.Column("k")), m.SelectItem(m.RawSQL("count(*)"), alias="n")),
            where=m.Compare(m.Column("k"), ">", m.Param(3)),
            group_by=(m.Column("k"),),
            having=m.Compare(m.RawSQL("count(*)"), ">", m.Param(1)),
            order_by=(m.OrderItem(m.Column("k"), descending=True),),
            limit=10,
            offset=5,
            distinct=True,
        )
    )
    assert sql == (
        'SELECT DISTINCT "k", count(*) AS "n" FROM "s"."a" AS "$1" LEFT JOIN '
        '(SELECT * FROM "s"."t") AS "$2" USING ("k") WHERE "k" > %s GROUP BY "k" '
        'HAVING count(*) > %s ORDER BY "k" DESC NULLS LAST LIMIT 10 OFFSET 5'
    )
    assert params == [3, 1]
    cross = m.JoinSource(m.TableSource("s", "a"), m.TableSource("s", "b"))
    assert D.render(cross)[0] == '"s"."a" CROSS JOIN "s"."b"'
    outer = m.JoinSource(m.TableSource("s", "a"), m.TableSource("s", "b"), left_outer=True)
    assert D.render(outer)[0] == '"s"."a" LEFT JOIN "s"."b" ON TRUE'
    assert D.render(m.Union((_select(), _select())))[0] == (
        '(SELECT * FROM "s"."t") UNION (SELECT * FROM "s"."t")'
    )
    assert D.render(m.Exists(_select(limit=1)))[0] == 'SELECT EXISTS(SELECT * FROM "s"."t" LIMIT 1)'


def test_raw_sql() -> None:
    assert D.render(m.RawSQL("name LIKE 'a%'"))[0] == "name LIKE 'a%%'"
    assert D.render(m.RawSQL("`a` = 'x`y' AND \"b\" = 1"))[0] == '"a" = \'x`y\' AND "b" = 1'
    assert translate_user_sql('`we"ird` + `a``b`') == '"we""ird" + "a`b"'


def test_json_path() -> None:
    assert json_path_elements("a.b[0].c") == ["a", "b", "0", "c"]
    assert json_path_elements("$.a") == ["a"]
    assert D.json_path_sql("meta", "a.b[2]") == ("jsonb_extract_path_text(\"meta\", 'a', 'b', '2')")
    assert D.json_path_sql("meta", "n", "unsigned") == (
        "(jsonb_extract_path_text(\"meta\", 'n'))::integer"
    )
    assert D.json_path_sql("meta", "x", "double").endswith("::double precision")
    assert D.json_path_sql("meta", "x", "decimal(5, 2)").endswith("::numeric(5,2)")
    assert D.current_timestamp_sql() == "CURRENT_TIMESTAMP"
    assert D.current_timestamp_sql(3) == "CURRENT_TIMESTAMP(3)"
