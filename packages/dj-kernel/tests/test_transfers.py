"""The insert-call journal, transaction-end callbacks and the pools' ordered map (no store needed)."""

from __future__ import annotations

import contextvars
import logging
import threading

import pytest

from datajoint import parallel, transfers
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import make_connection


@pytest.fixture
def conn(tmp_path):
    connection = make_connection("sqlite", tmp_path / "transfers.sqlite3")
    yield connection
    connection.close()


@pytest.fixture
def removed(monkeypatch):
    """The writes handed to remove_unreferenced, per call."""
    calls: list[list[tuple[object, str]]] = []
    monkeypatch.setattr(
        transfers, "remove_unreferenced", lambda conn, schema, writes: calls.append(list(writes))
    )
    return calls


STORE = object()  # stands for a storage backend


def test_writes_outside_an_insert_call_are_not_collected(conn, removed):
    transfers.record_write(STORE, "loose")
    with transfers.insert_call(conn, "s") as journal:
        transfers.record_write(STORE, "a")
    transfers.record_write(STORE, "after")
    assert journal.writes == [(STORE, "a")]
    assert removed == []  # the call succeeded outside a transaction: nothing to undo


def test_a_failed_call_removes_its_writes(conn, removed):
    with pytest.raises(ValueError, match="boom"), transfers.insert_call(conn, "s"):
        transfers.record_write(STORE, "a")
        transfers.record_write(STORE, "b")
        raise ValueError("boom")
    assert removed == [[(STORE, "a"), (STORE, "b")]]


def test_nested_calls(conn, removed):
    with pytest.raises(KeyError), transfers.insert_call(conn, "s") as outer:
        transfers.record_write(STORE, "outer")
        with transfers.insert_call(conn, "s"):
            transfers.record_write(STORE, "inner ok")
        with pytest.raises(ValueError), transfers.insert_call(conn, "s"):
            transfers.record_write(STORE, "inner failed")
            raise ValueError
        assert outer.writes == [(STORE, "outer"), (STORE, "inner ok")]
        raise KeyError
    assert removed == [[(STORE, "inner failed")], [(STORE, "outer"), (STORE, "inner ok")]]


def test_writes_reach_the_journal_from_pool_threads(conn, removed):
    with transfers.insert_call(conn, "s") as journal:
        parallel.ordered_map(lambda i: transfers.record_write(STORE, f"p{i}"), range(20), io=True)
    assert sorted(p for _, p in journal.writes) == sorted(f"p{i}" for i in range(20))


def test_inside_a_transaction_the_outcome_decides(conn, removed):
    with conn.transaction, transfers.insert_call(conn, "s"):
        transfers.record_write(STORE, "kept")
    assert removed == []  # committed
    with pytest.raises(RuntimeError), conn.transaction:
        with transfers.insert_call(conn, "s"):
            transfers.record_write(STORE, "undone")
        assert removed == []  # not before the transaction has ended
        raise RuntimeError
    assert removed == [[(STORE, "undone")]]
    with conn.transaction:
        with pytest.raises(ValueError), transfers.insert_call(conn, "s"):
            transfers.record_write(STORE, "failed")
            raise ValueError
        assert removed == [[(STORE, "undone")]]  # checked once the transaction has ended
    assert removed == [[(STORE, "undone")], [(STORE, "failed")]]


def test_after_transaction(conn, caplog):
    outcomes: list[bool] = []
    with pytest.raises(DataJointError, match="needs an open transaction"):
        conn.after_transaction(outcomes.append)
    with conn.transaction:
        conn.after_transaction(outcomes.append)
    with pytest.raises(RuntimeError), conn.transaction:
        conn.after_transaction(outcomes.append)
        raise RuntimeError
    assert outcomes == [True, False]

    def broken(committed):
        raise OSError("callback failed")

    with caplog.at_level(logging.ERROR, logger="datajoint"), conn.transaction:
        conn.after_transaction(broken)
        conn.after_transaction(outcomes.append)
    assert outcomes == [True, False, True]  # the next callback still ran
    assert "callback failed" in caplog.text


def test_ordered_map_context_order_and_first_error():
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    marker.set("caller")
    assert parallel.ordered_map(lambda i: (i, marker.get()), range(40), io=True) == [
        (i, "caller") for i in range(40)
    ]
    lock = threading.Lock()
    state = {"running": 0}

    def work(i: int) -> int:
        with lock:
            state["running"] += 1
        try:
            if i in (3, 7):
                raise ValueError(f"item {i}")
            return i
        finally:
            with lock:
                state["running"] -= 1

    for io in (False, True):
        with pytest.raises(ValueError, match=r"^item 3$"):
            parallel.ordered_map(work, range(50), io=io)
        assert state["running"] == 0  # nothing still running once the error is raised


def test_what_makes_an_object_referenced():
    referents = list(transfers._referents("_schema/s/t/id=1/f_tok/a/b.bin"))
    assert referents == [
        "_schema/s/t/id=1/f_tok/a/b.bin",
        "_schema/s/t/id=1/f_tok/a",
        "_schema/s/t/id=1/f_tok",
        "_schema/s/t/id=1",
        "_schema/s/t",
        "_schema/s",
        "_schema",
    ]
    assert next(transfers._referents("_schema/s/f_tok.manifest.json")) == "_schema/s/f_tok"
    assert transfers._is_referenced("_hash/s/abc", {"_hash/s/abc"})
    assert not transfers._is_referenced("_hash/s/abc", {"_hash/s/abd"})


class FakeBackend:
    def __init__(self, failing: str = "") -> None:
        self.removed: list[str] = []
        self.failing = failing

    def remove(self, relpath: str) -> None:
        if relpath == self.failing:
            raise OSError("permission denied")
        self.removed.append(relpath)


def test_only_unreferenced_objects_are_removed(conn, monkeypatch, caplog):
    monkeypatch.setattr(transfers, "referenced_paths", lambda c, s, paths: {"_schema/s/t/f_tok"})
    backend = FakeBackend(failing="_hash/s/locked")
    writes = [
        (backend, "_schema/s/t/f_tok/part.bin"),  # inside a referenced folder
        (backend, "_schema/s/t/f_tok.manifest.json"),  # its manifest
        (backend, "_hash/s/unreferenced"),
        (backend, "_hash/s/locked"),
    ]
    with caplog.at_level(logging.WARNING, logger="datajoint"):
        transfers.remove_unreferenced(conn, "s", writes)
    assert backend.removed == ["_hash/s/unreferenced"]
    assert "_hash/s/locked" in caplog.text and "permission denied" in caplog.text


def test_nothing_is_removed_when_references_cannot_be_checked(conn, monkeypatch, caplog):
    def unreachable(*args):
        raise ConnectionError("server gone")

    monkeypatch.setattr(transfers, "referenced_paths", unreachable)
    backend = FakeBackend()
    with caplog.at_level(logging.WARNING, logger="datajoint"):
        transfers.remove_unreferenced(conn, "s", [(backend, "_hash/s/a"), (backend, "_hash/s/b")])
    assert backend.removed == []
    assert "server gone" in caplog.text and "_hash/s/a, _hash/s/b" in caplog.text


def test_chain_split_and_store_flags():
    from datajoint.codecs import Codec, CodecChain

    class Plain(Codec, register=False):
        name = "plain_t"

        def get_dtype(self, is_store):
            return "bytes"

        def encode(self, value, *, key=None, store_name=None):
            return value + b"|plain"

        def decode(self, stored, *, key=None):
            return stored.removesuffix(b"|plain")

    class Pure(Plain, register=False):
        name = "pure_t"
        concurrent = True

    class Stored(Plain, register=False):
        name = "stored_t"
        store_io = True
        prefetch = True

    plain, pure, stored = Plain(), Pure(), Stored()
    chain = CodecChain((plain, pure, stored), "json", "")
    assert chain.store_io and chain.prefetch and not chain.concurrent
    outer, inner = chain.split()
    assert outer.codecs == (plain,) and inner.codecs == (pure, stored)
    whole = chain.encode(b"v")
    assert inner.encode(outer.encode(b"v"), validate=False) == whole
    assert outer.decode(inner.decode(whole)) == chain.decode(whole) == b"v"
    assert CodecChain((stored, plain), "json", "").split()[1].codecs == ()
    assert not CodecChain((plain, pure), "bytes", None).store_io
    assert not CodecChain((stored, plain), "json", "").prefetch  # only the innermost reads
