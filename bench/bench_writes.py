"""Writes through DataJoint beside the raw driver's best path, per backend, in the same run.

Not a test: run ``.venv/bin/python bench/bench_writes.py [--backends a,b] [--repeat N]``.

* ``insert_100k``: one ``insert`` of 100,000 rows vs the driver's bulk path (PostgreSQL ``COPY``;
  MySQL multi-row INSERT through pymysql's executemany batching; SQLite executemany in one
  transaction).
* ``insert1_2000``: 2,000 ``insert1`` calls vs 2,000 single-row INSERTs in autocommit.
* ``cascade_delete_all`` / ``cascade_delete_half``: ``delete()`` of a 4-level tree of about 50,000
  rows (all of it, and the half under a range of roots) vs hand-written leaves-first DELETEs in
  one transaction.

Prints JSON: seconds (best of ``--repeat``, the two sides alternating) and ratios DataJoint / raw.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness import timed

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema

FLAT = """
id : int32
---
a : int64
b : float64
c : varchar(32)
"""

# fan-out per level: 50 roots x 10 x 10 x 9 leaves = 50,550 rows in all
FAN_OUT = (50, 10, 10, 9)


def compare(
    repeat: int,
    dj_setup: Callable[[], None],
    dj_run: Callable[[], object],
    raw_setup: Callable[[], None],
    raw_run: Callable[[], object],
) -> dict:
    """Best of ``repeat`` for each side, the two sides alternating (and swapping who goes first)
    so that a busy machine slows both alike."""
    dj_times, raw_times = [], []
    for i in range(repeat):
        if i % 2:
            raw_times.append(timed(raw_run, raw_setup))
            dj_times.append(timed(dj_run, dj_setup))
        else:
            dj_times.append(timed(dj_run, dj_setup))
            raw_times.append(timed(raw_run, raw_setup))
    dj_time, raw_time = min(dj_times), min(raw_times)
    return {"datajoint": dj_time, "raw": raw_time, "ratio": dj_time / raw_time}


def placeholders(conn, n: int) -> str:
    return ", ".join([conn.dialect.placeholder] * n)


def raw_bulk_insert(conn, table: str, rows: list[tuple]) -> Callable[[], None]:
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

    def run() -> None:  # pymysql turns executemany of INSERT ... VALUES into multi-row INSERTs
        with raw.cursor() as cur:
            cur.execute("START TRANSACTION")
            for start in range(0, len(rows), 10_000):
                cur.executemany(
                    f"INSERT INTO {table} {columns} VALUES (%s, %s, %s, %s)",
                    rows[start : start + 10_000],
                )
            cur.execute("COMMIT")

    return run


def raw_single_inserts(conn, table: str, rows: list[tuple]) -> Callable[[], None]:
    sql = f"INSERT INTO {table} (id, a, b, c) VALUES ({placeholders(conn, 4)})"
    raw = conn._raw

    def run() -> None:
        cursor = raw.cursor()
        for row in rows:
            cursor.execute(sql, row)  # autocommit: each statement is its own transaction

    return run


def bench_inserts(conn, schema, repeat: int) -> dict:
    class Bulk(dj.Manual):
        definition = FLAT

    class Raw(dj.Manual):
        definition = FLAT

    schema(Bulk, context={})
    schema(Raw, context={})
    q = conn.dialect.full_table_name
    dj_name, raw_name = q(schema.database, "bulk"), q(schema.database, "raw")
    rows = [(i, i * 7, i / 3.0, f"name {i}") for i in range(100_000)]
    dicts = [{"id": i, "a": a, "b": b, "c": c} for i, a, b, c in rows]
    out = {}
    out["insert_100k"] = compare(
        repeat,
        lambda: conn.query(f"DELETE FROM {dj_name}"),
        lambda: Bulk.insert(dicts),
        lambda: conn.query(f"DELETE FROM {raw_name}"),
        raw_bulk_insert(conn, raw_name, rows),
    )
    assert len(Bulk) == len(Raw) == 100_000
    few, few_dicts = rows[:2000], dicts[:2000]

    def one_by_one() -> None:
        for row in few_dicts:
            Bulk.insert1(row)

    out["insert1_2000"] = compare(
        repeat,
        lambda: conn.query(f"DELETE FROM {dj_name}"),
        one_by_one,
        lambda: conn.query(f"DELETE FROM {raw_name}"),
        raw_single_inserts(conn, raw_name, few),
    )
    assert len(Bulk) == len(Raw) == 2000
    return out


def declare_tree(schema, prefix: str) -> list:
    names = [f"{prefix}One", f"{prefix}Two", f"{prefix}Three", f"{prefix}Four"]
    context: dict = {}
    classes = []
    keys = ["k1", "k2", "k3", "k4"]
    for level, name in enumerate(names):
        parent = f"-> {names[level - 1]}\n" if level else ""
        definition = f"{parent}{keys[level]} : int32\n---\nvalue = 0 : float64\n"
        cls = type(name, (dj.Manual,), {"definition": definition})
        schema(cls, context=context)
        context[name] = cls
        classes.append(cls)
    return classes


def tree_rows() -> list[list[dict]]:
    levels: list[list[dict]] = [[{"k1": i} for i in range(FAN_OUT[0])]]
    names = ["k1", "k2", "k3", "k4"]
    for depth in range(1, 4):
        levels.append(
            [{**parent, names[depth]: j} for parent in levels[-1] for j in range(FAN_OUT[depth])]
        )
    return levels


def bench_cascade(conn, schema, repeat: int) -> dict:
    dj_tree = declare_tree(schema, "Dj")
    raw_tree = declare_tree(schema, "Raw")
    levels = tree_rows()
    total = sum(len(level) for level in levels)

    def fill(tree) -> Callable[[], None]:
        def run() -> None:
            for cls in reversed(tree):
                cls.delete_quick()
            for cls, rows in zip(tree, levels, strict=True):
                cls.insert(rows)

        return run

    raw_names = [c.full_table_name for c in raw_tree]

    def raw_delete(where: str) -> Callable[[], None]:
        def run() -> None:
            conn.start_transaction()
            for name in reversed(raw_names):
                conn.query(f"DELETE FROM {name}{where}")
            conn.commit_transaction()

        return run

    root = dj_tree[0]
    out = {"tree_rows": total}
    out["cascade_delete_all"] = compare(
        repeat, fill(dj_tree), lambda: root.delete(prompt=False), fill(raw_tree), raw_delete("")
    )
    assert all(len(c) == 0 for c in dj_tree + raw_tree)
    half = f"k1 < {FAN_OUT[0] // 2}"
    out["cascade_delete_half"] = compare(
        repeat,
        fill(dj_tree),
        lambda: (root & half).delete(prompt=False),
        fill(raw_tree),
        raw_delete(f" WHERE {half}"),
    )
    assert len(dj_tree[3]) == len(raw_tree[3]) == len(levels[3]) // 2
    return out


def bench_backend(backend: str, repeat: int) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    try:
        with throwaway_schema(conn, prefix="djbench") as schema:
            results = bench_inserts(conn, schema, repeat)
            results.update(bench_cascade(conn, schema, repeat))
    finally:
        conn.close()
    results["raw_paths"] = {
        "insert_100k": {
            "sqlite": "executemany in one transaction",
            "mysql": "multi-row INSERT (pymysql executemany batching)",
            "postgresql": "COPY FROM STDIN",
        }[backend],
        "insert1_2000": "single-row INSERT per call, autocommit",
        "cascade_delete": "hand-written DELETEs, leaves first, in one transaction",
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    dj.config["safemode"] = False
    results = {}
    for backend in args.backends.split(","):
        reason = servers.unavailable_reason(backend)
        results[backend] = {"skipped": reason} if reason else bench_backend(backend, args.repeat)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
