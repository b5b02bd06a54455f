"""Insert and fetch of N x 1 MB float64 arrays through a ``<blob>`` column, beside the raw driver
moving the same bytes (the packed blobs, bound as bytes), per backend.

Not a test: run ``.venv/bin/python bench/bench_codecs.py [--rows 200] [--mb 1] [--backends a,b]``
(``--data smooth`` for compressible arrays instead of random ones). Prints JSON with seconds
(best of ``--repeat``), MB/s and the ratios DataJoint / raw driver, all measured in the same run
on the same machine. The raw figures include no packing or unpacking; the pack/unpack share of
the DataJoint figures is printed separately.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from harness import best_of, per_backend, raw_rows

import datajoint as dj
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
        raw_insert_s = best_of(
            repeat,
            raw_insert(conn, raw_name, rows),
            setup=lambda: conn.query(f"DELETE FROM {raw_name}"),
        )
        assert len(BlobRows) == len(RawRows) == n_rows
        fetched = BlobRows.to_dicts(order_by="id")
        assert all(np.array_equal(r["data"], a) for r, a in zip(fetched, arrays, strict=True))
        dj_fetch = best_of(repeat, BlobRows.to_dicts)
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
            "raw_s": raw_insert_s,
            "ratio": dj_insert / raw_insert_s,
            "datajoint_mb_s": total_mb / dj_insert,
            "raw_mb_s": total_mb / raw_insert_s,
        },
        "fetch": {
            "datajoint_s": dj_fetch,
            "raw_s": raw_fetch_s,
            "ratio": dj_fetch / raw_fetch_s,
            "datajoint_mb_s": total_mb / dj_fetch,
            "raw_mb_s": total_mb / raw_fetch_s,
        },
        "codec_only_s": {"pack": pack_s, "unpack": unpack_s},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", choices=["random", "smooth"], default="random")
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    dj.config["safemode"] = False
    results = per_backend(
        args.backends,
        lambda backend: bench_backend(backend, args.rows, args.mb, args.repeat, args.data),
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
