"""StorageBackend beyond the storage contract: stores from dj.config, concurrent batches,
partial failures, the services behind dj.ObjectRef / dj.NpyRef / dj.gc."""

from __future__ import annotations

import datetime
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import datajoint as dj
from datajoint import transfers
from datajoint.errors import DataJointError, MissingExternalFile
from datajoint.storage import get_backend
from dj_storage import backend as backend_module
from dj_storage.backend import StorageBackend


@pytest.fixture
def reported(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
    """What the backends report to datajoint.transfers.record_write."""
    calls: list[tuple[Any, str]] = []
    monkeypatch.setattr(transfers, "record_write", lambda b, relpath: calls.append((b, relpath)))
    return calls


# ---- stores from dj.config ------------------------------------------------------------------
def test_configured_store(store: str) -> None:
    backend = get_backend(store)
    assert isinstance(backend, StorageBackend) and backend.protocol == store
    assert get_backend("") is backend is get_backend(None)
    assert backend.spec == dj.config.get_store_spec(store)
    backend.put_buffer(b"configured", "c/1")
    assert get_backend(store).get_buffer("c/1") == b"configured"


def test_services_behind_the_lazy_exports() -> None:
    from dj_storage import gc, objectref

    assert dj.ObjectRef is objectref.ObjectRef
    assert dj.NpyRef is objectref.NpyRef
    assert dj.gc is gc


def test_repr(tmp_path: Path) -> None:
    backend = StorageBackend({"protocol": "file", "location": str(tmp_path)})
    assert repr(backend) == f"StorageBackend(file: {tmp_path})"


# ---- batches on a synchronous filesystem: a bounded thread pool -----------------------------
def test_sync_batches_run_on_a_bounded_pool(
    memory_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = get_backend(memory_store)
    assert not backend.is_async
    items = {f"p/{i}": bytes([i]) for i in range(40)}
    backend.put_buffers(items)
    lock = threading.Lock()
    running = [0]
    peak = [0]
    original = backend.fs.cat_file

    def slow_cat(path: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(backend.fs, "cat_file", slow_cat)
    monkeypatch.setattr(backend_module, "MAX_WORKERS", 4)
    assert backend.get_buffers(list(items)) == list(items.values())
    assert 1 < peak[0] <= 4


def test_sync_put_buffers_reports_what_was_written(
    memory_store: str, monkeypatch: pytest.MonkeyPatch, reported: list[tuple[Any, str]]
) -> None:
    backend = get_backend(memory_store)
    original = backend.fs.pipe_file

    def failing_pipe(path: str, data: bytes, **kwargs: Any) -> None:
        if path.endswith("/bad"):
            raise OSError("disk full")
        original(path, data, **kwargs)

    monkeypatch.setattr(backend.fs, "pipe_file", failing_pipe)
    with pytest.raises(OSError, match="disk full"):
        backend.put_buffers({"q/good": b"1", "q/bad": b"2", "q/also": b"3"})
    assert sorted(relpath for _, relpath in reported) == ["q/also", "q/good"]
    assert backend.exists("q/good") and not backend.exists("q/bad")


# ---- batches on an asynchronous filesystem (s3fs): coroutines on its loop -------------------
def test_async_batches_do_not_use_the_sync_calls(
    s3_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = get_backend(s3_store)
    assert backend.is_async

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a batch must not make one synchronous call per object")

    items = {f"a/{i}": bytes([i]) * 100 for i in range(30)}
    monkeypatch.setattr(backend.fs, "pipe_file", refuse)
    monkeypatch.setattr(backend.fs, "cat_file", refuse)
    monkeypatch.setattr(backend.fs, "exists", refuse)
    backend.put_buffers(items)
    assert backend.get_buffers(list(items)) == list(items.values())
    assert backend.exists_many(["a/0", "a/none"]) == [True, False]


def test_async_put_buffers_reports_what_was_written(
    s3_store: str, monkeypatch: pytest.MonkeyPatch, reported: list[tuple[Any, str]]
) -> None:
    backend = get_backend(s3_store)
    original = backend.fs._pipe_file

    async def failing_pipe(path: str, data: bytes, **kwargs: Any) -> Any:
        if path.endswith("/bad"):
            raise OSError("upload refused")
        return await original(path, data, **kwargs)

    monkeypatch.setattr(backend.fs, "_pipe_file", failing_pipe)
    with pytest.raises(OSError, match="upload refused"):
        backend.put_buffers({"q/good": b"1", "q/bad": b"2", "q/also": b"3"})
    assert sorted(relpath for _, relpath in reported) == ["q/also", "q/good"]
    assert all(b is backend for b, _ in reported)


def test_async_missing_object_in_a_batch(s3_store: str) -> None:
    backend = get_backend(s3_store)
    backend.put_buffer(b"x", "m/x")
    with pytest.raises(MissingExternalFile, match="'m/y'"):
        backend.get_buffers(["m/x", "m/y"])


# ---- details ------------------------------------------------------------------------------
def test_modified_of_a_naive_time_is_utc(
    memory_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = get_backend(memory_store)
    backend.put_buffer(b"t", "t")
    naive = datetime.datetime(2024, 1, 2, 3, 4, 5)
    monkeypatch.setattr(backend.fs, "modified", lambda path: naive)
    assert backend.modified("t") == naive.replace(tzinfo=datetime.UTC)


def test_remove_folder_that_is_missing(file_store: str) -> None:
    get_backend(file_store).remove_folder("not/there")


def test_copy_from_a_missing_source(file_store: str, tmp_path: Path) -> None:
    with pytest.raises(DataJointError, match="Source path not found"):
        get_backend(file_store).copy_from_url(str(tmp_path / "absent"), "x")


def test_spec_is_a_copy(tmp_path: Path) -> None:
    spec = {"protocol": "file", "location": str(tmp_path)}
    backend = StorageBackend(spec)
    backend.spec["location"] = "changed"
    assert spec["location"] == str(tmp_path)
