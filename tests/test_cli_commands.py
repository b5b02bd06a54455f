"""The ``dj`` sub-commands as users run them: the installed console script in a subprocess, against
a pipeline on every backend.

The test process declares the pipeline on its own connection; the ``dj`` process finds the same
database through the ``DJ_*`` environment variables (an empty password, which an environment
variable cannot carry, goes in ``-p``). Each process costs about two seconds, so each sub-command
runs once per backend; error paths are tested in-process in ``packages/dj-cli/tests``.
"""

from __future__ import annotations

import importlib.metadata as im
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema
from datajoint.testing.pytest_plugin import require_backend

DJ = Path(sys.executable).with_name("dj")


def declare(schema: dj.Schema) -> dict[str, Any]:
    """A small pipeline with every tier, a part table and a jobs table with one error."""

    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int32
        ---
        species : varchar(30)
        """

    @schema
    class Kind(dj.Lookup):
        definition = """
        kind : varchar(12)
        """
        contents = [("rest",), ("task",)]

    @schema
    class Session(dj.Manual):
        definition = """
        # a recording session
        -> Subject
        session : int32
        ---
        -> Kind
        note = "" : varchar(60)
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int32
            """

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Session
        ---
        trials : int32
        """

        def make(self, key):
            if key["session"] == 3:
                raise ValueError("session 3 is corrupt")
            self.insert1({**key, "trials": len(Session.Trial & key)})

    Subject.insert([{"subject_id": 1, "species": "mouse"}, {"subject_id": 2, "species": "rat"}])
    Session.insert(
        [{"subject_id": 1, "session": s, "kind": "task"} for s in (1, 2, 3)],
    )
    Session.Trial.insert([{"subject_id": 1, "session": 1, "trial": t} for t in range(4)])
    Analysis.populate(reserve_jobs=True, suppress_errors=True)
    Session.insert1({"subject_id": 2, "session": 1, "kind": "rest"})
    Analysis.jobs.refresh()
    return {"Subject": Subject, "Session": Session, "Analysis": Analysis}


class Pipeline:
    """The declared pipeline on one backend and how to run ``dj`` against it."""

    def __init__(self, backend: str, schema: dj.Schema, tables: dict[str, Any]) -> None:
        self.backend = backend
        self.schema = schema
        self.name = schema.database
        self.tables = tables

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
        env.update(DJ_STRICT_PLUGINS="1", DJ_IGNORE_CONFIG_FILE="true", DJ_BACKEND=self.backend)
        if self.backend == "sqlite":
            env["DJ_SQLITE_FILE"] = self.schema.connection.conn_info["database_name"]
            return env
        p = servers.connect_params(self.backend)
        env.update(DJ_HOST=p.host, DJ_PORT=str(p.port), DJ_USER=p.user, DJ_USE_TLS="false")
        if p.password:
            env["DJ_PASS"] = p.password
        if p.database_name:
            env["DJ_DATABASE_NAME"] = p.database_name
        return env

    def credentials(self) -> list[str]:
        """``-p ''`` when the test server's password is empty (no variable can carry it)."""
        if self.backend == "sqlite" or servers.connect_params(self.backend).password:
            return []
        return ["-p", ""]

    def dj(
        self,
        *args: str,
        stdin: str = "",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DJ), *self.credentials(), *args],
            capture_output=True,
            text=True,
            input=stdin,
            env=env or self.environment(),
            cwd=cwd,
            timeout=120,
        )


@pytest.fixture(scope="module", params=servers.selected_backends())
def pipeline(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Pipeline]:
    backend = request.param
    require_backend(backend)
    connection = make_connection(backend, tmp_path_factory.mktemp("cli") / "cli.sqlite3")
    try:
        with throwaway_schema(connection, prefix="djcli") as schema:
            yield Pipeline(backend, schema, declare(schema))
    finally:
        connection.close()


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.strip().splitlines()]


# ---- the console ------------------------------------------------------------------------------
def test_shell_takes_connection_options_and_loads_schemas(pipeline):
    env = pipeline.environment()
    args = ["shell", "-s", f"{pipeline.name}:lab"]
    if pipeline.backend != "sqlite":  # the connection comes from the options, not the variables
        p = servers.connect_params(pipeline.backend)
        for name in ("DJ_HOST", "DJ_PORT", "DJ_USER", "DJ_PASS"):
            env.pop(name, None)
        args += ["-u", p.user, "-p", p.password, "--host", f"{p.host}:{p.port}"]
    result = subprocess.run(
        [str(DJ), *args],
        capture_output=True,
        text=True,
        input="print(len(lab.Subject()), len(lab.Session.Trial.keys()))\n",
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"DataJoint {dj.__version__} REPL\nLoaded schemas:\n  lab -> {pipeline.name}\n" in (
        result.stderr
    )
    assert result.stdout.replace(">>> ", "").strip() == "2 4"  # the prompts go to stdout


# ---- the catalog ------------------------------------------------------------------------------
def test_schemas_lists_the_schema(pipeline):
    result = pipeline.dj("schemas")
    assert result.returncode == 0, result.stderr
    assert pipeline.name in result.stdout.splitlines()


def test_tables_gives_tier_and_rows(pipeline):
    result = pipeline.dj("tables", pipeline.name)
    assert result.returncode == 0, result.stderr
    header, *rows = lines(result.stdout)
    assert header == "table tier rows"
    assert sorted(rows) == [
        "Analysis Computed 2",
        "Kind Lookup 2",
        "Session Manual 4",
        "Session.Trial Part 4",
        "Subject Manual 2",
    ]
    assert rows.index("Subject Manual 2") < rows.index("Session Manual 4")  # dependency order


def test_describe_prints_the_definition(pipeline):
    result = pipeline.dj("describe", f"{pipeline.name}.Session")
    assert result.returncode == 0, result.stderr
    expected = pipeline.tables["Session"]().describe().rstrip("\n")
    assert result.stdout.rstrip("\n") == expected
    assert "-> Subject" in expected and "-> Kind" in expected


def test_jobs_counts_each_status(pipeline):
    result = pipeline.dj("jobs", pipeline.name)
    assert result.returncode == 0, result.stderr
    progress = pipeline.tables["Analysis"].jobs.progress()
    assert (progress["pending"], progress["error"]) == (1, 1)
    statuses = ("pending", "reserved", "error", "ignore", "success")
    assert lines(result.stdout) == [
        "table " + " ".join(statuses) + " total",
        "Analysis " + " ".join(str(progress[s]) for s in statuses) + f" {progress['total']}",
    ]


def test_diagram_of_two_schemas_as_svg_and_mermaid(pipeline, tmp_path):
    with throwaway_schema(pipeline.schema.connection, prefix="djcli2") as other:

        class Weighing(dj.Manual):  # depends on a table of the other schema
            definition = """
            -> Subject
            weighed_on : date
            ---
            grams : float64
            """

        other(Weighing, context={"Subject": pipeline.tables["Subject"]})
        names = f"{pipeline.name},{other.database}"
        result = pipeline.dj("diagram", names, "-o", str(tmp_path / "pipeline.svg"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"Wrote {tmp_path / 'pipeline.svg'}"
        root = ElementTree.parse(tmp_path / "pipeline.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = {
            " ".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")
        }
        for label in ("Subject", "Session", "Session.Trial", "Kind", "Analysis", "Weighing"):
            assert any(text.endswith(label) for text in texts), (label, texts)
        result = pipeline.dj("diagram", names)  # no file: Mermaid text on stdout
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("flowchart ")
        assert "Weighing" in result.stdout and "Session.Trial" in result.stdout


# ---- configuration ----------------------------------------------------------------------------
def test_config_check_validates_the_file_and_connects(pipeline, tmp_path):
    """The settings come from a datajoint.json in the working directory, as users deploy them."""
    database: dict[str, Any] = {"backend": pipeline.backend}
    if pipeline.backend == "sqlite":
        database["sqlite_file"] = pipeline.schema.connection.conn_info["database_name"]
    else:
        p = servers.connect_params(pipeline.backend)
        database.update(host=p.host, port=p.port, user=p.user, password=p.password, use_tls=False)
        if p.database_name:
            database["name"] = p.database_name
    (tmp_path / "datajoint.json").write_text(json.dumps({"database": database}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    result = subprocess.run(
        [str(DJ), "config", "check"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out[0] == f"ok: {tmp_path / 'datajoint.json'} is valid"
    assert out[1].startswith(f"ok: connected ({pipeline.backend}): ")
    assert out[-1] == "OK: the DataJoint configuration is valid and connects"


def test_config_check_fails_on_a_bad_file(tmp_path):
    (tmp_path / "datajoint.json").write_text('{"database": {"port": "abc", "hots": "x"}}')
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    result = subprocess.run(
        [str(DJ), "config", "check"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert "'database.hots' names no setting and is ignored" in out[0]
    assert out[1].startswith(f"error: {tmp_path / 'datajoint.json'} has invalid values:")
    assert out[-1] == "FAILED: 1 problem(s) in the DataJoint configuration"


def test_config_show_masks_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    env.update(
        DJ_IGNORE_CONFIG_FILE="true",
        DJ_USER="alice",
        DJ_PASS="hunter2",
        DJ_STORES='{"raw": {"protocol": "s3", "secret_key": "s3cret", "bucket": "b"}}',
    )
    result = subprocess.run(
        [str(DJ), "config", "show"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert 'database.user = "alice"' in out
    assert 'database.password = "********"' in out
    assert 'stores.raw.secret_key = "********"' in out
    assert 'stores.raw.bucket = "b"' in out
    assert "hunter2" not in result.stdout and "s3cret" not in result.stdout


def test_config_template_writes_the_file_and_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    result = subprocess.run(
        [str(DJ), "config", "template"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "datajoint.json"
    assert result.stdout.splitlines()[0] == f"Wrote {written}"
    assert json.loads(written.read_text()) == {"database": {"host": "localhost", "port": 3306}}
    assert (tmp_path / ".secrets" / "database.user").read_text() == "your_username"


# ---- the command list -------------------------------------------------------------------------
def test_help_lists_every_command_with_its_distribution():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    env["DJ_IGNORE_CONFIG_FILE"] = "true"
    result = subprocess.run([str(DJ), "--help"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    names = ("shell", "config", "plugins", "schemas", "tables", "describe", "diagram", "jobs")
    for name in (*names, "populate"):
        assert f" {name} " in text
    provider = f"[dj-cli {im.version('dj-cli')}]"
    assert text.count(provider) >= 9
