"""Concurrent store transfers (issue 13 item 6), on every backend.

Concurrency is shown by observation, never by timing: a file store whose filesystem holds the
first few transfers at a rendezvous lets them through only when that many run at the same
time (a serial implementation would break the rendezvous); on s3 the fetch of many rows reads
their objects in one batch (``get_buffers``) whose requests are in flight together. Results
come back in row order, and the first failing value's error is raised.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fsspec.asyn import sync
from fsspec.implementations.local import LocalFileSystem

import datajoint as dj
from datajoint import storage
from datajoint.errors import MissingExternalFile
from datajoint.plugin_host import host
from datajoint.testing.stores import use_store

ROWS = 12
#: transfers that must be in flight at the same time
PARTIES = 4


class Rendezvous:
    """Holds the first :data:`PARTIES` calls until all of them have arrived.

    They only meet when they run at the same time: one at a time, the first call waits alone
    until the barrier gives up and breaks (``met`` stays False).
    """

    def __init__(self) -> None:
        self.barrier = threading.Barrier(PARTIES, timeout=30)
        self.lock = threading.Lock()
        self.calls = 0
        self.met = False
        self.threads: set[int] = set()

    def __call__(self) -> None:
        with self.lock:
            self.calls += 1
            number = self.calls
            self.threads.add(threading.get_ident())
        if number <= PARTIES:
            try:
                self.barrier.wait()
                self.met = True
            except threading.BrokenBarrierError:
                pass


class TrackedFileSystem(LocalFileSystem):
    """The local filesystem, with a rendezvous before every whole-object read and write."""

    cachable = False
    reads: Rendezvous
    writes: Rendezvous

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reads, self.writes = Rendezvous(), Rendezvous()

    def cat_file(self, path, start=None, end=None, **kwargs):
        self.reads()
        return super().cat_file(path, start=start, end=end, **kwargs)

    def pipe_file(self, path, value, mode="overwrite", **kwargs):
        self.writes()
        return super().pipe_file(path, value, mode=mode, **kwargs)


class TrackedAdapter(dj.StorageAdapter):
    """A local directory whose filesystem records overlapping transfers (protocol ``tracked``)."""

    protocol = "tracked"
    required_keys = ("location",)

    def create_filesystem(self, spec):
        return TrackedFileSystem(auto_mkdir=True)


@pytest.fixture
def tracked_store(tmp_path: Path) -> Iterator[str]:
    host().register("storage_protocol", "tracked", TrackedAdapter)
    location = tmp_path / "tracked"
    location.mkdir()
    try:
        with use_store("tracked", {"protocol": "tracked", "location": str(location)}):
            yield "tracked"
    finally:
        host().unregister("storage_protocol", "tracked")
        storage.clear_backends()


def declare(schema, definition: str) -> type:
    class Data(dj.Manual):
        pass

    Data.definition = definition
    schema(Data, context={})
    return Data


def rows(n: int = ROWS) -> list[dict]:
    return [
        {"id": i, "b": np.arange(i, i + 50), "n": np.full(6, float(i)), "o": f"o{i}".encode()}
        for i in range(n)
    ]


DEFINITION = """
id : int32
---
b : <blob@>
n : <npy@>
o : <object@>
"""


def check(fetched: list[dict], n: int = ROWS) -> None:
    assert [r["id"] for r in fetched] == list(range(n))
    for r in fetched:
        i = r["id"]
        assert np.array_equal(r["b"], np.arange(i, i + 50))
        assert np.array_equal(np.asarray(r["n"]), np.full(6, float(i)))
        assert r["o"].read() == f"o{i}".encode()


def test_bulk_insert_uploads_concurrently(dj_schema, tracked_store):
    Data = declare(dj_schema, DEFINITION)
    fs = storage.get_backend(tracked_store, dj.config).fs
    Data.insert(rows())
    assert fs.writes.met, "the uploads of one insert never overlapped"
    assert len(fs.writes.threads) >= PARTIES
    check(Data.to_dicts(order_by="id"))


def test_fetch_downloads_concurrently(dj_schema, tracked_store):
    Data = declare(dj_schema, DEFINITION)
    Data.insert(rows())
    fs = storage.get_backend(tracked_store, dj.config).fs
    fs.reads = Rendezvous()
    check(Data.to_dicts(order_by="id"))
    assert fs.reads.met, "the downloads of one fetch never overlapped"
    fs.reads = Rendezvous()
    ids, blobs = Data.to_arrays("id", "b", order_by="id")
    assert list(ids) == list(range(ROWS))
    assert all(np.array_equal(b, np.arange(i, i + 50)) for i, b in zip(ids, blobs, strict=True))
    assert fs.reads.met, "the downloads of to_arrays never overlapped"


def test_s3_fetch_reads_a_column_in_one_batch(dj_schema, s3_store, monkeypatch):
    Data = declare(dj_schema, "id : int32\n---\nb : <blob@>")
    Data.insert([{"id": i, "b": np.arange(i, i + 50)} for i in range(ROWS)])
    backend = storage.get_backend(s3_store, dj.config)
    batches: list[int] = []
    single: list[str] = []
    flight = {"now": 0, "most": 0}
    get_buffers, cat_file, async_cat = (
        backend.get_buffers,
        backend.fs.cat_file,
        backend.fs._cat_file,
    )

    def counted_get_buffers(relpaths):
        batches.append(len(relpaths))
        return get_buffers(relpaths)

    def counted_cat_file(path, *args, **kwargs):
        single.append(path)
        return cat_file(path, *args, **kwargs)

    async def in_flight(path, *args, **kwargs):
        flight["now"] += 1  # the event loop's thread only: no lock needed
        flight["most"] = max(flight["most"], flight["now"])
        try:
            await asyncio.sleep(0)  # let the other reads of the batch start
            return await async_cat(path, *args, **kwargs)
        finally:
            flight["now"] -= 1

    monkeypatch.setattr(backend, "get_buffers", counted_get_buffers)
    monkeypatch.setattr(backend.fs, "cat_file", counted_cat_file)
    monkeypatch.setattr(backend.fs, "_cat_file", in_flight)
    fetched = Data.to_dicts(order_by="id")
    assert [r["id"] for r in fetched] == list(range(ROWS))
    assert all(np.array_equal(r["b"], np.arange(r["id"], r["id"] + 50)) for r in fetched)
    assert batches == [ROWS]  # one batch for the column
    assert single == []  # no object read on its own
    assert flight["most"] > 1


def test_s3_insert_uploads_overlap(dj_schema, s3_store, monkeypatch):
    Data = declare(dj_schema, "id : int32\n---\nb : <blob@>")
    fs = storage.get_backend(s3_store, dj.config).fs
    flight = {"now": 0, "most": 0, "calls": 0}
    async_pipe = fs._pipe_file

    async def in_flight(path, data, *args, **kwargs):
        flight["now"] += 1  # the event loop's thread only: no lock needed
        flight["calls"] += 1
        flight["most"] = max(flight["most"], flight["now"])
        try:
            await asyncio.sleep(0)
            return await async_pipe(path, data, *args, **kwargs)
        finally:
            flight["now"] -= 1

    # the sync method as s3fs builds it, around the counting coroutine
    monkeypatch.setattr(fs, "pipe_file", lambda *a, **k: sync(fs.loop, in_flight, *a, **k))
    Data.insert([{"id": i, "b": np.arange(i, i + 50)} for i in range(ROWS)])
    assert flight["calls"] == ROWS
    assert flight["most"] > 1, "the uploads of one insert never overlapped"


def test_missing_object_raises_for_its_row(dj_schema, store):
    Data = declare(dj_schema, "id : int32\n---\nb : <blob@>")
    Data.insert([{"id": i, "b": np.arange(i, i + 50)} for i in range(ROWS)])
    backend = storage.get_backend(store, dj.config)
    path = (Data & {"id": 5}).proj(p="b.path").fetch1("p")
    backend.remove(path)
    with pytest.raises(MissingExternalFile, match=path.rpartition("/")[2]):
        Data.to_dicts()
    rest = (Data - {"id": 5}).to_dicts(order_by="id")  # the batch read works without it
    assert [r["id"] for r in rest] == [i for i in range(ROWS) if i != 5]


def test_first_failing_value_raises(dj_schema, store, tmp_path):
    Data = declare(dj_schema, "id : int32\n---\na : <attach@>")
    values = []
    for i in range(ROWS):
        path = tmp_path / f"file{i}.txt"
        if i not in (4, 9):
            path.write_text(f"contents {i}")
        values.append({"id": i, "a": str(path)})
    with pytest.raises(FileNotFoundError, match=r"file4\.txt"):
        Data.insert(values)
    assert len(Data) == 0


def test_codecs_not_declared_thread_safe_run_in_row_order(dj_schema, store, tmp_path):
    """``<attach@>``: the downloads overlap, but the attachments are placed one after the other
    in row order (same file names, other contents: ``a.txt``, ``a_1.txt``, ...)."""
    Data = declare(dj_schema, "id : int32\n---\na : <attach@>")
    rows = []
    for i in range(ROWS):
        folder = tmp_path / f"source{i}"
        folder.mkdir()
        (folder / "a.txt").write_text(f"contents {i}")
        rows.append({"id": i, "a": str(folder / "a.txt")})
    Data.insert(rows)
    with dj.config.override(download_path=str(tmp_path / "downloads")):
        fetched = Data.to_dicts(order_by="id")
    names = ["a.txt"] + [f"a_{i}.txt" for i in range(1, ROWS)]
    assert [Path(r["a"]).name for r in fetched] == names
    assert [Path(r["a"]).read_text() for r in fetched] == [f"contents {i}" for i in range(ROWS)]
