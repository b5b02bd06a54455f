"""Insert and fetch of N x 1 MB float64 arrays through a ``<blob>`` column, beside the raw driver
moving the same bytes (the packed blobs, bound as bytes), per backend.

Not a test: run ``.venv/bin/python bench/bench_codecs.py [--rows 200] [--mb 1] [--backends a,b]``
(``--data smooth`` for compressible arrays instead of random ones). Prints JSON with seconds
(best of ``--repeat``), MB/s and the ratios DataJoint / raw driver, all measured in the same run
on the same machine. The raw figures include no packing or unpacking; the pack/unpack share of
the DataJoint figures is printed separately. Each DataJoint figure is given twice: as it runs
(large blobs packed and unpacked on a thread pool) and on one thread (``single_thread_s``).

``--compare PYTHON`` also runs the same insert and fetch with the ``datajoint`` that ``PYTHON``
imports (e.g. DataJoint 2.3.5 installed in a throwaway venv: ``python -m venv /tmp/dj235 &&
/tmp/dj235/bin/pip install datajoint==2.3.5 pymysql "psycopg[binary]"``), on the same servers in
the same run, and reports the ratios this project / that one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from harness import best_of, per_backend, raw_rows

import datajoint as dj
import datajoint.parallel
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema

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


def raw_insert(conn, table: str, rows: list[tuple[int, bytes]]) -> Callable[[], None]:
    """The same bytes through the driver: one transaction, statements of 16 rows (16 MB)."""
    raw, backend = conn._raw, conn.backend.name
    p = placeholder(backend)
    sql = f"INSERT INTO {table} (id, data) VALUES ({p}, {p})"

    def run() -> None:
        cursor = raw.cursor()
        if backend == "sqlite":
            raw.execute("BEGIN")
        elif backend == "mysql":
            cursor.execute("START TRANSACTION")
        for start in range(0, len(rows), 16):
            cursor.executemany(sql, rows[start : start + 16])
        raw.commit() if backend != "mysql" else cursor.execute("COMMIT")
        cursor.close()

    return run


@contextmanager
def one_thread() -> Iterator[None]:
    """The single-threaded codec path (no pool) for the duration of the block."""
    saved = datajoint.parallel.MAX_WORKERS
    datajoint.parallel.MAX_WORKERS = 1
    try:
        yield
    finally:
        datajoint.parallel.MAX_WORKERS = saved


def make_arrays(n_rows: int, mb: float, data: str) -> list[np.ndarray]:
    """``random``: normal noise (zlib is tried and rejected); ``smooth``: a rounded ramp that
    compresses well."""
    size = int(mb * 2**20) // 8
    if data == "smooth":
        ramp = np.round(np.linspace(0, 100, size), 2)
        return [ramp + i for i in range(n_rows)]
    rng = np.random.default_rng(0)
    return [rng.standard_normal(size) for _ in range(n_rows)]


def bench_backend(backend: str, n_rows: int, mb: float, repeat: int, data: str) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    arrays = make_arrays(n_rows, mb, data)
    codec = dj.get_codec("blob")
    start = time.perf_counter()
    packed = [codec.encode(a) for a in arrays]
    pack_s = time.perf_counter() - start
    start = time.perf_counter()
    for b in packed:
        codec.decode(b)
    unpack_s = time.perf_counter() - start
    total_mb = sum(map(len, packed)) / 2**20
    rows = [(i, b) for i, b in enumerate(packed)]
    dicts = [{"id": i, "data": a} for i, a in enumerate(arrays)]
    with throwaway_schema(conn, prefix="djbench") as schema:

        class BlobRows(dj.Manual):
            definition = BLOB_TABLE

        class RawRows(dj.Manual):
            definition = RAW_TABLE

        schema(BlobRows, context={})
        schema(RawRows, context={})
        blob_name = conn.dialect.full_table_name(schema.database, BlobRows().table_name)
        raw_name = conn.dialect.full_table_name(schema.database, RawRows().table_name)
        dj_insert = best_of(
            repeat,
            lambda: BlobRows.insert(dicts),
            setup=lambda: conn.query(f"DELETE FROM {blob_name}"),
        )
        with one_thread():
            single_insert = best_of(
                repeat,
                lambda: BlobRows.insert(dicts),
                setup=lambda: conn.query(f"DELETE FROM {blob_name}"),
            )
        raw_insert_s = best_of(
            repeat,
            raw_insert(conn, raw_name, rows),
            setup=lambda: conn.query(f"DELETE FROM {raw_name}"),
        )
        assert len(BlobRows) == len(RawRows) == n_rows
        fetched = BlobRows.to_dicts(order_by="id")
        assert all(np.array_equal(r["data"], a) for r, a in zip(fetched, arrays, strict=True))
        dj_fetch = best_of(repeat, BlobRows.to_dicts)
        with one_thread():
            single_fetch = best_of(repeat, BlobRows.to_dicts)
        select = f"SELECT id, data FROM {raw_name}"
        raw_fetch_s = best_of(repeat, lambda: raw_rows(conn, select))
    conn.close()
    return {
        "rows": n_rows,
        "array_mb": mb,
        "data": data,
        "stored_mb": round(total_mb, 1),
        "insert": {
            "datajoint_s": dj_insert,
            "single_thread_s": single_insert,
            "raw_s": raw_insert_s,
            "ratio": dj_insert / raw_insert_s,
            "datajoint_mb_s": total_mb / dj_insert,
            "raw_mb_s": total_mb / raw_insert_s,
        },
        "fetch": {
            "datajoint_s": dj_fetch,
            "single_thread_s": single_fetch,
            "raw_s": raw_fetch_s,
            "ratio": dj_fetch / raw_fetch_s,
            "datajoint_mb_s": total_mb / dj_fetch,
            "raw_mb_s": total_mb / raw_fetch_s,
        },
        "codec_only_s": {"pack": pack_s, "unpack": unpack_s},
    }


#: run by ``--compare PYTHON``: the same insert and fetch through that interpreter's datajoint
COMPARE_SCRIPT = r"""
import json, sys, time
import numpy as np
import datajoint as dj
backend, host, port, user, password, rows, mb, repeat, data = sys.argv[1:]
rows, mb, repeat = int(rows), float(mb), int(repeat)
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
schema = dj.Schema("djbench_compare_blobs", create_tables=True)
try:
    @schema
    class BlobRows(dj.Manual):
        definition = "id : int32\n---\ndata : <blob>\n"
    def best(run, setup=None):
        times = []
        for _ in range(repeat):
            if setup:
                setup()
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)
    insert_s = best(lambda: BlobRows.insert(dicts), setup=BlobRows.delete_quick)
    fetch_s = best(BlobRows.to_dicts)
    print(json.dumps({"version": dj.__version__, "insert_s": insert_s, "fetch_s": fetch_s}))
finally:
    schema.drop(prompt=False)
"""


def compare_backend(
    python: str, backend: str, rows: int, mb: float, repeat: int, data: str
) -> dict:
    """The insert and fetch timed with another interpreter's datajoint (a subprocess)."""
    if backend == "sqlite":
        return {"skipped": "the compared datajoint needs a server"}
    params = servers.connect_params(backend)
    args = [backend, params.host, params.port, params.user, params.password, rows, mb, repeat, data]
    done = subprocess.run(
        [python, "-c", COMPARE_SCRIPT, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", choices=["random", "smooth"], default="random")
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    parser.add_argument("--compare", metavar="PYTHON", help="another interpreter to compare with")
    args = parser.parse_args()
    dj.config["safemode"] = False

    def bench(backend: str) -> dict:
        ours = bench_backend(backend, args.rows, args.mb, args.repeat, args.data)
        if args.compare:
            other = compare_backend(
                args.compare, backend, args.rows, args.mb, args.repeat, args.data
            )
            ours["compared"] = other
            if "insert_s" in other:
                ours["compared"]["speedup_insert"] = (
                    other["insert_s"] / ours["insert"]["datajoint_s"]
                )
                ours["compared"]["speedup_fetch"] = other["fetch_s"] / ours["fetch"]["datajoint_s"]
        return ours

    print(json.dumps(per_backend(args.backends, bench), indent=2))


if __name__ == "__main__":
    main()
