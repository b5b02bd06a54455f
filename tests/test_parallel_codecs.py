"""Large codec values of a column are encoded and decoded on a thread pool, on every backend,
with the bytes and values of the single-threaded path (issue 16)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import datajoint as dj
from datajoint import parallel
from datajoint.testing.fixtures import codec_threads


def large_arrays(count: int) -> list[np.ndarray]:
    """Arrays above the pool's threshold: random halves (stored uncompressed) and smooth ones
    (compressed), so both blob forms cross the pool."""
    rng = np.random.default_rng(5)
    size = parallel.LARGE_VALUE // 8 + 100
    return [
        rng.standard_normal(size) if i % 2 else np.arange(size, dtype=np.float64) + i
        for i in range(count)
    ]


@pytest.fixture
def blob_tables(dj_schema):
    @dj_schema
    class Stored(dj.Manual):
        definition = """
        id : int32
        ---
        data = null : <blob>
        """

    return Stored


def stored_bytes(table) -> list[bytes]:
    conn = table.connection
    sql = (
        f"SELECT {conn.dialect.quote('data')} FROM {table.full_table_name} "
        f"ORDER BY {conn.dialect.quote('id')}"
    )
    return [None if v is None else bytes(v) for (v,) in conn.query(sql).fetchall()]


def test_parallel_insert_stores_the_single_threaded_bytes(blob_tables):
    Stored = blob_tables
    arrays = large_arrays(6)
    rows = [{"id": i, "data": a} for i, a in enumerate(arrays)] + [{"id": 99, "data": None}]
    with codec_threads(1):
        Stored.insert(rows)
    single = stored_bytes(Stored)
    Stored.delete_quick()
    with codec_threads(4):
        Stored.insert(rows)
    assert any(t.name.startswith("dj-codec") for t in threading.enumerate())  # the pool ran
    assert stored_bytes(Stored) == single
    assert single[-1] is None  # None is left to the column default (NULL), never encoded


def test_parallel_fetch_gives_the_single_threaded_values(blob_tables):
    Stored = blob_tables
    arrays = large_arrays(5)
    Stored.insert([{"id": i, "data": a} for i, a in enumerate(arrays)])
    Stored.insert1({"id": 9})
    with codec_threads(4):
        dicts = Stored.to_dicts(order_by="id")
        column = Stored.to_arrays("data", order_by="id")
        listed = list(Stored)
    with codec_threads(1):
        single = Stored.to_dicts(order_by="id")
    for got in (dicts, single, sorted(listed, key=lambda r: r["id"])):
        assert [r["id"] for r in got] == [0, 1, 2, 3, 4, 9]
        assert got[-1]["data"] is None
        for row, expected in zip(got, arrays, strict=False):
            np.testing.assert_array_equal(row["data"], expected)
            assert row["data"].flags.writeable
    for value, expected in zip(column, arrays, strict=False):
        np.testing.assert_array_equal(value, expected)
    assert column[-1] is None


def test_the_pool_is_used_only_for_several_large_values(monkeypatch):
    """Small rows pay nothing: one large value, or many small ones, stay on the caller's
    thread."""
    size = parallel.LARGE_VALUE
    with codec_threads(4):
        assert parallel.worth_parallel([np.zeros(size // 8), np.zeros(size // 8)])
        assert not parallel.worth_parallel([np.zeros(size // 8), np.zeros(10)])
        assert not parallel.worth_parallel([b"x" * 100] * 1000)
        assert parallel.worth_parallel([b"x" * size, memoryview(b"y" * size)])
    with codec_threads(1):
        assert not parallel.worth_parallel([np.zeros(size // 8)] * 4)


class _ThreadRecording(dj.Codec):
    """A codec that does not declare itself concurrent and notes the threads it runs on."""

    name = "h6_thread_recording"
    threads: set[int] = set()

    def get_dtype(self, is_store: bool) -> str:
        return "bytes"

    def encode(self, value, *, key=None, store_name=None):
        self.threads.add(threading.get_ident())
        return value.tobytes()

    def decode(self, stored, *, key=None):
        self.threads.add(threading.get_ident())
        return np.frombuffer(bytes(stored), dtype=np.float64).copy()


def test_a_codec_not_declared_concurrent_runs_on_one_thread(dj_schema):
    @dj_schema
    class Recorded(dj.Manual):
        definition = """
        id : int32
        ---
        data : <h6_thread_recording>
        """

    arrays = large_arrays(4)
    _ThreadRecording.threads.clear()
    with codec_threads(4):
        Recorded.insert([{"id": i, "data": a} for i, a in enumerate(arrays)])
        fetched = Recorded.to_dicts(order_by="id")
    assert _ThreadRecording.threads == {threading.get_ident()}
    for row, expected in zip(fetched, arrays, strict=True):
        np.testing.assert_array_equal(row["data"], expected)
    assert not _ThreadRecording.concurrent
    assert dj.get_codec("blob").concurrent  # the built-in blob codec declares it
