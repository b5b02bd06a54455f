"""The dj console script: version, options, sub-commands as plugins."""

from __future__ import annotations

import importlib.metadata as im
import subprocess
import sys
import types

import pytest

import datajoint as dj
from datajoint import hookimpl
from datajoint.plugin_host import PluginHost, set_host
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
    assert result.returncode == 0 and result.stdout.strip() == f"datajoint {dj.__version__}"


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


# ---- sub-commands come from the kernel's plugin host ------------------------------------------
def hello_plugin() -> types.ModuleType:
    """A plugin module adding ``dj hello``."""
    module = types.ModuleType("t_hello_plugin")

    def dj_cli_register_commands(cli):
        cli.add_command("hello", "say hello", lambda parser: None, lambda args: print("hello"))

    module.dj_cli_register_commands = hookimpl(dj_cli_register_commands)
    return module


@pytest.fixture
def entry_points(monkeypatch):
    """Install a process-wide host that sees only the given ``datajoint.plugins`` entries."""

    def install(*entries: tuple[str, str]) -> None:
        points = [im.EntryPoint(name=n, value=v, group="datajoint.plugins") for n, v in entries]
        monkeypatch.setattr(
            im, "entry_points", lambda group=None: [p for p in points if p.group == group]
        )
        set_host(PluginHost())

    monkeypatch.setitem(sys.modules, "t_hello_plugin", hello_plugin())
    previous = set_host(None)
    yield install
    set_host(previous)


def test_a_plugin_adds_a_sub_command(entry_points, capsys):
    entry_points(("hello", "t_hello_plugin"))
    with pytest.raises(SystemExit):
        cli(["hello"])
    assert capsys.readouterr().out == "hello\n"


def test_disabled_plugin_adds_no_sub_command(entry_points, monkeypatch, capsys):
    monkeypatch.setenv("DJ_DISABLE_PLUGINS", "hello")
    entry_points(("hello", "t_hello_plugin"))
    assert "hello" not in _registered_commands()
    with pytest.raises(SystemExit) as info:
        cli(["hello"])
    assert info.value.code == 2 and "invalid choice: 'hello'" in capsys.readouterr().err


def test_a_broken_plugin_is_a_warning(entry_points, monkeypatch, capsys):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    entry_points(("hello", "t_hello_plugin"), ("oracle", "no_such_dj_plugin_module"))
    with pytest.raises(SystemExit):
        cli(["hello"])
    captured = capsys.readouterr()
    assert captured.out == "hello\n"
    assert "dj: warning: a plugin failed to load: datajoint.plugins entry 'oracle'" in captured.err


def test_a_broken_plugin_is_an_error_in_strict_mode(entry_points, monkeypatch, capsys):
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    entry_points(("hello", "t_hello_plugin"), ("oracle", "no_such_dj_plugin_module"))
    with pytest.raises(SystemExit) as info:
        cli(["hello"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("dj: error: Plugin failed to load: datajoint.plugins entry 'oracle'")


def test_a_sub_command_hook_that_raises_is_reported(entry_points, monkeypatch, capsys):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    clash = types.ModuleType("t_clash_plugin")  # adds `dj plugins` a second time
    clash.dj_cli_register_commands = hookimpl(
        lambda cli: cli.add_command("plugins", "again", lambda parser: None, lambda args: 0)
    )
    monkeypatch.setitem(sys.modules, "t_clash_plugin", clash)
    entry_points(("clash", "t_clash_plugin"))
    assert "plugins" in _registered_commands()
    with pytest.raises(SystemExit):
        cli(["plugins", "--json"])
    err = capsys.readouterr().err
    assert "dj: warning: a plugin failed to load: datajoint.plugins entry 'clash'" in err
    assert "Two plugins add the dj sub-command 'plugins'" in err


def test_dj_clis_plugin_declares_its_hook_for_every_host(entry_points, monkeypatch):
    """With dj-cli installed, a plain load accepts plugins implementing its hook (strict mode)."""
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    entry_points(("cli", "dj_cli.plugin"), ("hello", "t_hello_plugin"))
    assert dj.plugin_host.host().broken_plugins() == []
