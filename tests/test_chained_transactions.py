"""``Connection.chained_transactions``: inside the block each commit opens the next transaction
(``COMMIT AND CHAIN``) where the dialect declares ``capabilities.chain_transactions``; the next
transaction then starts without a BEGIN, its work stays all or nothing, a rollback or a pending
after-transaction callback ends the chain, and nothing is left open when the block ends."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import end_session, make_connection


@pytest.fixture
def item(dj_schema):
    @dj_schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        """

    return Item


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


def seen_elsewhere(table, item_id: int) -> bool:
    """Whether another session sees the row: committed, not held in an open transaction."""
    conn = table.connection
    other = make_connection(conn.backend.name, conn.conn_info["database_name"])
    try:
        sql = f"SELECT COUNT(*) FROM {table.full_table_name} WHERE {other.dialect.quote('item_id')}"
        return other.query(f"{sql} = {other.dialect.placeholder}", [item_id]).fetchone()[0] == 1
    finally:
        other.close()


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
            assert not seen_elsewhere(item, item_id)  # inside the transaction until the commit
            conn.commit_transaction()
            assert seen_elsewhere(item, item_id)
            assert conn.in_transaction is chains(conn)  # the chained one, still empty
    assert not conn.in_transaction
    if chains(conn):
        assert sent.count(begin) == 1  # only the first transaction sent a BEGIN
        assert sent.count(conn.dialect.commit_and_chain_sql()) == 3
        assert sent[-1] == conn.dialect.rollback_sql()  # the chained one, ended with the block
    else:
        assert sent.count(begin) == 3
    item.insert1({"item_id": 4})  # autocommit again after the block
    assert seen_elsewhere(item, 4)


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
        assert not seen_elsewhere(item, 2)
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
        with pytest.raises(DataJointError):
            conn.start_transaction_with(bad, [])
        assert not conn.in_transaction
        item.insert1({"item_id": 5})  # autocommit: committed at once
        assert seen_elsewhere(item, 5)


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
    assert seen_elsewhere(item, 2)
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
    assert seen_elsewhere(item, 2)


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
    assert seen_elsewhere(item, 1)


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
