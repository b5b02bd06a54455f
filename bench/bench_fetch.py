"""Fetch through DataJoint beside the raw driver, per backend: time and peak memory.

Not a test: run ``.venv/bin/python bench/bench_fetch.py [--rows 100000,1000000] [--backends a,b]``.
For each size, a table of 4 numeric columns (``id`` int64 key, ``a`` int64, ``b``/``c`` float64)
is read with

* ``to_dicts()``  beside a dict-row cursor: ``cursor(as_dict=True).fetchall()``;
* ``to_arrays()`` beside a cursor fetch into numpy: ``np.fromiter(cursor.fetchall(), dtype)``;
* ``to_pandas()`` beside a DataFrame from the cursor: ``pd.DataFrame(fetchall(), columns)``
  indexed by ``id`` like ``to_pandas``;

and, for the largest size, the peak traced memory (tracemalloc) of ``to_arrays()`` and of the raw
fetch, as multiples of the resulting array's size. Prints JSON: seconds (best of ``--repeat``) and
ratios DataJoint / raw driver, all measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema

DEFINITION = """
id : int64
---
a : int64
b : float64
c : float64
"""
NAMES = ["id", "a", "b", "c"]
DTYPE = np.dtype([("id", "i8"), ("a", "i8"), ("b", "f8"), ("c", "f8")])
INSERT_CHUNK = 50_000


def best_pair(repeat: int, ours: Callable[[], object], raw: Callable[[], object]) -> tuple:
    """Best seconds of ``ours`` and of ``raw``, run alternately so that load drifts hit both."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, out in ((raw, times[1]), (ours, times[0])):
            gc.collect()
            start = time.perf_counter()
            result = run()
            out.append(time.perf_counter() - start)
            del result
    return min(times[0]), min(times[1])


def peak_memory(run: Callable[[], Any]) -> tuple[int, Any]:
    """Peak traced bytes while ``run`` executes, and its result."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, result


def fill(table: Any, n_rows: int) -> None:
    for start in range(0, n_rows, INSERT_CHUNK):
        table.insert(
            {"id": i, "a": i * 7, "b": i / 3.0, "c": i * 0.25}
            for i in range(start, min(n_rows, start + INSERT_CHUNK))
        )


def raw_cursor(conn: Any, sql: str, as_dict: bool = False) -> Any:
    cursor = conn.backend.driver.cursor(conn._raw, as_dict=as_dict)
    cursor.execute(sql)
    return cursor


def raw_readers(conn: Any, table_sql: str) -> dict[str, Callable[[], Any]]:
    """The raw driver's way to produce each result."""
    columns = ", ".join(conn.dialect.quote(n) for n in NAMES)
    sql = f"SELECT {columns} FROM {table_sql}"

    def dicts() -> list:
        cursor = raw_cursor(conn, sql, as_dict=True)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def arrays() -> np.ndarray:
        cursor = raw_cursor(conn, sql)
        rows = cursor.fetchall()
        cursor.close()
        return np.fromiter(rows, DTYPE, len(rows))

    def pandas() -> pd.DataFrame:
        cursor = raw_cursor(conn, sql)
        rows = cursor.fetchall()
        cursor.close()
        return pd.DataFrame(rows, columns=NAMES).set_index("id")

    return {"to_dicts": dicts, "to_arrays": arrays, "to_pandas": pandas}


def compare(dj_time: float, raw_time: float) -> dict[str, float]:
    return {"datajoint_s": dj_time, "raw_s": raw_time, "ratio": dj_time / raw_time}


def bench_size(conn: Any, table: Any, n_rows: int, repeat: int, memory: bool) -> dict:
    fill(table, n_rows)
    assert len(table) == n_rows
    raw = raw_readers(conn, table.full_table_name)
    ours = {"to_dicts": table.to_dicts, "to_arrays": table.to_arrays, "to_pandas": table.to_pandas}
    out: dict[str, Any] = {}
    for name in ("to_dicts", "to_arrays", "to_pandas"):
        out[name] = compare(*best_pair(repeat, ours[name], raw[name]))
    if memory:
        dj_peak, result = peak_memory(table.to_arrays)
        size = result.nbytes
        del result
        raw_peak, result = peak_memory(raw["to_arrays"])
        del result
        out["to_arrays_peak_memory"] = {
            "array_bytes": size,
            "datajoint_peak_bytes": dj_peak,
            "raw_peak_bytes": raw_peak,
            "datajoint_peak_per_array": dj_peak / size,
            "raw_peak_per_array": raw_peak / size,
        }
    return out


def bench_backend(backend: str, sizes: list[int], repeat: int) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    results: dict[str, Any] = {}
    with throwaway_schema(conn, prefix="djbench") as schema:
        for n_rows in sizes:

            class Numbers(dj.Manual):
                definition = DEFINITION

            Numbers.__name__ = f"Numbers{n_rows}"
            schema(Numbers, context={})
            results[str(n_rows)] = bench_size(
                conn, Numbers(), n_rows, repeat, memory=n_rows == max(sizes)
            )
    conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    dj.config["safemode"] = False
    sizes = [int(n) for n in args.rows.split(",")]
    results = {}
    for backend in args.backends.split(","):
        reason = servers.unavailable_reason(backend)
        results[backend] = (
            {"skipped": reason} if reason else bench_backend(backend, sizes, args.repeat)
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
