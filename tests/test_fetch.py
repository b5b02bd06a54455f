"""The fetch API on every backend: every example and error of SPEC §7."""

from __future__ import annotations

import datetime
import decimal
import pickle
import uuid
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.fetch import reader
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema
from datajoint.testing.pytest_plugin import require_backend

DEFINITION = """
session : int32
trial : int16
---
value = null : float64
label : varchar(16)
count = null : int32
flag : bool
ident : uuid
doc : json
day : date
moment : datetime(3)
amount : decimal(8,3)
"""


def make_row(session: int, trial: int) -> dict:
    n = session * 10 + trial
    return {
        "session": session,
        "trial": trial,
        "value": None if n == 12 else n / 4,
        "label": f"s{session}t{trial}" + "x" * (n % 3),
        "count": None if n % 4 == 0 else n * 2,
        "flag": n % 2 == 0,
        "ident": uuid.UUID(int=n),
        "doc": {"n": n, "tags": ["a", n]},
        "day": datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
        "moment": datetime.datetime(2024, 5, 6, 7, 8, 9, 123000) + datetime.timedelta(hours=n),
        "amount": decimal.Decimal(n) / 8,
    }


ROWS = [make_row(s, t) for s in (2, 1) for t in (3, 1, 2)]
KEYS_ASC = [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]


@pytest.fixture(scope="module", params=servers.selected_backends())
def trials(request, tmp_path_factory) -> Iterator[type]:
    """One table of ROWS per backend, shared by the read-only tests of this module."""
    require_backend(request.param)
    connection = make_connection(request.param, tmp_path_factory.mktemp("fetch") / "f.sqlite3")
    with throwaway_schema(connection, prefix="djfetch") as schema:

        class Trial(dj.Manual):
            definition = DEFINITION

        schema(Trial, context={})
        Trial.insert(ROWS)
        yield Trial
    connection.close()


def keys_of(rows: list[dict]) -> list[tuple]:
    return [(r["session"], r["trial"]) for r in rows]


# ---- to_dicts, ordering and windows ---------------------------------------------------------
def test_to_dicts_values_are_decoded(trials):
    rows = trials.to_dicts(order_by="KEY")
    expected = sorted(ROWS, key=lambda r: (r["session"], r["trial"]))
    assert len(rows) == 6
    for got, want in zip(rows, expected, strict=True):
        assert list(got) == list(want)
        for name, value in want.items():
            assert got[name] == value, name
            assert value is None or type(got[name]) is type(value), (name, type(got[name]))


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("KEY", KEYS_ASC),
        ("KEY ASC", KEYS_ASC),
        ("KEY DESC", KEYS_ASC[::-1]),
        (["session DESC", "trial"], [(2, 1), (2, 2), (2, 3), (1, 1), (1, 2), (1, 3)]),
        ("label DESC", None),
    ],
)
def test_order_by(trials, order_by, expected):
    rows = trials.to_dicts(order_by=order_by)
    if expected is None:
        labels = [r["label"] for r in rows]
        assert labels == sorted(labels, reverse=True)
    else:
        assert keys_of(rows) == expected


def test_ordered_arrays_of_a_few_attributes_keep_the_order(trials):
    # an ordered query read through a narrower select list (MariaDB drops an ORDER BY without
    # LIMIT inside a derived table)
    labels = trials.to_arrays("label", order_by="label DESC")
    assert list(labels) == sorted((r["label"] for r in ROWS), reverse=True)
    keys, counts = trials.to_arrays("count", include_key=True, order_by="trial DESC, session")
    assert keys_of(keys) == sorted(KEYS_ASC, key=lambda k: (-k[1], k[0]))
    by_key = {(r["session"], r["trial"]): r["count"] for r in ROWS}
    assert list(counts) == [by_key[k] for k in keys_of(keys)]
    narrow = trials.proj("label") & dj.Top(None, "label")
    assert [r["label"] for r in narrow.to_dicts()] == sorted(r["label"] for r in ROWS)


def test_limit_alone_orders_by_key_and_offset_works_without_limit(trials):
    assert keys_of(trials.to_dicts(limit=2)) == KEYS_ASC[:2]
    assert keys_of(trials.to_dicts(offset=4)) == KEYS_ASC[4:]
    assert keys_of(trials.to_dicts(limit=2, offset=3)) == KEYS_ASC[3:5]
    assert keys_of(trials.to_dicts(order_by="KEY DESC", limit=1, offset=1)) == [(2, 2)]
    assert trials.to_dicts(limit=0) == []


def test_fetch_window_merges_with_a_top_on_the_query(trials):
    top3 = trials & dj.Top(3, "KEY DESC")
    assert keys_of(top3.to_dicts(limit=2)) == [(2, 3), (2, 2)]


def test_order_by_items_are_identifiers_not_sql(trials):
    with pytest.raises(Exception):  # noqa: B017 -- the backend's unknown-column error
        trials.to_dicts(order_by="value; DROP TABLE x")
    with pytest.raises(TypeError, match="Top order_by attributes must all be strings"):
        trials.to_dicts(order_by=[1])
    with pytest.raises(TypeError, match="Top limit must be an integer"):
        trials.to_dicts(limit="3")
    assert len(trials()) == 6


# ---- frames -----------------------------------------------------------------------------------
def test_to_pandas_is_indexed_by_the_primary_key(trials):
    frame = trials.to_pandas()
    expected = pd.DataFrame(trials.to_dicts()).set_index(["session", "trial"])
    pd.testing.assert_frame_equal(frame, expected)
    assert frame.loc[(1, 2), "label"] == "s1t2"
    window = trials.to_pandas(order_by="KEY DESC", limit=2)
    assert list(window.index) == [(2, 3), (2, 2)]


def test_to_pandas_of_an_empty_result(trials):
    frame = (trials & {"session": 99}).to_pandas()
    assert len(frame) == 0 and list(frame.columns) == trials.heading.names


def test_to_polars_and_to_arrow(trials):
    expected = trials.to_dicts(order_by="KEY")
    polars = trials().to_polars(order_by="KEY")
    assert polars.columns == trials.heading.names
    assert polars.height == 6
    assert polars["label"].to_list() == [r["label"] for r in expected]
    assert polars["value"].to_list() == [r["value"] for r in expected]
    arrow = trials().to_arrow(order_by="KEY")
    assert arrow.column_names == trials.heading.names
    assert arrow.column("count").to_pylist() == [r["count"] for r in expected]
    assert arrow.column("day").to_pylist() == [r["day"] for r in expected]
    empty = (trials & {"session": 99}).to_arrow()
    assert empty.num_rows == 0


# ---- arrays -----------------------------------------------------------------------------------
def test_to_arrays_structured_with_heading_dtype(trials):
    array = trials.to_arrays(order_by="KEY")
    assert array.dtype.names == tuple(trials.heading.names)
    # integers as int64, as DataJoint 2.x gives them; dtypes="declared" keeps the widths
    assert array.dtype["session"] == np.dtype("i8") and array.dtype["trial"] == np.dtype("i8")
    declared = trials.to_arrays(order_by="KEY", dtypes="declared")
    assert declared.dtype["session"] == np.dtype("i4") and declared.dtype["trial"] == np.dtype("i2")
    assert declared["trial"].tolist() == array["trial"].tolist()
    assert array.dtype["value"] == np.dtype("f8") and array.dtype["flag"] == np.dtype("?")
    assert array.dtype["label"] == np.dtype(object)
    assert [(int(s), int(t)) for s, t in zip(array["session"], array["trial"], strict=True)] == (
        KEYS_ASC
    )
    by_key = {(r["session"], r["trial"]): r for r in ROWS}
    for record in array:
        want = by_key[(int(record["session"]), int(record["trial"]))]
        assert record["label"] == want["label"] and bool(record["flag"]) == want["flag"]
        assert record["ident"] == want["ident"] and record["doc"] == want["doc"]
        assert record["amount"] == want["amount"] and record["day"] == want["day"]
        if want["value"] is None:
            assert np.isnan(record["value"])  # NULL in a float field
        else:
            assert record["value"] == want["value"]
    assert [c for c in array["count"]] == [by_key[k]["count"] for k in KEYS_ASC]


def test_to_arrays_of_an_empty_result_has_the_heading_dtype(trials):
    empty = (trials & {"session": 99}).to_arrays()
    no_nulls = (trials & {"session": 2}).to_arrays()  # a NULL would make `count` an object field
    assert len(empty) == 0 and empty.dtype == no_nulls.dtype
    assert empty.dtype["count"] == np.dtype("i8")
    assert (trials & {"session": 99}).to_arrays(dtypes="declared").dtype["count"] == np.dtype("i4")


def test_to_arrays_per_attribute(trials):
    label = trials.to_arrays("label", order_by="KEY")
    assert isinstance(label, np.ndarray) and label.dtype.kind == "U"
    assert list(label) == [f"s{s}t{t}" + "x" * ((s * 10 + t) % 3) for s, t in KEYS_ASC]
    session, value = trials.to_arrays("session", "value", order_by="KEY")
    assert session.dtype == np.dtype("i8") and list(session) == [1, 1, 1, 2, 2, 2]
    assert value.dtype == np.dtype(object) and value[1] is None  # np.array([.., None, ..])
    keys, flag = trials.to_arrays("flag", include_key=True, order_by="KEY DESC", limit=2)
    assert keys == [{"session": 2, "trial": 3}, {"session": 2, "trial": 2}]
    assert flag.dtype == np.dtype("?") and list(flag) == [False, True]
    with pytest.raises(DataJointError, match="KEY"):
        trials.to_arrays("KEY")


def test_keys(trials):
    keys = trials.keys()
    assert len(keys) == 6 and all(set(k) == {"session", "trial"} for k in keys)
    assert trials.keys(order_by="KEY DESC", limit=2, offset=1) == [
        {"session": 2, "trial": 2},
        {"session": 2, "trial": 1},
    ]
    assert trials.keys() == trials.proj().to_dicts()


# ---- fetch1, head, tail, iteration ------------------------------------------------------------
def test_fetch1(trials):
    one = trials & {"session": 1, "trial": 2}
    row = one.fetch1()
    assert row == make_row(1, 2)
    assert one.fetch1("label") == "s1t2"
    assert one.fetch1("KEY") == {"session": 1, "trial": 2}
    assert one.fetch1("KEY", "label", "doc") == ({"session": 1, "trial": 2}, "s1t2", row["doc"])


def test_fetch1_errors(trials):
    with pytest.raises(
        DataJointError, match=r"^fetch1 requires exactly one tuple in the input set\.$"
    ):
        trials.fetch1()
    with pytest.raises(DataJointError, match="fetch1 requires exactly one tuple"):
        (trials & {"session": 99}).fetch1()
    with pytest.raises(
        DataJointError, match=r"^fetch1 should only return one tuple\. 6 tuples found$"
    ):
        trials.fetch1("label")
    with pytest.raises(
        DataJointError, match=r"^fetch1 should only return one tuple\. 0 tuples found$"
    ):
        (trials & {"session": 99}).fetch1("KEY")


def test_head_and_tail(trials):
    assert keys_of(trials.head()) == KEYS_ASC
    assert keys_of(trials.head(2)) == KEYS_ASC[:2]
    assert keys_of(trials.tail(2)) == KEYS_ASC[-2:]
    assert keys_of(trials.tail()) == KEYS_ASC


def test_iteration_streams_decoded_dicts_from_one_cursor(trials, monkeypatch):
    query = trials()
    calls = []
    connection = query.connection
    original = connection.execute_model

    def counting(node, **kw):
        calls.append(node)
        return original(node, **kw)

    monkeypatch.setattr(connection, "execute_model", counting)
    rows = list(iter(query))  # list(query) would also ask len(query)
    assert len(calls) == 1
    monkeypatch.setattr(connection, "execute_model", original)
    assert sorted(keys_of(rows)) == KEYS_ASC
    assert rows == query.to_dicts()


def test_other_queries_may_run_while_iterating(trials):
    seen = []
    for row in trials & {"session": 1}:
        key = {"session": row["session"], "trial": row["trial"]}
        seen.append((trials & key).fetch1("label"))
    assert sorted(seen) == sorted(r["label"] for r in ROWS if r["session"] == 1)


# ---- deprecated fetch ----------------------------------------------------------------------------
DEPRECATION = (
    r"^fetch\(\) is deprecated in DataJoint 2\.0\. Use to_dicts\(\), to_pandas\(\), "
    r"to_arrays\(\), or keys\(\) instead\.$"
)


def test_fetch_warns_and_maps_every_form(trials):
    with pytest.warns(DeprecationWarning, match=DEPRECATION):
        structured = trials.fetch(order_by="KEY")
    assert np.array_equal(structured["label"], trials.to_arrays(order_by="KEY")["label"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert trials.fetch(as_dict=True, order_by="KEY") == trials.to_dicts(order_by="KEY")
        assert trials.fetch("KEY", order_by="KEY") == trials.keys(order_by="KEY")
        pd.testing.assert_frame_equal(trials.fetch(format="frame"), trials.to_pandas())
        assert np.array_equal(
            trials.fetch("label", order_by="KEY"), trials.to_arrays("label", order_by="KEY")
        )
        label, flag = trials.fetch("label", "flag", order_by="KEY", limit=2)
        assert list(label) == ["s1t1xx", "s1t2"] and list(flag) == [False, True]
        assert trials.fetch("label", as_dict=True, order_by="KEY", limit=1) == [
            {"session": 1, "trial": 1, "label": "s1t1xx"}
        ]
        assert trials.fetch("KEY", "label", as_dict=True, limit=1) == [
            {"session": 1, "trial": 1, "label": "s1t1xx"}
        ]
        keys, label = trials.fetch("KEY", "label", order_by="KEY DESC", limit=2)
        assert keys == [{"session": 2, "trial": 3}, {"session": 2, "trial": 2}]
        assert isinstance(label, np.ndarray) and list(label) == ["s2t3xx", "s2t2x"]
        label, keys = trials.fetch("label", "KEY", offset=5)
        assert keys == [{"session": 2, "trial": 3}] and list(label) == ["s2t3xx"]
        assert trials.fetch(format="array", as_dict=True, limit=1) == trials.to_dicts(limit=1)
        with pytest.raises(
            DataJointError, match=r"format='frame' cannot be combined with attrs or as_dict"
        ):
            trials.fetch("label", format="frame")
        with pytest.raises(
            DataJointError, match=r"format='frame' cannot be combined with attrs or as_dict"
        ):
            trials.fetch(format="frame", as_dict=False)


# ---- previews --------------------------------------------------------------------------------------
def test_repr_is_a_text_preview(trials):
    text = repr(trials())
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["*session", "*trial", "value"]
    assert "=JSON=" in text and lines[-1] == " (Total: 6)"
    assert len(lines) == 2 + 6 + 1
    with dj.config.override(display__limit=2, display__width=4, display__show_tuple_count=False):
        lines = repr(trials()).splitlines()
        assert len(lines) == 2 + 2 + 1 and lines[-1] == " ..."
        assert all(len(cell) <= 4 for line in lines[2:4] for cell in line.split())
        assert lines[0].split()[0] == "*ses"
    preview = trials().preview(limit=1, width=3)
    assert preview.splitlines()[2].split()[:2] == ["1", "1"]
    assert preview.splitlines()[-2:] == [" ...", " (Total: 6)"]


def test_repr_is_the_object_repr_at_debug_level(trials):
    with dj.config.override(loglevel="debug"):
        assert repr(trials()).startswith("<")
    assert not repr(trials()).startswith("<")


def test_repr_html(trials):
    html = trials()._repr_html_()
    assert html.count("<tr>") == 1 + 6 and "Total: 6" in html
    assert "s1t1xx" in html and "<td>=JSON=</td>" in html
    with dj.config.override(display__limit=3):
        assert (trials & {"session": 1})._repr_html_().count("<tr>") == 1 + 3


# ---- streaming and batches -------------------------------------------------------------------------
def test_large_results_stream_in_batches(dj_schema, monkeypatch):
    @dj_schema
    class Many(dj.Manual):
        definition = """
        n : int32
        ---
        x : float64
        y = null : int32
        """

    Many.insert({"n": n, "x": n / 2, "y": None if n == 17 else n} for n in range(50))
    monkeypatch.setattr(reader, "BATCH_ROWS", 7)
    monkeypatch.setattr(reader, "PROBE_ROWS", 10)
    connection = Many().connection
    flags = []
    original = connection.query

    def recording(sql, args=(), **kw):
        flags.append(kw.get("streaming", False))
        return original(sql, args, **kw)

    monkeypatch.setattr(connection, "query", recording)
    array = Many.to_arrays(order_by="KEY")
    streamed = flags[-1]
    assert streamed == connection.dialect.capabilities.server_side_cursors
    assert list(array["n"]) == list(range(50)) and array["y"][17] is None
    assert array.dtype["y"] == np.dtype(object) and array["y"][3] == 3
    assert Many.to_dicts(order_by="KEY")[49] == {"n": 49, "x": 24.5, "y": 49}
    frame = Many.to_pandas()
    assert len(frame) == 50 and np.isnan(frame.loc[17, "y"])
    x, y = Many.to_arrays("x", "y", order_by="KEY")
    assert x.dtype == np.dtype("f8") and y.dtype == np.dtype(object) and y[17] is None
    flags.clear()
    monkeypatch.setattr(reader, "PROBE_ROWS", 50)  # a small result: one buffered statement
    assert len(Many.to_dicts()) == 50 and flags == [False]
    monkeypatch.setattr(connection, "query", original)
    assert len(Many()) == 50  # the connection is free again
    if connection.backend.name == "postgresql":
        assert connection.query("SELECT count(*) FROM pg_cursors").fetchone()[0] == 0


# ---- blobs: squeeze, ragged values, the first-row-number rule --------------------------------------
@pytest.fixture
def pickled_blobs(monkeypatch):
    """Decode native ``bytes`` columns with pickle, standing in for a blob codec."""
    real = reader.decoders_for

    def decoders_for(query, names, **options):
        out = real(query, names, **options)
        return [
            (lambda v: pickle.loads(bytes(v))) if query.heading[n].core == "bytes" else d
            for n, d in zip(names, out, strict=True)
        ]

    monkeypatch.setattr(reader, "decoders_for", decoders_for)


def test_native_blob_values_squeeze_stack_and_stay_ragged(dj_schema, pickled_blobs):
    @dj_schema
    class Signal(dj.Manual):
        definition = """
        signal : int32
        ---
        data : bytes
        scalar : bytes
        """

    Signal.insert(
        {"signal": i, "data": pickle.dumps(np.ones((1, 3)) * i), "scalar": pickle.dumps(i * 2)}
        for i in range(3)
    )
    assert Signal.to_dicts(order_by="KEY")[1]["data"].shape == (1, 3)
    assert Signal.to_dicts(order_by="KEY", squeeze=True)[1]["data"].shape == (3,)
    assert (Signal & {"signal": 2}).fetch1("data", squeeze=True).tolist() == [2.0, 2.0, 2.0]
    data = Signal.to_arrays("data", order_by="KEY")
    assert data.shape == (3, 1, 3)  # equal shapes stack, as np.array does
    structured = Signal.to_arrays(order_by="KEY")
    assert structured.dtype["scalar"] == np.dtype(int)  # a blob holding a number
    assert list(structured["scalar"]) == [0, 2, 4]
    assert structured.dtype["data"] == np.dtype(object)
    Signal.insert1({"signal": 9, "data": pickle.dumps(np.zeros(5)), "scalar": pickle.dumps("x")})
    ragged = Signal.to_arrays("data", order_by="KEY")
    assert ragged.dtype == np.dtype(object) and ragged[3].shape == (5,)
    mixed = Signal.to_arrays(order_by="KEY")
    assert mixed.dtype["scalar"] == np.dtype(object) and mixed["scalar"][3] == "x"


def test_blob_codec_values_in_every_format(dj_schema):
    @dj_schema
    class Trace(dj.Manual):
        definition = """
        trace : int32
        ---
        samples : <blob>
        gain : <blob>
        level : <blob>
        """

    Trace.insert(
        {
            "trace": i,
            "samples": np.arange(3.0).reshape(1, 3) + i,
            "gain": i / 2,
            "level": [1, 2, 2.5][i],
        }
        for i in range(3)
    )
    rows = Trace.to_dicts(order_by="KEY", squeeze=True)
    assert rows[2]["samples"].tolist() == [2.0, 3.0, 4.0] and rows[1]["gain"] == 0.5
    structured = Trace.to_arrays(order_by="KEY")
    assert structured.dtype["gain"] == np.dtype(float)  # the first row's blob is a float
    assert structured.dtype["samples"] == np.dtype(object)
    assert structured.dtype["level"] == np.dtype(float)  # widened, never truncated to int
    assert list(structured["level"]) == [1.0, 2.0, 2.5]
    assert structured["samples"][1].shape == (1, 3)
    assert Trace.to_arrays("samples", order_by="KEY").shape == (3, 1, 3)
    assert Trace.to_arrays("samples", squeeze=True).shape == (3, 3)
    frame = Trace.to_pandas()
    assert frame.loc[2, "samples"].shape == (1, 3)
