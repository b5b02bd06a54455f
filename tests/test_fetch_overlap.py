"""A fetch of large codec values overlaps reading the rows with decoding them (issue 16), with the
values, order and errors of the single-threaded path, on every backend.

On a backend whose streaming cursor costs no extra round trips (``capabilities.cheap_streaming``)
the large blobs are decoded on the codec pool as their rows arrive
(:func:`datajoint.fetch.reader.decoded_batches`); elsewhere the fetch reads as before. Every fetch
format must give the same result either way.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import datajoint as dj
from datajoint import parallel
from datajoint.fetch import reader
from datajoint.testing.fixtures import codec_threads

ROWS = 24


def values(count: int) -> list[object]:
    """Large arrays (random ones stored uncompressed, smooth ones compressed), small arrays, a
    scalar and NULLs, mixed so that batches hold both kinds."""
    rng = np.random.default_rng(11)
    size = parallel.LARGE_VALUE // 8 + 50
    out: list[object] = []
    for i in range(count):
        kind = i % 6
        if kind in (0, 3):
            out.append(rng.standard_normal(size))
        elif kind == 1:
            out.append(np.arange(size, dtype=np.float64).reshape(-1, 2) + i)
        elif kind == 2:
            out.append(np.arange(i + 1))
        elif kind == 4:
            out.append(None)
        else:
            out.append(float(i))
    return out


@pytest.fixture
def blobs(dj_schema):
    @dj_schema
    class Blobs(dj.Manual):
        definition = """
        id : int32
        ---
        label : varchar(16)
        data = null : <blob>
        """

    data = values(ROWS)
    # inserted out of order: the fetch order is the server's or the one asked for
    Blobs.insert({"id": i, "label": f"row {i}", "data": data[i]} for i in reversed(range(ROWS)))
    return Blobs, data


def same(got: object, expected: object) -> bool:
    if isinstance(expected, np.ndarray):
        return (
            isinstance(got, np.ndarray)
            and got.dtype == expected.dtype
            and got.shape == expected.shape
            and np.array_equal(got, expected)
            and got.flags.writeable
        )
    return type(got) is type(expected) and got == expected


def test_the_backend_capability_decides_the_overlap(blobs):
    Blobs, _ = blobs
    names = Blobs.heading.names
    decoders = reader.column_decoders(Blobs(), names)
    concurrent = reader.concurrent_columns(Blobs(), names)
    assert concurrent == [names.index("data")]
    with codec_threads(4):
        overlapped = reader.overlapped_columns(Blobs(), names, decoders, concurrent)
    cheap = Blobs.connection.dialect.capabilities.cheap_streaming
    assert overlapped == (concurrent if cheap else [])
    with codec_threads(1):  # no pool: the usual path
        assert reader.overlapped_columns(Blobs(), names, decoders, concurrent) == []
    # a codec column that may not decode on another thread keeps the whole fetch as usual
    assert reader.overlapped_columns(Blobs(), names, decoders, []) == []


def test_every_format_gives_the_single_threaded_result(blobs):
    Blobs, data = blobs
    fetches = {
        "dicts": lambda: Blobs.to_dicts(order_by="id"),
        "dicts desc": lambda: Blobs.to_dicts(order_by="id DESC"),
        "struct": lambda: Blobs.to_arrays(order_by="id"),
        "columns": lambda: Blobs.to_arrays("id", "data", order_by="id"),
        "pandas": lambda: Blobs.to_pandas(order_by="id"),
        "squeezed": lambda: Blobs.to_dicts(order_by="id", squeeze=True),
        "limited": lambda: Blobs.to_dicts(order_by="id", limit=7, offset=3),
        "iterated": lambda: sorted(Blobs, key=lambda row: row["id"]),
        "fetch1": lambda: (Blobs & {"id": 3}).fetch1("data"),
    }
    with codec_threads(1):
        single = {name: fetch() for name, fetch in fetches.items()}
    with codec_threads(4):
        pooled = {name: fetch() for name, fetch in fetches.items()}

    dicts = pooled["dicts"]
    assert [row["id"] for row in dicts] == list(range(ROWS))
    assert [row["id"] for row in pooled["dicts desc"]] == list(reversed(range(ROWS)))
    assert [row["id"] for row in pooled["limited"]] == list(range(3, 10))
    for row in dicts:
        assert row["label"] == f"row {row['id']}"
        assert same(row["data"], data[row["id"]])
    for name in ("dicts", "dicts desc", "squeezed", "limited", "iterated"):
        assert len(pooled[name]) == len(single[name])
        for got, expected in zip(pooled[name], single[name], strict=True):
            assert got.keys() == expected.keys()
            assert all(same(got[k], expected[k]) for k in expected)
    struct, struct_single = pooled["struct"], single["struct"]
    assert struct.dtype == struct_single.dtype
    assert list(struct["id"]) == list(range(ROWS))
    assert all(same(g, e) for g, e in zip(struct["data"], struct_single["data"], strict=True))
    ids, column = pooled["columns"]
    assert list(ids) == list(range(ROWS))
    assert all(same(g, e) for g, e in zip(column, single["columns"][1], strict=True))
    frame, frame_single = pooled["pandas"], single["pandas"]
    pd.testing.assert_index_equal(frame.index, frame_single.index)
    assert all(same(g, e) for g, e in zip(frame["data"], frame_single["data"], strict=True))
    assert same(pooled["fetch1"], data[3])


class _FailsWhenMarked(dj.Codec):
    """A concurrent codec storing bytes; decoding a value that starts with ``b"bad"`` raises
    (with the row's number in the message)."""

    name = "h2_fails_when_marked"
    concurrent = True
    threads: set[str] = set()

    def get_dtype(self, is_store: bool) -> str:
        return "bytes"

    def encode(self, value, *, key=None, store_name=None):
        return value

    def decode(self, stored, *, key=None):
        self.threads.add(threading.current_thread().name)
        stored = bytes(stored)
        if stored.startswith(b"bad"):
            raise ValueError(f"cannot decode row {stored[3:6].decode()}")
        return stored


@pytest.fixture
def marked(dj_schema):
    @dj_schema
    class Marked(dj.Manual):
        definition = """
        id : int32
        ---
        data : <h2_fails_when_marked>
        """

    return Marked


def payload(i: int, *, large: bool, bad: bool = False) -> bytes:
    head = (b"bad" if bad else b"ok.") + b"%03d" % i
    return head + b"x" * ((parallel.LARGE_VALUE + 10) if large else 10)


@pytest.mark.parametrize(
    "fetch",
    [
        lambda t: t.to_dicts(order_by="id"),
        lambda t: t.to_arrays("id", "data", order_by="id"),
        lambda t: t.to_arrays(order_by="id"),
        lambda t: t.to_pandas(order_by="id"),
    ],
    ids=["to_dicts", "to_arrays(attrs)", "to_arrays", "to_pandas"],
)
@pytest.mark.parametrize("failing", ["large", "small"])
def test_a_failed_decode_raises_its_error_and_frees_the_connection(marked, fetch, failing):
    """The first failing value in row order raises its own error (a large one decoded on the
    pool or a small one decoded inline), and the cursor is closed at once."""
    rows = [{"id": i, "data": payload(i, large=i % 3 != 2)} for i in range(60)]
    rows[40]["data"] = payload(40, large=failing == "large", bad=True)
    rows[50]["data"] = payload(50, large=True, bad=True)  # a later failure is not the one raised
    marked.insert(rows)
    with codec_threads(4), pytest.raises(ValueError, match="cannot decode row 040") as info:
        fetch(marked)
    assert info.value is not None  # the traceback (and its frames) stay alive here
    assert len(marked()) == 60
    assert (marked & {"id": 7}).fetch1("data") == payload(7, large=True)


def test_large_values_decode_on_the_pool(marked):
    marked.insert({"id": i, "data": payload(i, large=i < 4)} for i in range(8))
    _FailsWhenMarked.threads.clear()
    with codec_threads(4):
        got = marked.to_dicts(order_by="id")
    assert [row["data"] for row in got] == [payload(i, large=i < 4) for i in range(8)]
    on_pool = any(name.startswith("dj-codec") for name in _FailsWhenMarked.threads)
    assert on_pool  # several large values: the pool decodes them, overlapped or not
    if marked.connection.dialect.capabilities.cheap_streaming:  # overlapped: small ones here
        assert threading.current_thread().name in _FailsWhenMarked.threads


@pytest.mark.parametrize(
    ("batch_bytes", "ahead_bytes"),
    [(1, 1), (1, 3 * parallel.LARGE_VALUE), (reader.DECODE_BATCH_BYTES, 1)],
    ids=["row-by-row", "row-by-row-ahead", "batched"],
)
def test_small_and_large_runs_keep_their_order(marked, monkeypatch, batch_bytes, ahead_bytes):
    """Runs of small rows (handed out undecoded) and of large ones (decoded on the pool),
    read a row at a time or in batches, come out in row order with every value decoded."""
    monkeypatch.setattr(reader, "DECODE_BATCH_BYTES", batch_bytes)
    monkeypatch.setattr(reader, "AHEAD_BYTES", ahead_bytes)
    large = [i for i in range(50) if 10 <= i < 20 or 30 <= i < 33 or i == 45]
    marked.insert({"id": i, "data": payload(i, large=i in large)} for i in range(50))
    with codec_threads(4):
        dicts = marked.to_dicts(order_by="id")
        ids, column = marked.to_arrays("id", "data", order_by="id")
    expected = [payload(i, large=i in large) for i in range(50)]
    assert [row["id"] for row in dicts] == list(range(50)) == list(ids)
    assert [row["data"] for row in dicts] == expected == list(column)


def test_closing_the_batches_early_frees_the_connection(marked, monkeypatch):
    """A consumer that stops part-way (closing the generator) cancels the pending decodes and
    closes the cursor, rows still unread."""
    monkeypatch.setattr(reader, "AHEAD_BYTES", 1)  # each batch is handed out at once
    marked.insert({"id": i, "data": payload(i, large=True)} for i in range(40))
    query = marked()
    names = query.heading.names
    decoders = reader.column_decoders(query, names)
    with codec_threads(4):
        batches = reader.read_batches(query, names, decoders, [names.index("data")])
        rows, decoded = next(batches)
        batches.close()
    assert decoded
    assert rows[0][1] == payload(rows[0][0], large=True)
    assert len(marked()) == 40
    assert (marked & {"id": 39}).fetch1("data") == payload(39, large=True)


def test_a_failed_decode_inside_a_transaction_keeps_it(marked):
    """A fetch stopped part-way inside a transaction (a decode failed) reads the rest of its
    result instead of cancelling the statement: the transaction stays open and usable."""
    marked.insert({"id": i, "data": payload(i, large=True, bad=i == 5)} for i in range(30))
    connection = marked.connection
    with codec_threads(4), connection.transaction:
        marked.insert1({"id": 100, "data": payload(100, large=False)})
        with pytest.raises(ValueError, match="cannot decode row 005"):
            marked.to_dicts(order_by="id")
        assert (marked & {"id": 100}).fetch1("data") == payload(100, large=False)
        assert len(marked.to_dicts(order_by="id", limit=5)) == 5
    assert len(marked()) == 31
