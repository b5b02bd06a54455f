"""Declared defaults on every backend: literals of each core type declare and round-trip, and
anything that is not a literal of the attribute's type is refused before any DDL runs."""

from __future__ import annotations

import datetime
import decimal

import pytest

import datajoint as dj
from datajoint.declare.defaults import InvalidDefaultError

#: (declared type, declared default, the value a row inserted without it reads back)
LEGITIMATE = {
    "i8": ("int8", "-128", -128),
    "i16": ("int16", "+7", 7),
    "i32": ("int32", "2000000000", 2_000_000_000),
    "i64": ("int64", '"-9000000000000"', -9_000_000_000_000),
    "f32": ("float32", "1.5", 1.5),
    "f64": ("float64", "-2.5e3", -2500.0),
    "amount": ("decimal(8,3)", "12.250", decimal.Decimal("12.250")),
    "yes": ("bool", "true", True),
    "no": ("bool", "0", False),
    "day": ("date", '"2024-02-29"', datetime.date(2024, 2, 29)),
    "moment": ("datetime", '"2024-01-02 03:04:05"', datetime.datetime(2024, 1, 2, 3, 4, 5)),
    "code": ("char(4)", "'ab''c'", "ab'c"),
    "label": ("varchar(64)", '"it\'s; -- just text"', "it's; -- just text"),
    "bare": ("varchar(16)", "plain", "plain"),
    "empty": ("varchar(8)", '""', ""),
    "color": ("enum('red','green')", '"green"', "green"),
    "doc": ("json", "'{\"a\": [1, 2]}'", {"a": [1, 2]}),
    "nothing": ("int32", "null", None),
}


def _definition(attributes: dict[str, tuple[str, str, object]]) -> str:
    lines = [f"{name} = {default} : {type_}" for name, (type_, default, _) in attributes.items()]
    return "id : int32\n---\n" + "\n".join(lines) + "\n"


def test_legitimate_defaults_declare_and_round_trip(dj_schema):
    class Defaults(dj.Manual):
        definition = _definition(LEGITIMATE) + "created = CURRENT_TIMESTAMP : datetime\n"

    dj_schema(Defaults, context={})
    Defaults.insert1({"id": 1})
    row = (Defaults & {"id": 1}).fetch1()
    for name, (_type, _default, expected) in LEGITIMATE.items():
        if isinstance(expected, float):
            assert row[name] == pytest.approx(expected), name
        else:
            assert row[name] == expected, name
    assert isinstance(row["created"], datetime.datetime)


HOSTILE = [
    ('name = "x\'); DROP TABLE t; --" : varchar(20)', "longer than 20"),
    ("name = 'x'); DROP TABLE t; --' : varchar(64)", "quote inside"),
    ("n = 1; DROP TABLE t : int32", "not an integer"),
    ("n = 1) ; DROP TABLE t; -- : decimal(5,2)", "not a decimal"),
    ("t = CURRENT_TIMESTAMP); DROP TABLE t; -- : datetime", "not a datetime"),
    ("t = CURRENT_TIMESTAMP : date", "datetime attributes only"),
    ("d = '2024-02-30' : date", "not a date"),
    ("n = 128 : int8", "out of the range"),
    ("x = 1e400x : float64", "not a number"),
    ("b = yes : bool", "0, 1, true or false"),
    ("c = \"blue\" : enum('red','green')", "not one of the members"),
    ("j = '{oops' : json", "not valid JSON"),
    ('u = "12345678-1234-5678-1234-567812345678" : uuid', "uuid"),
]


@pytest.mark.parametrize(("line", "reason"), HOSTILE)
def test_hostile_defaults_are_refused_before_any_ddl(dj_schema, line, reason):
    name = line.split("=")[0].strip()

    class Hostile(dj.Manual):
        definition = f"id : int32\n---\n{line}\n"

    with pytest.raises(InvalidDefaultError) as raised:
        dj_schema(Hostile, context={})
    message = str(raised.value)
    assert reason in message
    assert f"attribute `{name}`" in message and "`hostile`" in message
    assert "hostile" not in dj_schema.list_tables()
