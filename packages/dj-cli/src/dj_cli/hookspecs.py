"""dj-cli's own hook spec: sub-commands are plugins too (the kernel never imports the CLI).

The kernel's plugin host loads the plugins; dj-cli adds this spec to it (:mod:`dj_cli.plugin`) and
calls the hook over the same plugins, so ``DJ_LOAD_PLUGINS``, ``DJ_DISABLE_PLUGINS``,
``DJ_STRICT_PLUGINS`` and ``DJ_TRACE_PLUGINS`` apply to sub-commands as to everything else. A
plugin that must also load where dj-cli is not installed marks its implementation
``@hookimpl(optionalhook=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from datajoint.hookspecs import hookspec


class CommandRegistrar(Protocol):
    def add_command(
        self,
        name: str,
        help: str,
        configure: Callable[[Any], None],
        run: Callable[[Any], int],
    ) -> None:
        """Add ``dj <name>``: ``configure(parser)`` adds its arguments, ``run(args)`` runs it
        and returns the exit code."""


@hookspec
def dj_cli_register_commands(cli: CommandRegistrar) -> None:
    """Called once when the ``dj`` command starts: add sub-commands with ``cli.add_command``."""
