"""Nothing orphaned by a failed write (issue 13 item 4), on every backend, file and s3 stores.

Store-backed values are written to the store before their row is inserted. When the insert
call then fails -- a duplicate key in a later chunk, a foreign-key violation, a connection
killed mid-insert, a value that fails to encode after others were uploaded, an outer
transaction rolled back -- the objects the call wrote and that no row refers to are gone again,
while content that existed before the call, or that a committed row has come to refer to,
stays. Deleting rows never removes hash-addressed content (that is ``dj.gc``'s job).
"""

from __future__ import annotations

import numpy as np
import pytest

import datajoint as dj
from datajoint import storage
from datajoint.errors import DataJointError, DuplicateError, IntegrityError, LostConnectionError
from datajoint.testing.fixtures import end_session, make_connection
from datajoint.write import insert as insert_module

PARENT = """
parent : int32
"""
DATA = """
-> Parent
id : int32
---
b = null : <blob@>
a = null : <attach@>
o = null : <object@>
n = null : <npy@>
"""


@pytest.fixture
def tables(dj_schema, store):
    class Parent(dj.Manual):
        definition = PARENT

    class Data(dj.Manual):
        definition = DATA

    class Other(dj.Manual):
        definition = "id : int32\n---\nb : <blob@>"

    context = {"Parent": Parent}
    for table in (Parent, Data, Other):
        dj_schema(table, context=context)
    Parent.insert([{"parent": 1}])
    return Parent, Data, Other


@pytest.fixture
def objects(store):
    """The objects in the store now: store-relative path -> size."""
    backend = storage.get_backend(store, dj.config)
    return lambda: backend.list_files("")


@pytest.fixture
def make_row(tmp_path):
    """A row with a distinct value in every store-backed column."""

    def make(i: int, parent: int = 1, attach: bool = True) -> dict:
        path = tmp_path / f"attachment_{i}.txt"
        if attach:
            path.write_text(f"attachment {i}")
        return {
            "parent": parent,
            "id": i,
            "b": np.arange(i, i + 100),
            "a": str(path),
            "o": f"object {i}".encode(),
            "n": np.full(8, i),
        }

    return make


def kinds(paths) -> set[str]:
    """The sections of the store that ``paths`` fall in."""
    return {p.split("/")[0] for p in paths}


def test_duplicate_key_in_a_later_chunk(tables, objects, make_row):
    _, Data, _ = tables
    Data.insert1(make_row(0))
    before = objects()
    assert kinds(before) == {"_hash", "_schema"}
    rows = [make_row(i) for i in range(1, 6)] + [make_row(0)]
    rows[1]["b"] = make_row(0)["b"]  # content stored before the call: never removed
    with pytest.raises(DuplicateError):
        Data.insert(rows, chunk_size=2)
    assert objects() == before
    assert len(Data) == 1
    assert np.array_equal(Data.fetch1("b"), np.arange(0, 100))


def test_foreign_key_violation(tables, objects, make_row):
    _, Data, _ = tables
    before = objects()
    with pytest.raises(IntegrityError):
        Data.insert([make_row(1), make_row(2), make_row(3, parent=99)])
    assert objects() == before
    assert len(Data) == 0


def test_error_while_encoding_a_later_value(tables, objects, make_row):
    _, Data, _ = tables
    before = objects()
    rows = [make_row(i) for i in range(1, 8)] + [make_row(8, attach=False)]
    with pytest.raises(FileNotFoundError):
        Data.insert(rows)
    assert objects() == before
    assert len(Data) == 0


def test_connection_killed_mid_insert(tables, objects, make_row, monkeypatch):
    _, Data, _ = tables
    conn = Data.connection
    backend = conn.backend.name
    other = make_connection(
        backend, conn.conn_info["database_name"] if backend == "sqlite" else None
    )
    before = objects()
    original = conn.query
    seen = {"inserts": 0}

    def kill_after_first_chunk(sql, *args, **kwargs):
        if str(sql).lstrip().upper().startswith("INSERT"):
            seen["inserts"] += 1
            if seen["inserts"] == 2:
                end_session(conn, other)
        return original(sql, *args, **kwargs)

    monkeypatch.setattr(conn, "query", kill_after_first_chunk)
    try:
        with pytest.raises(LostConnectionError):
            Data.insert([make_row(i) for i in range(1, 5)], chunk_size=2)
    finally:
        monkeypatch.undo()
        other.close()
    assert seen["inserts"] == 2
    assert objects() == before  # checked and removed over a new session
    assert len(Data) == 0


def test_outer_transaction_rolled_back_after_a_successful_insert(tables, objects, make_row):
    _, Data, _ = tables
    conn = Data.connection
    before = objects()
    with pytest.raises(RuntimeError, match="undo"), conn.transaction:
        Data.insert([make_row(1), make_row(2)])
        assert len(objects()) > len(before)  # written, held until the transaction ends
        raise RuntimeError("undo")
    assert objects() == before
    with conn.transaction:
        Data.insert([make_row(1), make_row(2)])
    assert len(objects()) > len(before)  # committed: kept
    assert len(Data) == 2


def test_failed_insert_inside_a_transaction_that_commits(tables, objects, make_row):
    _, Data, _ = tables
    conn = Data.connection
    with conn.transaction:
        Data.insert1(make_row(1))
        kept = objects()
        with pytest.raises(IntegrityError):
            # two statements: a savepoint undoes them, the transaction goes on
            Data.insert([make_row(2), make_row(3, parent=99)], chunk_size=1)
        Data.insert1(make_row(4))
    after = objects()
    assert set(kept) <= set(after)  # the rows that committed keep their objects
    assert len(after) == 2 * len(kept)  # rows 1 and 4 only: rows 2 and 3 left nothing
    assert sorted(Data.to_arrays("id")) == [1, 4]


def test_failed_update_removes_the_new_objects(tables, objects, make_row):
    _, Data, _ = tables
    Data.insert1(make_row(1))
    before = objects()
    # new objects are written for `b` and `o`, then the value of `n` fails to encode
    change = {"parent": 1, "id": 1, "b": np.arange(5), "o": b"new", "n": "not an array"}
    with pytest.raises(DataJointError, match=r"<npy> requires numpy\.ndarray"):
        Data.update1(change)
    assert objects() == before
    with pytest.raises(RuntimeError, match="undo"), Data.connection.transaction:
        Data.update1({"parent": 1, "id": 1, "b": np.arange(5), "o": b"new"})
        raise RuntimeError("undo")
    assert objects() == before
    assert np.array_equal(Data.fetch1("b"), np.arange(1, 101))


def test_hash_content_a_committed_row_refers_to_is_kept(tables, objects, make_row, monkeypatch):
    """Another insert commits a row with the same content while this call is in flight: the
    object this call created is now referenced and must stay."""
    _, Data, Other = tables
    shared = np.arange(7000, 7100)
    original = insert_module._check_empty_rows
    state = {"done": False}

    def concurrent_insert(target, groups):
        if target.name == Data.table_name and not state["done"]:
            state["done"] = True  # the values are encoded (and uploaded) by now
            Other.insert1({"id": 1, "b": shared})  # the object exists: not written again
        return original(target, groups)

    monkeypatch.setattr(insert_module, "_check_empty_rows", concurrent_insert)
    before = objects()
    rows = [make_row(1), make_row(2, parent=99)]
    rows[0]["b"] = shared
    with pytest.raises(IntegrityError):
        Data.insert(rows)
    monkeypatch.undo()
    added = set(objects()) - set(before)
    assert len(added) == 1 and kinds(added) == {"_hash"}  # only the shared content stays
    assert np.array_equal(Other.fetch1("b"), shared)


def test_deleting_rows_keeps_hash_content(tables, objects, make_row):
    _, Data, Other = tables
    Data.insert([make_row(1), make_row(2)])
    Other.insert1({"id": 1, "b": make_row(1)["b"]})  # shares row 1's content
    before = objects()
    (Data & {"id": 1}).delete(prompt=False)
    hashed = {p for p in before if p.startswith("_hash/")}
    assert hashed <= set(objects())
    Data.delete(prompt=False)
    Other.delete(prompt=False)
    assert hashed <= set(objects())  # unreferenced now: gc's job, not delete's
