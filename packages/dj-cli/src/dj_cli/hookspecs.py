"""dj-cli's own hook spec: sub-commands are plugins too (the kernel never imports the CLI)."""

from __future__ import annotations

from typing import Protocol

import pluggy

hookspec = pluggy.HookspecMarker("datajoint")


class CommandRegistrar(Protocol):
    def add_command(self, name: str, help: str, configure: object, run: object) -> None:
        """Add ``dj <name>``: ``configure(parser)`` adds its arguments, ``run(args)`` runs it
        and returns the exit code."""


@hookspec
def dj_cli_register_commands(cli: CommandRegistrar) -> None:
    """Called once when the ``dj`` command starts: add sub-commands with ``cli.add_command``."""
