"""The dj console script: version, options, sub-commands as plugins."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dj_cli.main import _registered_commands, cli


def run_dj(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from dj_cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        input="",
    )


def test_version():
    result = run_dj("-V")
    assert result.returncode == 0 and result.stdout.startswith("datajoint ")


def test_plugins_subcommand_lists_backends():
    result = run_dj("plugins")
    assert result.returncode == 0, result.stderr
    for name in ("sqlite", "mysql", "postgresql"):
        assert name in result.stdout


def test_builtin_commands_are_registered_through_the_hook():
    assert "plugins" in _registered_commands()


def test_bad_schema_argument_is_a_usage_error():
    with pytest.raises(SystemExit) as info:
        cli(["-s", "no_alias_here"])
    assert info.value.code == 2


def test_console_starts_with_banner_and_exits():
    result = run_dj()
    assert result.returncode == 0
    assert "REPL" in result.stderr
