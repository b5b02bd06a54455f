"""``dj diagram SCHEMA[,SCHEMA...] [-o FILE]``: draw the tables of schemas and their foreign keys.

A thin layer over ``dj.Diagram``: the format comes from the file's extension (``.svg``, ``.png``,
``.mmd``/``.mermaid``, ``.dot``) as in ``Diagram.save``, or from ``--format``; without ``-o`` the
Mermaid text is printed.
"""

from __future__ import annotations

import argparse
from functools import reduce

import datajoint as dj

from .common import add_connection_options, guarded, require_schema
from .hookspecs import CommandRegistrar


def _run(args: argparse.Namespace) -> int:
    names = [name.strip() for name in args.schemas.split(",") if name.strip()]
    if not names:
        raise dj.DataJointError("Name at least one schema, e.g. dj diagram lab or lab,analysis")
    if args.direction:
        dj.config["display.diagram_direction"] = args.direction
    if args.theme:
        dj.config["display.diagram_theme"] = args.theme
    diagrams = [dj.Diagram(require_schema(name)) for name in names]
    diagram = reduce(lambda a, b: a + b, diagrams)
    if args.output is None:
        print(diagram.make_mermaid().rstrip("\n"))
        return 0
    diagram.save(args.output, format=args.format)
    print(f"Wrote {args.output}")
    return 0


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "schemas", metavar="SCHEMA[,SCHEMA...]", help="the schemas to draw, comma-separated"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write FILE (.svg, .png, .mmd, .mermaid or .dot); default: print Mermaid text",
    )
    parser.add_argument(
        "--format",
        choices=("svg", "png", "mermaid", "dot"),
        help="the format of FILE when its extension does not say",
    )
    parser.add_argument("--direction", choices=("LR", "TB"), help="left to right or top to bottom")
    parser.add_argument("--theme", choices=("light", "dark", "auto"), help="colour theme")
    add_connection_options(parser, default=argparse.SUPPRESS)


def register(cli: CommandRegistrar) -> None:
    """Add ``dj diagram``."""
    cli.add_command(
        "diagram",
        "draw the tables of one or more schemas (SVG, PNG, Mermaid)",
        _configure,
        guarded("diagram", _run),
    )
