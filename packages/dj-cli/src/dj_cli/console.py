"""``dj`` / ``dj shell``: the interactive console of SPEC §11.

``-u``/``-p``/``--host`` go into ``dj.config``; each ``-s DB:ALIAS`` loads the schema ``DB`` as a
virtual module named ``ALIAS``. The console has ``dj`` and the aliases in scope.
"""

from __future__ import annotations

import argparse
import code
from typing import Any

import datajoint as dj

from .common import add_connection_options, guarded, require_schema, schema_entry
from .hookspecs import CommandRegistrar


def add_schema_option(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    parser.add_argument(
        "-s",
        "--schemas",
        nargs="+",
        type=schema_entry,
        default=default,
        metavar="DB:ALIAS",
        help="schemas to load, each as a module named ALIAS",
    )


def start(options: argparse.Namespace) -> int:
    """Load the schemas of ``options.schemas`` and run the console until the user leaves it."""
    scope: dict[str, Any] = {"dj": dj}
    loaded = []
    for db, alias in getattr(options, "schemas", None) or []:
        require_schema(db)  # a missing one is named with the connection, not created
        scope[alias] = dj.VirtualModule(alias, db)
        loaded.append(f"  {alias} -> {db}")
    banner = f"DataJoint {dj.__version__} REPL"
    if loaded:
        banner += "\nLoaded schemas:\n" + "\n".join(loaded)
    code.interact(banner=banner, local=scope)
    return 0


def _configure(parser: argparse.ArgumentParser) -> None:
    add_connection_options(parser, default=argparse.SUPPRESS)
    add_schema_option(parser, default=argparse.SUPPRESS)


def register(cli: CommandRegistrar) -> None:
    """Add ``dj shell`` (what ``dj`` without a sub-command runs too)."""
    cli.add_command(
        "shell",
        "start the interactive console (what `dj` alone does)",
        _configure,
        guarded("shell", start),
    )
