"""Opening and declaring schemas: catalog round trips, per backend, optionally beside another
interpreter's ``datajoint`` in the same run.

Not a test: run ``.venv/bin/python bench/bench_catalog.py [--backends a,b] [--repeat N]
[--tables N] [--compare PYTHON]``.

* ``declare``: declaring ``--tables`` tables (default 20; every third one starts a new chain of
  foreign keys) into an empty schema.
* ``virtual_schema``: ``dj.virtual_schema`` of that schema on a fresh connection.
* ``open_and_read_headings``: the same, then reading the heading of every table.

``--compare PYTHON`` runs the same scenarios under ``PYTHON`` (for example DataJoint 2.3.5 in a
throwaway venv: ``python3 -m venv /tmp/dj235 && /tmp/dj235/bin/pip install datajoint==2.3.5
pymysql psycopg2-binary``) in a subprocess, between this interpreter's runs, and reports both
with the ratio this / other. The scenario code uses only API both implementations share.

Prints JSON: seconds, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness import best_of, per_backend

import datajoint as dj

SCENARIOS = ("declare", "virtual_schema", "open_and_read_headings")
_names = itertools.count()


def connect(params: dict[str, Any]) -> Any:
    """A new connection from plain parameters (the same call on both implementations)."""
    return dj.Connection(
        params["host"],
        params["user"],
        params["password"],
        params["port"],
        use_tls=False,
        backend=params["backend"],
        database_name=params["database_name"],
    )


def table_classes(count: int) -> dict[str, type]:
    """``count`` Manual classes: chains of three, each table referencing the one before."""
    classes: dict[str, type] = {}
    parent = None
    for i in range(count):
        key = f"k{i} : int32" if parent is None else f"-> {parent}\nk{i} : int32"
        definition = (
            f"# table {i}\n{key}\n---\nname{i} : varchar(40) # a name\nx{i}=null : float64\n"
        )
        classes[f"T{i}"] = type(f"T{i}", (dj.Manual,), {"definition": definition})
        parent = None if i % 3 == 2 else f"T{i}"
    return classes


def declare_all(schema: Any, count: int) -> None:
    context: dict[str, Any] = {}
    for name, cls in table_classes(count).items():
        context[name] = cls
        schema(cls, context=context)


def read_headings(module: Any) -> int:
    """Read the heading of every table class of a virtual module; the number of attributes."""
    total = 0
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, dj.Table):
            total += len(value.heading.primary_key) + len(value.heading.attributes)
    return total


def scenarios(params: dict[str, Any], repeat: int, count: int) -> dict[str, float]:
    """Seconds (best of ``repeat``) of each scenario on the server ``params`` names."""
    prefix = f"djbench_catalog_{os.getpid()}"
    conn = connect(params)
    pending: list[Any] = []

    def fresh_schema() -> None:
        for schema in pending:
            schema.drop(prompt=False)
        pending[:] = [dj.Schema(f"{prefix}_{next(_names)}", connection=conn)]

    try:
        declare = best_of(repeat, lambda: declare_all(pending[0], count), setup=fresh_schema)
        name = pending[0].database
        opened: list[Any] = []

        def new_connection() -> None:
            for old in opened:
                old.close()
            opened[:] = [connect(params)]

        virtual = best_of(
            repeat, lambda: dj.virtual_schema(name, connection=opened[0]), setup=new_connection
        )
        read = best_of(
            repeat,
            lambda: read_headings(dj.virtual_schema(name, connection=opened[0])),
            setup=new_connection,
        )
        for old in opened:
            old.close()
    finally:
        for schema in pending:
            schema.drop(prompt=False)
        conn.close()
    return {"declare": declare, "virtual_schema": virtual, "open_and_read_headings": read}


def _params(backend: str, sqlite_file: str) -> dict[str, Any]:
    if backend == "sqlite":
        return {
            "backend": "sqlite",
            "host": None,
            "user": None,
            "password": None,
            "port": None,
            "database_name": sqlite_file,
        }
    from datajoint.testing import servers

    p = servers.connect_params(backend)
    return {
        "backend": backend,
        "host": p.host,
        "user": p.user,
        "password": p.password,
        "port": p.port,
        "database_name": p.database_name,
    }


def _other(python: str, params: dict[str, Any], repeat: int, count: int) -> dict[str, Any]:
    """The scenarios under another interpreter (this file in ``--worker`` mode)."""
    command = [python, __file__, "--worker", json.dumps(params)]
    command += ["--repeat", str(repeat), "--tables", str(count)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        return {"failed": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,mysql,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--compare", metavar="PYTHON", help="another interpreter to compare")
    parser.add_argument("--worker", metavar="PARAMS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    dj.config["safemode"] = False
    if args.worker:  # inside --compare's subprocess: one backend, JSON out
        print(json.dumps(scenarios(json.loads(args.worker), args.repeat, args.tables)))
        return
    os.environ.setdefault("DJ_IGNORE_CONFIG_FILE", "true")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_file = str(Path(folder) / "bench.sqlite3")

        def bench(backend: str) -> dict[str, Any]:
            params = _params(backend, sqlite_file)
            ours = scenarios(params, args.repeat, args.tables)
            out: dict[str, Any] = {"this": ours}
            if args.compare:
                other = _other(args.compare, params, args.repeat, args.tables)
                again = scenarios(params, args.repeat, args.tables)  # a busy machine slows both
                ours = {k: min(v, again[k]) for k, v in ours.items()}
                out = {"this": ours, "other": other}
                if "failed" not in other:
                    out["ratio"] = {k: ours[k] / other[k] for k in SCENARIOS}
            return out

        print(json.dumps(per_backend(args.backends, bench), indent=2))


if __name__ == "__main__":
    main()
