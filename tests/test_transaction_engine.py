"""The connection's one transaction engine: ``conn.transaction``, ``conn.unit`` and the write
calls built on it (``datajoint.write.atomic``) share their rules on every backend.

``Connection.chained_transactions``: inside the block each commit opens the next transaction
(``COMMIT AND CHAIN``) where the dialect declares ``capabilities.chain_transactions``; the next
transaction then starts without a BEGIN, its work stays all or nothing, a rollback or a pending
after-transaction callback ends the chain, and nothing is left open when the block ends."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.testing.fixtures import end_session, seen_elsewhere
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


# ---- chained transactions ---------------------------------------------------------------------
@pytest.fixture
def sent(item, monkeypatch):
    """The statements the item's connection sends, in order."""
    conn = item.connection
    statements: list[str] = []
    query = conn.query

    def counted(sql, *args, **kwargs):
        statements.append(str(sql))
        return query(sql, *args, **kwargs)

    monkeypatch.setattr(conn, "query", counted)
    return statements


def chains(conn) -> bool:
    return conn.dialect.capabilities.chain_transactions


def exists_sql(table) -> str:
    d = table.connection.dialect
    return (
        f"SELECT EXISTS(SELECT 1 FROM {table.full_table_name} "
        f"WHERE {d.quote('item_id')} = {d.placeholder})"
    )


def test_each_commit_opens_the_next_transaction(item, sent):
    conn = item.connection
    begin = conn.dialect.begin_sql()
    with conn.chained_transactions():
        for item_id in (1, 2, 3):
            conn.start_transaction()
            item.insert1({"item_id": item_id})
            assert not seen_elsewhere(
                item, {"item_id": item_id}
            )  # inside the transaction until the commit
            conn.commit_transaction()
            assert seen_elsewhere(item, {"item_id": item_id})
            assert conn.in_transaction is chains(conn)  # the chained one, still empty
    assert not conn.in_transaction
    if chains(conn):
        assert sent.count(begin) == 1  # only the first transaction sent a BEGIN
        assert sent.count(conn.dialect.commit_and_chain_sql()) == 3
        assert sent[-1] == conn.dialect.rollback_sql()  # the chained one, ended with the block
    else:
        assert sent.count(begin) == 3
    item.insert1({"item_id": 4})  # autocommit again after the block
    assert seen_elsewhere(item, {"item_id": 4})


def test_the_first_query_runs_in_the_chained_transaction(item):
    conn = item.connection
    with conn.chained_transactions():
        conn.start_transaction()
        item.insert1({"item_id": 1})
        conn.commit_transaction()
        assert conn.start_transaction_with(exists_sql(item), [1]).fetchone()[0]
        item.insert1({"item_id": 2})
        conn.cancel_transaction()
        assert not conn.in_transaction  # a rollback ends the chain
        assert not seen_elsewhere(item, {"item_id": 2})
        assert not conn.start_transaction_with(exists_sql(item), [2]).fetchone()[0]
        item.insert1({"item_id": 3})
        conn.commit_transaction()
    assert item.keys() == [{"item_id": 1}, {"item_id": 3}]
    assert not conn.in_transaction


def test_callbacks_waiting_for_the_end_get_a_plain_commit(item, sent):
    conn = item.connection
    ended: list[tuple[bool, bool]] = []
    with conn.chained_transactions():
        conn.start_transaction()
        conn.after_transaction(lambda committed: ended.append((committed, conn.in_transaction)))
        item.insert1({"item_id": 1})
        conn.commit_transaction()
        assert not conn.in_transaction
    assert ended == [(True, False)]  # run outside any transaction
    assert conn.dialect.commit_and_chain_sql() not in sent


def test_a_failing_first_query_leaves_no_transaction_open(item):
    conn = item.connection
    bad = f"SELECT {conn.dialect.quote('nope')} FROM {item.full_table_name}"
    with conn.chained_transactions():
        conn.start_transaction()
        conn.commit_transaction()
        with pytest.raises(dj.DataJointError):
            conn.start_transaction_with(bad, [])
        assert not conn.in_transaction
        item.insert1({"item_id": 5})  # autocommit: committed at once
        assert seen_elsewhere(item, {"item_id": 5})


def test_a_lost_session_between_transactions_is_reopened(item):
    conn = item.connection
    with conn.chained_transactions():
        conn.start_transaction()
        item.insert1({"item_id": 1})
        conn.commit_transaction()
        end_session(conn)  # the chained transaction holds nothing: it is begun again
        assert conn.start_transaction_with(exists_sql(item), [1]).fetchone()[0]
        item.insert1({"item_id": 2})
        conn.commit_transaction()
    assert seen_elsewhere(item, {"item_id": 2})
    assert not conn.in_transaction


def test_an_error_in_the_block_still_ends_the_chain(item):
    conn = item.connection
    with pytest.raises(KeyError), conn.chained_transactions():
        conn.start_transaction()
        item.insert1({"item_id": 1})
        conn.commit_transaction()
        raise KeyError("between two transactions")
    assert not conn.in_transaction
    item.insert1({"item_id": 2})
    assert seen_elsewhere(item, {"item_id": 2})


def test_blocks_nest_and_the_outer_one_ends_the_chain(item):
    conn = item.connection
    with conn.chained_transactions():
        with conn.chained_transactions():
            conn.start_transaction()
            conn.commit_transaction()
        assert conn.in_transaction is chains(conn)
        conn.start_transaction()
        item.insert1({"item_id": 1})
        conn.commit_transaction()
    assert not conn.in_transaction
    assert seen_elsewhere(item, {"item_id": 1})


def test_populate_with_failing_makes_between_chained_ones(dj_schema):
    @dj_schema
    class Source(dj.Manual):
        definition = """
        source_id : int32
        """

    @dj_schema
    class Made(dj.Computed):
        definition = """
        -> Source
        """

        def make(self, key):
            self.insert1(key)
            if key["source_id"] % 3 == 0:
                raise ValueError("every third key fails after its insert")

    Source.insert({"source_id": i} for i in range(10))
    result = Made.populate(suppress_errors=True)
    assert result["success_count"] == 6 and len(result["error_list"]) == 4
    assert not dj_schema.connection.in_transaction
    assert sorted(Made.to_arrays("source_id")) == [1, 2, 4, 5, 7, 8]
    assert Made.populate(suppress_errors=True)["success_count"] == 0
