"""MySQLDialect without a server: quoting, types, DDL, insert forms, query-model rendering."""

from __future__ import annotations

import datetime
import decimal
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
from dj_backend_mysql.dialect import MAX_LIMIT, MySQLDialect


@pytest.fixture
def d() -> MySQLDialect:
    return MySQLDialect()


def test_protocol_and_attributes(d: MySQLDialect) -> None:
    assert isinstance(d, Dialect)
    assert d.name == "mysql"
    assert d.placeholder == "%s"
    assert d.max_table_name_length == 64
    caps = d.capabilities
    assert caps.column_positions and caps.inline_indexes and caps.inline_comments
    assert caps.auto_indexes_foreign_keys and caps.server_side_cursors
    assert caps.having_on_aliases and caps.rename_column
    assert not caps.transactional_ddl
    assert caps.max_bind_parameters >= 60000


def test_quoting(d: MySQLDialect) -> None:
    assert d.quote("a") == "`a`"
    assert d.quote("we`ird") == "`we``ird`"
    assert d.full_table_name("s", "#t") == "`s`.`#t`"
    assert d.string_literal('it\'s \\ "q"') == "'it\\'s \\\\ \"q\"'"
    assert d.comment_literal('say "hi" \\') == '"say \\"hi\\" \\\\"'
    assert d.comment_literal("nul\0") == '"nul\\0"'


@pytest.mark.parametrize(
    ("core", "native"),
    [
        ("int8", "tinyint"),
        ("int16", "smallint"),
        ("int32", "int"),
        ("int64", "bigint"),
        ("float32", "float"),
        ("float64", "double"),
        ("bool", "tinyint"),
        ("boolean", "tinyint"),
        ("uuid", "binary(16)"),
        ("bytes", "longblob"),
        ("json", "json"),
        ("date", "date"),
        ("datetime", "datetime"),
        ("datetime(3)", "datetime(3)"),
        ("char(8)", "char(8)"),
        ("varchar(255)", "varchar(255)"),
        ("decimal(10,2)", "decimal(10,2)"),
        ("enum('a','b''c')", "enum('a','b''c')"),
    ],
)
def test_core_types(d: MySQLDialect, core: str, native: str) -> None:
    assert d.core_type_sql(core, schema="s") == native


@pytest.mark.parametrize("core", ["jsonb", "uint8", "text", "varchar"])
def test_unknown_core_types(d: MySQLDialect, core: str) -> None:
    with pytest.raises(ValueError, match="Unknown core type"):
        d.core_type_sql(core, schema="s")


def test_schema_ddl(d: MySQLDialect) -> None:
    assert d.create_schema_sql("lab") == ["CREATE DATABASE `lab`"]
    assert d.drop_schema_sql("lab") == ["DROP DATABASE IF EXISTS `lab`"]
    assert d.drop_table_sql("lab", "#t") == ["DROP TABLE IF EXISTS `lab`.`#t`"]


def test_create_table_full(d: MySQLDialect) -> None:
    spec = TableSpec(
        schema="lab",
        name="session",
        columns=(
            ColumnSpec("subject_id", "int", comment=":int32:subject id"),
            ColumnSpec("session_idx", "smallint", comment=":int16:"),
            ColumnSpec("kind", "enum('a','b')", default="'a'", enum_values=("a", "b")),
            ColumnSpec("note", "varchar(100)", default="'50% \"done\"'", comment='a "quoted" note'),
            ColumnSpec("ts", "datetime(3)", default="CURRENT_TIMESTAMP(3)"),
            ColumnSpec("data", "longblob", nullable=True, default="NULL", comment=":<blob>:"),
        ),
        primary_key=("subject_id", "session_idx"),
        foreign_keys=(ForeignKeySpec(("subject_id",), "lab", "subject", ("subject_id",)),),
        indexes=(IndexSpec(("kind", "ts"), unique=True), IndexSpec(("note",))),
        comment="a session, 100%",
    )
    assert d.create_table_sql(spec) == [
        "CREATE TABLE IF NOT EXISTS `lab`.`session` (\n"
        '  `subject_id` int NOT NULL COMMENT ":int32:subject id",\n'
        '  `session_idx` smallint NOT NULL COMMENT ":int16:",\n'
        "  `kind` enum('a','b') NOT NULL DEFAULT 'a',\n"
        "  `note` varchar(100) NOT NULL DEFAULT '50%% \"done\"' "
        'COMMENT "a \\"quoted\\" note",\n'
        "  `ts` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),\n"
        '  `data` longblob NULL DEFAULT NULL COMMENT ":<blob>:",\n'
        "  PRIMARY KEY (`subject_id`, `session_idx`),\n"
        "  FOREIGN KEY (`subject_id`) REFERENCES `lab`.`subject` (`subject_id`)"
        " ON UPDATE CASCADE ON DELETE RESTRICT,\n"
        "  UNIQUE INDEX (`kind`, `ts`),\n"
        "  INDEX (`note`)\n"
        ') ENGINE=InnoDB, COMMENT "a session, 100%%"'
    ]


def test_create_table_plain_options(d: MySQLDialect) -> None:
    spec = TableSpec(
        schema="s",
        name="#t",
        columns=(ColumnSpec("id", "int", autoincrement=True), ColumnSpec("x", "float", True)),
        primary_key=("id",),
    )
    (sql,) = d.create_table_sql(spec)
    assert "`id` int NOT NULL AUTO_INCREMENT" in sql
    assert "`x` float NULL," in sql
    assert sql.endswith("\n) ENGINE=InnoDB")


@pytest.mark.parametrize("default", ["'abc'", "''", "0"])
def test_blob_default_refused(d: MySQLDialect, default: str) -> None:
    spec = TableSpec("s", "t", (ColumnSpec("b", "longblob", default=default),), ("b",))
    with pytest.raises(DataJointError, match="default value for blob attributes can only be NULL"):
        d.create_table_sql(spec)


def test_insert_forms(d: MySQLDialect) -> None:
    cols = ("a", "b")
    assert d.insert_sql("s", "t", cols, 2) == (
        "INSERT INTO `s`.`t` (`a`, `b`) VALUES (%s, %s), (%s, %s)"
    )
    assert d.insert_sql("s", "t", cols, 1, on_duplicate="replace", primary_key=("a",)) == (
        "REPLACE INTO `s`.`t` (`a`, `b`) VALUES (%s, %s)"
    )
    assert d.insert_sql("s", "t", cols, 1, on_duplicate="skip", primary_key=("b", "a")) == (
        "INSERT INTO `s`.`t` (`a`, `b`) VALUES (%s, %s) ON DUPLICATE KEY UPDATE `b`=`s`.`t`.`b`"
    )


def test_insert_zero_columns(d: MySQLDialect) -> None:
    assert d.insert_sql("s", "t", (), 3) == "INSERT INTO `s`.`t` () VALUES (), (), ()"
    assert d.insert_sql("s", "t", (), 1, on_duplicate="skip", primary_key=("id",)) == (
        "INSERT INTO `s`.`t` () VALUES () ON DUPLICATE KEY UPDATE `id`=`s`.`t`.`id`"
    )
    assert (
        d.insert_sql("s", "t", (), 1, on_duplicate="skip")
        == "INSERT IGNORE INTO `s`.`t` () VALUES ()"
    )


def test_insert_needs_rows(d: MySQLDialect) -> None:
    with pytest.raises(ValueError, match="at least one row"):
        d.insert_sql("s", "t", ("a",), 0)


def test_transactions(d: MySQLDialect) -> None:
    assert d.begin_sql() == "START TRANSACTION WITH CONSISTENT SNAPSHOT"
    assert d.commit_sql() == "COMMIT"
    assert d.rollback_sql() == "ROLLBACK"


def test_encode_param(d: MySQLDialect) -> None:
    u = uuid.uuid4()
    assert d.encode_param(u, "uuid") == u.bytes
    assert d.encode_param(str(u), "uuid") == u.bytes
    assert d.encode_param(u.bytes, "uuid") == u.bytes
    assert d.encode_param(True, "bool") == 1 and d.encode_param(False, "bool") == 0
    assert type(d.encode_param(True, "bool")) is int
    assert d.encode_param(True, None) == 1
    assert json.loads(d.encode_param({"a": [1, 2]}, "json")) == {"a": [1, 2]}
    assert d.encode_param(None, "json") is None
    assert d.encode_param(None, "uuid") is None
    for value in (decimal.Decimal("1.25"), datetime.date(2024, 1, 2), datetime.datetime.now()):
        assert d.encode_param(value, None) is value


def test_encode_param_numpy(d: MySQLDialect) -> None:
    np = pytest.importorskip("numpy")
    assert type(d.encode_param(np.int64(3), "int64")) is int
    assert d.encode_param(np.bool_(True), "bool") == 1


def test_column_decoders(d: MySQLDialect) -> None:
    u = uuid.uuid4()
    dec = d.column_decoder("uuid", "binary(16)")
    assert dec is not None and dec(u.bytes) == u and dec(None) is None
    dec = d.column_decoder("bool", "tinyint")
    assert dec is not None and dec(1) is True and dec(0) is False and dec(None) is None
    dec = d.column_decoder("json", "json")
    assert dec is not None
    assert dec('{"a": 1}') == {"a": 1} and dec(b"[1]") == [1] and dec(None) is None
    assert d.column_decoder("int32", "int") is None
    assert d.column_decoder(None, "longblob") is None


# ---- query model --------------------------------------------------------------------------
T = m.TableSource("s", "t")
U = m.TableSource("s", "u", alias="u1")


def test_render_leaves(d: MySQLDialect) -> None:
    assert d.render(m.Param(5)) == ("%s", [5])
    assert d.render(m.Column("a")) == ("`a`", [])
    assert d.render(m.Column("a", "x")) == ("`x`.`a`", [])
    assert d.render(m.RawSQL("a LIKE 'x%'")) == ("a LIKE 'x%%'", [])
    assert d.render(m.Literal(True)) == ("TRUE", [])
    assert d.render(m.Literal(False)) == ("FALSE", [])
    u = uuid.uuid4()
    assert d.render(m.Param(u)) == ("%s", [u.bytes])


def test_render_conditions(d: MySQLDialect) -> None:
    cond = m.And(
        (
            m.Compare(m.Column("a"), "=", m.Param(1)),
            m.Or((m.IsNull(m.Column("b")), m.Compare(m.Column("c"), "<>", m.Param("x")))),
            m.Not(m.Compare(m.Column("d"), ">=", m.Param(2.5))),
        )
    )
    sql, params = d.render(cond)
    assert sql == "(`a` = %s AND (`b` IS NULL OR `c` <> %s) AND NOT (`d` >= %s))"
    assert params == [1, "x", 2.5]
    assert d.render(m.And(())) == ("TRUE", [])
    assert d.render(m.Or(())) == ("FALSE", [])


def test_render_in_select(d: MySQLDialect) -> None:
    inner = m.Select(
        T, items=(m.SelectItem(m.Column("a")),), where=m.Compare(m.Column("b"), "=", m.Param(1))
    )
    node = m.InSelect(("a", "b"), inner, negate=True)
    sql, params = d.render(node)
    assert sql == "((`a`, `b`) NOT IN (SELECT `a` FROM `s`.`t` WHERE `b` = %s))"
    assert params == [1]
    limited = m.InSelect(("a",), m.Select(T, limit=3))
    assert d.render(limited)[0] == (
        "((`a`) IN (SELECT * FROM (SELECT * FROM `s`.`t` LIMIT 3) AS `_dj_in`))"
    )


def test_render_sources(d: MySQLDialect) -> None:
    assert d.render(T) == ("`s`.`t`", [])
    assert d.render(U) == ("`s`.`u` AS `u1`", [])
    sub = m.SubquerySource(m.Select(T, where=m.Compare(m.Column("a"), "<", m.Param(3))), "q")
    assert d.render(sub) == ("(SELECT * FROM `s`.`t` WHERE `a` < %s) AS `q`", [3])
    assert d.render(m.JoinSource(T, U, using=("a", "b"))) == (
        "`s`.`t` JOIN `s`.`u` AS `u1` USING (`a`, `b`)",
        [],
    )
    assert d.render(m.JoinSource(T, U, using=("a",), left_outer=True))[0] == (
        "`s`.`t` LEFT JOIN `s`.`u` AS `u1` USING (`a`)"
    )
    assert d.render(m.JoinSource(T, U))[0] == "`s`.`t` CROSS JOIN `s`.`u` AS `u1`"
    assert d.render(m.JoinSource(T, U, left_outer=True))[0] == (
        "`s`.`t` LEFT JOIN `s`.`u` AS `u1` ON TRUE"
    )


def test_render_select_full_and_param_order(d: MySQLDialect) -> None:
    node = m.Select(
        source=m.SubquerySource(
            m.Select(T, where=m.Compare(m.Column("a"), "=", m.Param("p1"))), "q"
        ),
        items=(
            m.SelectItem(m.Column("a", "q")),
            m.SelectItem(m.RawSQL("count(*)"), "n"),
            m.SelectItem(m.Param("p2"), "k"),
        ),
        where=m.Compare(m.Column("b"), ">", m.Param("p3")),
        group_by=(m.Column("a", "q"),),
        having=m.Compare(m.Column("n"), ">", m.Param("p4")),
        order_by=(m.OrderItem(m.Column("n"), descending=True), m.OrderItem(m.Column("a"))),
        limit=10,
        offset=5,
        distinct=True,
    )
    sql, params = d.render(node)
    assert sql == (
        "SELECT DISTINCT `q`.`a`, count(*) AS `n`, %s AS `k` "
        "FROM (SELECT * FROM `s`.`t` WHERE `a` = %s) AS `q` "
        "WHERE `b` > %s GROUP BY `q`.`a` HAVING `n` > %s "
        "ORDER BY `n` DESC, `a` LIMIT 10 OFFSET 5"
    )
    assert params == ["p2", "p1", "p3", "p4"]


def test_render_offset_without_limit(d: MySQLDialect) -> None:
    assert d.render(m.Select(T, offset=4))[0] == f"SELECT * FROM `s`.`t` LIMIT {MAX_LIMIT} OFFSET 4"
    assert d.render(m.Select(T, limit=0))[0] == "SELECT * FROM `s`.`t` LIMIT 0"


def test_render_union_and_exists(d: MySQLDialect) -> None:
    a = m.Select(T, where=m.Compare(m.Column("a"), "=", m.Param(1)))
    b = m.Select(U, where=m.Compare(m.Column("a"), "=", m.Param(2)))
    assert d.render(m.Union((a, b))) == (
        "(SELECT * FROM `s`.`t` WHERE `a` = %s) UNION "
        "(SELECT * FROM `s`.`u` AS `u1` WHERE `a` = %s)",
        [1, 2],
    )
    assert d.render(m.Exists(a)) == ("SELECT EXISTS(SELECT * FROM `s`.`t` WHERE `a` = %s)", [1])


def test_render_unknown_node(d: MySQLDialect) -> None:
    class Strange(m.Node):
        pass

    with pytest.raises(DataJointError, match="cannot render Strange"):
        d.render(Strange())


def test_json_path(d: MySQLDialect) -> None:
    assert d.json_path_sql("doc", "a.b[0].c") == "json_value(`doc`, '$.a.b[0].c')"
    assert d.json_path_sql("doc", "n", "signed") == "CAST(json_value(`doc`, '$.n') AS signed)"
