"""``dj populate MODULE:TableClass``: a populate worker for SLURM, Kubernetes or systemd jobs.

Run any number of these against one database server with ``--reserve-jobs``: the table's jobs
table hands each key to exactly one worker. The command prints one summary line (keys made, errors,
keys remaining) and exits with status 1 when any make failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from datajoint import AutoPopulate

from .hookspecs import CommandRegistrar


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="MODULE:TableClass",
        help="the importable module (the current directory is searched too) and the Computed "
        "or Imported class in it",
    )
    parser.add_argument(
        "--reserve-jobs",
        action="store_true",
        help="take keys from the jobs table, reserving each one (for several workers)",
    )
    parser.add_argument(
        "--processes", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )
    parser.add_argument(
        "--max-calls", type=int, default=None, metavar="N", help="make at most N keys"
    )
    parser.add_argument(
        "--restriction",
        default=None,
        metavar="JSON",
        help="a JSON object (or list of objects) restricting the keys, e.g. '{\"subject\": 3}'",
    )
    parser.add_argument(
        "--suppress-errors",
        action="store_true",
        help="record failed makes and continue instead of stopping at the first",
    )


def load_table(target: str) -> Any:
    """The table class named by ``MODULE:TableClass`` (``TableClass`` may be dotted)."""
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(
            f"Invalid target {target!r}. Use MODULE:TableClass, e.g. pipeline:Analysis"
        )
    if os.getcwd() not in sys.path:  # console scripts do not search the working directory
        sys.path.insert(0, os.getcwd())
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"Module {module_name!r} has no table class {attr_path!r}") from None
    if not (isinstance(obj, type) and issubclass(obj, AutoPopulate)):
        raise ValueError(f"{target} is not a Computed or Imported table class")
    return obj


def _restrictions(text: str | None) -> tuple[Any, ...]:
    if text is None:
        return ()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--restriction is not valid JSON: {error}") from None
    if not isinstance(value, dict | list):
        raise ValueError("--restriction must be a JSON object or a list of objects")
    return (value,)


def _run(args: argparse.Namespace) -> int:
    try:
        table = load_table(args.target)
        restrictions = _restrictions(args.restriction)
    except (ValueError, ImportError) as error:
        print(f"dj populate: error: {error}", file=sys.stderr)
        return 2
    name = args.target.partition(":")[2]
    failed: str | None = None
    made, errors = 0, 0
    try:
        result = table.populate(
            *restrictions,
            reserve_jobs=args.reserve_jobs,
            processes=args.processes,
            max_calls=args.max_calls,
            suppress_errors=args.suppress_errors,
        )
        made, errors = result["success_count"], len(result["error_list"])
    except Exception as error:  # a make failed and errors are not suppressed
        failed = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        errors = 1
    remaining, _total = table.progress(*restrictions)
    if failed is not None:
        print(f"dj populate: {name}: stopped by an error: {failed}", file=sys.stderr)
        print(f"{name}: stopped, errors {errors}, remaining {remaining}")
    else:
        print(f"{name}: made {made}, errors {errors}, remaining {remaining}")
    return 1 if errors else 0


def register(cli: CommandRegistrar) -> None:
    """Add ``dj populate`` (called by dj-cli's built-in ``dj_cli_register_commands``)."""
    cli.add_command(
        "populate",
        "populate a Computed/Imported table (MODULE:TableClass); a worker with --reserve-jobs",
        _configure,
        _run,
    )
