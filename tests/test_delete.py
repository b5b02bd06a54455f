"""Cascade delete, delete_quick, Part.delete, drop and Schema.drop on every backend (SPEC §2, §8)."""

from __future__ import annotations

import logging

import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import make_connection, throwaway_schema
from datajoint.testing.pytest_plugin import require_backend
from datajoint.write.cascade import CascadePlan


def second_connection(conn):
    """Another connection to the same database (the same file on SQLite)."""
    backend = conn.backend.name
    return make_connection(
        backend, conn.conn_info["database_name"] if backend == "sqlite" else None
    )


def declare_tree(schema):
    """Subject -> Session (with part Trial) -> Analysis; Pair references Subject twice."""

    @schema
    class Subject(dj.Manual):
        definition = """
        subject : int32
        ---
        species = "mouse" : varchar(16)
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        quality : float64
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int16
            """

    @schema
    class Analysis(dj.Manual):
        definition = """
        -> Session
        method : varchar(8)
        """

    @schema
    class Pair(dj.Manual):
        definition = """
        -> Subject.proj(left="subject")
        -> Subject.proj(right="subject")
        """

    Subject.insert([{"subject": s, "species": "rat" if s > 2 else "mouse"} for s in range(5)])
    Session.insert(
        [{"subject": s, "session": k, "quality": k / 2} for s in range(5) for k in range(3)]
    )
    Session.Trial.insert(
        [
            {"subject": s, "session": k, "trial": t}
            for s in range(5)
            for k in range(3)
            for t in range(2)
        ]
    )
    Analysis.insert(
        [{"subject": s, "session": k, "method": "a"} for s in range(5) for k in range(3)]
    )
    Pair.insert([{"left": 0, "right": 1}, {"left": 2, "right": 0}, {"left": 3, "right": 4}])
    return Subject, Session, Analysis, Pair


def counts(*tables):
    return [len(t) for t in tables]


# ---- the plan ----------------------------------------------------------------------------------
def test_propagation_rules(dj_schema):
    Subject, Session, _Analysis, _Pair = declare_tree(dj_schema)
    db = dj_schema.database
    # rule 1: a restriction on FK attributes in the child's key is copied, no subquery
    plan = CascadePlan(Subject & {"subject": 1}, "enforce")
    assert plan.restrictions[f"{db}.session"] == plan.restrictions[f"{db}.subject"]
    assert plan.restrictions[f"{db}.analysis"] == plan.restrictions[f"{db}.subject"]
    # rule 3: a restriction on a secondary attribute becomes a semi-join
    plan = CascadePlan(Subject & {"species": "rat"}, "enforce")
    assert "IN" in Session().connection.dialect.render(plan.restrictions[f"{db}.session"][0])[0]
    # rule 2 + OR at convergence: both renamed references of Pair are followed
    plan = CascadePlan(Subject & {"subject": 0}, "enforce")
    assert len(plan.tables[f"{db}.pair"]) == 2
    assert plan.order.index(f"{db}.subject") < plan.order.index(f"{db}.pair")


def test_cascade_counts_and_return_value(dj_schema):
    Subject, Session, Analysis, Pair = declare_tree(dj_schema)
    assert (Subject & {"subject": 0}).delete(prompt=False) == 1
    assert counts(Subject, Session, Session.Trial, Analysis, Pair) == [4, 12, 24, 12, 1]
    # a restriction on a secondary attribute (semi-join), through the part and the grandchild
    assert (Session & "quality > 0.6").delete(prompt=False) == 4
    assert counts(Subject, Session, Session.Trial, Analysis) == [4, 8, 16, 8]
    assert (Subject & {"species": "rat"}).delete(prompt=False) == 2
    assert counts(Subject, Session, Session.Trial, Analysis, Pair) == [2, 4, 8, 4, 0]
    # nothing matches: 0, and nothing changes
    assert (Subject & {"subject": 99}).delete(prompt=False) == 0
    assert Subject.delete(prompt=False) == 2
    assert counts(Subject, Session, Session.Trial, Analysis) == [0, 0, 0, 0]


def test_diamond_converges_with_or(dj_schema):
    schema = dj_schema

    @schema
    class Root(dj.Manual):
        definition = """
        root : int32
        """

    @schema
    class Left(dj.Manual):
        definition = """
        left_id : int32
        ---
        -> Root
        """

    @schema
    class Right(dj.Manual):
        definition = """
        right_id : int32
        ---
        -> Root
        """

    @schema
    class Join(dj.Manual):
        definition = """
        -> Left
        -> Right
        """

    Root.insert([{"root": r} for r in range(3)])
    Left.insert([{"left_id": i, "root": i} for i in range(3)])
    Right.insert([{"right_id": i, "root": (i + 1) % 3} for i in range(3)])
    Join.insert([{"left_id": i, "right_id": j} for i in range(3) for j in range(3)])
    # root 0: Left 0 and Right 2 go; every Join row with left 0 OR right 2 goes (5 of 9)
    (Root & {"root": 0}).delete(prompt=False)
    assert counts(Root, Left, Right, Join) == [2, 2, 2, 4]
    assert not (Join & "left_id = 0 or right_id = 2")


def test_nullable_reference_keeps_unlinked_rows(dj_schema):
    schema = dj_schema

    @schema
    class Owner(dj.Manual):
        definition = """
        owner : int32
        """

    @schema
    class Thing(dj.Manual):
        definition = """
        thing : int32
        ---
        -> [nullable] Owner
        """

    Owner.insert([{"owner": 1}, {"owner": 2}])
    Thing.insert([{"thing": 1, "owner": 1}, {"thing": 2, "owner": None}, {"thing": 3, "owner": 2}])
    Owner.delete(prompt=False)
    assert Thing.to_dicts() == [{"thing": 2, "owner": None}]


def test_cross_schema_cascade_loads_downstream_schemas(dj_connection):
    """A dependent schema this connection never activated is found through the catalog."""
    other = second_connection(dj_connection)
    try:
        with throwaway_schema(dj_connection) as upstream:

            @upstream
            class Source(dj.Manual):
                definition = """
                source : int32
                """

            with throwaway_schema(other) as downstream:
                context = {"Source": dj.FreeTable(other, f"{upstream.database}.source")}

                @downstream
                class Derived(dj.Manual):
                    definition = """
                    -> Source
                    part : int16
                    """

                Derived.declaration_context = context
                Source.insert([{"source": 1}, {"source": 2}])
                Derived.insert([{"source": 1, "part": 1}, {"source": 2, "part": 1}])
                assert downstream.database not in dj_connection.schemas
                assert (Source & {"source": 1}).delete(prompt=False) == 1
                assert len(Derived) == 1
    finally:
        other.close()


# ---- part integrity ----------------------------------------------------------------------------
def test_part_integrity(dj_schema):
    Subject, Session, Analysis, _Pair = declare_tree(dj_schema)
    Trial = Session.Trial
    with pytest.raises(DataJointError, match="Cannot delete from a Part directly"):
        (Trial & {"subject": 1}).delete(prompt=False)
    with pytest.raises(
        DataJointError, match=r"Attempt to delete part table .*session__trial.* before its master"
    ):
        dj.FreeTable(Trial.connection, Trial.full_table_name).delete(prompt=False)
    with pytest.raises(ValueError, match="part_integrity"):
        Subject.delete(prompt=False, part_integrity="sometimes")
    # ignore: only the part rows go
    assert (Trial & {"subject": 1, "session": 0}).delete(prompt=False, part_integrity="ignore") == 2
    assert counts(Session, Trial) == [15, 28]
    # cascade: the master rows they belong to go too, with all their parts and descendants
    deleted = (Trial & {"subject": 2, "session": 1, "trial": 0}).delete(
        prompt=False, part_integrity="cascade"
    )
    assert deleted == 2  # both trials of the master row, not only the one asked for
    assert counts(Session, Trial, Analysis) == [14, 26, 14]
    assert not (Session & {"subject": 2, "session": 1})
    # deleting from the master is always fine
    assert (Session & {"subject": 3}).delete(prompt=False) == 3


def test_part_integrity_when_master_loses_nothing(dj_schema):
    """A part reached through another parent while its master keeps its rows is refused."""
    schema = dj_schema

    @schema
    class Method(dj.Lookup):
        definition = """
        method : varchar(8)
        """
        contents = [("a",), ("b",)]

    @schema
    class Run(dj.Manual):
        definition = """
        run : int32
        """

        class Step(dj.Part):
            definition = """
            -> master
            -> Method
            """

    Run.insert1({"run": 1})
    Run.Step.insert([{"run": 1, "method": "a"}, {"run": 1, "method": "b"}])
    with pytest.raises(DataJointError, match="before its master"):
        (Method & {"method": "a"}).delete(prompt=False)
    assert counts(Method, Run, Run.Step) == [2, 1, 2]
    assert (Method & {"method": "a"}).delete(prompt=False, part_integrity="ignore") == 1
    assert counts(Method, Run, Run.Step) == [1, 1, 1]
    assert (Method & {"method": "b"}).delete(prompt=False, part_integrity="cascade") == 1
    assert counts(Method, Run, Run.Step) == [0, 0, 0]


# ---- prompts, safemode and transactions --------------------------------------------------------
def test_prompt_logs_counts_then_asks(dj_schema, monkeypatch, caplog):
    Subject, Session, _Analysis, _Pair = declare_tree(dj_schema)
    questions = []

    def answer(reply):
        def fake_input(question):
            questions.append((question, [r.getMessage() for r in caplog.records]))
            return reply

        return fake_input

    monkeypatch.setattr("builtins.input", answer("no"))
    with caplog.at_level(logging.INFO, logger="datajoint"):
        assert (Subject & {"subject": 1}).delete() == 0  # safemode: prompt by default
    assert questions[0][0].startswith("Commit deletes?")
    logged = questions[0][1]
    assert any("session` (3 tuples)" in m or 'session" (3 tuples)' in m for m in logged)
    assert any("(6 tuples)" in m for m in logged)  # the trials, counted before the question
    assert "Delete cancelled" in caplog.text
    assert counts(Subject, Session, Session.Trial) == [5, 15, 30]
    monkeypatch.setattr("builtins.input", answer("yes"))
    assert (Subject & {"subject": 1}).delete(prompt=True) == 1
    assert counts(Subject, Session) == [4, 12]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="datajoint"):
        assert (Subject & {"subject": 1}).delete(prompt=True) == 0
    assert "Nothing to delete." in caplog.text
    with dj.config.override(safemode=False):
        assert (Subject & {"subject": 4}).delete() == 1


def test_delete_inside_a_transaction(dj_schema):
    Subject, Session, _Analysis, _Pair = declare_tree(dj_schema)
    conn = Subject.connection
    with conn.transaction:
        with pytest.raises(DataJointError, match="within an ongoing transaction"):
            Subject.delete(prompt=True)
        assert (Subject & {"subject": 1}).delete(prompt=False) == 1
        assert len(Subject) == 4
        conn.cancel_transaction()  # the caller decides: its rollback undoes the delete
        conn.start_transaction()
    assert counts(Subject, Session) == [5, 15]
    with conn.transaction:
        assert (Subject & {"subject": 1}).delete(transaction=False, prompt=False) == 1
    assert counts(Subject, Session) == [4, 12]
    # transaction=False outside a transaction: plain statements
    assert (Subject & {"subject": 2}).delete(transaction=False, prompt=False) == 1
    assert counts(Subject, Session) == [3, 9]


def test_blocked_by_an_unloaded_schema(dj_connection, monkeypatch):
    other = second_connection(dj_connection)
    try:
        with throwaway_schema(dj_connection) as upstream:

            @upstream
            class Source(dj.Manual):
                definition = """
                source : int32
                """

            with throwaway_schema(other) as downstream:

                @downstream
                class Hidden(dj.Manual):
                    definition = """
                    -> Source
                    """

                Hidden.declaration_context = {}
                Source.insert1({"source": 1})
                Hidden.insert1({"source": 1})
                intro = dj_connection.introspection
                monkeypatch.setattr(intro, "downstream_schemas", lambda run, schemas: [])
                with pytest.raises(
                    DataJointError,
                    match=r"Delete blocked by table .*hidden.* in an unloaded schema. "
                    "Activate all dependent schemas before deleting.",
                ):
                    Source.delete(prompt=False)

                def unreadable(run):
                    raise dj.errors.AccessError("Insufficient privileges.")

                monkeypatch.setattr(intro, "list_schemas", unreadable)
                with pytest.raises(
                    DataJointError, match="Delete blocked by FK in unloaded/inaccessible schema"
                ):
                    Source.delete(prompt=False)
                monkeypatch.undo()
                assert counts(Source, Hidden) == [1, 1]
                Source.delete(prompt=False)
                assert counts(Source, Hidden) == [0, 0]
    finally:
        other.close()


# ---- delete_quick ------------------------------------------------------------------------------
def test_delete_quick(dj_schema):
    _Subject, Session, Analysis, Pair = declare_tree(dj_schema)
    assert Pair.delete_quick() is None
    assert (Analysis & {"subject": 0}).delete_quick(get_count=True) == 3
    # a Top deletes exactly the rows it selects
    top = Analysis & dj.Top(limit=2, order_by=["subject DESC", "session"])
    assert top.delete_quick(get_count=True) == 2
    assert not (Analysis & {"subject": 4, "session": 0})  # 4/0 and 4/1 were the top two
    assert len(Analysis & {"subject": 4}) == 1
    # a restriction that reads the table being deleted from
    before = len(Session.Trial)
    inner = (Session.Trial & "trial = 1").proj()
    assert (Session.Trial & inner).delete_quick(get_count=True) == before // 2


def test_delete_quick_does_not_cascade(dj_schema):
    Subject, _Session, _Analysis, _Pair = declare_tree(dj_schema)
    with pytest.raises(dj.errors.IntegrityError):
        (Subject & {"subject": 0}).delete_quick()  # the children block it
    assert len(Subject) == 5


def test_delete_with_top(dj_schema):
    Subject, _Session, _Analysis, _Pair = declare_tree(dj_schema)
    assert (Subject & dj.Top(limit=1, order_by="subject")).delete(prompt=False) == 1
    assert Subject.keys(order_by="subject")[0] == {"subject": 1}


# ---- drop --------------------------------------------------------------------------------------
def test_drop_cascades_leaves_first(dj_schema, monkeypatch, caplog):
    _Subject, Session, _Analysis, Pair = declare_tree(dj_schema)
    schema = dj_schema
    with pytest.raises(DataJointError, match="restriction cannot be dropped"):
        (Session & {"subject": 1}).drop()
    with pytest.raises(ValueError):
        Session.drop(part_integrity="cascade")
    with pytest.raises(DataJointError, match="Cannot drop a Part directly"):
        Session.Trial.drop()
    with pytest.raises(ValueError):
        Session.Trial.drop(part_integrity="cascade")
    monkeypatch.setattr("builtins.input", lambda q: "no")
    with caplog.at_level(logging.INFO, logger="datajoint"):
        Session.drop()
    assert "(15 tuples)" in caplog.text and "(30 tuples)" in caplog.text
    assert "session" in schema.list_tables()
    monkeypatch.setattr("builtins.input", lambda q: "yes")
    Session.drop()
    assert set(schema.list_tables()) == {"subject", "pair"}
    assert not any(k.startswith(f"{schema.database}.session") for k in schema.lineage)
    Pair.drop_quick()
    Pair.drop_quick()  # not declared any more: only logged
    assert schema.list_tables() == ["subject"]


def test_drop_part_with_ignore(dj_schema):
    _Subject, Session, _Analysis, _Pair = declare_tree(dj_schema)
    Session.Trial.drop(prompt=False, part_integrity="ignore")
    assert "session__trial" not in dj_schema.list_tables()
    free = dj.FreeTable(Session.connection, Session.full_table_name)
    free.drop(prompt=False)
    assert "analysis" not in dj_schema.list_tables()


def test_drop_inside_a_transaction(dj_schema):
    _Subject, _Session, _Analysis, Pair = declare_tree(dj_schema)
    conn = Pair.connection
    conn.start_transaction()
    try:
        if conn.dialect.capabilities.transactional_ddl:
            Pair.drop_quick()
            assert "pair" not in dj_schema.list_tables()
            conn.cancel_transaction()
            assert "pair" in dj_schema.list_tables()  # rolled back with the caller's transaction
        else:
            with pytest.raises(DataJointError, match="inside a transaction"):
                Pair.drop_quick()
            conn.cancel_transaction()
    finally:
        if conn.in_transaction:
            conn.cancel_transaction()


@pytest.fixture
def postgres_schema():
    """A throwaway schema on PostgreSQL, the one backend whose enums are separate type objects."""
    require_backend("postgresql")
    connection = make_connection("postgresql")
    with throwaway_schema(connection) as schema:
        yield schema
    connection.close()


def test_enum_types_are_cleaned_up(postgres_schema):
    schema = postgres_schema

    @schema
    class Colored(dj.Manual):
        definition = """
        id : int32
        ---
        color : enum('red', 'green')
        """

    @schema
    class Shaded(dj.Manual):
        definition = """
        -> Colored
        shade : enum('dark', 'light')
        """

    conn = Colored.connection
    sql = (
        "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = %s AND t.typtype = 'e'"
    )
    assert conn.query(sql, [schema.database]).fetchone()[0] == 2
    Shaded.drop_quick()
    assert conn.query(sql, [schema.database]).fetchone()[0] == 1
    Colored.drop_quick()
    assert conn.query(sql, [schema.database]).fetchone()[0] == 0


def test_schema_drop(dj_connection, monkeypatch):
    with throwaway_schema(dj_connection) as upstream, throwaway_schema(dj_connection) as downstream:

        @upstream
        class Source(dj.Manual):
            definition = """
            source : int32
            """

        @downstream
        class Derived(dj.Manual):
            definition = """
            -> Source
            """

        Source.insert1({"source": 1})
        with pytest.raises(DataJointError, match=r"Cannot drop schema .*derived"):
            upstream.drop(prompt=False)
        assert upstream.exists and len(Source) == 1
        monkeypatch.setattr("builtins.input", lambda q: "no")
        downstream.drop()
        assert downstream.exists
        monkeypatch.setattr("builtins.input", lambda q: "yes")
        downstream.drop()
        assert not downstream.exists
        upstream.drop(prompt=False)
        assert not upstream.exists
        upstream.drop(prompt=False)  # absent: a no-op


def test_schema_drop_access_error(dj_connection, monkeypatch):
    with throwaway_schema(dj_connection) as schema:

        @schema
        class Thing(dj.Manual):
            definition = """
            thing : int32
            """

        original = dj_connection.query

        def refuse(sql, *args, **kwargs):
            if sql.lstrip().upper().startswith("DROP"):
                raise dj.errors.AccessError("Insufficient privileges.", "denied", sql)
            return original(sql, *args, **kwargs)

        monkeypatch.setattr(dj_connection, "query", refuse)
        with pytest.raises(
            dj.errors.AccessError,
            match=rf"An attempt to drop schema `{schema.database}` has failed. Check permissions.",
        ):
            schema.drop(prompt=False)
        monkeypatch.undo()
        assert schema.exists and len(Thing) == 0
