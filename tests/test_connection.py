"""Connections on every backend: transactions, reconnect, lost connections (SPEC §1.2)."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint import connection as connection_module
from datajoint.errors import DataJointError, LostConnectionError
from datajoint.testing.fixtures import end_session, make_connection


def test_reconnects_outside_a_transaction(dj_connection):
    assert dj_connection.is_connected
    end_session(dj_connection)
    assert dj_connection.query("SELECT 1").fetchone()[0] == 1
    assert dj_connection.is_connected


def test_lost_connection_inside_a_transaction_raises(dj_connection):
    dj_connection.start_transaction()
    end_session(dj_connection)
    with pytest.raises(LostConnectionError, match="Connection was lost during a transaction"):
        dj_connection.query("SELECT 1")
    assert not dj_connection.in_transaction
    assert dj_connection.query("SELECT 1").fetchone()[0] == 1


def test_transient_statements_share_one_cursor(dj_connection):
    """``query(..., transient=True)`` may reuse the connection's kept cursor; a cursor handed out
    without it stays the caller's, whatever runs after it; a new session gets a new cursor."""
    conn = dj_connection
    first = conn.query("SELECT 1", transient=True)
    assert first.fetchone()[0] == 1
    held = conn.query("SELECT 2")  # the caller's own cursor
    second = conn.query("SELECT 3", transient=True)
    assert second is first and second.fetchone()[0] == 3
    assert held is not first and held.fetchone()[0] == 2
    assert conn.query("SELECT 4", as_dict=True, transient=True) is not first  # other kinds: new
    end_session(conn)
    again = conn.query("SELECT 5", transient=True)  # reconnected: the old cursor is not reused
    assert again is not first and again.fetchone()[0] == 5


def test_no_reconnect_when_disabled(dj_connection):
    end_session(dj_connection)
    with pytest.raises(LostConnectionError):
        dj_connection.query("SELECT 1", reconnect=False)


def test_repr_and_equality(dj_connection):
    text = repr(dj_connection)
    assert text.startswith("DataJoint connection (connected)")
    assert dj_connection == dj_connection
    dj_connection.close()
    assert repr(dj_connection).startswith("DataJoint connection (disconnected)")


def test_context_manager_closes(dj_backend, tmp_path):
    with make_connection(dj_backend, tmp_path / "cm.sqlite3") as conn:
        assert conn.ping()
    assert not conn.is_connected


def test_conn_singleton_needs_credentials_for_servers(monkeypatch):
    monkeypatch.setattr(connection_module, "_singleton", None)
    no_user = dj.config.override(database__backend="postgresql", database__user=None)
    with no_user, pytest.raises(DataJointError, match="Database user not configured"):
        dj.conn()
    no_password = dj.config.override(
        database__backend="mysql", database__user="u", database__password=None
    )
    with no_password, pytest.raises(DataJointError, match="Database password not configured"):
        dj.conn()


def test_conn_singleton_defaults_to_sqlite(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(connection_module, "_singleton", None)
    path = tmp_path / "default.sqlite3"
    with dj.config.override(database__sqlite_file=str(path)):
        if dj.config.resolved_backend() != "sqlite":
            pytest.fail("with no host configured the default backend must be sqlite")
        with caplog.at_level("INFO", logger="datajoint"):
            conn = dj.conn()
        try:
            assert conn.backend.name == "sqlite" and dj.conn() is conn
            assert str(path) in caplog.text
        finally:
            connection_module.reset_singleton()


def test_get_user(dj_connection):
    user = dj_connection.get_user()
    backend = dj_connection.backend.name
    if backend == "mysql":
        assert user.startswith(dj_connection.conn_info["user"] + "@")
    elif backend == "postgresql":
        assert user == dj_connection.conn_info["user"]
    else:
        assert user


def test_query_cache(dj_schema, tmp_path):
    @dj_schema
    class Reading(dj.Manual):
        definition = """
        reading_id : int32
        ---
        value : float64
        """

    Reading.insert1({"reading_id": 1, "value": 1.5})
    conn = dj_schema.connection
    with dj.config.override(query_cache=str(tmp_path / "cache")):
        conn.set_query_cache("v1")
        try:
            assert Reading.to_dicts() == [{"reading_id": 1, "value": 1.5}]
            with pytest.raises(DataJointError, match="Only SELECT queries are allowed"):
                Reading.insert1({"reading_id": 2, "value": 2.5})
            conn.set_query_cache(None)
            Reading.insert1({"reading_id": 2, "value": 2.5})
            conn.set_query_cache("v1")
            assert len(Reading.to_dicts()) == 1  # served from the cache
            conn.purge_query_cache()
            assert len(Reading.to_dicts()) == 2
        finally:
            conn.set_query_cache(None)
    with pytest.raises(DataJointError, match="Provide filepath"):
        conn.set_query_cache("x")
        try:
            conn.query("SELECT 1")
        finally:
            conn.set_query_cache(None)


def test_an_in_memory_sqlite_database_stays_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conn = dj.Connection(backend="sqlite", database_name=":memory:")
    assert conn.conn_info["database_name"] == ":memory:"
    schema = dj.Schema("in_memory", connection=conn)

    @schema
    class Item(dj.Manual):
        definition = "item_id : int32"

    Item.insert1({"item_id": 1})
    assert len(Item()) == 1
    assert list(tmp_path.iterdir()) == []  # no file named ':memory:' in the working directory
    conn.close()
