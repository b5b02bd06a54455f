"""Insert and fetch of 100k rows through DataJoint beside the raw driver's best path, per backend.

Not a test: run ``.venv/bin/python bench/bench_insert_fetch.py [--rows N] [--backends a,b]``.
Prints JSON with seconds (best of ``--repeat``) and ratios DataJoint / raw driver, all measured in
the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness import best_of, per_backend, raw_rows

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema

DEFINITION = """
id : int32
---
a : int64
b : float64
c : varchar(32)
"""


def raw_insert(conn, table: str, rows: list[tuple]) -> Callable[[], None]:
    """The driver's fastest bulk path for these rows."""
    raw, backend = conn._raw, conn.backend.name
    columns = "(id, a, b, c)"
    if backend == "postgresql":

        def run() -> None:
            with raw.cursor() as cur, cur.copy(f"COPY {table} {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

        return run
    if backend == "sqlite":

        def run() -> None:
            raw.execute("BEGIN")
            raw.executemany(f"INSERT INTO {table} {columns} VALUES (?, ?, ?, ?)", rows)
            raw.execute("COMMIT")

        return run

    def run() -> None:  # mysql: multi-row INSERT, pymysql batches executemany into one statement
        with raw.cursor() as cur:
            cur.execute("START TRANSACTION")
            for start in range(0, len(rows), 10_000):
                cur.executemany(
                    f"INSERT INTO {table} {columns} VALUES (%s, %s, %s, %s)",
                    rows[start : start + 10_000],
                )
            cur.execute("COMMIT")

    return run


def bench_backend(backend: str, n_rows: int, repeat: int) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    rows = [(i, i * 7, i / 3.0, f"name {i}") for i in range(n_rows)]
    dicts = [{"id": i, "a": a, "b": b, "c": c} for i, a, b, c in rows]
    with throwaway_schema(conn, prefix="djbench") as schema:

        class Dj(dj.Manual):
            definition = DEFINITION

        class Raw(dj.Manual):
            definition = DEFINITION

        schema(Dj, context={})
        schema(Raw, context={})
        raw_name = conn.dialect.full_table_name(schema.database, Raw().table_name)
        dj_name = conn.dialect.full_table_name(schema.database, Dj().table_name)
        dj_insert = best_of(
            repeat, lambda: Dj.insert(dicts), setup=lambda: conn.query(f"DELETE FROM {dj_name}")
        )
        raw_time = best_of(
            repeat,
            raw_insert(conn, raw_name, rows),
            setup=lambda: conn.query(f"DELETE FROM {raw_name}"),
        )
        assert len(Dj) == len(Raw) == n_rows
        dj_fetch = best_of(repeat, Dj.to_dicts)
        select = f"SELECT id, a, b, c FROM {raw_name}"
        raw_fetch_time = best_of(repeat, lambda: raw_rows(conn, select, as_dict=True))
    conn.close()
    return {
        "rows": n_rows,
        "insert_s": {"datajoint": dj_insert, "raw": raw_time, "ratio": dj_insert / raw_time},
        "to_dicts_s": {
            "datajoint": dj_fetch,
            "raw": raw_fetch_time,
            "ratio": dj_fetch / raw_fetch_time,
        },
        "raw_insert_path": {
            "sqlite": "executemany in one transaction",
            "mysql": "multi-row INSERT (pymysql executemany batching)",
            "postgresql": "COPY FROM STDIN",
        }[backend],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    dj.config["safemode"] = False
    results = per_backend(
        args.backends, lambda backend: bench_backend(backend, args.rows, args.repeat)
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
