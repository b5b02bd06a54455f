"""Opening and declaring schemas: catalog round trips, per backend, optionally beside another
interpreter's ``datajoint`` in the same run.

Not a test: run ``.venv/bin/python bench/bench_catalog.py [--backends a,b] [--repeat N]
[--rounds N] [--tables N] [--compare PYTHON]``.

* ``declare``: declaring ``--tables`` tables (default 20; every third one starts a new chain of
  foreign keys) into an empty schema.
* ``virtual_schema``: ``dj.virtual_schema`` of that schema on a fresh connection.
* ``open_and_read_headings``: the same, then reading the heading of every table.

``--compare PYTHON`` runs the same scenarios under ``PYTHON`` (for example DataJoint 2.3.5 in a
throwaway venv: ``python3 -m venv /tmp/dj235 && /tmp/dj235/bin/pip install
"datajoint[postgres]==2.3.5" pymysql psycopg``) in a subprocess after each of this
interpreter's ``--rounds`` rounds, so a machine that other work keeps busy slows both alike, and
reports both with the ratio this / other. The scenario code uses only API both implementations
share; ``attributes`` (the number of attributes the headings read) shows that both read the
same catalog.

Prints JSON: the median seconds of ``--rounds`` x ``--repeat`` runs of each scenario.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness import per_backend, times_of

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


def scenarios(params: dict[str, Any], repeat: int, count: int) -> dict[str, Any]:
    """Seconds of each of ``repeat`` runs of each scenario on the server ``params`` names, and
    the number of attributes the headings read (the same on both implementations)."""
    prefix = f"djbench_catalog_{os.getpid()}"
    conn = connect(params)
    pending: list[Any] = []

    def fresh_schema() -> None:
        for schema in pending:
            schema.drop(prompt=False)
        pending[:] = [dj.Schema(f"{prefix}_{next(_names)}", connection=conn)]

    try:
        declare = times_of(repeat, lambda: declare_all(pending[0], count), setup=fresh_schema)
        name = pending[0].database
        opened: list[Any] = []
        attributes: list[int] = []

        def new_connection() -> None:
            for old in opened:
                old.close()
            opened[:] = [connect(params)]

        virtual = times_of(
            repeat, lambda: dj.virtual_schema(name, connection=opened[0]), setup=new_connection
        )
        read = times_of(
            repeat,
            lambda: attributes.append(read_headings(dj.virtual_schema(name, connection=opened[0]))),
            setup=new_connection,
        )
        for old in opened:
            old.close()
    finally:
        for schema in pending:
            schema.drop(prompt=False)
        conn.close()
    return {
        "declare": declare,
        "virtual_schema": virtual,
        "open_and_read_headings": read,
        "attributes": attributes[-1],
    }


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
    parser.add_argument("--rounds", type=int, default=3)
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
            ours: dict[str, list[float]] = {k: [] for k in SCENARIOS}
            theirs: dict[str, list[float]] = {k: [] for k in SCENARIOS}
            out: dict[str, Any] = {}
            for _ in range(args.rounds):  # alternating: a busy machine slows both alike
                mine = scenarios(params, args.repeat, args.tables)
                out["attributes"] = {"this": mine["attributes"]}
                for k in SCENARIOS:
                    ours[k] += mine[k]
                if args.compare and backend == "sqlite":
                    out["other_skipped"] = "the compared datajoint needs a server"
                elif args.compare and "other_failed" not in out:
                    other = _other(args.compare, params, args.repeat, args.tables)
                    if "failed" in other:
                        out["other_failed"] = other["failed"]
                        continue
                    out["attributes"]["other"] = other["attributes"]
                    for k in SCENARIOS:
                        theirs[k] += other[k]
            out["this"] = {k: statistics.median(v) for k, v in ours.items()}
            if args.compare and backend != "sqlite" and "other_failed" not in out:
                out["other"] = {k: statistics.median(v) for k, v in theirs.items()}
                out["ratio"] = {k: out["this"][k] / out["other"][k] for k in SCENARIOS}
            return out

        print(json.dumps(per_backend(args.backends, bench), indent=2))


if __name__ == "__main__":
    main()
