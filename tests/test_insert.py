"""Insert on every backend: every accepted input, value rules, errors and hints (SPEC §8)."""

from __future__ import annotations

import datetime
import importlib.util
import math
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

import datajoint as dj
from datajoint.errors import DataJointError, DuplicateError, UnknownAttributeError

HAS_POLARS = importlib.util.find_spec("polars") is not None
HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


def declare_basic(schema):
    @schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        ---
        name = "unnamed" : varchar(32)
        weight = null : float64
        count = 7 : int32
        """

    return Item


def rows_of(table):
    return sorted(table.to_dicts(), key=lambda r: r["item_id"])


# ---- accepted inputs -------------------------------------------------------------------------
def test_dicts_and_insert1(dj_schema):
    Item = declare_basic(dj_schema)
    Item.insert([{"item_id": 1, "name": "a", "weight": 1.5, "count": 2}])
    Item.insert1({"item_id": 2, "name": "b"})
    assert rows_of(Item) == [
        {"item_id": 1, "name": "a", "weight": 1.5, "count": 2},
        {"item_id": 2, "name": "b", "weight": None, "count": 7},
    ]
    Item.insert([])  # nothing to do
    Item.insert(iter([{"item_id": 3}]))  # any iterable, generators included
    assert len(Item) == 3


def test_numpy_records(dj_schema):
    Item = declare_basic(dj_schema)
    records = np.array(
        [(1, "a", 0.5), (2, "b", 1.5)], dtype=[("item_id", "i4"), ("name", "U8"), ("weight", "f8")]
    )
    Item.insert(records)
    Item.insert([records[0].copy()], skip_duplicates=True)  # a list of numpy.void records
    Item.insert1(np.array([(3, "c", np.nan)], dtype=records.dtype)[0])
    assert [r["weight"] for r in rows_of(Item)] == [0.5, 1.5, None]


def test_positional_rows_are_deprecated(dj_schema):
    Item = declare_basic(dj_schema)
    with pytest.warns(DeprecationWarning, match="^Positional inserts"):
        Item.insert([(1, "a", 2.0, 3), (2, "b", None, 4)])
    with pytest.warns(DeprecationWarning):
        Item.insert1((3, "c", 1.0, 1))
    assert len(Item) == 3
    with (
        pytest.raises(DataJointError, match="Incorrect number of attributes: 2 given; 4 expected"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        Item.insert1((4, "d"))
    with pytest.raises(DataJointError, match="Datatype <class 'int'> cannot be inserted"):
        Item.insert([5])


def test_pandas_dataframe(dj_schema):
    Item = declare_basic(dj_schema)
    frame = pd.DataFrame({"item_id": [1, 2], "name": ["a", None], "weight": [1.0, np.nan]})
    Item.insert(frame)
    assert rows_of(Item) == [
        {"item_id": 1, "name": "a", "weight": 1.0, "count": 7},
        {"item_id": 2, "name": "unnamed", "weight": None, "count": 7},
    ]
    # a named index becomes a column
    Item.insert(pd.DataFrame({"name": ["c"]}, index=pd.Index([3], name="item_id")))
    assert (Item & {"item_id": 3}).fetch1("name") == "c"
    # a frame from to_pandas() goes back in
    frame = Item.to_pandas()
    Item.delete_quick()
    Item.insert(frame)
    assert len(Item) == 3


@pytest.mark.skipif(not HAS_POLARS, reason="polars is not installed")
def test_polars_dataframe(dj_schema):
    import polars as pl

    Item = declare_basic(dj_schema)
    Item.insert(pl.DataFrame({"item_id": [1, 2], "name": ["a", None]}))
    assert [r["name"] for r in rows_of(Item)] == ["a", "unnamed"]


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow is not installed")
def test_pyarrow_table(dj_schema):
    import pyarrow as pa

    Item = declare_basic(dj_schema)
    Item.insert(pa.table({"item_id": [1, 2], "weight": [0.25, None]}))
    assert [r["weight"] for r in rows_of(Item)] == [0.25, None]


def test_csv_path(dj_schema, tmp_path):
    Item = declare_basic(dj_schema)
    path = tmp_path / "items.csv"
    path.write_text("item_id,name,weight,count\n1,a,2.5,3\n2,b,,\n")
    Item.insert(path)
    assert rows_of(Item) == [
        {"item_id": 1, "name": "a", "weight": 2.5, "count": 3},
        {"item_id": 2, "name": "b", "weight": None, "count": 7},  # "" in numeric -> default
    ]


def test_insert_from_query(dj_schema):
    schema = dj_schema
    Item = declare_basic(schema)

    @schema
    class Copy(dj.Manual):
        definition = """
        item_id : int32
        ---
        name : varchar(32)
        """

    Item.insert([{"item_id": i, "name": f"n{i}"} for i in range(5)])
    with pytest.raises(DataJointError, match=r"Attribute weight not found\. To ignore extra"):
        Copy.insert(Item)
    Copy.insert(Item & "item_id < 3", ignore_extra_fields=True)
    assert len(Copy) == 3
    with pytest.raises(DuplicateError, match="skip_duplicates=True"):
        Copy.insert(Item.proj("name"))
    Copy.insert(Item.proj("name"), skip_duplicates=True)  # a class-level query too
    assert len(Copy) == 5
    with pytest.raises(DataJointError, match="chunk_size is not supported"):
        Copy.insert(Item.proj("name"), chunk_size=2)
    # renamed attributes map onto the target's names
    Copy.insert(Item.proj(name="name", item_id="item_id"), skip_duplicates=True)
    # replace: REPLACE on MySQL/SQLite, an upsert on PostgreSQL
    Item.insert1({"item_id": 9, "name": "new"})
    (Item & {"item_id": 1}).proj()
    Copy.insert((Item & "item_id in (1, 9)").proj(name="'replaced'"), replace=True)
    assert (Copy & {"item_id": 1}).fetch1("name") == "replaced"
    assert (Copy & {"item_id": 9}).fetch1("name") == "replaced"
    assert len(Copy) == 6


def test_insert_from_class(dj_schema):
    schema = dj_schema
    Item = declare_basic(schema)

    @schema
    class Same(dj.Manual):
        definition = """
        item_id : int32
        ---
        name = "unnamed" : varchar(32)
        weight = null : float64
        count = 7 : int32
        """

    Item.insert1({"item_id": 1})
    Same.insert(Item)
    assert Same.to_dicts() == Item.to_dicts()


# ---- modes -----------------------------------------------------------------------------------
def test_skip_duplicates_and_replace(dj_schema):
    Item = declare_basic(dj_schema)
    Item.insert([{"item_id": 1, "name": "a"}, {"item_id": 2, "name": "b"}])
    with pytest.raises(DuplicateError) as info:
        Item.insert1({"item_id": 1, "name": "again"})
    assert "To ignore duplicate entries in insert, set skip_duplicates=True" in info.value.args
    Item.insert([{"item_id": 1, "name": "x"}, {"item_id": 3, "name": "c"}], skip_duplicates=True)
    assert [r["name"] for r in rows_of(Item)] == ["a", "b", "c"]
    Item.insert(
        [{"item_id": 1, "name": "z", "count": 1}, {"item_id": 4, "name": "d", "count": 7}],
        replace=True,
    )
    rows = rows_of(Item)
    assert rows[0] == {"item_id": 1, "name": "z", "weight": None, "count": 1}
    assert [r["item_id"] for r in rows] == [1, 2, 3, 4]


def test_chunk_size(dj_schema):
    Item = declare_basic(dj_schema)
    Item.insert([{"item_id": i} for i in range(25)], chunk_size=10)
    assert len(Item) == 25
    for bad in (0, -1, 2.5, True):
        with pytest.raises(DataJointError, match="chunk_size must be a positive integer"):
            Item.insert([{"item_id": 100}], chunk_size=bad)


def test_auto_populated_tables_refuse_direct_inserts(dj_schema):
    schema = dj_schema
    Item = declare_basic(schema)

    @schema
    class Derived(dj.Computed):
        definition = """
        -> Item
        ---
        value : float64
        """

    Item.insert1({"item_id": 1})
    with pytest.raises(DataJointError, match="allow_direct_insert=True"):
        Derived.insert1({"item_id": 1, "value": 1.0})
    Derived.insert1({"item_id": 1, "value": 1.0}, allow_direct_insert=True)
    assert len(Derived) == 1


# ---- value rules -----------------------------------------------------------------------------
def test_value_rules(dj_schema):
    schema = dj_schema

    @schema
    class Values(dj.Manual):
        definition = """
        id : int32
        ---
        u = null : uuid
        j = null : json
        flag = 0 : bool
        ratio = 0.5 : float64
        n = 3 : int16
        when = null : datetime
        """

    token = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    Values.insert(
        [
            {"id": 1, "u": token, "j": {"a": [1, None]}, "flag": True, "ratio": math.nan, "n": ""},
            {
                "id": 2,
                "u": str(token),
                "j": [1, "x"],
                "flag": np.bool_(False),
                "ratio": None,
                "n": None,
            },
            {
                "id": 3,
                "u": None,
                "j": None,
                "flag": None,
                "ratio": np.float64(1.25),
                "n": np.int16(9),
            },
        ]
    )
    rows = sorted(Values.to_dicts(), key=lambda r: r["id"])
    assert rows[0]["u"] == token and rows[1]["u"] == token and rows[2]["u"] is None
    assert rows[0]["j"] == {"a": [1, None]} and rows[1]["j"] == [1, "x"]
    assert [r["flag"] for r in rows] == [True, False, False]
    assert [r["ratio"] for r in rows] == [0.5, 0.5, 1.25]  # NaN/None -> default
    assert [r["n"] for r in rows] == [3, 3, 9]  # "" in a numeric column -> default
    with pytest.raises(DataJointError, match="badly formed UUID value nope for attribute `u`"):
        Values.insert1({"id": 4, "u": "nope"})
    Values.insert1({"id": 5, "when": datetime.datetime(2024, 5, 6, 7, 8, 9)})
    assert (Values & {"id": 5}).fetch1("when") == datetime.datetime(2024, 5, 6, 7, 8, 9)


def test_empty_rows(dj_schema):
    schema = dj_schema

    @schema
    class Counter(dj.Manual):
        definition = """
        id : int auto_increment
        ---
        note = "" : varchar(8)
        """

    Counter.insert([{}, {}])
    Counter.insert1({"note": None})
    assert len(Counter) == 3
    Item = declare_basic(schema)
    with pytest.raises(DataJointError, match=r"Cannot insert empty row.*\['item_id'\]"):
        Item.insert1({})


def test_native_binary_column_accepts_bytes_only(dj_schema):
    schema = dj_schema

    @schema
    class Raw(dj.Manual):
        definition = """
        id : int32
        ---
        payload : bytes
        """

    Raw.insert1({"id": 1, "payload": b"\x00\x01"})
    with pytest.raises(DataJointError, match="accepts only bytes"):
        Raw.insert1({"id": 2, "payload": [1, 2, 3]})


# ---- field errors and hints ------------------------------------------------------------------
def test_field_errors(dj_schema):
    Item = declare_basic(dj_schema)
    with pytest.raises(KeyError, match="`color` is not in the table heading"):
        Item.insert1({"item_id": 1, "color": "red"})
    Item.insert1({"item_id": 1, "color": "red"}, ignore_extra_fields=True)
    with pytest.raises(DataJointError, match="Attempt to insert rows with different fields"):
        Item.insert([{"item_id": 2, "name": "a"}, {"item_id": 3, "count": 1}])
    with pytest.raises(DataJointError, match="different fields"):
        Item.insert([{"item_id": 2, "name": "a"}, {"item_id": 3}])
    with pytest.raises(KeyError, match="`color`"):
        Item.insert([{"item_id": 2}, {"item_id": 3, "color": "x"}])
    Item.insert(
        [{"item_id": 2, "x": 1}, {"item_id": 3, "y": 2}, {"item_id": 4}], ignore_extra_fields=True
    )
    assert len(Item) == 4
    with pytest.raises(DataJointError, match="cannot be inserted"):
        Item.insert({"item_id": 5})  # a single dict needs insert1


def test_unknown_attribute_hint(dj_schema):
    """The server's unknown-column error gets the ignore_extra_fields hint."""
    Item = declare_basic(dj_schema)
    assert "count" in Item.heading.names  # the heading is now cached
    conn = Item.connection
    conn.query(f"ALTER TABLE {Item.full_table_name} DROP COLUMN {conn.dialect.quote('count')}")
    with pytest.raises(UnknownAttributeError) as info:
        Item.insert1({"item_id": 1, "count": 2})
    assert "To ignore extra fields in insert, set ignore_extra_fields=True" in info.value.args


# ---- insert_dataframe ------------------------------------------------------------------------
def test_insert_dataframe(dj_schema):
    Item = declare_basic(dj_schema)
    with pytest.raises(DataJointError, match="insert_dataframe requires a pandas DataFrame"):
        Item.insert_dataframe([{"item_id": 1}])
    # index_as_pk=None: a named index equal to the primary key is used
    Item.insert_dataframe(pd.DataFrame({"name": ["a"]}, index=pd.Index([1], name="item_id")))
    # a single unnamed index is dropped
    Item.insert_dataframe(pd.DataFrame({"item_id": [2], "name": ["b"]}, index=[77]))
    # index_as_pk=False drops even a named index
    frame = pd.DataFrame({"item_id": [3], "name": ["c"]}, index=pd.Index([5], name="other"))
    Item.insert_dataframe(frame, index_as_pk=False)
    with pytest.raises(DataJointError, match=r"DataFrame index columns \['other'\] do not match"):
        Item.insert_dataframe(frame, index_as_pk=True)
    # round trip: to_pandas() is indexed by the primary key
    frame = Item.to_pandas()
    Item.delete_quick()
    Item.insert_dataframe(frame)
    assert [r["name"] for r in rows_of(Item)] == ["a", "b", "c"]
    Item.insert_dataframe(frame, skip_duplicates=True)  # keyword arguments reach insert


# ---- provenance --------------------------------------------------------------------------------
def test_provenance_capture(dj_schema):
    schema = dj_schema
    with dj.config.override(provenance__capture=True, provenance__source={"origin": "unit test"}):

        @schema
        class Recorded(dj.Manual):
            definition = """
            rec : int32
            ---
            value = 0 : int32
            """

        @schema
        class Copied(dj.Manual):
            definition = """
            rec : int32
            ---
            value = 0 : int32
            """

        assert "_prov" in Recorded.heading._attributes
        assert "_prov" not in Recorded.heading.names  # hidden
        Recorded.insert([{"rec": 1, "value": 0}, {"rec": 2, "value": 5}])
        conn = Recorded.connection
        select = f"SELECT {conn.dialect.quote('_prov')} FROM {Recorded.full_table_name}"
        stored = [r[0] for r in conn.query(select).fetchall()]
        prov = [json_value(v) for v in stored]
        assert all(p["source"] == {"origin": "unit test"} for p in prov)
        assert all("time" in p and "agent" in p for p in prov)
        Copied.insert(Recorded)  # an insert from a query carries the provenance along
        copied = [
            json_value(r[0]) for r in conn.query(select.replace("recorded", "copied")).fetchall()
        ]
        assert sorted(map(str, copied)) == sorted(map(str, prov))
    Recorded.insert1({"rec": 3})  # capture off: no provenance
    rows = conn.query(select + " WHERE " + conn.dialect.quote("rec") + " = 3").fetchall()
    assert rows[0][0] is None


def json_value(value):
    import json

    return json.loads(value) if isinstance(value, str | bytes) else value


def test_skip_duplicates_and_secondary_unique_indexes(dj_schema):
    """MySQL's no-op key update also swallows a clash on a secondary unique index; the other
    backends skip primary-key duplicates only (SPEC §8)."""
    schema = dj_schema

    @schema
    class Badge(dj.Manual):
        definition = """
        badge : int32
        ---
        code : varchar(8)
        unique index (code)
        """

    Badge.insert1({"badge": 1, "code": "A"})
    Badge.insert1({"badge": 1, "code": "Z"}, skip_duplicates=True)  # key clash: skipped
    clash = {"badge": 2, "code": "A"}
    if Badge.connection.dialect.name == "mysql":
        Badge.insert1(clash, skip_duplicates=True)
    else:
        with pytest.raises(DuplicateError):
            Badge.insert1(clash, skip_duplicates=True)
    assert Badge.to_dicts() == [{"badge": 1, "code": "A"}]
