"""Jobs tables and the Job API on every backend (SPEC §9)."""

from __future__ import annotations

import datetime
import logging
import os
import platform
import subprocess
import time
import uuid

import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.populate.jobs import ERROR_MESSAGE_LENGTH, Job, code_version, truncate_message


def declare_pipeline(schema):
    """Subject -> Analysis (Computed) and Subject -> Scan (Imported, a renamed reference)."""

    @schema
    class Subject(dj.Manual):
        definition = """
        subject : int32
        ---
        name = "" : varchar(16)
        """

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Subject
        ---
        value : float64
        """

        def make(self, key):
            self.insert1({**key, "value": key["subject"] * 2.0})

    @schema
    class Scan(dj.Imported):
        definition = """
        -> Subject.proj(animal="subject")
        ---
        size : int32
        """

        def make(self, key):
            self.insert1({**key, "size": 1})

    Subject.insert([{"subject": i} for i in range(5)])
    return Subject, Analysis, Scan


@pytest.fixture
def pipeline(dj_schema):
    return declare_pipeline(dj_schema)


def test_jobs_table_is_declared_on_first_access(dj_schema, pipeline):
    _, Analysis, Scan = pipeline
    names = dj_schema.connection.introspection.list_tables
    assert "~~analysis" not in names(dj_schema.connection.run, dj_schema.database)
    assert Job(Analysis).progress() == {
        "pending": 0,
        "reserved": 0,
        "success": 0,
        "error": 0,
        "ignore": 0,
        "total": 0,
    }
    jobs = Analysis.jobs  # on the class
    assert isinstance(jobs, Job)
    assert jobs.table_name == "~~analysis"
    assert Analysis().jobs is jobs  # the instance gives the same, already declared, Job
    assert jobs.target.full_table_name == Analysis.full_table_name
    assert jobs.primary_key == ["subject"]
    assert jobs.heading.names == [
        "subject",
        "status",
        "priority",
        "created_time",
        "scheduled_time",
        "reserved_time",
        "completed_time",
        "duration",
        "error_message",
        "error_stack",
        "user",
        "host",
        "pid",
        "connection_id",
        "version",
    ]
    assert jobs.heading["subject"].declared_type == Analysis.heading["subject"].declared_type
    assert jobs.heading["error_stack"].codec is not None
    assert Scan.jobs.table_name == "~~scan"
    assert Scan.jobs.primary_key == ["animal"]
    # hidden from the schema's table list, listed by schema.jobs
    assert not [t for t in dj_schema.list_tables() if t.startswith("~")]
    assert sorted(j.table_name for j in dj_schema.jobs) == ["~~analysis", "~~scan"]
    assert {type(j.target) for j in dj_schema.jobs} == {Analysis, Scan}


def test_only_auto_populated_tables_have_jobs(pipeline):
    Subject, _, _ = pipeline
    with pytest.raises(DataJointError, match="not auto-populated"):
        Subject.jobs  # noqa: B018


def test_non_fk_key_attributes_are_dropped_from_the_jobs_key(dj_schema, pipeline, caplog):
    Subject = pipeline[0]  # noqa: F841 -- the definition below names it

    @dj_schema
    class Series(dj.Computed):
        definition = """
        -> Subject
        step : int32
        """

    with caplog.at_level(logging.WARNING, logger="datajoint"):
        jobs = Series.jobs
    assert jobs.primary_key == ["subject"]
    assert any(
        "Ignoring non-FK primary key attribute `step`" in r.getMessage()
        and "Job granularity will be degraded" in r.getMessage()
        for r in caplog.records
    )
    assert jobs.job_key({"subject": 1, "step": 3}) == {"subject": 1}

    with dj.config.override(jobs__allow_new_pk_fields_in_computed_tables=True):

        @dj_schema
        class Free(dj.Computed):
            definition = """
            free_id : int32
            """

    with pytest.raises(DataJointError, match="no FK-derived primary key attributes found"):
        Free.jobs  # noqa: B018


def test_refresh_adds_pending_jobs_with_priority_and_delay(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    result = jobs.refresh({"subject": 0}, priority=2)
    assert result == {"added": 1, "removed": 0, "orphaned": 0, "re_pended": 0}
    assert jobs.refresh(delay=3600)["added"] == 4
    assert jobs.refresh()["added"] == 0  # every key already has a job
    rows = {r["subject"]: r for r in jobs.to_dicts()}
    assert rows[0]["priority"] == 2 and rows[1]["priority"] == 5
    assert {r["status"] for r in rows.values()} == {"pending"}
    assert rows[1]["scheduled_time"] > rows[0]["scheduled_time"]
    # only the due job can be handed out or reserved
    assert jobs.pending_keys() == [{"subject": 0}]
    assert not jobs.reserve({"subject": 1})
    assert jobs.reserve({"subject": 0})
    Analysis.insert1({"subject": 4, "value": 0.0}, allow_direct_insert=True)
    (jobs & {"subject": 4}).delete()
    assert jobs.refresh()["added"] == 0  # a key already in the target gets no job


def test_default_priority_comes_from_config(pipeline):
    _, Analysis, _ = pipeline
    with dj.config.override(jobs__default_priority=7):
        Analysis.jobs.refresh()
    assert set(Analysis.jobs.to_arrays("priority").tolist()) == {7}


def test_reserve_is_one_conditional_update(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh(delay=-1)
    assert jobs.reserve({"subject": 1, "extra": "ignored"})
    assert not jobs.reserve({"subject": 1})  # already reserved: the second caller loses
    row = (jobs & {"subject": 1}).fetch1()
    assert row["status"] == "reserved"
    assert row["pid"] == os.getpid()
    assert row["host"] == platform.node()[:255]
    assert row["connection_id"] == jobs.connection.connection_id
    assert row["user"] == str(jobs.connection.get_user())
    assert row["reserved_time"] is not None
    assert not jobs.reserve({"subject": 99})  # no job, nothing reserved
    with pytest.raises(DataJointError, match="lacks attribute"):
        jobs.reserve({"name": "x"})


def test_complete_deletes_or_keeps(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh(delay=-1)
    jobs.reserve({"subject": 0})
    jobs.complete({"subject": 0}, duration=1.5)
    assert {"subject": 0} not in jobs
    with dj.config.override(jobs__keep_completed=True):
        jobs.reserve({"subject": 1})
        jobs.complete({"subject": 1}, duration=2.5)
    row = (jobs & {"subject": 1}).fetch1()
    assert row["status"] == "success"
    assert row["duration"] == 2.5
    assert row["completed_time"] is not None
    assert len(jobs.completed) == 1


def test_error_records_message_and_stack(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh(delay=-1)
    jobs.reserve({"subject": 0})
    jobs.error({"subject": 0}, "ValueError: bad", "Traceback ...\nValueError: bad")
    row = (jobs & {"subject": 0}).fetch1()
    assert row["status"] == "error"
    assert row["error_message"] == "ValueError: bad"
    assert row["error_stack"] == "Traceback ...\nValueError: bad"
    assert row["completed_time"] is not None
    long = "x" * 5000
    jobs.error({"subject": 1}, long)
    message = (jobs & {"subject": 1}).fetch1("error_message")
    assert len(message) == ERROR_MESSAGE_LENGTH
    assert message.endswith("...truncated") and message.startswith("xxx")
    assert (jobs & {"subject": 1}).fetch1("error_stack") is None
    # an error for a key whose job is gone is recorded all the same
    jobs.error({"subject": 42}, "lost")
    assert (jobs & {"subject": 42}).fetch1("status") == "error"
    assert len(jobs.errors) == 3


def test_truncate_message():
    assert truncate_message("short") == "short"
    exact = "y" * ERROR_MESSAGE_LENGTH
    assert truncate_message(exact) == exact
    cut = truncate_message(exact + "z")
    assert len(cut) == ERROR_MESSAGE_LENGTH and cut.endswith("...truncated")


def test_ignore_updates_or_inserts(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh({"subject": 0}, delay=-1, priority=1)
    jobs.ignore({"subject": 0})
    jobs.ignore({"subject": 3})
    rows = {r["subject"]: r for r in jobs.ignored.to_dicts()}
    assert set(rows) == {0, 3}
    assert rows[0]["priority"] == 1 and rows[3]["priority"] == 5
    assert not jobs.reserve({"subject": 3})
    assert jobs.refresh(delay=-1)["added"] == 3  # ignored keys get no new job
    assert {"subject": 3} not in jobs.pending_keys()


def test_progress_counts_each_status(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh(delay=-1)
    jobs.reserve({"subject": 0})
    jobs.reserve({"subject": 1})
    jobs.error({"subject": 1}, "failed")
    jobs.ignore({"subject": 2})
    with dj.config.override(jobs__keep_completed=True):
        jobs.reserve({"subject": 3})
        jobs.complete({"subject": 3})
    assert jobs.progress() == {
        "pending": 1,
        "reserved": 1,
        "success": 1,
        "error": 1,
        "ignore": 1,
        "total": 5,
    }
    assert len(jobs.pending) == 1 and len(jobs.reserved) == 1


def test_pending_keys_order_priority_and_candidates(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh({"subject": 3}, priority=1, delay=-1)
    jobs.refresh({"subject": 1}, priority=3, delay=-2)
    jobs.refresh(delay=-1)
    keys = jobs.pending_keys()
    assert keys[:2] == [{"subject": 3}, {"subject": 1}]
    assert len(keys) == 5
    assert jobs.pending_keys(priority=3) == [{"subject": 3}, {"subject": 1}]
    assert jobs.pending_keys(limit=1) == [{"subject": 3}]
    candidates = [{"subject": 0}, {"subject": 1}]
    assert jobs.pending_keys(candidates=candidates) == [{"subject": 1}, {"subject": 0}]


def test_refresh_removes_jobs_whose_key_left_the_key_source(pipeline):
    Subject, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh(delay=-1)
    jobs.error({"subject": 0}, "failed")
    jobs.ignore({"subject": 1})
    (Subject & "subject in (0, 1, 2)").delete(prompt=False)
    result = jobs.refresh(stale_timeout=0)
    assert result["removed"] == 1  # the error job; a pending one goes only when stale
    assert {r["subject"] for r in jobs.to_dicts()} == {1, 2, 3, 4}
    time.sleep(1.2)
    result = jobs.refresh(stale_timeout=1)
    assert result["removed"] == 1  # the stale pending job; an ignored job stays
    assert {r["subject"] for r in jobs.to_dicts()} == {1, 3, 4}


def test_refresh_puts_orphaned_reservations_back(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh(delay=-1)
    jobs.reserve({"subject": 0})
    assert jobs.refresh(orphan_timeout=60)["orphaned"] == 0
    time.sleep(1.2)
    assert jobs.refresh(orphan_timeout=1)["orphaned"] == 1
    row = (jobs & {"subject": 0}).fetch1()
    assert row["status"] == "pending" and row["reserved_time"] is None
    assert jobs.reserve({"subject": 0})


def test_refresh_repends_completed_jobs_whose_result_is_gone(pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    with dj.config.override(jobs__keep_completed=True):
        jobs.refresh(delay=-1)
        jobs.reserve({"subject": 0})
        jobs.complete({"subject": 0})
        result = jobs.refresh(priority=4)
    assert result["re_pended"] == 1
    row = (jobs & {"subject": 0}).fetch1()
    assert row["status"] == "pending" and row["priority"] == 4
    assert jobs.refresh()["re_pended"] == 0  # without keep_completed nothing is re-pended


def test_delete_and_drop_need_no_prompt(dj_schema, pipeline):
    _, Analysis, _ = pipeline
    jobs = Analysis.jobs
    jobs.refresh()
    assert (jobs & {"subject": 0}).delete() == 1
    assert len(jobs) == 4
    jobs.delete()
    assert len(jobs) == 0
    jobs.drop()
    assert not jobs.is_declared
    assert Analysis.jobs.is_declared  # declared again on the next access
    assert len(Analysis.jobs) == 0


def test_string_keys_are_bound_parameters(dj_schema):
    @dj_schema
    class Person(dj.Manual):
        definition = """
        person : varchar(32)
        """

    @dj_schema
    class Greeting(dj.Computed):
        definition = """
        -> Person
        """

    names = ["o'brien", 'say "hi"', "100%", "back\\slash"]
    Person.insert([{"person": n} for n in names])
    jobs = Greeting.jobs
    assert jobs.refresh(delay=-1)["added"] == 4
    for name in names:
        assert jobs.reserve({"person": name})
        jobs.error({"person": name}, f"failed for {name}")
    assert sorted(jobs.errors.to_arrays("error_message").tolist()) == sorted(
        f"failed for {n}" for n in names
    )


def test_version_method(pipeline, tmp_path, monkeypatch):
    _, Analysis, _ = pipeline
    assert code_version(None) == "" and code_version("none") == ""
    monkeypatch.chdir(tmp_path)  # not a git repository: git fails, the version is empty
    assert code_version("git") == ""
    repo = os.path.dirname(os.path.abspath(__file__))
    monkeypatch.chdir(repo)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    assert code_version("git") == head
    with dj.config.override(jobs__version_method="git"):
        jobs = Job(Analysis)
        jobs.refresh(delay=-1)
        jobs.reserve({"subject": 0})
    assert (jobs & {"subject": 0}).fetch1("version") == head


def test_key_attributes_keep_their_types(dj_schema):
    @dj_schema
    class Recording(dj.Manual):
        definition = """
        kind : enum('ephys', 'imaging')
        rec_id : uuid
        day : date
        """

    @dj_schema
    class Spikes(dj.Computed):
        definition = """
        -> Recording
        """

    key = {"kind": "imaging", "rec_id": uuid.uuid4(), "day": datetime.date(2024, 2, 29)}
    Recording.insert1(key)
    jobs = Spikes.jobs
    for name in ("kind", "rec_id", "day"):
        assert jobs.heading[name].declared_type == Recording.heading[name].declared_type
    assert jobs.refresh(delay=-1)["added"] == 1
    assert jobs.pending_keys() == [key]
    assert jobs.reserve(key)
    jobs.error(key, "failed")
    assert jobs.errors.keys() == [key]
