"""``Connection.start_transaction_with``: BEGIN and the transaction's first query, in one round
trip where the backend declares ``capabilities.begin_with_query``, all or nothing on every
backend (result, transaction state, failing query, lost connection, interrupt)."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.errors import DataJointError, LostConnectionError
from datajoint.testing.fixtures import end_session, seen_elsewhere


@pytest.fixture
def item(dj_schema):
    @dj_schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        ---
        label = "" : varchar(32)
        """

    Item.insert1({"item_id": 1, "label": "one"})
    return Item


def exists_sql(table) -> str:
    d = table.connection.dialect
    return (
        f"SELECT EXISTS(SELECT 1 FROM {table.full_table_name} "
        f"WHERE {d.quote('item_id')} = {d.placeholder} AND {d.quote('label')} = {d.placeholder})"
    )


def test_the_query_runs_inside_the_new_transaction(item):
    conn = item.connection
    ended: list[bool] = []
    cursor = conn.start_transaction_with(exists_sql(item), [1, "one"])
    assert bool(cursor.fetchone()[0]) is True
    assert conn.in_transaction
    conn.after_transaction(ended.append)
    item.insert1({"item_id": 2})
    assert not seen_elsewhere(item, {"item_id": 2})  # still inside the transaction
    conn.cancel_transaction()
    assert ended == [False] and not conn.in_transaction
    assert item.keys() == [{"item_id": 1}]
    cursor = conn.start_transaction_with(exists_sql(item), [1, "other"])
    assert bool(cursor.fetchone()[0]) is False
    item.insert1({"item_id": 3})
    conn.commit_transaction()
    assert seen_elsewhere(item, {"item_id": 3})


def test_values_are_bound_by_the_driver(item):
    conn = item.connection
    tricky = "it's; DROP TABLE x; --"
    item.insert1({"item_id": 4, "label": tricky})
    cursor = conn.start_transaction_with(exists_sql(item), [4, tricky])
    try:
        assert bool(cursor.fetchone()[0]) is True
    finally:
        conn.cancel_transaction()
    assert len(item) == 2


def test_a_failing_query_leaves_no_transaction_open(item):
    conn = item.connection
    bad = f"SELECT {conn.dialect.quote('nope')} FROM {item.full_table_name}"
    with pytest.raises(DataJointError):
        conn.start_transaction_with(bad, [])
    assert not conn.in_transaction
    item.insert1({"item_id": 5})  # autocommit again: committed at once
    assert seen_elsewhere(item, {"item_id": 5})
    cursor = conn.start_transaction_with(exists_sql(item), [5, ""])
    assert bool(cursor.fetchone()[0]) is True
    conn.cancel_transaction()


def test_no_nesting(item):
    conn = item.connection
    conn.start_transaction()
    try:
        with pytest.raises(DataJointError, match="Nested connections"):
            conn.start_transaction_with(exists_sql(item), [1, "one"])
        assert conn.in_transaction
    finally:
        conn.cancel_transaction()


def test_a_lost_connection_reconnects_and_sends_again(item):
    conn = item.connection
    end_session(conn)
    cursor = conn.start_transaction_with(exists_sql(item), [1, "one"])
    assert bool(cursor.fetchone()[0]) is True and conn.in_transaction
    conn.cancel_transaction()


def test_a_lost_connection_without_reconnect_raises(item):
    conn = item.connection
    end_session(conn)
    with conn.config.override(database__reconnect=False), pytest.raises(LostConnectionError):
        conn.start_transaction_with(exists_sql(item), [1, "one"])
    assert not conn.in_transaction
    assert conn.query("SELECT 1").fetchone()[0] == 1


def test_an_interrupt_after_begin_ends_the_transaction(item, monkeypatch):
    """An interrupt once BEGIN has run: a server session is closed (half a reply may be
    unread), SQLite rolls back; either way nothing of the transaction stays."""
    conn = item.connection
    sql = exists_sql(item)
    if conn.dialect.capabilities.begin_with_query:
        driver = conn.backend.driver
        send = driver.begin_with_query

        def interrupted(*args):
            send(*args)
            raise KeyboardInterrupt

        monkeypatch.setattr(driver, "begin_with_query", interrupted)
    else:
        query = conn.query

        def interrupted(text, *args, **kwargs):
            if text == sql:
                raise KeyboardInterrupt
            return query(text, *args, **kwargs)

        monkeypatch.setattr(conn, "query", interrupted)
    with pytest.raises(KeyboardInterrupt):
        conn.start_transaction_with(sql, [1, "one"])
    monkeypatch.undo()
    assert not conn.in_transaction
    assert conn.is_connected is (not conn.backend.requires_server)
    item.insert1({"item_id": 6})  # reconnects where the session was closed
    assert seen_elsewhere(item, {"item_id": 6})
