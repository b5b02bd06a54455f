"""``dj schemas``, ``dj tables SCHEMA`` and ``dj describe SCHEMA.Table``: what is on the server."""

from __future__ import annotations

import argparse

import datajoint as dj
from datajoint.naming import to_camel_case, to_snake_case

from .common import add_connection_options, format_table, guarded, require_schema
from .hookspecs import CommandRegistrar

#: table-name prefix -> tier (SPEC §3.1); checked longest first
TIER_PREFIXES = (("__", "Computed"), ("_", "Imported"), ("#", "Lookup"), ("", "Manual"))


def class_name_and_tier(table_name: str) -> tuple[str, str]:
    """``#kind`` -> (``Kind``, Lookup); ``session__trial`` -> (``Session.Trial``, Part)."""
    prefix, tier = next((p, t) for p, t in TIER_PREFIXES if table_name.startswith(p))
    master, sep, part = table_name[len(prefix) :].partition("__")
    if sep:
        return f"{to_camel_case(master)}.{to_camel_case(part)}", "Part"
    return to_camel_case(master), tier


def _schemas(args: argparse.Namespace) -> int:
    for name in dj.list_schemas():
        print(name)
    return 0


def _tables(args: argparse.Namespace) -> int:
    schema = require_schema(args.schema)
    rows = []
    for table_name in schema.list_tables():
        class_name, tier = class_name_and_tier(table_name)
        count = len(dj.FreeTable(schema.connection, f"{schema.database}.{table_name}"))
        rows.append((class_name, tier, count))
    if not rows:
        print(f"Schema `{args.schema}` has no tables.")
        return 0
    print(format_table(("table", "tier", "rows"), rows))
    return 0


def _describe(args: argparse.Namespace) -> int:
    schema_name, sep, table = args.table.partition(".")
    if not sep or not table:
        raise dj.DataJointError(
            f"Invalid table {args.table!r}. Use SCHEMA.Table, e.g. lab.Session or lab.Session.Trial"
        )
    schema = require_schema(schema_name)
    # a part table is Master.Part as a class and master__part as a table
    table_name = "__".join(to_snake_case(p) if p[:1].isupper() else p for p in table.split("."))
    print(schema.get_table(table_name).describe().rstrip("\n"))
    return 0


def _configure_schemas(parser: argparse.ArgumentParser) -> None:
    add_connection_options(parser, default=argparse.SUPPRESS)


def _configure_tables(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schema", metavar="SCHEMA", help="the schema (database) name")
    add_connection_options(parser, default=argparse.SUPPRESS)


def _configure_describe(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "table",
        metavar="SCHEMA.Table",
        help="the table: class name (Session, Session.Trial) or table name (#kind)",
    )
    add_connection_options(parser, default=argparse.SUPPRESS)


def register(cli: CommandRegistrar) -> None:
    """Add ``dj schemas``, ``dj tables`` and ``dj describe``."""
    cli.add_command(
        "schemas",
        "list the schemas on the server",
        _configure_schemas,
        guarded("schemas", _schemas),
    )
    cli.add_command(
        "tables",
        "list the tables of a schema with their tier and number of rows",
        _configure_tables,
        guarded("tables", _tables),
    )
    cli.add_command(
        "describe",
        "print the definition of a table",
        _configure_describe,
        guarded("describe", _describe),
    )
