"""Every write call is all or nothing, on every backend (issue 4, "nothing half-done").

Failures are injected where they hurt most: in the 3rd of 5 insert chunks, inside a cascade,
as a KeyboardInterrupt right after a chunk reached the server, and as a connection killed from
outside between two DELETEs. Afterwards the tables hold exactly what they held before (checked
through a second connection), and the error names what failed.
"""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.errors import DuplicateError, LostConnectionError
from datajoint.testing.fixtures import end_session, make_connection


def second_connection(conn):
    backend = conn.backend.name
    return make_connection(
        backend, conn.conn_info["database_name"] if backend == "sqlite" else None
    )


def snapshot(conn, tables):
    """Every row of every table, read through ``conn``."""
    out = {}
    for table in tables:
        free = dj.FreeTable(conn, table.full_table_name)
        out[table.full_table_name] = sorted(tuple(sorted(r.items())) for r in free.to_dicts())
    return out


def notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


def intercept(monkeypatch, conn, methods, matches, action):
    """Replace ``conn.<method>`` for each of ``methods``: calls whose SQL ``matches`` go through
    ``action(n, call)``, ``n`` counting them across the methods."""
    seen = {"n": 0}
    for method in [methods] if isinstance(methods, str) else methods:
        original = getattr(conn, method)

        def wrapper(*args, _original=original, _method=method, **kwargs):
            sql = args[0] if _method == "query" else "COPY"
            if matches(sql):
                seen["n"] += 1
                return action(seen["n"], lambda: _original(*args, **kwargs))
            return _original(*args, **kwargs)

        monkeypatch.setattr(conn, method, wrapper)
    return seen


INSERT_METHODS = ("query", "copy_rows")  # multi-row INSERT, or the copy path for big chunks


def is_insert(sql):
    return sql.lstrip().upper().startswith(("INSERT", "REPLACE", "COPY"))


def is_delete(sql):
    return sql.lstrip().upper().startswith("DELETE")


@pytest.fixture
def item(dj_schema):
    @dj_schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        ---
        label = "" : varchar(16)
        """

    Item.insert([{"item_id": 1000 + i, "label": "old"} for i in range(3)])
    return Item


@pytest.fixture
def tree(dj_schema):
    @dj_schema
    class Root(dj.Manual):
        definition = """
        root : int32
        """

    @dj_schema
    class Branch(dj.Manual):
        definition = """
        -> Root
        branch : int16
        """

    @dj_schema
    class Leaf(dj.Manual):
        definition = """
        -> Branch
        leaf : int16
        """

    Root.insert([{"root": r} for r in range(4)])
    Branch.insert([{"root": r, "branch": b} for r in range(4) for b in range(3)])
    Leaf.insert(
        [{"root": r, "branch": b, "leaf": f} for r in range(4) for b in range(3) for f in range(2)]
    )
    return Root, Branch, Leaf


# ---- insert ------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk", [10, 600])  # 600: PostgreSQL takes the COPY path
def test_failure_in_the_third_of_five_chunks(item, chunk):
    conn = item.connection
    before = snapshot(conn, [item])
    rows = [{"item_id": 20_000 + i, "label": "new"} for i in range(5 * chunk)]
    rows[2 * chunk + 5]["item_id"] = 20_005  # chunk 3 repeats a key of chunk 1
    with pytest.raises(DuplicateError) as info:
        item.insert(rows, chunk_size=chunk)
    assert f"Statement 3 of 5 ({chunk} rows) failed." in notes(info.value)
    assert f"Insert into {item.full_table_name} failed" in notes(info.value)
    assert "nothing was written" in notes(info.value)
    other = second_connection(conn)
    try:
        assert snapshot(other, [item]) == before
    finally:
        other.close()
    assert snapshot(conn, [item]) == before


def test_failed_insert_inside_the_callers_transaction_undoes_only_itself(item):
    conn = item.connection
    with conn.transaction:
        item.insert1({"item_id": 1, "label": "kept"})
        rows = [{"item_id": i} for i in range(10, 60)]
        rows[-1]["item_id"] = 10
        with pytest.raises(DuplicateError) as info:
            item.insert(rows, chunk_size=10)
        assert "enclosing transaction is still open" in notes(info.value)
        assert len(item) == 4  # the caller's row is still there, the failed insert left nothing
    assert sorted(item.keys(), key=lambda k: k["item_id"])[0] == {"item_id": 1}
    assert len(item) == 4


def test_keyboard_interrupt_mid_insert(item, monkeypatch):
    conn = item.connection
    before = snapshot(conn, [item])

    def interrupt_after_third(n, call):
        result = call()  # the 3rd chunk reaches the server ...
        if n == 3:
            raise KeyboardInterrupt  # ... and then the user presses Ctrl-C
        return result

    intercept(monkeypatch, conn, INSERT_METHODS, is_insert, interrupt_after_third)
    with pytest.raises(KeyboardInterrupt) as info:
        item.insert([{"item_id": 10_000 + i} for i in range(5000)], chunk_size=1000)
    monkeypatch.undo()
    assert "nothing was written" in notes(info.value)
    other = second_connection(conn)
    try:
        assert snapshot(other, [item]) == before
    finally:
        other.close()
    assert not conn.in_transaction
    assert snapshot(conn, [item]) == before  # the connection is usable again
    item.insert1({"item_id": 1})
    assert len(item) == 4


# ---- delete ------------------------------------------------------------------------------------
def test_exception_inside_a_cascade(tree, monkeypatch):
    Root, _Branch, Leaf = tree
    conn = Root.connection
    before = snapshot(conn, tree)

    def fail_second(n, call):
        if n == 2:
            raise RuntimeError("disk full")
        return call()

    intercept(monkeypatch, conn, "query", is_delete, fail_second)
    with pytest.raises(RuntimeError, match="disk full") as info:
        (Root & "root < 2").delete(prompt=False)
    monkeypatch.undo()
    text = notes(info.value)
    assert "step 2 of 3 of the cascade" in text and "branch" in text
    assert "rolled back" in text
    assert snapshot(conn, tree) == before
    # inside the caller's transaction the cascade is undone, the caller's work stays
    intercept(monkeypatch, conn, "query", is_delete, fail_second)
    with conn.transaction:
        Root.insert1({"root": 99})
        with pytest.raises(RuntimeError):
            (Root & "root < 2").delete(prompt=False)
        assert len(Leaf) == 24
    monkeypatch.undo()
    assert len(Root) == 5 and len(Leaf) == 24


def test_part_integrity_failure_rolls_the_cascade_back(dj_schema):
    @dj_schema
    class Kind(dj.Lookup):
        definition = """
        kind : varchar(8)
        """
        contents = [("a",), ("b",)]

    @dj_schema
    class Batch(dj.Manual):
        definition = """
        batch : int32
        """

        class Member(dj.Part):
            definition = """
            -> master
            -> Kind
            """

    Batch.insert1({"batch": 1})
    Batch.Member.insert([{"batch": 1, "kind": "a"}, {"batch": 1, "kind": "b"}])
    before = snapshot(Kind.connection, [Kind, Batch, Batch.Member])
    with pytest.raises(dj.DataJointError, match="before its master"):
        (Kind & {"kind": "a"}).delete(prompt=False)
    assert snapshot(Kind.connection, [Kind, Batch, Batch.Member]) == before


def test_killed_connection_mid_delete(tree, monkeypatch):
    Root, _Branch, _Leaf = tree
    conn = Root.connection
    before = snapshot(conn, tree)
    other = second_connection(conn)
    try:

        def kill_after_first(n, call):
            result = call()
            if n == 1:  # the leaves are gone (inside the transaction) ...
                end_session(conn, other)  # ... when the session is killed
            return result

        intercept(monkeypatch, conn, "query", is_delete, kill_after_first)
        with pytest.raises(LostConnectionError) as info:
            (Root & "root < 3").delete(prompt=False)
        monkeypatch.undo()
        assert "Connection was lost during a transaction." in str(info.value)
        assert "step 2 of 3 of the cascade" in notes(info.value)
        assert snapshot(other, tree) == before
    finally:
        other.close()
    assert not conn.in_transaction
    assert snapshot(conn, tree) == before  # reconnected
    assert (Root & "root < 3").delete(prompt=False) == 3


# ---- drop and alter ----------------------------------------------------------------------------
def test_drop_is_all_or_nothing(tree, monkeypatch):
    Root, _Branch, Leaf = tree
    conn = Root.connection
    schema_tables = set(Root.connection.introspection.list_tables(conn.run, Root.database))

    def is_drop(sql):
        return sql.lstrip().upper().startswith("DROP TABLE")

    def fail_second(n, call):
        if n == 2:
            raise RuntimeError("drop failed")
        return call()

    intercept(monkeypatch, conn, "query", is_drop, fail_second)
    if conn.dialect.capabilities.transactional_ddl:
        with pytest.raises(RuntimeError, match="drop failed") as info:
            Root.drop(prompt=False)
        assert "rolled back" in notes(info.value)
    else:  # MySQL: one DROP TABLE statement for the whole cascade
        Root.drop(prompt=False)
        assert set(conn.introspection.list_tables(conn.run, Root.database)) == schema_tables - {
            "root",
            "branch",
            "leaf",
        }
        return
    monkeypatch.undo()
    assert set(conn.introspection.list_tables(conn.run, Root.database)) == schema_tables
    assert len(Leaf) == 24


def test_failed_alter_changes_nothing(item, monkeypatch):
    """A comment change, a new column and a narrowing that the data cannot take: nothing applies."""
    item.insert1({"item_id": 1, "label": "much too long"})
    heading = {a.name: (a.declared_type, a.comment) for a in item.heading.all_attributes}
    item.definition = """
    # a new comment
    item_id : int32
    ---
    label = "" : varchar(4)
    extra = 0 : int32
    """
    with pytest.raises(Exception) as info:  # the server's own error (data too long / check)
        item.alter(prompt=False)
    assert f"Alter of {item.full_table_name} failed" in notes(info.value)
    from datajoint.heading import heading_cache

    heading_cache(item.connection).clear()
    assert {a.name: (a.declared_type, a.comment) for a in item.heading.all_attributes} == heading
    assert item.heading.table_comment == ""
    assert (item & {"item_id": 1}).fetch1("label") == "much too long"
