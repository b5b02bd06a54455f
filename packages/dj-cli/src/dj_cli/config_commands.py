"""``dj config show | template | check``: the settings of SPEC §1.1 from the command line.

``show`` prints the effective settings (secrets masked); ``template`` writes a starter
``datajoint.json`` with ``dj.config.save_template`` (``-`` prints it instead); ``check`` validates
the configuration file and tries to connect, ending with one verdict line and exit status 0 (OK)
or 1 (FAILED).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import datajoint as dj
from datajoint.settings import Config
from datajoint.settings_files import CONFIG_FILENAME, find_config_file

from .common import add_connection_options, connection_label, describe_error, guarded
from .hookspecs import CommandRegistrar

MASK = "********"
#: setting names whose values are credentials (the last part of a dotted key)
SECRET_NAMES = frozenset(
    {"password", "access_key", "secret_key", "account_key", "connection_string", "token"}
)


# ---------------------------------------------------------------- dj config show
def flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings -> dotted keys; empty groups stay visible as ``{}``."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def masked(settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of nested ``settings`` with every credential that is set replaced by a mask."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            out[key] = masked(value)
        elif key in SECRET_NAMES and value not in (None, ""):
            out[key] = MASK
        else:
            out[key] = value
    return out


def config_file_in_use() -> Path | None:
    """The ``datajoint.json`` that ``dj.config`` loaded (None when ignored or not found)."""
    if dj.config.ignore_config_file:
        return None
    return find_config_file()


def _load_problem(path: Path) -> str | None:
    """Why ``path`` cannot be loaded as a configuration (None when it can)."""
    try:
        Config().load(path)
    except (OSError, ValueError) as error:  # pydantic's ValidationError is a ValueError
        return str(error)
    return None


def _show(args: argparse.Namespace) -> int:
    settings = masked(dj.config.model_dump(mode="json"))
    if args.json:
        print(json.dumps(settings, indent=2))
        return 0
    found = config_file_in_use()
    if found is not None:
        problem = _load_problem(found)
        print(f"# configuration file: {found}" + (f" (not loaded: {problem})" if problem else ""))
    elif dj.config.ignore_config_file:
        print("# configuration file: ignored (ignore_config_file / DJ_IGNORE_CONFIG_FILE)")
    else:
        print(f"# configuration file: no {CONFIG_FILENAME} found; defaults and environment")
    print(f"# backend in use: {dj.config.resolved_backend()}")
    for key, value in flatten(settings).items():
        print(f"{key} = {json.dumps(value)}")
    return 0


# ---------------------------------------------------------------- dj config template
@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Hold back the INFO lines of ``logger_name`` for the duration of a ``with`` block."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _template(args: argparse.Namespace) -> int:
    minimal = not args.full
    if args.path == "-":
        # written to a scratch folder and printed: the same text save_template writes
        with tempfile.TemporaryDirectory() as folder, _quiet("datajoint.settings"):
            written = Config.save_template(
                Path(folder) / CONFIG_FILENAME, minimal=minimal, create_secrets_dir=False
            )
            sys.stdout.write(written.read_text(encoding="utf-8"))
        return 0
    try:
        with _quiet("datajoint.settings"):  # its log line would repeat ours
            written = Config.save_template(
                args.path, minimal=minimal, create_secrets_dir=not args.no_secrets
            )
    except FileExistsError as error:
        print(f"dj config template: error: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {written}")
    if not args.no_secrets:
        secrets = written.parent / ".secrets"
        print(f"Put the database user and password in {secrets}{os.sep} (kept out of git).")
    return 0


# ---------------------------------------------------------------- dj config check
class _Report:
    """Lines of a check, printed as they come, and whether any of them is a failure."""

    def __init__(self) -> None:
        self.failures = 0

    def ok(self, message: str) -> None:
        print(f"ok: {message}")

    def warn(self, message: str) -> None:
        print(f"warning: {message}")

    def fail(self, message: str) -> None:
        self.failures += 1
        print(f"error: {message}")


def _unknown_keys(data: dict[str, Any]) -> list[str]:
    """Keys of a config file that name no setting: the loader ignores them, usually a typo."""
    fields = Config.model_fields
    unknown = []
    for key, value in data.items():
        head, _, rest = key.partition(".")
        if head not in fields:
            unknown.append(key)
            continue
        group_fields = getattr(fields[head].annotation, "model_fields", None)
        if group_fields is None:  # a top-level value, or the free-form stores
            continue
        names = [rest] if rest else list(value) if isinstance(value, dict) else []
        unknown += [
            f"{head}.{name}" for name in names if name.partition(".")[0] not in group_fields
        ]
    return unknown


def _check_file(path: Path, report: _Report) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        report.fail(f"{path} cannot be read as JSON: {error}")
        return
    if not isinstance(data, dict):
        report.fail(f"{path} must hold a JSON object, not {type(data).__name__}")
        return
    for key in _unknown_keys(data):
        report.warn(f"{path}: '{key}' names no setting and is ignored (a misspelt key?)")
    problem = _load_problem(path)
    if problem:
        report.fail(f"{path} has invalid values: {problem}")
        return
    report.ok(f"{path} is valid")


def _check_stores(report: _Report) -> None:
    for name in dj.config.stores:
        if name in ("default", "filepath_default"):
            continue
        try:
            dj.config.get_store_spec(name)
        except dj.DataJointError as error:
            report.fail(f"store '{name}': {error}")
        else:
            report.ok(f"store '{name}' is configured")


def _check_connection(report: _Report) -> None:
    backend = dj.config.resolved_backend()
    if backend == "sqlite":
        path = Path(dj.config["database.sqlite_file"]).expanduser().resolve()
        if not path.exists():
            report.ok(f"backend sqlite: {path} does not exist yet; it is created on first use")
            return
    try:
        report.ok(f"connected ({backend}): {connection_label()}")
    except Exception as error:
        report.fail(f"cannot connect ({backend}): {describe_error(error)}")


def _check(args: argparse.Namespace) -> int:
    report = _Report()
    path = config_file_in_use()
    if path is None:
        where = "ignored" if dj.config.ignore_config_file else f"no {CONFIG_FILENAME} found"
        report.ok(f"configuration file: {where}; using defaults and environment variables")
    else:
        _check_file(path, report)
    _check_stores(report)
    if not args.no_connect and not report.failures:
        _check_connection(report)
    if report.failures:
        print(f"FAILED: {report.failures} problem(s) in the DataJoint configuration")
        return 1
    print("OK: the DataJoint configuration is valid" + ("" if args.no_connect else " and connects"))
    return 0


# ---------------------------------------------------------------- dj config
def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the settings in effect (secrets masked)")
    show.add_argument("--json", action="store_true", help="print them as nested JSON")
    add_connection_options(show, default=argparse.SUPPRESS)
    template = actions.add_parser("template", help="write a starter datajoint.json")
    template.add_argument(
        "path", nargs="?", default=CONFIG_FILENAME, help="where to write it ('-': print it)"
    )
    template.add_argument("--full", action="store_true", help="every setting, not the minimum")
    template.add_argument(
        "--no-secrets", action="store_true", help="do not create .secrets/ beside the file"
    )
    check = actions.add_parser("check", help="validate the configuration file and try to connect")
    check.add_argument("--no-connect", action="store_true", help="do not try to connect")
    add_connection_options(check, default=argparse.SUPPRESS)


def _run(args: argparse.Namespace) -> int:
    actions = {"show": _show, "template": _template, "check": _check}
    return actions[args.config_action](args)


def register(cli: CommandRegistrar) -> None:
    """Add ``dj config``."""
    cli.add_command(
        "config",
        "show the settings, write a template, or check the configuration",
        _configure,
        guarded("config", _run),
    )
