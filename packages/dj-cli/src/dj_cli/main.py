"""The ``dj`` / ``datajoint`` console scripts (SPEC §11) and their plugin sub-commands.

``dj [-u USER] [-p PASSWORD] [--host HOST[:PORT]] [-s DB:ALIAS ...]`` starts the interactive console
(also ``dj shell``); ``dj <command> ...`` runs a sub-command. Every sub-command, dj-cli's own
included, comes from a ``dj_cli_register_commands`` hook run over the kernel's plugin host, and
``dj --help`` names the distribution that provides each. A plugin that fails to load is reported:
a warning line on stderr, or an error and exit status 1 with ``DJ_STRICT_PLUGINS=1``.
"""

from __future__ import annotations

import argparse
import importlib.metadata as im
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import datajoint as dj
from datajoint.plugin_host import host as plugin_host

from . import commands, console, hookspecs
from .common import add_connection_options, apply_connection_options, guarded


class Command(NamedTuple):
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    provider: str  # "distribution version" of the plugin that added it


class _Registrar:
    """What one plugin's ``dj_cli_register_commands`` receives: it records that plugin as the
    provider of each command it adds."""

    def __init__(self, commands: dict[str, Command], provider: str) -> None:
        self.commands = commands
        self.provider = provider

    def add_command(self, name: str, help: str, configure: Any, run: Any) -> None:
        if name in self.commands:
            raise ValueError(
                f"Two plugins add the dj sub-command {name!r}: "
                f"{self.commands[name].provider} and {self.provider}"
            )
        self.commands[name] = Command(help, configure, run, self.provider)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps help text only at spaces, so a distribution name such as dj-cli stays whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


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
    registered: dict[str, Command] = {}
    host.run_hook(
        "dj_cli_register_commands",
        per_plugin=lambda source: {
            "cli": _Registrar(registered, f"{source.distribution} {source.version}".strip())
        },
    )
    return registered


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
    parser = argparse.ArgumentParser(
        prog="dj",
        formatter_class=_HelpFormatter,
        description="DataJoint console and tools. Without a command, dj starts the interactive "
        "console (dj shell).",
    )
    parser.add_argument("-V", "--version", action="version", version=f"datajoint {dj.__version__}")
    add_connection_options(parser)
    console.add_schema_option(parser)
    if registered:
        sub = parser.add_subparsers(
            dest="command",
            title="commands (each with the distribution that provides it)",
            metavar="COMMAND",
        )
        for name, command in registered.items():
            configure = command.configure
            help_text = f"{command.help} [{command.provider}]"
            configure(sub.add_parser(name, help=help_text, formatter_class=_HelpFormatter))
    return parser


def cli(args: Sequence[str] | None = None) -> None:
    """Parse ``args`` (default: sys.argv), then run a sub-command or start the console."""
    registered = _load_commands()
    options = _parser(registered).parse_args(args)
    apply_connection_options(options)
    command = getattr(options, "command", None)
    if command:
        raise SystemExit(registered[command].run(options))
    raise SystemExit(guarded("shell", console.start)(options))


def main() -> None:
    """Console-script entry point."""
    cli(sys.argv[1:])
