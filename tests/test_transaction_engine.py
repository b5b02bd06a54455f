"""The connection's one transaction engine: ``conn.transaction``, ``conn.unit`` and the write
calls built on it (``datajoint.write.atomic``) share their rules on every backend."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.write.atomic import atomic


def notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


@pytest.fixture
def item(dj_schema):
    @dj_schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        """

    return Item


def test_a_transaction_does_not_nest(item):
    conn = item.connection
    with conn.transaction as same:
        assert same is conn and conn.in_transaction
        with pytest.raises(dj.DataJointError, match="Nested connections"), conn.transaction:
            pass
        item.insert1({"item_id": 1})
    assert not conn.in_transaction
    assert len(item) == 1


def test_a_unit_inside_a_transaction_is_a_savepoint(item):
    conn = item.connection
    with conn.transaction:
        item.insert1({"item_id": 1})
        with pytest.raises(RuntimeError) as info, atomic(conn, "Step two"):
            item.insert1({"item_id": 2})
            raise RuntimeError("step two broke")
        assert "Step two failed; its changes were undone" in notes(info.value)
        assert conn.in_transaction
    assert item.keys() == [{"item_id": 1}]


def test_a_failed_unit_outside_a_transaction_leaves_nothing(item):
    conn = item.connection
    with pytest.raises(RuntimeError) as info, atomic(conn, "Two inserts"):
        item.insert1({"item_id": 1})
        raise RuntimeError("broke")
    assert "Two inserts failed; the transaction was rolled back" in notes(info.value)
    assert not conn.in_transaction and len(item) == 0


def test_a_single_statement_needs_no_transaction(item):
    conn = item.connection
    with pytest.raises(RuntimeError) as info, conn.unit("One insert", single=True):
        assert not conn.in_transaction
        raise RuntimeError("broke")
    assert "One insert failed; the statement was not applied." in notes(info.value)


def test_a_failed_rollback_discards_the_connection(item, monkeypatch):
    conn = item.connection

    def broken_rollback():
        raise RuntimeError("rollback refused")

    monkeypatch.setattr(conn, "cancel_transaction", broken_rollback)
    with pytest.raises(ValueError) as info, conn.unit("An insert"):
        item.insert1({"item_id": 1})
        raise ValueError("broke")
    monkeypatch.undo()
    assert "the rollback failed, so the connection was closed" in notes(info.value)
    assert not conn.in_transaction and not conn.is_connected
    assert len(item) == 0  # the next query reconnects; the server discarded the transaction


def test_an_interrupt_in_a_transaction(item):
    """Ctrl-C inside a network driver may leave half a reply unread: a server connection is
    closed (the server discards the transaction); SQLite rolls back in place."""
    conn = item.connection
    with pytest.raises(KeyboardInterrupt), conn.transaction:
        item.insert1({"item_id": 1})
        raise KeyboardInterrupt
    assert not conn.in_transaction
    assert conn.is_connected is not conn.backend.requires_server
    assert len(item) == 0
