"""Populate workers as users run them: ``dj populate MODULE:Table`` console-script processes
against one server (or one SQLite file) -- concurrency, a worker killed mid-make, exit status.

Each test writes a small pipeline module into a temporary directory; the test process declares
its tables on its own connection and the workers import the same module, configured through the
``DJ_*`` environment variables.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from datajoint.testing import servers

PIPELINE = textwrap.dedent(
    '''
    """A pipeline for worker tests: Result.make logs each call to a file and to MakeCall."""
    import os
    import time
    from pathlib import Path

    import datajoint as dj


    def wait_for_the_other_workers():
        """A worker importing this module waits (up to 60 s, outside any transaction) until
        PIPELINE_WORKERS workers have imported it, so that the work is shared whatever their
        start-up times."""
        expected = int(os.environ.get("PIPELINE_WORKERS", "1"))
        if expected < 2:
            return
        gate = Path(os.environ["PIPELINE_GATE"])
        with open(gate, "a") as arrivals:
            arrivals.write(f"{os.getpid()}\\n")
        deadline = time.monotonic() + 60
        while len(gate.read_text().split()) < expected and time.monotonic() < deadline:
            time.sleep(0.05)


    def declare(schema):
        @schema
        class Source(dj.Manual):
            definition = """
            source_id : int32
            """

        @schema
        class MakeCall(dj.Manual):
            definition = """
            call_id : varchar(40)  # pid-source_id
            ---
            source_id : int32
            pid : int32
            """

        @schema
        class Result(dj.Computed):
            definition = """
            -> Source
            ---
            value : int64
            """

            # three parts, so that make_compute runs outside the transaction, as real work does
            def make_fetch(self, key):
                return ()

            def make_compute(self, key):
                time.sleep(float(os.environ.get("PIPELINE_MAKE_SECONDS", "0")))
                return ()

            def make_insert(self, key):
                source_id, pid = key["source_id"], os.getpid()
                with open(os.environ["PIPELINE_LOG"], "a") as log:
                    log.write(f"{source_id} {pid}\\n")
                if str(source_id) == os.environ.get("PIPELINE_FAIL"):
                    raise ValueError(f"cannot make {source_id}")
                MakeCall.insert1({"call_id": f"{pid}-{source_id}", "source_id": source_id, "pid": pid})
                self.insert1({**key, "value": source_id * 2})
                slow = Path(os.environ["PIPELINE_SLOW"])
                if slow.exists():  # announce that the make is under way, then hang
                    Path(os.environ["PIPELINE_STARTED"]).write_text(str(pid))
                    time.sleep(120)

        return Source, MakeCall, Result


    if "PIPELINE_SCHEMA" in os.environ:
        Source, MakeCall, Result = declare(dj.Schema(os.environ["PIPELINE_SCHEMA"]))
        wait_for_the_other_workers()
    '''
)

DJ = Path(sys.executable).with_name("dj")


class Pipeline:
    """The pipeline module in ``folder``, its tables in ``schema``, and worker processes."""

    def __init__(self, folder: Path, schema, backend: str) -> None:
        self.folder = folder
        (folder / "pipeline.py").write_text(PIPELINE)
        spec = importlib.util.spec_from_file_location(
            f"pipeline_{id(self)}", folder / "pipeline.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.Source, self.MakeCall, self.Result = module.declare(schema)
        self.log = folder / "calls.log"
        self.slow = folder / "slow"
        self.started = folder / "started"
        self.env = self._environment(schema, backend)

    def _environment(self, schema, backend: str) -> dict[str, str]:
        """The workers' settings: a ``datajoint.json`` in their working directory (as a user
        would deploy them; it can hold an empty password, which an environment variable cannot)
        and the pipeline's own variables."""
        database: dict[str, object] = {"backend": backend}
        if backend == "sqlite":
            database["sqlite_file"] = schema.connection.conn_info["database_name"]
        else:
            p = servers.connect_params(backend)
            database.update(
                host=p.host, port=p.port, user=p.user, password=p.password, use_tls=False
            )
            if p.database_name:
                database["name"] = p.database_name
        (self.folder / "datajoint.json").write_text(json.dumps({"database": database}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJ_", "PIPELINE_"))}
        env.update(
            DJ_STRICT_PLUGINS="1",
            PIPELINE_SCHEMA=schema.database,
            PIPELINE_LOG=str(self.log),
            PIPELINE_SLOW=str(self.slow),
            PIPELINE_STARTED=str(self.started),
            PIPELINE_GATE=str(self.folder / "gate"),
        )
        return env

    def worker(self, *args: str, **env: str) -> subprocess.Popen:
        """Start ``dj populate pipeline:Result ARGS`` as its own process."""
        return subprocess.Popen(
            [str(DJ), "populate", "pipeline:Result", *args],
            cwd=self.folder,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def calls(self) -> list[tuple[int, int]]:
        if not self.log.exists():
            return []
        return [tuple(map(int, line.split())) for line in self.log.read_text().splitlines()]


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"worker did not finish in {timeout} s:\n{out}\n{err}")
    return process.returncode, out, err


@pytest.fixture
def pipeline(dj_backend, dj_schema, tmp_path) -> Pipeline:
    return Pipeline(tmp_path, dj_schema, dj_backend)


def test_four_workers_make_each_key_exactly_once(pipeline):
    n_keys = 200
    pipeline.Source.insert([{"source_id": i} for i in range(n_keys)])
    # a computation of a few milliseconds outside the transaction, so that no worker can finish
    # every key before the others have had a turn (a populate step on SQLite takes well under a
    # millisecond, and SQLite's busy handler is not fair to waiting writers)
    workers = [
        pipeline.worker("--reserve-jobs", PIPELINE_WORKERS="4", PIPELINE_MAKE_SECONDS="0.005")
        for _ in range(4)
    ]
    outcomes = [finish(w) for w in workers]
    for code, out, err in outcomes:
        assert code == 0, err
        assert "errors 0" in out, out
    calls = pipeline.calls()
    assert len(calls) == n_keys  # every make call, committed or not, is in the log
    assert Counter(key for key, _ in calls) == Counter(range(n_keys))
    assert len(pipeline.MakeCall()) == n_keys
    assert len(pipeline.Result()) == n_keys
    assert len({pid for _, pid in calls}) > 1  # the work was shared (the workers start together)
    jobs = pipeline.Result.jobs
    assert jobs.progress()["error"] == 0
    assert len(jobs) == 0  # completed jobs are not kept
    assert pipeline.Result.progress() == (0, n_keys)


def test_a_killed_worker_leaves_a_reserved_job_that_refresh_repends(pipeline):
    pipeline.Source.insert1({"source_id": 7})
    pipeline.slow.write_text("")
    worker = pipeline.worker("--reserve-jobs")
    deadline = time.monotonic() + 60
    while not pipeline.started.exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the worker never started its make:\n" + "\n".join(finish(worker)[1:]))
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    Result, jobs = pipeline.Result, pipeline.Result.jobs
    assert len(Result()) == 0  # the make's insert was never committed
    assert len(pipeline.MakeCall()) == 0
    assert (jobs & {"source_id": 7}).fetch1("status") == "reserved"
    pipeline.slow.unlink()
    time.sleep(1.2)
    assert jobs.refresh(orphan_timeout=1)["orphaned"] == 1
    assert (jobs & {"source_id": 7}).fetch1("status") == "pending"
    code, out, err = finish(pipeline.worker("--reserve-jobs"))
    assert code == 0, err
    assert out.strip() == "Result: made 1, errors 0, remaining 0"
    assert Result.to_dicts() == [{"source_id": 7, "value": 14}]
    assert len(jobs) == 0


def test_worker_command_summary_and_exit_status(pipeline):
    """Exit status 1 when a make failed; with --reserve-jobs the failure is in the jobs table.
    (Argument handling and the other options are tested in-process in dj-cli's own tests.)"""
    pipeline.Source.insert([{"source_id": i} for i in range(6)])
    code, out, _ = finish(pipeline.worker("--suppress-errors", PIPELINE_FAIL="3"))
    assert code == 1
    assert out.strip() == "Result: made 5, errors 1, remaining 1"
    code, out, err = finish(pipeline.worker("--reserve-jobs", PIPELINE_FAIL="3"))
    assert code == 1
    assert "ValueError: cannot make 3" in err
    assert out.strip() == "Result: stopped, errors 1, remaining 1"
    error = (pipeline.Result.jobs & {"source_id": 3}).fetch1()
    assert error["status"] == "error"
    assert error["error_message"] == "ValueError: cannot make 3"
    assert "Traceback" in error["error_stack"]
