"""Insert and fetch of N x 1 MB float64 arrays through a ``<blob>`` column, beside the raw driver
moving the same bytes (the packed blobs, bound as bytes), per backend.

Not a test: run ``.venv/bin/python bench/bench_codecs.py [--rows 200] [--mb 1] [--rounds 3]
[--backends a,b] [--compare PYTHON]`` (``--data smooth`` for compressible arrays instead of
random ones). Prints JSON with the median seconds of ``--rounds`` rounds, MB/s and ratios, all
measured in the same run on the same machine. Each round times, once each: the DataJoint insert
and fetch as they run (large blobs packed and unpacked on the thread pool, the next chunk packed
while the current one is sent), the same on one thread (``single_thread``), and the raw driver
moving the packed bytes (no packing or unpacking in its figures; the codec's own share is
printed apart as ``codec_only_s``). On MySQL the raw side is pymysql's own cursor, which escapes
the bytes into the statement text; this project's cursors send them through the binary protocol,
which can make its insert faster than that raw figure once packing is done.

``--compare PYTHON`` also runs the same insert and fetch, in every round right after this
project's, with the ``datajoint`` that ``PYTHON`` imports (e.g. DataJoint 2.3.5 in a throwaway
venv: ``python3 -m venv /tmp/dj235 && /tmp/dj235/bin/pip install "datajoint[postgres]==2.3.5"
pymysql psycopg``), in a worker process that stays up between rounds, on the same servers. It
inserts in statements of 8 rows in one transaction (one statement of every row would exceed
MariaDB's default ``max_allowed_packet``), as this project chunks its own insert. Rounds
alternate between the two, so a machine that other work keeps busy slows both alike.
``speedup`` is the other's median / this project's.

Before each timed insert, on either side, the table is emptied with ``TRUNCATE TABLE`` (``DELETE``
on SQLite) and the machine is left :data:`SETTLE_S` seconds to finish what the server does in the
background after the last step (flushing the pages just written, dropping the old table's), so
that no side pays for work left over from the one before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from harness import blob_codec_times, per_backend, raw_rows, times_of

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import codec_threads, make_connection, throwaway_schema

#: seconds the machine is left idle after emptying a table, before a timed insert
SETTLE_S = 2.0

BLOB_TABLE = """
id : int32
---
data : <blob>
"""
RAW_TABLE = """
id : int32
---
data : bytes
"""


def placeholder(backend: str) -> str:
    return "?" if backend == "sqlite" else "%s"


def raw_insert(conn: Any, table: str, rows: list[tuple[int, bytes]]) -> Callable[[], None]:
    """The same bytes through the driver: one transaction, statements of 16 rows (16 MB).
    On MySQL the cursor is pymysql's own, which escapes the bytes into the statement text (the
    backend's cursors send large bytes apart, through the binary protocol)."""
    raw, backend = conn._raw, conn.backend.name
    p = placeholder(backend)
    sql = f"INSERT INTO {table} (id, data) VALUES ({p}, {p})"

    cursor_class: Any = None  # the connection's own
    if backend == "mysql":
        import pymysql

        cursor_class = pymysql.cursors.Cursor

    def run() -> None:
        cursor = raw.cursor(cursor_class) if cursor_class else raw.cursor()
        if backend == "sqlite":
            raw.execute("BEGIN")
        elif backend == "mysql":
            cursor.execute("START TRANSACTION")
        for start in range(0, len(rows), 16):
            cursor.executemany(sql, rows[start : start + 16])
        raw.commit() if backend != "mysql" else cursor.execute("COMMIT")
        cursor.close()

    return run


def make_arrays(n_rows: int, mb: float, data: str) -> list[np.ndarray]:
    """``random``: normal noise (zlib shrinks it by ~4%, so the blob stays compressed);
    ``smooth``: a rounded ramp that compresses well."""
    size = int(mb * 2**20) // 8
    if data == "smooth":
        ramp = np.round(np.linspace(0, 100, size), 2)
        return [ramp + i for i in range(n_rows)]
    rng = np.random.default_rng(0)
    return [rng.standard_normal(size) for _ in range(n_rows)]


#: the worker of ``--compare``: the same data, insert and fetch through that interpreter's
#: datajoint, one round per "round" line on stdin, one "RESULT {json}" line per round on stdout
COMPARE_SCRIPT = r"""
import json, os, sys, time
import numpy as np
import datajoint as dj
backend, host, port, user, password, rows, mb, data, settle = sys.argv[1:]
rows, mb, settle = int(rows), float(mb), float(settle)
dj.config["database.host"], dj.config["database.port"] = host, int(port)
dj.config["database.user"], dj.config["database.password"] = user, password
if backend == "postgresql":
    dj.config["database.backend"] = "postgresql"
dj.config["safemode"] = False
size = int(mb * 2**20) // 8
if data == "smooth":
    ramp = np.round(np.linspace(0, 100, size), 2)
    arrays = [ramp + i for i in range(rows)]
else:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(size) for _ in range(rows)]
dicts = [{"id": i, "data": a} for i, a in enumerate(arrays)]
schema = dj.Schema(f"djbench_compare_blobs_{os.getpid()}", create_tables=True)
try:
    @schema
    class BlobRows(dj.Manual):
        definition = "id : int32\n---\ndata : <blob>\n"
    def insert():
        with BlobRows.connection.transaction:
            for start in range(0, len(dicts), 8):
                BlobRows.insert(dicts[start : start + 8])
    checked = False
    for line in sys.stdin:
        if line.strip() != "round":
            break
        BlobRows.connection.query(f"TRUNCATE TABLE {BlobRows.full_table_name}")
        time.sleep(settle)
        start = time.perf_counter()
        insert()
        insert_s = time.perf_counter() - start
        start = time.perf_counter()
        fetched = BlobRows.to_dicts()
        fetch_s = time.perf_counter() - start
        result = {"version": dj.__version__, "insert_s": insert_s, "fetch_s": fetch_s}
        if not checked:
            by_id = {row["id"]: row["data"] for row in fetched}
            result["same_arrays"] = len(by_id) == rows and all(
                np.array_equal(by_id[i], a) for i, a in enumerate(arrays)
            )
            checked = True
        print("RESULT", json.dumps(result), flush=True)
finally:
    schema.drop(prompt=False)
"""


class Other:
    """The ``--compare`` worker process for one backend."""

    def __init__(self, python: str, backend: str, rows: int, mb: float, data: str) -> None:
        params = servers.connect_params(backend)
        args = [backend, params.host, params.port, params.user, params.password]
        args += [rows, mb, data, SETTLE_S]
        self.process = subprocess.Popen(
            [python, "-c", COMPARE_SCRIPT, *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.failed: list[str] | None = None

    def round(self) -> dict[str, Any] | None:
        """One timed insert and fetch, or None once the worker has failed."""
        if self.failed is not None:
            return None
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write("round\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        for line in self.process.stdout:  # the other datajoint may print lines of its own
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT ") :])
        self.close()
        return None

    def close(self) -> None:
        """End the worker (it drops its schema) and keep the last line of its error, if any."""
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        if not process.stdin.closed:
            process.stdin.close()
        process.stdout.read()
        stderr = process.stderr.read()
        process.wait()
        if process.returncode and self.failed is None:
            self.failed = stderr.strip().splitlines()[-1:]


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_backend(
    backend: str, n_rows: int, mb: float, rounds: int, data: str, compare: str | None
) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    arrays = make_arrays(n_rows, mb, data)
    packed, pack_s, unpack_s = blob_codec_times(arrays)
    total_mb = sum(map(len, packed)) / 2**20
    rows = [(i, b) for i, b in enumerate(packed)]
    dicts = [{"id": i, "data": a} for i, a in enumerate(arrays)]
    other = None
    if compare and backend != "sqlite":
        other = Other(compare, backend, n_rows, mb, data)
    times: dict[str, list[float]] = {}

    def note(name: str, seconds: list[float]) -> None:
        times.setdefault(name, []).extend(seconds)

    others: list[dict[str, Any]] = []
    with throwaway_schema(conn, prefix="djbench") as schema:

        class BlobRows(dj.Manual):
            definition = BLOB_TABLE

        class RawRows(dj.Manual):
            definition = RAW_TABLE

        schema(BlobRows, context={})
        schema(RawRows, context={})
        blob_name = conn.dialect.full_table_name(schema.database, BlobRows().table_name)
        raw_name = conn.dialect.full_table_name(schema.database, RawRows().table_name)

        def emptied(name: str) -> Callable[[], None]:
            statement = "DELETE FROM" if backend == "sqlite" else "TRUNCATE TABLE"

            def empty() -> None:
                conn.query(f"{statement} {name}")
                time.sleep(SETTLE_S)

            return empty

        clear_blobs = emptied(blob_name)

        select = f"SELECT id, data FROM {raw_name}"
        for number in range(rounds):
            note("insert", times_of(1, lambda: BlobRows.insert(dicts), setup=clear_blobs))
            note("fetch", times_of(1, BlobRows.to_dicts))
            if number == 0:
                fetched = BlobRows.to_dicts(order_by="id")
                assert all(
                    np.array_equal(r["data"], a) for r, a in zip(fetched, arrays, strict=True)
                )
                del fetched
            with codec_threads(1):
                note("insert_single", times_of(1, lambda: BlobRows.insert(dicts), clear_blobs))
                note("fetch_single", times_of(1, BlobRows.to_dicts))
            raw = raw_insert(conn, raw_name, rows)
            note("insert_raw", times_of(1, raw, emptied(raw_name)))
            note("fetch_raw", times_of(1, lambda: raw_rows(conn, select)))
            assert len(BlobRows) == len(RawRows) == n_rows
            if other is not None:
                result = other.round()
                if result is not None:
                    others.append(result)
    conn.close()
    if other is not None:
        other.close()

    def summary(what: str) -> dict[str, Any]:
        this = median(times[what])
        out: dict[str, Any] = {
            "datajoint_s": this,
            "single_thread_s": median(times[f"{what}_single"]),
            "raw_s": median(times[f"{what}_raw"]),
        }
        out["ratio_to_raw"] = this / out["raw_s"]
        out["datajoint_mb_s"] = total_mb / this
        out["raw_mb_s"] = total_mb / out["raw_s"]
        if others:
            out["other_s"] = median([o[f"{what}_s"] for o in others])
            out["speedup"] = out["other_s"] / this
        return out

    result: dict[str, Any] = {
        "rows": n_rows,
        "array_mb": mb,
        "data": data,
        "rounds": rounds,
        "stored_mb": round(total_mb, 1),
        "insert": summary("insert"),
        "fetch": summary("fetch"),
        "codec_only_s": {"pack": pack_s, "unpack": unpack_s},
    }
    if other is not None:
        result["compared"] = (
            {"version": others[0]["version"], "same_arrays": others[0].get("same_arrays")}
            if others
            else {"failed": other.failed}
        )
    elif compare:
        result["compared"] = {"skipped": "the compared datajoint needs a server"}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", choices=["random", "smooth"], default="random")
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    parser.add_argument("--compare", metavar="PYTHON", help="another interpreter to compare with")
    args = parser.parse_args()
    dj.config["safemode"] = False

    def bench(backend: str) -> dict:
        return bench_backend(backend, args.rows, args.mb, args.rounds, args.data, args.compare)

    print(json.dumps(per_backend(args.backends, bench), indent=2))


if __name__ == "__main__":
    main()
