"""Live: inserts, value round trips, rendered queries, error translation, transactions."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest

from datajoint import errors
from datajoint.algebra import model as m
from datajoint.backend.contract import Backend, ColumnSpec, ForeignKeySpec, TableSpec

from .conftest import Run

pytestmark = pytest.mark.backend


def create(backend: Backend, run: Run, spec: TableSpec) -> None:
    for sql in backend.dialect.create_table_sql(spec):
        run(sql, [])


def insert(
    backend: Backend,
    run: Run,
    db: str,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple],
    **kw: Any,
) -> None:
    sql = backend.dialect.insert_sql(db, table, columns, len(rows), **kw)
    run(sql, [v for row in rows for v in row])


@pytest.fixture
def tables(backend: Backend, run: Run, db: str) -> str:
    """``parent(pid, name)`` and ``child(pid, cid, note NOT NULL)`` referencing it."""
    create(
        backend,
        run,
        TableSpec(
            db,
            "parent",
            (ColumnSpec("pid", "int"), ColumnSpec("name", "varchar(20)", default="'none'")),
            ("pid",),
        ),
    )
    create(
        backend,
        run,
        TableSpec(
            db,
            "child",
            (ColumnSpec("pid", "int"), ColumnSpec("cid", "int"), ColumnSpec("note", "varchar(20)")),
            ("pid", "cid"),
            foreign_keys=(ForeignKeySpec(("pid",), db, "parent", ("pid",)),),
        ),
    )
    return db


def rows_of(run: Run, db: str, table: str) -> list[tuple]:
    return run(f"SELECT * FROM `{db}`.`{table}` ORDER BY 1, 2", [])


def test_insert_skip_and_replace(backend: Backend, run: Run, tables: str) -> None:
    db, cols = tables, ("pid", "name")
    insert(backend, run, db, "parent", cols, [(1, "a"), (2, "b"), (3, "50%")])
    assert rows_of(run, db, "parent") == [(1, "a"), (2, "b"), (3, "50%")]
    with pytest.raises(errors.DuplicateError):
        insert(backend, run, db, "parent", cols, [(1, "x")])
    insert(
        backend,
        run,
        db,
        "parent",
        cols,
        [(1, "x"), (4, "d")],
        on_duplicate="skip",
        primary_key=("pid",),
    )
    assert rows_of(run, db, "parent") == [(1, "a"), (2, "b"), (3, "50%"), (4, "d")]
    insert(
        backend,
        run,
        db,
        "parent",
        cols,
        [(2, "B"), (5, "e")],
        on_duplicate="replace",
        primary_key=("pid",),
    )
    assert rows_of(run, db, "parent") == [(1, "a"), (2, "B"), (3, "50%"), (4, "d"), (5, "e")]


def test_zero_column_insert(backend: Backend, run: Run, db: str) -> None:
    create(
        backend, run, TableSpec(db, "auto", (ColumnSpec("id", "int", autoincrement=True),), ("id",))
    )
    insert(backend, run, db, "auto", (), [(), (), ()])
    assert run(f"SELECT id FROM `{db}`.`auto` ORDER BY id", []) == [(1,), (2,), (3,)]
    create(
        backend,
        run,
        TableSpec(
            db, "single", (ColumnSpec("_singleton", "tinyint", default="'1'"),), ("_singleton",)
        ),
    )
    insert(backend, run, db, "single", (), [()])
    insert(backend, run, db, "single", (), [()], on_duplicate="skip", primary_key=("_singleton",))
    assert run(f"SELECT * FROM `{db}`.`single`", []) == [(1,)]


def test_value_round_trip(backend: Backend, run: Run, db: str) -> None:
    d = backend.dialect
    types = {
        "u": "uuid",
        "flag": "bool",
        "doc": "json",
        "amount": "decimal(8,3)",
        "day": "date",
        "moment": "datetime(6)",
        "blob": "bytes",
        "ratio": "float64",
        "small": "int8",
    }
    columns = (
        ColumnSpec("id", "int"),
        *(ColumnSpec(n, d.core_type_sql(t, schema=db), nullable=True) for n, t in types.items()),
    )
    create(backend, run, TableSpec(db, "vals", columns, ("id",)))
    values = {
        "u": uuid.uuid4(),
        "flag": True,
        "doc": {"a": [1, 2.5, None], "b": "ü"},
        "amount": decimal.Decimal("12.345"),
        "day": datetime.date(2024, 2, 29),
        "moment": datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
        "blob": bytes(range(256)),
        "ratio": 0.25,
        "small": -128,
    }
    names = ("id", *types)
    row = (1, *(d.encode_param(values[n], types[n]) for n in types))
    nulls = (2, *(d.encode_param(None, types[n]) for n in types))
    insert(backend, run, db, "vals", names, [row, nulls])
    fetched = run(f"SELECT * FROM `{db}`.`vals` ORDER BY id", [])
    decoders = [d.column_decoder(types.get(n), "") for n in names]
    decoded = [
        tuple(dec(v) if dec else v for dec, v in zip(decoders, r, strict=True)) for r in fetched
    ]
    assert decoded[0] == (1, *values.values())
    assert type(decoded[0][2]) is bool
    assert decoded[1] == (2, *([None] * len(types)))
    # a UUID in a rendered restriction is bound as its bytes
    sql, params = d.render(
        m.Select(
            m.TableSource(db, "vals"), where=m.Compare(m.Column("u"), "=", m.Param(values["u"]))
        )
    )
    assert [r[0] for r in run(sql, params)] == [1]


def test_rendered_queries(backend: Backend, run: Run, tables: str) -> None:
    d, db = backend.dialect, tables
    insert(backend, run, db, "parent", ("pid", "name"), [(1, "a%"), (2, "b"), (3, "c")])
    insert(
        backend, run, db, "child", ("pid", "cid", "note"), [(1, 1, "x"), (1, 2, "y"), (2, 1, "z")]
    )
    parent, child = m.TableSource(db, "parent"), m.TableSource(db, "child")

    def q(node: m.Node) -> list[tuple]:
        sql, params = d.render(node)
        return run(sql, params)

    assert q(m.Exists(m.Select(child, where=m.Compare(m.Column("pid"), "=", m.Param(2))))) == [(1,)]
    assert q(m.Exists(m.Select(child, where=m.Compare(m.Column("pid"), "=", m.Param(3))))) == [(0,)]
    left = m.Select(
        m.JoinSource(parent, m.SubquerySource(m.Select(child, limit=0), "c"), left_outer=True),
        items=(m.SelectItem(m.Column("pid", "parent")),),
        order_by=(m.OrderItem(m.Column("pid", "parent")),),
    )
    assert q(left) == [(1,), (2,), (3,)]
    joined = m.Select(
        m.JoinSource(parent, child, using=("pid",)),
        items=(m.SelectItem(m.Column("pid")), m.SelectItem(m.RawSQL("count(*)"), "n")),
        group_by=(m.Column("pid"),),
        having=m.Compare(m.Column("n"), ">", m.Param(1)),
    )
    assert q(joined) == [(1, 2)]
    like = m.Select(
        parent, items=(m.SelectItem(m.Column("pid")),), where=m.RawSQL("name LIKE 'a%'")
    )
    assert q(like) == [(1,)]
    in_limited = m.Select(
        parent,
        items=(m.SelectItem(m.Column("pid")),),
        where=m.InSelect(
            ("pid",),
            m.Select(
                child,
                items=(m.SelectItem(m.Column("pid")),),
                order_by=(m.OrderItem(m.Column("pid")),),
                limit=1,
            ),
        ),
    )
    assert q(in_limited) == [(1,)]
    not_in = m.Select(
        parent,
        items=(m.SelectItem(m.Column("pid")),),
        where=m.InSelect(
            ("pid",), m.Select(child, items=(m.SelectItem(m.Column("pid")),)), negate=True
        ),
    )
    assert q(not_in) == [(3,)]
    union = m.Union(
        (
            m.Select(
                parent,
                items=(m.SelectItem(m.Column("pid")),),
                where=m.Compare(m.Column("pid"), "=", m.Param(1)),
            ),
            m.Select(
                parent,
                items=(m.SelectItem(m.Column("pid")),),
                where=m.Compare(m.Column("pid"), "=", m.Param(3)),
            ),
        )
    )
    assert sorted(q(union)) == [(1,), (3,)]
    offset_only = m.Select(
        parent,
        items=(m.SelectItem(m.Column("pid")),),
        order_by=(m.OrderItem(m.Column("pid")),),
        offset=1,
    )
    assert q(offset_only) == [(2,), (3,)]
    assert q(m.Select(parent, where=m.Literal(False))) == []


def test_error_translation(backend: Backend, run: Run, tables: str) -> None:
    db = tables
    insert(backend, run, db, "parent", ("pid",), [(1,)])
    insert(backend, run, db, "child", ("pid", "cid", "note"), [(1, 1, "n")])
    with pytest.raises(errors.DuplicateError):
        insert(backend, run, db, "parent", ("pid",), [(1,)])
    with pytest.raises(errors.IntegrityError):  # 1452: no such parent
        insert(backend, run, db, "child", ("pid", "cid", "note"), [(9, 1, "n")])
    with pytest.raises(errors.IntegrityError):  # 1451: parent has children
        run(f"DELETE FROM `{db}`.`parent` WHERE pid = %s", [1])
    with pytest.raises(errors.UnknownAttributeError):
        run(f"SELECT nope FROM `{db}`.`parent`", [])
    with pytest.raises(errors.MissingTableError) as missing:
        run(f"SELECT * FROM `{db}`.`nope`", [])
    assert "nope" in missing.value.args[0] and missing.value.args[1].startswith("SELECT")
    with pytest.raises(errors.QuerySyntaxError) as syntax:
        run("SELEC 1", [])
    assert syntax.value.args[1] == "SELEC 1"
    with pytest.raises(errors.MissingAttributeError):  # 1364: note has no default
        insert(backend, run, db, "child", ("pid", "cid"), [(1, 2)])


def test_transaction_rollback(backend: Backend, run: Run, tables: str) -> None:
    d, db = backend.dialect, tables
    run(d.begin_sql(), [])
    insert(backend, run, db, "parent", ("pid",), [(7,)])
    assert rows_of(run, db, "parent") == [(7, "none")]
    run(d.rollback_sql(), [])
    assert rows_of(run, db, "parent") == []
    run(d.begin_sql(), [])
    insert(backend, run, db, "parent", ("pid",), [(8,)])
    run(d.commit_sql(), [])
    assert rows_of(run, db, "parent") == [(8, "none")]
