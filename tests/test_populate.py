"""AutoPopulate on every backend: key_source, the make protocols, populate() and progress()
(SPEC §9); the job-side behaviour of populate (reservation, errors, signals) with reserve_jobs."""

# The schema decorator resolves ``-> Source`` in a definition from the caller's local variables,
# so the tests bind ``Source`` even where they never use it by name.
# ruff: noqa: RUF059
from __future__ import annotations

import datetime
import itertools
import logging
import os
import signal
import uuid
from decimal import Decimal

import numpy as np
import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.populate.make import content_hash


def declare_pipeline(schema):
    """Source (Manual) -> Doubled (Computed, plain make)."""

    @schema
    class Source(dj.Manual):
        definition = """
        source_id : int32
        ---
        value : float64
        """

    @schema
    class Doubled(dj.Computed):
        definition = """
        -> Source
        ---
        doubled : float64
        """

        def make(self, key):
            value = (Source & key).fetch1("value")
            self.insert1({**key, "doubled": 2 * value})

    Source.insert({"source_id": i, "value": float(i)} for i in range(5))
    return Source, Doubled


# ---- key_source ------------------------------------------------------------------------------
def test_key_source_joins_primary_parents_with_renames(dj_schema):
    schema = dj_schema

    @schema
    class Animal(dj.Manual):
        definition = """
        animal : int32
        """

    @schema
    class Method(dj.Lookup):
        definition = """
        method : varchar(8)
        ---
        note = "" : varchar(32)
        """
        contents = [("fast", ""), ("slow", "")]

    @schema
    class Comparison(dj.Computed):
        definition = """
        -> Animal
        -> Animal.proj(other="animal")
        -> Method
        ---
        score : float64
        """

        def make(self, key):
            self.insert1({**key, "score": 0.0})

    Animal.insert({"animal": i} for i in (1, 2))
    source = Comparison.key_source
    assert set(source.heading.names) == {"animal", "other", "method"}
    assert len(source) == 2 * 2 * 2
    assert Comparison().key_source is Comparison().key_source  # built once, then cached


def test_key_source_override_and_missing_parents(dj_schema):
    Source, _ = declare_pipeline(dj_schema)
    schema = dj_schema

    @schema
    class Odd(dj.Computed):
        definition = """
        -> Source
        ---
        seen : int32
        """

        @property
        def key_source(self):
            return Source & "source_id % 2 = 1"

        def make(self, key):
            self.insert1({**key, "seen": 1})

    Odd.populate()
    assert sorted(Odd.to_arrays("source_id")) == [1, 3]

    @schema
    class Lonely(dj.Computed):
        definition = """
        lonely_id : int32
        ---
        x : int32
        """

        def make(self, key):
            raise AssertionError("never called")

    with pytest.raises(DataJointError, match="must have dependencies from its primary key"):
        Lonely.populate()

    class Broken(dj.Computed):
        definition = """
        -> Source
        """
        _key_source = "not a query"

        def make(self, key):
            raise AssertionError("never called")

    schema(Broken)
    with pytest.raises(DataJointError, match="Invalid key_source value"):
        Broken.populate()


def test_target_must_contain_the_key_source_key(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Other(dj.Manual):
        definition = """
        other_id : int32
        """

    @dj_schema
    class Mismatch(dj.Computed):
        definition = """
        -> Source
        """

        @property
        def key_source(self):
            return Other.proj()

        def make(self, key):
            raise AssertionError("never called")

    with pytest.raises(DataJointError, match="lacks attribute other_id from the primary key"):
        Mismatch.populate()


# ---- populate in direct mode -----------------------------------------------------------------
def test_populate_makes_each_missing_key_once(dj_schema):
    Source, Doubled = declare_pipeline(dj_schema)
    result = Doubled.populate()
    assert result == {"success_count": 5, "error_list": []}
    assert sorted(Doubled.to_arrays("doubled")) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert Doubled.populate() == {"success_count": 0, "error_list": []}
    Source.insert1({"source_id": 9, "value": 0.5})
    assert Doubled.populate()["success_count"] == 1
    assert (Doubled & {"source_id": 9}).fetch1("doubled") == 1.0


def test_restrictions_max_calls_and_make_kwargs(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Scaled(dj.Computed):
        definition = """
        -> Source
        ---
        scaled : float64
        """

        def make(self, key, factor=1.0):
            value = (Source & key).fetch1("value")
            self.insert1({**key, "scaled": factor * value})

    assert Scaled.populate("source_id < 2", make_kwargs={"factor": 10.0})["success_count"] == 2
    assert sorted(Scaled.to_arrays("scaled")) == [0.0, 10.0]
    assert (
        Scaled.populate({"source_id": 4}, ["source_id = 3", "source_id = 4"])["success_count"] == 1
    )
    assert Scaled.populate(max_calls=1)["success_count"] == 1
    assert len(Scaled) == 4
    assert Scaled.populate(max_calls=5)["success_count"] == 1


def test_populate_refusals(dj_schema):
    _, Doubled = declare_pipeline(dj_schema)
    with pytest.raises(DataJointError, match="Cannot call populate on a restricted table"):
        (Doubled & "source_id = 1").populate()
    conn = dj_schema.connection
    conn.start_transaction()
    try:
        with pytest.raises(DataJointError, match="Populate cannot be called during a transaction"):
            Doubled.populate()
    finally:
        conn.cancel_transaction()


def test_inserts_only_inside_make(dj_schema):
    _, Doubled = declare_pipeline(dj_schema)
    with pytest.raises(DataJointError, match="only be done inside its make method"):
        Doubled.insert1({"source_id": 0, "doubled": 0.0})
    Doubled.populate()
    assert "_allow_insert" not in Doubled.__dict__  # the permission ends with the make
    with pytest.raises(DataJointError, match="only be done inside its make method"):
        Doubled.insert1({"source_id": 77, "doubled": 0.0})


def test_make_errors_roll_back_and_are_reported(dj_schema, caplog):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Fragile(dj.Computed):
        definition = """
        -> Source
        ---
        ok : int32
        """

        class Piece(dj.Part):
            definition = """
            -> master
            piece : int32
            """

        def make(self, key):
            self.insert1({**key, "ok": 1})
            self.Piece.insert1({**key, "piece": 0})
            if key["source_id"] == 1:
                raise ValueError("bad source")
            if key["source_id"] == 2:
                raise RuntimeError()

    with pytest.raises(ValueError, match="bad source"):
        Fragile.populate()
    assert 1 not in Fragile.to_arrays("source_id")
    assert len(Fragile.Piece & {"source_id": 1}) == 0
    with caplog.at_level("ERROR", logger="datajoint"):
        result = Fragile.populate(suppress_errors=True)
    assert result["success_count"] == 5 - 2 - len(Fragile & "source_id < 1")
    errors = dict((key["source_id"], message) for key, message in result["error_list"])
    assert errors == {1: "ValueError: bad source", 2: "RuntimeError"}
    assert "bad source" in caplog.text
    result = Fragile.populate(suppress_errors=True, return_exception_objects=True)
    assert sorted(type(e).__name__ for _, e in result["error_list"]) == [
        "RuntimeError",
        "ValueError",
    ]
    assert set(Fragile.to_arrays("source_id")) == {0, 3, 4}
    assert set(Fragile.Piece.to_arrays("source_id")) == {0, 3, 4}


def test_make_tuples_and_missing_make(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Legacy(dj.Computed):
        definition = """
        -> Source
        """

        def _make_tuples(self, key):
            self.insert1(key)

        def make(self, key):
            raise AssertionError("_make_tuples wins over make")

    assert Legacy.populate()["success_count"] == 5

    @dj_schema
    class Empty(dj.Computed):
        definition = """
        -> Source
        """

    with pytest.raises(NotImplementedError, match="make_fetch"):
        Empty.populate()
    with pytest.raises(NotImplementedError):
        Empty().make({"source_id": 0})


def test_new_pk_attributes_in_computed_tables_populate(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Split(dj.Computed):
        definition = """
        -> Source
        part : int16
        ---
        share : float64
        """

        def make(self, key):
            value = (Source & key).fetch1("value")
            self.insert({**key, "part": p, "share": value / 3} for p in range(3))

    assert Split.populate()["success_count"] == 5
    assert len(Split) == 15
    assert Split.progress() == (0, 5)
    assert Split.populate()["success_count"] == 0


# ---- three-part make -------------------------------------------------------------------------
def test_three_part_make(dj_schema):
    Source, _ = declare_pipeline(dj_schema)
    calls = []

    @dj_schema
    class Smoothed(dj.Computed):
        definition = """
        -> Source
        ---
        smooth : float64
        """

        def make_fetch(self, key, offset=0.0):
            calls.append(("fetch", key["source_id"]))
            return ((Source & key).fetch1("value") + offset, np.arange(3.0))

        def make_compute(self, key, value, weights):
            calls.append(("compute", key["source_id"]))
            return (float(value + weights.sum()),)

        def make_insert(self, key, smooth):
            calls.append(("insert", key["source_id"]))
            self.insert1({**key, "smooth": smooth})

    assert Smoothed.populate("source_id = 2", make_kwargs={"offset": 0.5})["success_count"] == 1
    assert (Smoothed & {"source_id": 2}).fetch1("smooth") == 5.5
    # fetched twice (once per pass), computed once, inserted once
    assert calls == [("fetch", 2), ("compute", 2), ("fetch", 2), ("insert", 2)]


def test_generator_make_detects_changed_source_data(dj_schema):
    Source, _ = declare_pipeline(dj_schema)
    conn = dj_schema.connection

    @dj_schema
    class Watched(dj.Computed):
        definition = """
        -> Source
        ---
        total : float64
        """

        def make(self, key):
            value = (Source & key).fetch1("value")
            computed = yield (value,)
            if computed is None:
                # the source changes while the (long) computation runs outside the transaction
                if not conn.in_transaction:
                    Source.update1({**key, "value": value + 100})
                computed = (value * 3,)
                yield computed
            self.insert1({**key, "total": computed[0]})
            yield

    with pytest.raises(DataJointError, match="Referential integrity failed! The `make_fetch`"):
        Watched.populate("source_id = 1")
    assert len(Watched) == 0
    result = Watched.populate("source_id = 1", suppress_errors=True)
    assert result["error_list"][0][1].startswith("FetchedDataChanged: Referential integrity")


def test_user_generator_make_follows_the_protocol(dj_schema):
    Source, _ = declare_pipeline(dj_schema)
    passes = []

    @dj_schema
    class Gen(dj.Computed):
        definition = """
        -> Source
        ---
        half : float64
        """

        def make(self, key):
            value = (Source & key).fetch1("value")
            passes.append(dj_schema.connection.in_transaction)
            computed = yield {"value": value, "array": np.ones((2, 2))}
            if computed is None:
                computed = value / 2
                yield computed
            self.insert1({**key, "half": computed})
            yield

    assert Gen.populate()["success_count"] == 5
    assert passes == [False, True] * 5
    assert sorted(Gen.to_arrays("half")) == [0.0, 0.5, 1.0, 1.5, 2.0]


# ---- progress, metadata, upstream ------------------------------------------------------------
def test_progress_in_one_query(dj_schema, caplog):
    Source, Doubled = declare_pipeline(dj_schema)
    assert Doubled.progress() == (5, 5)
    Doubled.populate("source_id < 3")
    conn = dj_schema.connection
    sent = []
    original = conn.query
    conn.query = lambda sql, *a, **k: (sent.append(sql), original(sql, *a, **k))[1]
    try:
        assert Doubled.progress() == (2, 5)
    finally:
        del conn.query
    assert len(sent) == 1
    assert Doubled.progress("source_id >= 3") == (2, 2)
    with caplog.at_level("INFO", logger="datajoint"):
        Doubled.progress(display=True)
    assert "Doubled" in caplog.text and "Completed 3 of 5 (60.0%)" in caplog.text


def test_job_metadata_columns_are_filled(dj_schema):
    Source, _ = declare_pipeline(dj_schema)
    with dj_schema.connection.config.override(jobs__add_job_metadata=True):

        @dj_schema
        class Timed(dj.Computed):
            definition = """
            -> Source
            ---
            y : int32
            """

            def make(self, key):
                self.insert1({**key, "y": 1})

    hidden = Timed.heading._attributes
    assert {"_job_start_time", "_job_duration", "_job_version"} <= set(hidden)
    before = datetime.datetime.now() - datetime.timedelta(seconds=5)
    Timed.populate()
    conn = dj_schema.connection
    q = conn.dialect.quote
    columns = ", ".join(q(c) for c in ("_job_start_time", "_job_duration", "_job_version"))
    rows = conn.query(f"SELECT {columns} FROM {Timed.full_table_name}").fetchall()
    assert len(rows) == 5
    for start, duration, version in rows:
        if isinstance(start, str):  # SQLite returns datetimes as text
            start = datetime.datetime.fromisoformat(start)
        assert start >= before
        assert duration is not None and duration >= 0
        assert version == ""


def test_upstream_is_refused_outside_make(dj_schema):
    """Inside make, self.upstream is Diagram.trace(self & key): see tests/test_diagram.py."""
    _, Doubled = declare_pipeline(dj_schema)
    with pytest.raises(DataJointError, match="only available inside make"):
        _ = Doubled().upstream


def test_display_progress_draws_a_bar(dj_schema, capsys):
    _, Doubled = declare_pipeline(dj_schema)
    assert Doubled.populate(display_progress=True)["success_count"] == 5
    assert "Doubled" in capsys.readouterr().err


# ---- statement budget ------------------------------------------------------------------------
def test_statements_per_key(dj_schema):
    """Per key, populate itself sends at most 4 statements in direct mode and 6 with
    reserve_jobs (the make's own statements excluded), with the job-metadata UPDATE included.
    Counted are round trips: where the backend sends BEGIN and the already-made check together
    (``capabilities.begin_with_query``), that pair counts once, and where each commit chains the
    next transaction (``capabilities.chain_transactions``) no BEGIN is sent after the first:
    either way the direct budget is one less."""
    Source, _ = declare_pipeline(dj_schema)
    Source.insert({"source_id": i, "value": 1.0} for i in range(5, 20))
    conn = dj_schema.connection
    with conn.config.override(jobs__add_job_metadata=True):

        @dj_schema
        class Cheap(dj.Computed):
            definition = """
            -> Source
            """

            def make(self, key):
                starts.append(len(sent))
                conn.query = original  # the make's own statements are not counted
                try:
                    self.insert1(key)
                finally:
                    conn.query = counted

    sent: list[str] = []
    starts: list[int] = []
    original = conn.query

    def counted(sql, *args, **kwargs):
        sent.append(sql)
        return original(sql, *args, **kwargs)

    original_combined = conn._begin_with_query

    def counted_combined(sql, *args, **kwargs):
        sent.append(f"BEGIN; {sql}")  # one round trip carrying two statements
        return original_combined(sql, *args, **kwargs)

    def per_key(**kwargs):
        sent.clear()
        starts.clear()
        conn.query = counted
        conn._begin_with_query = counted_combined
        try:
            assert Cheap.populate(**kwargs)["success_count"] == 20
        finally:
            del conn.query
            del conn._begin_with_query
        # between the starts of two makes: the end of one key and the beginning of the next
        return max(b - a for a, b in itertools.pairwise(starts))

    capabilities = conn.dialect.capabilities
    combined = 1 if capabilities.begin_with_query else 0
    # a commit that chains the next transaction saves the next BEGIN (direct mode only)
    chained = 1 if capabilities.chain_transactions else 0
    assert per_key() <= 4 - max(combined, chained)
    if chained:
        assert sum(sql == conn.dialect.commit_and_chain_sql() for sql in sent) == 20
    Cheap.delete_quick()
    Cheap.jobs.refresh()
    assert per_key(reserve_jobs=True, refresh=False) <= 6 - combined
    assert conn.dialect.commit_and_chain_sql() not in sent  # a reservation runs outside any


# ---- distributed mode ------------------------------------------------------------------------
def test_reserve_jobs_records_errors_and_completes(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Queued(dj.Computed):
        definition = """
        -> Source
        ---
        y : int32
        """

        def make(self, key):
            if key["source_id"] == 3:
                raise ValueError("three is bad")
            self.insert1({**key, "y": key["source_id"]})

    result = Queued.populate(reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 4
    assert [k["source_id"] for k, _ in result["error_list"]] == [3]
    jobs = Queued.jobs
    error = (jobs & {"source_id": 3}).fetch1()
    assert error["status"] == "error"
    assert error["error_message"] == "ValueError: three is bad"
    assert "three is bad" in error["error_stack"]
    assert len(jobs) == 1  # completed jobs are deleted unless jobs.keep_completed
    assert Queued.populate(reserve_jobs=True)["success_count"] == 0  # errors are not retried
    (jobs & {"source_id": 3}).delete()
    with pytest.raises(ValueError, match="three is bad"):
        Queued.populate(reserve_jobs=True)
    assert (jobs & {"source_id": 3}).fetch1("status") == "error"


def test_reserve_jobs_keeps_completed_jobs_and_follows_reconnects(dj_schema):
    """jobs.keep_completed (read once per populate call) keeps the finished jobs as 'success';
    the reserving session recorded with each job follows a reconnect."""
    Source, Doubled = declare_pipeline(dj_schema)
    jobs = Doubled.jobs
    with dj.config.override(jobs__keep_completed=True):
        assert Doubled.populate("source_id < 2", reserve_jobs=True)["success_count"] == 2
    done = jobs.to_dicts(order_by="source_id")
    assert [(j["source_id"], j["status"]) for j in done] == [(0, "success"), (1, "success")]
    assert all(j["duration"] is not None and j["completed_time"] is not None for j in done)
    conn = Doubled.connection
    conn.close()
    conn.connect()
    jobs.refresh(delay=-1)
    assert jobs.reserve({"source_id": 2})
    reserved = (jobs & {"source_id": 2}).fetch1()
    assert (reserved["pid"], reserved["connection_id"]) == (os.getpid(), conn.connection_id)
    assert Doubled.populate(reserve_jobs=True)["success_count"] == 2  # keys 3 and 4
    assert set(jobs.to_arrays("status").tolist()) == {"success", "reserved"}


def test_reserve_jobs_priority_max_calls_and_restrictions(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Ordered(dj.Computed):
        definition = """
        -> Source
        """

        def make(self, key):
            made.append(key["source_id"])
            self.insert1(key)

    made: list[int] = []
    Ordered.jobs.refresh("source_id < 2", priority=1)
    Ordered.jobs.refresh(priority=8)
    assert Ordered.populate(reserve_jobs=True, priority=3, refresh=False)["success_count"] == 2
    assert sorted(made) == [0, 1]
    assert Ordered.populate({"source_id": 4}, reserve_jobs=True)["success_count"] == 1
    assert made[-1] == 4
    assert Ordered.populate(reserve_jobs=True, max_calls=1)["success_count"] == 1
    assert Ordered.progress() == (1, 5)
    assert Ordered.populate(reserve_jobs=True)["success_count"] == 1
    assert Ordered.progress() == (0, 5)


def test_key_reserved_elsewhere_is_skipped(dj_schema):
    Source, Doubled = declare_pipeline(dj_schema)
    jobs = Doubled.jobs
    jobs.refresh(delay=-1)
    assert jobs.reserve({"source_id": 0})  # another worker holds key 0
    result = Doubled.populate(reserve_jobs=True, refresh=False)
    assert result == {"success_count": 4, "error_list": []}
    assert 0 not in Doubled.to_arrays("source_id")


def test_sigterm_rolls_back_and_records_the_job(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Killed(dj.Computed):
        definition = """
        -> Source
        """

        def make(self, key):
            self.insert1(key)
            if key["source_id"] == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit, match="SIGTERM received"):
        Killed.populate(reserve_jobs=True, suppress_errors=True)
    assert signal.getsignal(signal.SIGTERM) is before
    assert 2 not in Killed.to_arrays("source_id")
    job = (Killed.jobs & {"source_id": 2}).fetch1()
    assert job["status"] == "error"
    assert job["error_message"] == "SystemExit: SIGTERM received"


def test_keyboard_interrupt_rolls_back_and_is_recorded(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Interrupted(dj.Computed):
        definition = """
        -> Source
        """

        def make(self, key):
            self.insert1(key)
            if key["source_id"] == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Interrupted.populate(reserve_jobs=True)
    assert 1 not in Interrupted.to_arrays("source_id")
    assert (Interrupted.jobs & {"source_id": 1}).fetch1("error_message") == "KeyboardInterrupt"
    result = Interrupted.populate(
        reserve_jobs=True, suppress_errors=True, refresh=False
    )  # the interrupted key stays an error; the others complete
    assert result["error_list"] == []
    assert len(Interrupted) == 4


# ---- several processes -----------------------------------------------------------------------
def test_populate_with_processes(dj_schema):
    Source, Doubled = declare_pipeline(dj_schema)
    Source.insert({"source_id": i, "value": float(i)} for i in range(5, 30))
    result = Doubled.populate(processes=2)
    assert result == {"success_count": 30, "error_list": []}
    assert len(Doubled) == 30
    assert dj_schema.connection.is_connected  # reopened after the pool


def test_processes_with_reserve_jobs_and_errors(dj_schema):
    Source, _ = declare_pipeline(dj_schema)

    @dj_schema
    class Picky(dj.Computed):
        definition = """
        -> Source
        """

        def make(self, key):
            if key["source_id"] % 2:
                raise ValueError(f"odd {key['source_id']}")
            self.insert1(key)

    result = Picky.populate(processes=2, reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 3
    assert sorted(m for _, m in result["error_list"]) == ["ValueError: odd 1", "ValueError: odd 3"]
    assert len(Picky.jobs.errors) == 2


# ---- content hash ----------------------------------------------------------------------------
def test_content_hash_is_deterministic_and_discriminating():
    value = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": [1, "x", None, 2.5, True],
        "c": (Decimal("1.10"), uuid.UUID(int=7), datetime.date(2024, 1, 2)),
        "d": np.array([{"k": 1}, [1, 2]], dtype=object),
    }
    same = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3).copy(order="F"),
        "b": [1, "x", None, 2.5, True],
        "c": (Decimal("1.10"), uuid.UUID(int=7), datetime.date(2024, 1, 2)),
        "d": np.array([{"k": 1}, [1, 2]], dtype=object),
    }
    assert content_hash(value) == content_hash(same)
    different = [
        1,
        "1",
        1.0,
        True,
        b"1",
        [1],
        (1,),
        np.int64(2),
        np.arange(6, dtype=np.float64).reshape(2, 3),
        np.arange(6, dtype=np.float32).reshape(3, 2),
        {"a": 1, "b": 2},
        {"b": 2, "a": 1},  # order-sensitive, like the fetched data it describes
        [1, 2],
        [2, 1],
        ["ab", "c"],
        ["a", "bc"],
        None,
    ]
    digests = [content_hash(v) for v in different]
    assert len(set(digests)) == len(digests)
    assert content_hash({1, 2, 3}) == content_hash({3, 2, 1})
    assert content_hash(np.float64("nan")) == content_hash(float("nan"))


def test_logger_is_quiet_for_successful_populate(dj_schema, caplog):
    _, Doubled = declare_pipeline(dj_schema)
    with caplog.at_level(logging.WARNING, logger="datajoint"):
        Doubled.populate()
    assert not caplog.records
