"""``dj gc SCHEMA...``: report, and with ``--delete`` remove, the orphaned objects of a store.

A thin layer over ``dj.gc.GarbageCollector`` (SPEC §4.7): a dry run unless ``--delete`` is given,
and objects younger than the grace period (``--grace``, default one hour) are never deleted.
"""

from __future__ import annotations

import argparse

import datajoint as dj

from .common import add_connection_options, guarded, require_schema
from .hookspecs import CommandRegistrar


def _run(args: argparse.Namespace) -> int:
    schemas = [require_schema(name) for name in args.schema]
    options = {} if args.grace is None else {"grace_period": args.grace}
    collector = dj.gc.GarbageCollector(*schemas, store=args.store, **options)
    report = collector.collect(dry_run=not args.delete, verbose=args.verbose)
    print(dj.gc.format_report(report))
    return 1 if report["errors"] else 0


def _grace(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"the grace period must not be negative: {text}")
    return seconds


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "schema", metavar="SCHEMA", nargs="+", help="the schemas whose rows refer to the store"
    )
    parser.add_argument(
        "--store", default=None, help="the store to collect (default: stores.default)"
    )
    parser.add_argument(
        "--delete",
        action="store_true",
        help="delete the orphaned objects (without it: a dry run that only reports them)",
    )
    parser.add_argument(
        "--grace",
        type=_grace,
        default=None,
        metavar="SECONDS",
        help="never delete objects modified within this many seconds (default 3600)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log each table scanned and object deleted"
    )
    add_connection_options(parser, default=argparse.SUPPRESS)


def register(cli: CommandRegistrar) -> None:
    """Add ``dj gc``."""
    cli.add_command(
        "gc",
        "report the objects of a store that no row refers to; --delete removes them",
        _configure,
        guarded("gc", _run),
    )
