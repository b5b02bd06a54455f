"""Per-key reads, as a make() does them, beside the raw driver, per backend.

Not a test: run ``.venv/bin/python bench/bench_key_fetch.py [--backends a,b] [--keys N]``.
A table of 6 columns (``id`` int32 key, ``a`` int64, ``b`` float64, ``c`` varchar, ``d``/``e``
float64) of 2,000 rows is read one key at a time:

* ``fetch1_attr``: ``(T & key).fetch1("b")`` beside ``SELECT b FROM t WHERE id = ?``;
* ``fetch1_row``: ``(T & key).fetch1()`` beside ``SELECT * FROM t WHERE id = ?`` as a dict.

Prints JSON: microseconds per key (median of ``--repeat`` passes over ``--keys`` keys, the two
sides alternating) and the ratio DataJoint / raw driver, measured in the same run.
``--clock cpu`` counts this process's CPU time instead of wall time: on a machine other work keeps
busy it shows the Python overhead steadily (on SQLite it is all the work; on a server backend it
leaves out the server's share and the round trip).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema

DEFINITION = """
id : int32
---
a : int64
b : float64
c : varchar(32)
d : float64
e : float64
"""
ROWS = 2000


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def per_key(
    repeat: int, keys: list[dict], dj_run: Callable, raw_run: Callable, clock: Callable[[], float]
) -> dict:
    """Median microseconds per key of each side, the sides alternating."""
    dj_times, raw_times = [], []
    for _ in range(repeat):
        for run, times in ((dj_run, dj_times), (raw_run, raw_times)):
            start = clock()
            for key in keys:
                run(key)
            times.append((clock() - start) / len(keys) * 1e6)
    dj_us, raw_us = statistics.median(dj_times), statistics.median(raw_times)
    return {"datajoint_us": dj_us, "raw_us": raw_us, "ratio": dj_us / raw_us}


def raw_reader(conn: Any, sql: str, as_dict: bool) -> Callable[[dict], Any]:
    """One row by key through the driver's own cursor (no DataJoint in the path)."""
    driver, raw = conn.backend.driver, conn._raw

    def read(key: dict) -> Any:
        cursor = driver.cursor(raw, as_dict=as_dict)
        cursor.execute(sql, [key["id"]])
        row = cursor.fetchone()
        cursor.close()
        return row

    return read


def bench_backend(backend: str, n_keys: int, repeat: int, clock: Callable[[], float]) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    try:
        with throwaway_schema(conn, prefix="djbench") as schema:

            class Reading(dj.Manual):
                definition = DEFINITION

            schema(Reading, context={})
            Reading.insert(
                {"id": i, "a": i * 7, "b": i / 3, "c": f"r{i}", "d": i / 7, "e": i / 9}
                for i in range(ROWS)
            )
            keys = [{"id": i} for i in range(0, ROWS, max(1, ROWS // n_keys))][:n_keys]
            table, p = Reading.full_table_name, conn.dialect.placeholder
            return {
                "fetch1_attr": per_key(
                    repeat,
                    keys,
                    lambda key: (Reading & key).fetch1("b"),
                    raw_reader(conn, f"SELECT b FROM {table} WHERE id = {p}", as_dict=False),
                    clock,
                ),
                "fetch1_row": per_key(
                    repeat,
                    keys,
                    lambda key: (Reading & key).fetch1(),
                    raw_reader(conn, f"SELECT * FROM {table} WHERE id = {p}", as_dict=True),
                    clock,
                ),
            }
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    results = {}
    for backend in args.backends.split(","):
        reason = servers.unavailable_reason(backend)
        results[backend] = (
            {"skipped": reason} if reason else bench_backend(backend, args.keys, args.repeat, clock)
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
