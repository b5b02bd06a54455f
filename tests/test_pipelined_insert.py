"""A multi-row insert of large blobs sends each chunk while the pool packs the next ones, with
the bytes of the single-threaded path and all-or-nothing semantics (issue 16)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import datajoint as dj
from datajoint import parallel
from datajoint.write import insert as insert_module

SIZE = parallel.LARGE_VALUE // 8 + 100  # float64 elements: just above the pool's threshold


class _Recording(dj.Codec):
    """A concurrent codec storing an array's raw bytes and noting when each value is packed."""

    name = "h16_recording"
    concurrent = True
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    def get_dtype(self, is_store: bool) -> str:
        return "bytes"

    def encode(self, value, *, key=None, store_name=None):
        data = np.ascontiguousarray(value, dtype=np.float64).tobytes()
        with self.lock:
            self.events.append(("pack", int(value[0])))
        return data

    def decode(self, stored, *, key=None):
        return np.frombuffer(bytes(stored), dtype=np.float64).copy()


@pytest.fixture
def small_chunks(monkeypatch):
    """Two large values per statement, two cores' worth of threads, nothing packed far ahead."""
    monkeypatch.setattr(insert_module, "MAX_CHUNK_BYTES", 2 * SIZE * 8 + 1000)
    monkeypatch.setattr(parallel, "AHEAD_BYTES", 0)
    monkeypatch.setattr(parallel, "CORES", 2)
    monkeypatch.setattr(parallel, "MAX_WORKERS", 2)


def arrays(count: int) -> list[np.ndarray]:
    return [np.full(SIZE, float(i)) for i in range(count)]


def test_chunks_are_sent_while_later_values_are_packed(dj_schema, small_chunks, monkeypatch):
    @dj_schema
    class Recorded(dj.Manual):
        definition = """
        id : int32
        ---
        data : <h16_recording>
        """

    events = _Recording.events
    events.clear()
    execute = insert_module._execute_chunk

    def recording_execute(target, columns, rows, mode, sql=None):
        with _Recording.lock:
            events.append(("send", len(rows)))
        execute(target, columns, rows, mode, sql)

    monkeypatch.setattr(insert_module, "_execute_chunk", recording_execute)
    values = arrays(10)
    Recorded.insert([{"id": i, "data": a} for i, a in enumerate(values)])
    sends = [i for i, (kind, _) in enumerate(events) if kind == "send"]
    packs = [i for i, (kind, _) in enumerate(events) if kind == "pack"]
    assert [n for kind, n in events if kind == "send"] == [2, 2, 2, 2, 2]
    assert sorted(n for kind, n in events if kind == "pack") == list(range(10))
    assert sends[0] < packs[-1]  # the first statement went out before the last value was packed
    fetched = Recorded.to_dicts(order_by="id")
    for row, expected in zip(fetched, values, strict=True):
        np.testing.assert_array_equal(row["data"], expected)


def test_pipelined_blob_insert_stores_the_single_threaded_bytes(dj_schema, small_chunks):
    @dj_schema
    class Stored(dj.Manual):
        definition = """
        id : int32
        ---
        data = null : <blob>
        """

    rng = np.random.default_rng(3)
    values = [rng.standard_normal(SIZE) if i % 3 else np.arange(SIZE) + i for i in range(9)]
    rows = [{"id": i, "data": v} for i, v in enumerate(values)] + [{"id": 50, "data": None}]
    Stored.insert(rows)
    conn = Stored.connection
    sql = (
        f"SELECT {conn.dialect.quote('data')} FROM {Stored.full_table_name} "
        f"ORDER BY {conn.dialect.quote('id')}"
    )
    stored = [None if v is None else bytes(v) for (v,) in conn.query(sql).fetchall()]
    codec = dj.get_codec("blob")
    assert stored == [codec.encode(v) for v in values] + [None]


def test_a_value_that_fails_to_pack_late_leaves_nothing_written(dj_schema, small_chunks):
    @dj_schema
    class Stored(dj.Manual):
        definition = """
        id : int32
        ---
        data : <blob>
        """

    Stored.insert1({"id": 100, "data": np.zeros(3)})
    rows = [{"id": i, "data": a} for i, a in enumerate(arrays(8))]
    rows[6]["data"] = object()  # the blob format cannot pack it: fails after chunks were sent
    with pytest.raises(dj.DataJointError, match="not supported"):
        Stored.insert(rows)
    assert Stored.to_arrays("id").tolist() == [100]


def test_pipelined_map_keeps_order_and_raises_each_items_error():
    def invert(x: int) -> float:
        return 1 / x

    pending = parallel.pipelined_map(invert, [1, 2, 0, 4])
    assert pending[0].result() == 1.0
    assert pending[1].result() == 0.5
    with pytest.raises(ZeroDivisionError):
        pending[2].result()
    assert pending[3].result() == 0.25


def test_pipelined_map_on_a_pool_thread_runs_inline():
    """Waiting on the pool from one of its own threads could deadlock: the calls run there."""

    def inner() -> list[str]:
        pending = parallel.pipelined_map(lambda _: threading.current_thread().name, range(6))
        return [p.result() for p in pending]

    outer = parallel.pool().submit(inner).result()
    assert len(set(outer)) == 1 and outer[0].startswith("dj-codec")


def test_statements_of_values_being_packed_are_small(dj_schema, monkeypatch):
    """Rows whose values the pool packs go out in statements of about PIPELINED_CHUNK_BYTES;
    rows of values already bytes keep the larger MAX_CHUNK_BYTES statements."""

    @dj_schema
    class Both(dj.Manual):
        definition = """
        id : int32
        ---
        packed : <h16_recording>
        raw : bytes
        """

    monkeypatch.setattr(parallel, "CORES", 2)
    monkeypatch.setattr(parallel, "MAX_WORKERS", 2)
    row_bytes = 2 * SIZE * 8  # one packed value and one raw value
    monkeypatch.setattr(insert_module, "PIPELINED_CHUNK_BYTES", 3 * row_bytes + 1000)
    monkeypatch.setattr(insert_module, "MAX_CHUNK_BYTES", 4 * row_bytes + 1000)
    sizes: list[int] = []
    execute = insert_module._execute_chunk

    def recording_execute(target, columns, rows, mode, sql=None):
        sizes.append(len(rows))
        execute(target, columns, rows, mode, sql)

    monkeypatch.setattr(insert_module, "_execute_chunk", recording_execute)
    values = arrays(10)
    raw = [v.tobytes() for v in values]
    Both.insert(
        [{"id": i, "packed": v, "raw": r} for i, (v, r) in enumerate(zip(values, raw, strict=True))]
    )
    assert sizes == [3, 3, 3, 1]
    sizes.clear()
    small = np.zeros(3)  # packed here, not on the pool: the rows hold only bound values
    Both.insert([{"id": 100 + i, "packed": small, "raw": r} for i, r in enumerate(raw)])
    assert sizes == [8, 2]
    fetched = Both.to_dicts(order_by="id")
    assert [row["id"] for row in fetched] == [*range(10), *range(100, 110)]
    for row, expected in zip(fetched[:10], values, strict=True):
        np.testing.assert_array_equal(row["packed"], expected)
    assert [row["raw"] for row in fetched] == raw + raw


def test_megabyte_blobs_store_the_single_threaded_bytes_in_order(dj_schema):
    """With the default statement sizes (one or two blobs of a megabyte per statement)."""

    @dj_schema
    class Large(dj.Manual):
        definition = """
        id : int32
        ---
        data : <blob>
        """

    rng = np.random.default_rng(16)
    values = [rng.standard_normal(150_000) for _ in range(6)]
    Large.insert([{"id": 5 - i, "data": v} for i, v in enumerate(values)])
    conn = Large.connection
    sql = (
        f"SELECT {conn.dialect.quote('data')} FROM {Large.full_table_name} "
        f"ORDER BY {conn.dialect.quote('id')} DESC"
    )
    stored = [bytes(v) for (v,) in conn.query(sql).fetchall()]
    codec = dj.get_codec("blob")
    assert stored == [codec.encode(v) for v in values]
