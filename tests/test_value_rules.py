"""Values the backends used to treat differently, under one rule on every backend (issue 10)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import pytest

import datajoint as dj


def declare(schema):
    @schema
    class Measure(dj.Manual):
        definition = """
        id : int16
        ---
        d = null : date
        wide = null : decimal(20,10)
        narrow = null : decimal(6,2)
        flag = null : bool
        x = null : float64
        """

    return Measure


def test_bad_inserts_refused_and_table_readable(dj_schema):
    Measure = declare(dj_schema)
    for row in (
        {"id": 70000},
        {"id": "abc"},
        {"id": 1, "x": "fast"},
        {"id": 2, "d": "2025-13-45"},
        {"id": 3, "narrow": Decimal("123456.78")},
        {"id": 4, "flag": "maybe"},
        {"id": 5, "narrow": "cheap"},
        {"id": 6, "x": [1, 2]},
    ):
        with pytest.raises(dj.errors.DataError) as caught:
            Measure.insert1(row)
        bad = next(k for k in row if k != "id") if len(row) > 1 else "id"
        assert caught.value.attribute == bad
        assert Measure.full_table_name in str(caught.value)
    with pytest.raises(dj.errors.DataError):  # a multi-row insert is all or nothing
        Measure.insert([{"id": 7, "x": 1.0}, {"id": 8, "x": "fast"}])
    assert len(Measure) == 0
    assert Measure.to_dicts() == []


def test_decimals_exact_and_numeric(dj_schema):
    Measure = declare(dj_schema)
    values = [Decimal("1234567890.0123456789"), Decimal("-2.5"), Decimal("10"), Decimal("9.75")]
    Measure.insert(
        {"id": i, "wide": v, "narrow": v if abs(v) < 10**4 else None} for i, v in enumerate(values)
    )
    assert (Measure & {"id": 0}).fetch1("wide") == values[0]
    assert [r["wide"] for r in Measure.to_dicts(order_by="wide")] == sorted(values)
    assert len(Measure & "wide > 9.8") == 2  # numeric, not text, comparison
    assert len(Measure & "narrow > 9.8") == 1
    assert len(Measure & {"wide": Decimal("10.0")}) == 1
    total = dj.U().aggr(Measure, top="max(wide)", low="min(wide)").fetch1()
    assert Decimal(str(total["top"])) == values[0]
    assert Decimal(str(total["low"])) == Decimal("-2.5")
    narrow = dj.U().aggr(Measure, s="sum(narrow)", a="avg(narrow)").fetch1()
    assert float(narrow["s"]) == pytest.approx(17.25)
    assert float(narrow["a"]) == pytest.approx(17.25 / 3)


def test_aware_datetime_stored_as_utc(dj_schema):
    @dj_schema
    class Event(dj.Manual):
        definition = """
        id : int16
        ---
        t : datetime
        """

    aware = datetime.datetime(
        2024, 5, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-4))
    )
    Event.insert1({"id": 1, "t": aware})
    assert Event.fetch1("t") == datetime.datetime(2024, 5, 1, 16, 0)
    assert len(Event & {"t": aware}) == 1


def test_nullable_bool_in_every_format(dj_schema):
    Measure = declare(dj_schema)
    Measure.insert([{"id": 1, "flag": True}, {"id": 2, "flag": False}, {"id": 3, "flag": None}])
    expected = [True, False, None]
    assert [r["flag"] for r in Measure.to_dicts(order_by="id")] == expected
    assert list(Measure.to_arrays("flag", order_by="id")) == expected
    assert list(Measure.to_arrays(order_by="id")["flag"]) == expected
    assert list(Measure.to_pandas().sort_index()["flag"]) == expected


def test_null_sorts_smallest(dj_schema):
    Measure = declare(dj_schema)
    Measure.insert([{"id": 1, "x": 1.0}, {"id": 2, "x": None}, {"id": 3, "x": 3.0}])
    assert [r["id"] for r in Measure.to_dicts(order_by="x")] == [2, 1, 3]
    assert [r["id"] for r in Measure.to_dicts(order_by="x DESC")] == [3, 1, 2]
    top = Measure & dj.Top(2, "x DESC")
    assert sorted(top.to_arrays("id")) == [1, 3]
    assert np.array_equal((Measure & dj.Top(1, "x")).to_arrays("id"), np.array([2]))
