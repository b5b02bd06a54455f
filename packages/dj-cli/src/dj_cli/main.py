"""The ``dj`` / ``datajoint`` console scripts (SPEC §11) plus plugin sub-commands.

``dj [-u USER] [-p PASSWORD] [--host HOST[:PORT]] [-s DB:ALIAS ...]`` starts an interactive console
with ``dj`` and the named schemas loaded; ``dj <command> ...`` runs a sub-command (``dj plugins``).
"""

from __future__ import annotations

import argparse
import code
import importlib.metadata as im
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pluggy

from . import commands, hookspecs


class _Registrar:
    def __init__(self) -> None:
        self.commands: dict[str, tuple[str, Callable[..., None], Callable[..., int]]] = {}

    def add_command(self, name: str, help: str, configure: Any, run: Any) -> None:
        if name in self.commands:
            raise ValueError(f"Two plugins add the dj sub-command {name!r}")
        self.commands[name] = (help, configure, run)


def _registered_commands() -> dict[str, tuple[str, Callable[..., None], Callable[..., int]]]:
    """Sub-commands from dj-cli itself and from every module in the datajoint.plugins group."""
    manager = pluggy.PluginManager("datajoint")
    manager.add_hookspecs(hookspecs)
    manager.register(commands, name="dj_cli.commands")
    for ep in im.entry_points(group="datajoint.plugins"):
        try:
            module = ep.load()
        except Exception:  # broken plugins are reported by `dj plugins`, not here
            continue
        if hasattr(module, "dj_cli_register_commands") and not manager.is_registered(module):
            manager.register(module, name=f"ep:{ep.name}")
    registrar = _Registrar()
    manager.hook.dj_cli_register_commands(cli=registrar)
    return registrar.commands


def _version() -> str:
    try:
        return im.version("dj-kernel")
    except im.PackageNotFoundError:
        return "unknown"


def _parser(registered: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dj", description="DataJoint console and tools")
    parser.add_argument("-V", "--version", action="version", version=f"datajoint {_version()}")
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
    registered = _registered_commands()
    parser = _parser(registered)
    options = parser.parse_args(args)
    import datajoint as dj

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
    banner = f"DataJoint {_version()} REPL"
    if loaded:
        banner += "\nLoaded schemas:\n" + "\n".join(loaded)
    code.interact(banner=banner, local=scope)
    raise SystemExit


def main() -> None:
    """Console-script entry point."""
    cli(sys.argv[1:])
