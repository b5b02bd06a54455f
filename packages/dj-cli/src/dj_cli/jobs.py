"""``dj jobs SCHEMA``: the state of every jobs table of a schema, one row per populated table."""

from __future__ import annotations

import argparse

from .catalog import class_name_and_tier
from .common import add_connection_options, format_table, guarded, require_schema
from .hookspecs import CommandRegistrar

STATUSES = ("pending", "reserved", "error", "ignore", "success")


def _run(args: argparse.Namespace) -> int:
    schema = require_schema(args.schema)
    rows = []
    for job in schema.jobs:
        counts = job.progress()
        name, _tier = class_name_and_tier(job.target.table_name)
        rows.append((name, *(counts[s] for s in STATUSES), counts["total"]))
    if not rows:
        print(
            f"Schema `{args.schema}` has no jobs tables (they are created by "
            "populate(reserve_jobs=True) or Table.jobs)."
        )
        return 0
    print(format_table(("table", *STATUSES, "total"), rows))
    return 0


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schema", metavar="SCHEMA", help="the schema (database) name")
    add_connection_options(parser, default=argparse.SUPPRESS)


def register(cli: CommandRegistrar) -> None:
    """Add ``dj jobs``."""
    cli.add_command(
        "jobs",
        "count the pending, reserved, error, ignore and success jobs of each table of a schema",
        _configure,
        guarded("jobs", _run),
    )
