"""The built-in sub-commands in-process on a SQLite file: output formats, error messages, exit
status, and which distribution ``dj --help`` names. The same commands run as console-script
processes on every backend in the repository's ``tests/test_cli_commands.py``."""

from __future__ import annotations

import json
import sys
import types

import pytest

import datajoint as dj
from datajoint import hookimpl
from datajoint.connection import reset_singleton
from datajoint.plugin_host import PluginHost, set_host
from dj_cli.catalog import class_name_and_tier
from dj_cli.common import format_table
from dj_cli.main import cli


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.fixture
def sqlite_file(tmp_path, monkeypatch):
    """dj.config points at a fresh SQLite file; the process-wide connection is rebuilt."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cli.sqlite3"
    reset_singleton()
    with dj.config.override(database__backend="sqlite", database__sqlite_file=str(path)):
        yield path
        reset_singleton()


@pytest.fixture
def lab(sqlite_file):
    """The schema ``lab`` with a master and part table."""
    schema = dj.Schema("lab")

    @schema
    class Session(dj.Manual):
        definition = """
        session : int32
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int32
            """

    return schema


@pytest.mark.parametrize(
    ("table_name", "expected"),
    [
        ("subject", ("Subject", "Manual")),
        ("#kind_of_task", ("KindOfTask", "Lookup")),
        ("_scan", ("Scan", "Imported")),
        ("__analysis", ("Analysis", "Computed")),
        ("session__trial", ("Session.Trial", "Part")),
        ("__analysis__unit_stat", ("Analysis.UnitStat", "Part")),
    ],
)
def test_class_name_and_tier_follow_the_table_name_prefixes(table_name, expected):
    assert class_name_and_tier(table_name) == expected


def test_format_table_right_aligns_numbers():
    assert format_table(("table", "rows"), [("Subject", 3), ("Kind", 12)]) == (
        "table    rows\nSubject     3\nKind       12"
    )


# ---- catalog commands: what a user sees when something is wrong -------------------------------
def test_tables_of_a_missing_schema_names_the_connection(capsys, sqlite_file):
    code, out, err = run(capsys, "tables", "nope")
    assert code == 1 and out == ""
    assert err.strip() == (
        f"dj tables: error: Schema `nope` does not exist on sqlite:{sqlite_file.resolve()}. "
        "Run `dj schemas` to list the schemas."
    )


def test_tables_of_an_empty_schema(capsys, sqlite_file):
    dj.Schema("empty")
    assert run(capsys, "tables", "empty")[:2] == (0, "Schema `empty` has no tables.\n")


def test_describe_needs_schema_dot_table(capsys, lab):
    code, _out, err = run(capsys, "describe", "lab")
    assert code == 1
    assert "Invalid table 'lab'. Use SCHEMA.Table, e.g. lab.Session or lab.Session.Trial" in err


def test_describe_of_a_missing_table(capsys, lab):
    code, _out, err = run(capsys, "describe", "lab.Nope")
    assert code == 1
    assert err.strip() == "dj describe: error: Table `nope` does not exist in schema `lab`."


def test_describe_a_part_table_by_class_or_table_name(capsys, lab):
    by_class = run(capsys, "describe", "lab.Session.Trial")
    by_name = run(capsys, "describe", "lab.session__trial")
    assert by_class[0] == by_name[0] == 0
    assert by_class[1] == by_name[1]
    assert by_class[1].splitlines()[:2] == ["-> Session", "trial                : int32"]


def test_jobs_of_a_schema_without_jobs_tables(capsys, lab):
    code, out, _err = run(capsys, "jobs", "lab")
    assert code == 0
    assert out.startswith("Schema `lab` has no jobs tables")


# ---- dj config -------------------------------------------------------------------------------
def test_config_template_refuses_to_overwrite(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "datajoint.json").write_text("{}")
    code, _out, err = run(capsys, "config", "template")
    assert code == 1
    assert "datajoint.json already exists; remove it or choose another path." in err
    assert (tmp_path / "datajoint.json").read_text() == "{}"


def test_config_template_to_stdout(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capsys, "config", "template", "-")
    assert code == 0 and json.loads(out) == {"database": {"host": "localhost", "port": 3306}}
    code, out, _err = run(capsys, "config", "template", "-", "--full")
    full = json.loads(out)
    assert full["database"]["backend"] == "mysql" and "password" not in full["database"]
    assert list(tmp_path.iterdir()) == []  # printing writes nothing here


def test_config_show_applies_options_given_after_the_command(capsys):
    with dj.config.override(database__user=None, database__password=None):
        code, out, _err = run(capsys, "config", "show", "-u", "bob", "-p", "pw")
        assert code == 0
        assert 'database.user = "bob"' in out.splitlines()
        assert 'database.password = "********"' in out.splitlines()
        code, out, _err = run(capsys, "config", "show", "--json")
        assert json.loads(out)["database"]["password"] == "********"


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    """Write ``datajoint.json`` in the working directory; the config file is not ignored."""
    monkeypatch.chdir(tmp_path)

    def write(text: str):
        (tmp_path / "datajoint.json").write_text(text)
        return tmp_path / "datajoint.json"

    with dj.config.override(ignore_config_file=False):
        yield write


def test_config_check_of_a_valid_file_without_connecting(capsys, config_file):
    path = config_file('{"database.host": "db.example.org", "display": {"limit": 5}}')
    code, out, _err = run(capsys, "config", "check", "--no-connect")
    assert code == 0
    assert out.splitlines() == [f"ok: {path} is valid", "OK: the DataJoint configuration is valid"]


def test_config_check_of_a_file_that_is_not_json(capsys, config_file):
    path = config_file('{"database": ')
    code, out, _err = run(capsys, "config", "check")
    assert code == 1
    first, last = out.splitlines()
    assert first.startswith(f"error: {path} cannot be read as JSON: ")
    assert last == "FAILED: 1 problem(s) in the DataJoint configuration"


def test_config_check_warns_of_unknown_keys_and_checks_stores(capsys, config_file):
    path = config_file('{"databse": {"host": "x"}, "display.limt": 3}')
    with dj.config.override(stores={"raw": {"protocol": "file"}}):
        code, out, _err = run(capsys, "config", "check")
    assert code == 1
    assert out.splitlines() == [
        f"warning: {path}: 'databse' names no setting and is ignored (a misspelt key?)",
        f"warning: {path}: 'display.limt' names no setting and is ignored (a misspelt key?)",
        f"ok: {path} is valid",
        """error: store 'raw': config.stores["raw"] is missing: location""",
        "FAILED: 1 problem(s) in the DataJoint configuration",
    ]


def test_config_check_does_not_create_a_sqlite_file(capsys, sqlite_file):
    code, out, _err = run(capsys, "config", "check")
    assert code == 0
    assert f"ok: backend sqlite: {sqlite_file.resolve()} does not exist yet" in out
    assert not sqlite_file.exists()


# ---- the console and the command list --------------------------------------------------------
def test_a_bad_schema_entry_after_shell_is_a_usage_error(capsys):
    code, _out, err = run(capsys, "shell", "-s", "lab")
    assert code == 2
    assert "Invalid schema format 'lab'. Use schema_name:alias" in err


def test_the_console_reports_a_schema_it_cannot_load(capsys, sqlite_file):
    code, _out, err = run(capsys, "-s", "nope:lab")
    assert code == 1
    assert err.startswith("dj shell: error: Schema `nope` does not exist on sqlite:")


@pytest.fixture
def hello_host(monkeypatch):
    """A process-wide host with one in-process plugin, from the distribution dj-hello 1.2."""
    module = types.ModuleType("t_hello_cli_plugin")
    module.dj_cli_register_commands = hookimpl(  # type: ignore[attr-defined]
        lambda cli: cli.add_command("hello", "say hello", lambda parser: None, lambda args: 0)
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    host = PluginHost(use_entry_points=False)
    host.add_plugin(module, distribution="dj-hello", version="1.2")
    previous = set_host(host)
    yield host
    set_host(previous)


def test_help_names_the_distribution_of_each_command(capsys, hello_host):
    code, out, _err = run(capsys, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "hello say hello [dj-hello 1.2]" in text
    assert "tables list the tables of a schema with their tier and number of rows [dj-cli" in text


def test_two_providers_of_one_command_are_both_named(capsys, hello_host, monkeypatch):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    again = types.ModuleType("t_hello_again")
    again.dj_cli_register_commands = hookimpl(  # type: ignore[attr-defined]
        lambda cli: cli.add_command("hello", "again", lambda parser: None, lambda args: 0)
    )
    hello_host.add_plugin(again, distribution="dj-again", version="3")
    code, _out, err = run(capsys, "hello")
    assert code == 0
    assert "Two plugins add the dj sub-command 'hello': dj-hello 1.2 and dj-again 3" in err


# ---- dj diagram ------------------------------------------------------------------------------
def test_diagram_format_from_the_option_or_the_extension(capsys, lab, tmp_path):
    code, out, _err = run(capsys, "diagram", "lab", "-o", "lab.txt", "--format", "mermaid")
    assert code == 0 and out == "Wrote lab.txt\n"
    assert (tmp_path / "lab.txt").read_text().startswith("flowchart LR")
    code, _out, err = run(capsys, "diagram", "lab", "-o", "lab.txt")
    assert code == 1
    assert "dj diagram: error: Could not infer format from filename." in err


def test_diagram_direction_option(capsys, lab):
    with dj.config.override(display__diagram_direction="LR"):
        code, out, _err = run(capsys, "diagram", "lab", "--direction", "TB")
    assert code == 0 and out.startswith("flowchart TB\n")
    assert "Session.Trial" in out


def test_diagram_of_a_missing_schema(capsys, lab):
    code, _out, err = run(capsys, "diagram", "lab,nope")
    assert code == 1 and "Schema `nope` does not exist" in err
    code, _out, err = run(capsys, "diagram", ",")
    assert code == 1 and "Name at least one schema" in err
