"""What the built-in sub-commands share: connection options, error reporting, text tables."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import datajoint as dj

Run = Callable[[argparse.Namespace], int]


def schema_entry(text: str) -> tuple[str, str]:
    """``DB:ALIAS`` -> (db, alias), split at the first ``:`` (an argparse ``type``)."""
    db, sep, alias = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"Invalid schema format '{text}'. Use schema_name:alias")
    return db, alias


def add_connection_options(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    """``-u``, ``-p`` and ``--host``. A sub-command's parser passes ``argparse.SUPPRESS`` so that
    an option it is not given keeps the value given before the sub-command name."""
    parser.add_argument("-u", "--user", default=default, help="database user")
    parser.add_argument("-p", "--password", default=default, help="database password")
    parser.add_argument(
        "--host", default=default, metavar="HOST[:PORT]", help="database host, HOST[:PORT]"
    )


def apply_connection_options(options: argparse.Namespace) -> None:
    """Write the given ``-u``/``-p``/``--host`` values into ``dj.config`` (SPEC §11)."""
    for key, attr in (
        ("database.user", "user"),
        ("database.password", "password"),
        ("database.host", "host"),
    ):
        value = getattr(options, attr, None)
        if value is not None:
            dj.config[key] = value


def guarded(command: str, run: Run) -> Run:
    """``run`` with failures reported as one ``dj <command>: error: ...`` line and status 1.

    A command-line user needs the reason (no such schema, cannot connect), not a traceback.
    """

    def guarded_run(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except Exception as error:
            print(f"dj {command}: error: {describe_error(error)}", file=sys.stderr)
            return 1

    return guarded_run


def describe_error(error: BaseException) -> str:
    """The message of a DataJoint error; other errors (a driver's) also name their class."""
    if isinstance(error, dj.DataJointError):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def require_schema(name: str) -> dj.Schema:
    """The existing schema ``name`` on the configured connection (never creates one)."""
    if name not in dj.list_schemas():
        raise dj.DataJointError(
            f"Schema `{name}` does not exist on {connection_label()}. "
            "Run `dj schemas` to list the schemas."
        )
    return dj.Schema(name, create_schema=False, create_tables=False)


def connection_label() -> str:
    """``user@host:port`` (or the SQLite file) of the configured connection."""
    return repr(dj.conn()).removeprefix("DataJoint connection (connected) ")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: numbers right-aligned, everything else left-aligned."""
    cells = [[str(h) for h in headers], *([str(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        bool(rows) and all(isinstance(row[i], int) for row in rows) for i in range(len(headers))
    ]
    lines = []
    for row in cells:
        parts = [
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
