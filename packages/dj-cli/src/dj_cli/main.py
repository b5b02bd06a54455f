"""The ``dj`` / ``datajoint`` console scripts (SPEC §11) plus plugin sub-commands.

``dj [-u USER] [-p PASSWORD] [--host HOST[:PORT]] [-s DB:ALIAS ...]`` starts an interactive console
with ``dj`` and the named schemas loaded; ``dj <command> ...`` runs a sub-command (``dj plugins``).
Sub-commands come from the kernel's plugin host, so a plugin that fails to load is reported here:
a warning line on stderr, or an error and exit status 1 with ``DJ_STRICT_PLUGINS=1``.
"""

from __future__ import annotations

import argparse
import code
import importlib.metadata as im
import sys
from collections.abc import Callable, Sequence
from typing import Any

import datajoint as dj
from datajoint.plugin_host import host as plugin_host

from . import commands, hookspecs

Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


class _Registrar:
    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def add_command(self, name: str, help: str, configure: Any, run: Any) -> None:
        if name in self.commands:
            raise ValueError(f"Two plugins add the dj sub-command {name!r}")
        self.commands[name] = (help, configure, run)


def _cli_version() -> str:
    try:
        return im.version("dj-cli")
    except im.PackageNotFoundError:  # running from a source tree without installation
        return ""


def _registered_commands() -> dict[str, Command]:
    """Sub-commands from dj-cli itself and from every plugin the kernel's plugin host loads."""
    host = plugin_host()
    host.add_hookspecs(hookspecs)
    host.add_plugin(commands, name="dj_cli.commands", distribution="dj-cli", version=_cli_version())
    registrar = _Registrar()
    host.run_hook("dj_cli_register_commands", cli=registrar)
    return registrar.commands


def _load_commands() -> dict[str, Command]:
    """The sub-commands; every broken plugin is reported (strict mode: exit status 1)."""
    try:
        registered = _registered_commands()
    except dj.DataJointError as error:
        print(f"dj: error: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    for broken in plugin_host().broken_plugins():
        print(f"dj: warning: a plugin failed to load: {broken.describe()}", file=sys.stderr)
    return registered


def _parser(registered: dict[str, Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dj", description="DataJoint console and tools")
    parser.add_argument("-V", "--version", action="version", version=f"datajoint {dj.__version__}")
    parser.add_argument("-u", "--user", help="database user")
    parser.add_argument("-p", "--password", help="database password")
    parser.add_argument("--host", help="database host, HOST[:PORT]")
    parser.add_argument("-s", "--schemas", nargs="+", metavar="DB:ALIAS", help="schemas to load")
    if registered:
        sub = parser.add_subparsers(dest="command")
        for name, (help_text, configure, _run) in registered.items():
            configure(sub.add_parser(name, help=help_text))
    return parser


def cli(args: Sequence[str] | None = None) -> None:
    """Parse ``args`` (default: sys.argv), then run a sub-command or start the console."""
    registered = _load_commands()
    parser = _parser(registered)
    options = parser.parse_args(args)
    for key, value in (
        ("database.user", options.user),
        ("database.password", options.password),
        ("database.host", options.host),
    ):
        if value is not None:
            dj.config[key] = value
    command = getattr(options, "command", None)
    if command:
        raise SystemExit(registered[command][2](options))
    scope: dict[str, Any] = {"dj": dj}
    loaded = []
    for entry in options.schemas or []:
        db, sep, alias = entry.partition(":")
        if not sep:
            parser.error(f"Invalid schema format '{entry}'. Use schema_name:alias")
        scope[alias] = dj.VirtualModule(alias, db)
        loaded.append(f"  {alias} -> {db}")
    banner = f"DataJoint {dj.__version__} REPL"
    if loaded:
        banner += "\nLoaded schemas:\n" + "\n".join(loaded)
    code.interact(banner=banner, local=scope)
    raise SystemExit


def main() -> None:
    """Console-script entry point."""
    cli(sys.argv[1:])
