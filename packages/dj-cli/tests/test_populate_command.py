"""``dj populate MODULE:TableClass``: registration, argument errors and a run in-process.

The multi-worker runs (real console-script processes against every backend) are in the
repository's ``tests/test_populate_workers.py``.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from dj_cli.main import _registered_commands, cli
from dj_cli.populate import load_table

PIPELINE = textwrap.dedent(
    '''
    import datajoint as dj
    from datajoint.connection import Connection

    schema = dj.Schema("cli_pipeline", connection=Connection(backend="sqlite", database_name=DB))


    @schema
    class Number(dj.Manual):
        definition = """
        n : int32
        """


    @schema
    class Square(dj.Computed):
        definition = """
        -> Number
        ---
        square : int64
        """

        def make(self, key):
            if key["n"] == FAIL:
                raise ValueError("no square today")
            self.insert1({**key, "square": key["n"] ** 2})
    '''
)


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    """A module ``cli_pipeline_mod`` on a SQLite file, importable from the working directory."""

    def write(fail: int = -1):
        source = f"DB = {str(tmp_path / 'db.sqlite3')!r}\nFAIL = {fail}\n" + PIPELINE
        (tmp_path / "cli_pipeline_mod.py").write_text(source)
        sys.modules.pop("cli_pipeline_mod", None)
        load_table("cli_pipeline_mod:Square")  # imports it, adding the working directory
        module = sys.modules["cli_pipeline_mod"]
        module.Number.insert([{"n": n} for n in range(4)], skip_duplicates=True)
        return module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    yield write
    sys.modules.pop("cli_pipeline_mod", None)


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        cli(["populate", *args])
    return info.value.code


def test_populate_is_a_registered_sub_command():
    assert "populate" in _registered_commands()


def test_a_run_prints_one_summary_line(pipeline, capsys):
    module = pipeline()
    assert run("cli_pipeline_mod:Square", "--restriction", '[{"n": 1}, {"n": 2}]') == 0
    assert capsys.readouterr().out == "Square: made 2, errors 0, remaining 0\n"
    assert run("cli_pipeline_mod:Square", "--reserve-jobs", "--max-calls", "1") == 0
    assert capsys.readouterr().out == "Square: made 1, errors 0, remaining 1\n"
    assert len(module.Square()) == 3


def test_a_failed_make_gives_exit_status_1(pipeline, capsys):
    pipeline(fail=2)
    assert run("cli_pipeline_mod:Square", "--suppress-errors") == 1
    assert capsys.readouterr().out == "Square: made 3, errors 1, remaining 1\n"
    assert run("cli_pipeline_mod:Square") == 1
    captured = capsys.readouterr()
    assert captured.out == "Square: stopped, errors 1, remaining 1\n"
    assert "ValueError: no square today" in captured.err


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_colon_here", "Use MODULE:TableClass"),
        ("cli_pipeline_mod:Missing", "has no table class 'Missing'"),
        ("cli_pipeline_mod:dj", "is not a Computed or Imported table class"),
        ("no_such_module_xyz:Table", "No module named 'no_such_module_xyz'"),
    ],
)
def test_bad_targets_are_usage_errors(pipeline, capsys, target, message):
    pipeline()
    assert run(target) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("restriction", "message"), [("{not json", "not valid JSON"), ("3", "a JSON object")]
)
def test_bad_restrictions_are_usage_errors(pipeline, capsys, restriction, message):
    pipeline()
    assert run("cli_pipeline_mod:Square", "--restriction", restriction) == 2
    assert message in capsys.readouterr().err


def test_load_table_searches_the_working_directory(pipeline, tmp_path):
    module = pipeline()
    assert str(tmp_path) in sys.path  # console scripts do not search it by themselves
    assert load_table("cli_pipeline_mod:Square") is module.Square
