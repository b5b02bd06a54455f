"""Typed cursors (``capabilities.typed_cursors``): results with bytea read in the binary format,
every value the same as the text format gives."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest

import datajoint as dj
from datajoint.fetch import reader
from datajoint.testing.fixtures import make_connection, throwaway_schema
from datajoint.testing.pytest_plugin import require_backend
from dj_backend_postgres.binary import binary_plan

from .conftest import Run

TEXT, BINARY = 0, 1
LABELS = ("new", "it's", "done")


@pytest.mark.parametrize(
    ("column_types", "plan"),
    [
        (["integer", "bytea"], frozenset()),
        (["bytea", "enum('a','b')", "varchar(16)", "enum('x')"], frozenset({1, 3})),
        (["numeric(10,2)", "timestamp(3)", "char(4)", "time(6)", "BYTEA"], frozenset()),
        (["double precision", "boolean", "uuid", "jsonb", "json", "timestamptz", "bytea"], set()),
        (["integer", "varchar(16)"], None),  # no bytea: binary does not pay
        (["bytea", "real"], None),  # binary float4 loads its exact double, text 1.1
        (["bytea", "expression"], None),  # a computed attribute: the type is unknown
        (["bytea", "integer[]"], None),
        ([], None),
    ],
)
def test_binary_plan(column_types: list[str], plan: frozenset[int] | None) -> None:
    assert binary_plan(column_types) == plan


COLUMNS = (
    ("id", "integer NOT NULL PRIMARY KEY"),
    ("i2", "smallint"),
    ("i8", "bigint"),
    ("dec", "numeric(10,2)"),
    ("num", "numeric"),
    ("f8", "double precision"),
    ("f4", "real"),
    ("flag", "boolean"),
    ("txt", "text"),
    ("vc", "varchar(16)"),
    ("ch", "char(4)"),
    ("d", "date"),
    ("t", "time"),
    ("ts", "timestamp(3)"),
    ("tstz", "timestamptz"),
    ("j", "json"),
    ("jb", "jsonb"),
    ("u", "uuid"),
    ("data", "bytea"),
    ("status", None),  # the enum type
)

ROWS = [
    (
        1,
        -32768,
        9223372036854775807,
        "-12.50",
        "1e-30",
        -0.0,
        1.1,
        True,
        "é ü \u2603",
        "it's",
        "ab",
        "2024-02-29",
        "23:59:59.999999",
        "2024-01-02 03:04:05.678",
        "2024-01-02 03:04:05.678+05:30",
        '{"a": 1.10, "b": [null, "x"]}',
        '"only a string"',
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        b"\x00\xff" * 1000,
        "it's",
    ),
    (
        2,
        0,
        0,
        "0.00",
        "NaN",
        1e308,
        3.4028235e38,
        False,
        "",
        "",
        "",
        "0001-01-01",
        "00:00",
        "1970-01-01 00:00:00",
        "1999-12-31 23:59:59.999999-08",
        "[]",
        '{"k": 12345678901234567890, "f": 0.1}',
        "00000000-0000-0000-0000-000000000000",
        b"",
        "new",
    ),
    (3, *[None] * (len(COLUMNS) - 1)),
]


@pytest.fixture(scope="module")
def table(backend: Any, run: Run, schemas: tuple[str, str]) -> tuple[str, list[str]]:
    """A table with a column of every type family and its rows; (table SQL, sql_types)."""
    schema = schemas[0]
    dialect = backend.dialect
    run(dialect.create_enum_type_sql(schema, LABELS))
    enum_sql = dialect.enum_type_sql(schema, LABELS)
    definitions = ", ".join(f"{dialect.quote(name)} {sql or enum_sql}" for name, sql in COLUMNS)
    table_sql = dialect.full_table_name(schema, "typed")
    run(f"CREATE TABLE {table_sql} ({definitions})")
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    for row in ROWS:
        run(f"INSERT INTO {table_sql} VALUES ({placeholders})", row)
    types = [c.sql_type for c in backend.introspection.columns(run, schema, "typed")]
    assert types[-1] == "enum('new','it''s','done')" and types[6] == "real"
    return table_sql, types


def read(cursor: Any, sql: str, params: list[Any]) -> tuple[list[Any], list[int]]:
    """The rows of ``sql`` and the formats of the result's columns."""
    with cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        result = cursor.pgresult
        return rows, [result.fformat(i) for i in range(result.nfields)]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("as_dict", [False, True])
def test_every_type_reads_the_same_in_binary(
    backend: Any, raw: Any, table: tuple[str, list[str]], streaming: bool, as_dict: bool
) -> None:
    table_sql, types = table
    driver = backend.driver
    names = [name for name, _ in COLUMNS if name != "f4"]
    kept = [t for (name, _), t in zip(COLUMNS, types, strict=True) if name != "f4"]
    sql = f"SELECT {', '.join(names)} FROM {table_sql} WHERE id >= %s ORDER BY id"
    text_rows, text_formats = read(
        driver.cursor(raw, as_dict=as_dict, streaming=streaming), sql, [1]
    )
    rows, formats = read(
        driver.typed_cursor(raw, kept, as_dict=as_dict, streaming=streaming), sql, [1]
    )
    assert set(text_formats) == {TEXT} and set(formats) == {BINARY}
    assert repr(rows) == repr(text_rows)  # types and values, Decimal('NaN') included
    first = rows[0] if as_dict else dict(zip(names, rows[0], strict=True))
    assert first["status"] == "it's" and first["data"] == b"\x00\xff" * 1000
    assert first["num"] == decimal.Decimal("1E-30") and first["u"] == uuid.UUID(ROWS[0][17])
    assert first["tstz"] == datetime.datetime(2024, 1, 1, 21, 34, 5, 678000, datetime.UTC)
    assert first["j"] == {"a": 1.1, "b": [None, "x"]} and first["jb"] == "only a string"
    assert all(value is None for value in list(rows[2].values() if as_dict else rows[2])[1:])


@pytest.mark.parametrize("streaming", [False, True])
def test_real_columns_read_as_text(
    backend: Any, raw: Any, table: tuple[str, list[str]], streaming: bool
) -> None:
    table_sql, types = table
    cursor = backend.driver.typed_cursor(raw, [types[6], "bytea"], streaming=streaming)
    rows, formats = read(cursor, f"SELECT f4, data FROM {table_sql} ORDER BY id", [])
    assert formats == [TEXT, TEXT]
    assert [row[0] for row in rows] == [1.1, 3.4028235e38, None]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    ("select", "column_types", "expected"),
    [
        ("f4, data", ["integer", "bytea"], 1.1),  # a real where the caller said integer
        ("'int4'::regtype, data", ["enum('a')", "bytea"], "integer"),  # not an enum
        ("status, data", ["bytea"], "it's"),  # more columns than types
    ],
)
def test_unexpected_result_types_read_again_as_text(
    backend: Any,
    raw: Any,
    table: tuple[str, list[str]],
    streaming: bool,
    select: str,
    column_types: list[str],
    expected: Any,
) -> None:
    table_sql, _ = table
    cursor = backend.driver.typed_cursor(raw, column_types, streaming=streaming)
    rows, formats = read(cursor, f"SELECT {select} FROM {table_sql} WHERE id = %s", [1])
    assert formats == [TEXT, TEXT]
    assert rows == [(expected, b"\x00\xff" * 1000)]


@pytest.fixture(scope="module")
def connection() -> Iterator[dj.Connection]:
    require_backend("postgresql")
    conn = make_connection("postgresql")
    yield conn
    conn.close()


def test_fetch_of_a_blob_table_reads_binary(
    connection: dj.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's fetches pass the heading's types; values come back as always."""
    formats: list[list[int]] = []
    typed_cursor = connection.backend.driver.typed_cursor

    def recording(raw: Any, column_types: Any, **kwargs: Any) -> Any:
        cursor = typed_cursor(raw, column_types, **kwargs)
        close = cursor.close

        def closing() -> None:  # the last result read: a stream's last chunk
            result = cursor.pgresult
            formats.append([result.fformat(i) for i in range(result.nfields)])
            close()

        cursor.close = closing
        return cursor

    with throwaway_schema(connection, prefix="djbinary") as schema:

        @schema
        class Record(dj.Manual):
            definition = """
            rec : int32
            ---
            status : enum('new', 'it''s', 'done')
            amount = null : decimal(8,3)
            moment : datetime(3)
            doc : json
            ident : uuid
            flag : bool
            raw = null : bytes
            samples : <blob>
            """

        rows = [
            {
                "rec": i,
                "status": LABELS[i % 3],
                "amount": None if i == 1 else decimal.Decimal(i) / 8,
                "moment": datetime.datetime(2024, 5, 6, 7, 8, 9, 123000),
                "doc": {"n": i, "tags": ["a", i]},
                "ident": uuid.UUID(int=i),
                "flag": i % 2 == 0,
                "raw": None if i == 2 else bytes([i]) * 3,
                "samples": np.arange(4.0) * i,
            }
            for i in range(4)
        ]
        Record.insert(rows)
        monkeypatch.setattr(connection.backend.driver, "typed_cursor", recording)
        fetched = Record.to_dicts(order_by="KEY")
        many = list(reader.row_batches(Record(), Record.heading.names, streaming=True))
        one = (Record & {"rec": 3}).fetch1()
    assert len(formats) == 3 and all(set(f) == {BINARY} for f in formats)
    assert len(many[0]) == 4 and one["status"] == "new" and one["samples"].tolist() == [0, 3, 6, 9]
    for got, want in zip(fetched, rows, strict=True):
        samples = got.pop("samples")
        assert samples.tolist() == want.pop("samples").tolist()
        assert got == want
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


def test_psycopg_has_binary_loaders_for_the_same_types() -> None:
    """Every oid the cursors read in binary has a psycopg binary loader."""
    from psycopg.pq import Format

    from dj_backend_postgres.binary import SAME_IN_BINARY_OIDS

    for oid in SAME_IN_BINARY_OIDS:
        assert psycopg.adapters.get_loader(oid, Format.BINARY) is not None, oid
