"""What the per-statement paths work out once and reuse -- the text of parameter-free parts of a
statement, a key restriction's plan per heading, a single-row insert's checked value types --
gives what building everything afresh gives, on every backend, and stays bounded."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import datajoint as dj
from datajoint.algebra import model as m
from datajoint.backend import dialect as dialect_module
from datajoint.heading import MAX_DERIVED


@pytest.fixture
def reading(dj_schema):
    @dj_schema
    class Reading(dj.Manual):
        definition = """
        reading_id : int32
        ---
        value = null : float64
        label = "none" : varchar(16)
        """

    Reading.insert([{"reading_id": i, "value": i / 4, "label": f"r{i}"} for i in range(6)])
    return Reading


def test_a_kept_select_list_renders_as_a_fresh_one(reading, dj_connection):
    dialect = dj_connection.dialect
    query = reading & {"reading_id": 2}
    select = query.make_select(["value", "label"])
    kept = dialect.render(select)
    rebuilt = m.Select(
        source=m.TableSource(reading.database, reading.table_name),
        items=tuple(m.SelectItem(m.Column(n)) for n in ("value", "label")),
        where=m.Compare(m.Column("reading_id"), "=", m.Param(2)),
    )
    assert dialect.render(select) == kept == dialect.render(rebuilt)
    assert kept[1] == [2]
    other = query.make_select(["label"])  # another shape never shares the text
    assert dialect.render(other)[0] != kept[0]


def test_parts_binding_parameters_are_rendered_every_time(dj_connection):
    dialect = dj_connection.dialect
    items = (m.SelectItem(m.Param(7), "seven"),)
    source = m.TableSource("s", "t")
    for _ in range(2):
        sql, params = dialect.render(m.Select(source=source, items=items))
        assert params == [7] and sql.count(dialect.placeholder) == 1


def test_kept_texts_are_bounded(dj_connection):
    dialect = dj_connection.dialect
    for i in range(dialect_module._MAX_KEPT_TEXTS + 10):
        dialect.render(m.Select(source=m.TableSource("s", f"t{i}"), items=None))
    assert 0 < len(dialect._texts) <= dialect_module._MAX_KEPT_TEXTS


def test_key_restrictions_with_the_same_keys_and_other_values(reading):
    for key, expected in [
        ({"reading_id": 3}, [3]),
        ({"reading_id": np.int64(4)}, [4]),  # not bound as is: converted as before
        ({"reading_id": 1, "value": None}, []),
        ({"reading_id": 1, "value": 0.25}, [1]),
        ({"reading_id": 5, "nonexistent": 1}, [5]),  # a key naming nothing restricts nothing
    ]:
        rows = (reading & key).to_dicts()
        assert [r["reading_id"] for r in rows] == expected
    assert (reading & {"reading_id": 2}).fetch1("label") == "r2"
    assert (reading & {"nonexistent": 1})._unmatched_keys == ("nonexistent",)


def test_derived_plans_of_a_heading_are_bounded(reading):
    heading = reading.heading
    for i in range(MAX_DERIVED + 10):
        (reading & {"reading_id": i, f"k{i}": 0}).to_dicts()
    assert len(heading._derived) <= MAX_DERIVED
    assert (reading & {"reading_id": 1}).fetch1("value") == 0.25


def test_insert1_checks_each_row_of_a_seen_value_shape(reading):
    reading.insert1({"reading_id": 10, "value": 1.5, "label": "a"})
    reading.insert1({"reading_id": 11, "value": math.nan, "label": "b"})  # same types, NaN
    reading.insert1({"reading_id": 12, "value": 2, "label": "c"})  # an int for a float column
    reading.insert1({"reading_id": 13, "value": np.float32(0.5), "label": "d"})
    got = {r["reading_id"]: r["value"] for r in (reading & "reading_id >= 10").to_dicts()}
    assert got == {10: 1.5, 11: None, 12: 2.0, 13: 0.5}


def test_nodes_built_directly_keep_their_dataclass_behaviour():
    select = m.Select(m.TableSource("s", "t"), limit=3)
    assert select == m.Select(source=m.TableSource("s", "t"), limit=3)
    assert hash(select) == hash(m.Select(m.TableSource("s", "t"), None, None, (), None, (), 3))
    assert (select.where, select.offset, select.distinct) == (None, 0, False)
    assert dataclasses.replace(select, limit=5).limit == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        select.limit = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.Compare(m.Column("a"), "=")  # type: ignore[call-arg]
