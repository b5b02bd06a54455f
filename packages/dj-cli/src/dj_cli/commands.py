"""dj-cli's built-in sub-commands, registered through the same hook as any plugin's.

``dj plugins`` lives here; each other built-in is a module of dj-cli with a ``register(cli)``.
"""

from __future__ import annotations

import argparse
import json

from datajoint import hookimpl

from . import catalog, config_commands, console, diagram, gc, jobs, populate
from .hookspecs import CommandRegistrar


def _configure_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the listing as JSON")


def _run_plugins(args: argparse.Namespace) -> int:
    import datajoint as dj

    listing = dj.plugins()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    for kind, entries in listing.items():
        if kind == "broken":
            continue
        print(f"{kind}:")
        for entry in entries:
            print(f"  {entry['name']:<20} {entry['distribution']} {entry['version']}")
        if not entries:
            print("  (none)")
    if listing["broken"]:
        print("broken:")
        for entry in listing["broken"]:
            print(
                f"  {entry['name']:<20} {entry['distribution']} {entry['version']}: {entry['error']}"
            )
    return 0


@hookimpl
def dj_cli_register_commands(cli: CommandRegistrar) -> None:
    console.register(cli)
    config_commands.register(cli)
    cli.add_command(
        "plugins",
        "list registered backends, codecs, storage protocols and fetch formats",
        _configure_plugins,
        _run_plugins,
    )
    for module in (catalog, diagram, jobs, populate, gc):
        module.register(cli)
