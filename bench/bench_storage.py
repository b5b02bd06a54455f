"""Insert and fetch of N rows holding 64 KB values in an S3 store (``<blob@>`` and ``<npy@>``),
beside the raw path and beside the same values in the table (``<blob>``), per backend.

Not a test: run ``.venv/bin/python bench/bench_storage.py [--rows 2000] [--kb 64] [--repeat 3]
[--backends a,b]``. The S3 server is the loopback moto server of the tests
(``datajoint.testing.s3_server``: moto in server mode on 127.0.0.1, in this process), one bucket
per run. Prints JSON with seconds (best of ``--repeat``) and the ratios DataJoint / raw, all
measured in the same run on the same machine.

The raw path moves the same bytes with no DataJoint in it: s3fs's batch ``pipe`` of every
object then the rows (id and the metadata JSON DataJoint stores) sent with the driver's
``executemany`` in one transaction; the fetch is the driver's ``SELECT`` then s3fs's batch
``cat`` of every object. ``--serial`` also times ``<blob@>`` with one transfer at a time (the I/O
pool cut to one thread, no batch read ahead), as DataJoint 2.x moves objects. Raw figures include no packing, hashing or unpacking; DataJoint's do
(the codec share is printed under ``codec_only_s``). Before each timed insert the rows and the
store's objects are removed, so every insert uploads every object.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from harness import best_of, blob_codec_times, per_backend, raw_rows

import datajoint as dj
from datajoint import decode, parallel, storage
from datajoint.testing.fixtures import make_connection, throwaway_schema
from datajoint.testing.s3_server import S3Endpoint, S3TestServer
from datajoint.testing.stores import use_store

STORE = "bench"


def make_arrays(n_rows: int, kb: int) -> list[np.ndarray]:
    """Random float64 arrays of ``kb`` KB each (incompressible: zlib is tried and rejected)."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(kb * 1024 // 8) for _ in range(n_rows)]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def placeholder(backend: str) -> str:
    return "?" if backend == "sqlite" else "%s"


def raw_path(conn: Any, fs: Any, table: str, objects: dict[str, bytes], rows: list[tuple]) -> dict:
    """The raw insert and fetch of ``objects`` (full path -> bytes) and ``rows`` (id, json)."""
    raw, backend = conn._raw, conn.backend.name
    p = placeholder(backend)
    insert_sql = f"INSERT INTO {table} (id, meta) VALUES ({p}, {p})"
    paths = list(objects)

    def insert() -> None:
        fs.pipe(objects)
        cursor = raw.cursor()
        if backend == "sqlite":
            raw.execute("BEGIN")
        elif backend == "mysql":
            cursor.execute("START TRANSACTION")
        cursor.executemany(insert_sql, rows)
        raw.commit() if backend != "mysql" else cursor.execute("COMMIT")
        cursor.close()

    def fetch() -> None:
        fetched = raw_rows(conn, f"SELECT id, meta FROM {table}")
        assert len(fetched) == len(rows)
        data = fs.cat(paths)
        assert len(data) == len(paths)

    def clear() -> None:
        conn.query(f"DELETE FROM {table}")
        fs.rm(paths)

    return {"insert": insert, "fetch": fetch, "clear": clear}


@contextmanager
def one_transfer_at_a_time() -> Iterator[None]:
    """The store transfers of the block run one at a time: one I/O thread, nothing read ahead."""
    saved = parallel.IO_WORKERS, decode.PREFETCH_ROWS
    parallel.IO_WORKERS, parallel._io_pool = 1, None
    decode.PREFETCH_ROWS = 1
    try:
        yield
    finally:
        parallel.IO_WORKERS, decode.PREFETCH_ROWS = saved
        parallel._io_pool = None


def timed(
    repeat: int, insert: Callable[[], Any], fetch: Callable[[], Any], clear: Callable
) -> dict:
    insert_s = best_of(repeat, insert, setup=clear)
    fetch_s = best_of(repeat, fetch)
    return {"insert_s": insert_s, "fetch_s": fetch_s}


def bench_backend(
    backend: str, endpoint: S3Endpoint, n_rows: int, kb: int, repeat: int, serial: bool
) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    arrays = make_arrays(n_rows, kb)
    packed, pack_s, unpack_s = blob_codec_times(arrays)
    start = time.perf_counter()
    for b in packed:
        hashlib.md5(b).digest()
    md5_s = time.perf_counter() - start
    npys = [npy_bytes(a) for a in arrays]
    total_mb = sum(map(len, packed)) / 2**20
    dicts = [{"id": i, "data": a} for i, a in enumerate(arrays)]
    location = f"bench/{uuid.uuid4().hex}"
    spec = endpoint.store_spec(location)
    with use_store(STORE, spec), throwaway_schema(conn, prefix="djbench") as schema:
        s3 = storage.get_backend(STORE, dj.config)
        fs = s3.fs

        class StoreBlob(dj.Manual):
            definition = "id : int32\n---\ndata : <blob@>\n"

        class StoreNpy(dj.Manual):
            definition = "id : int32\n---\ndata : <npy@>\n"

        class InTable(dj.Manual):
            definition = "id : int32\n---\ndata : <blob>\n"

        class RawRows(dj.Manual):
            definition = "id : int32\n---\nmeta : json\n"

        for table in (StoreBlob, StoreNpy, InTable, RawRows):
            schema(table, context={})
        quoted = conn.dialect.full_table_name

        def clearer(table: type, prefix: str) -> Callable[[], None]:
            def clear() -> None:
                conn.query(f"DELETE FROM {quoted(schema.database, table().table_name)}")
                if fs.exists(s3.full_path(prefix)):
                    fs.rm(s3.full_path(prefix), recursive=True)

            return clear

        blob_store = timed(
            repeat,
            lambda: StoreBlob.insert(dicts),
            StoreBlob.to_dicts,
            clearer(StoreBlob, "_hash"),
        )
        fetched = StoreBlob.to_dicts(order_by="id")
        assert all(np.array_equal(r["data"], a) for r, a in zip(fetched, arrays, strict=True))
        if serial:
            with one_transfer_at_a_time():
                blob_store["serial"] = timed(
                    repeat,
                    lambda: StoreBlob.insert(dicts),
                    StoreBlob.to_dicts,
                    clearer(StoreBlob, "_hash"),
                )

        def load_npy() -> None:
            for row in StoreNpy.to_dicts():
                row["data"].load()

        npy_store = timed(
            repeat, lambda: StoreNpy.insert(dicts), StoreNpy.to_dicts, clearer(StoreNpy, "_schema")
        )
        npy_store["fetch_and_load_s"] = best_of(repeat, load_npy)
        fetched = StoreNpy.to_dicts(order_by="id")
        assert all(np.array_equal(r["data"], a) for r, a in zip(fetched, arrays, strict=True))

        in_table = timed(
            repeat,
            lambda: InTable.insert(dicts),
            InTable.to_dicts,
            lambda: conn.query(f"DELETE FROM {quoted(schema.database, InTable().table_name)}"),
        )

        raw_table = quoted(schema.database, RawRows().table_name)
        blob_table = quoted(schema.database, StoreBlob().table_name)
        meta = raw_rows(conn, f"SELECT data FROM {blob_table} WHERE id = 0")[0][0]
        meta = json.loads(meta) if isinstance(meta, str | bytes) else meta
        raw_blob_objects = {s3.full_path(f"raw/blob/{i}"): b for i, b in enumerate(packed)}
        rows = [(i, json.dumps({**meta, "path": f"raw/blob/{i}"})) for i in range(n_rows)]
        raw_blob = timed(repeat, **raw_path(conn, fs, raw_table, raw_blob_objects, rows))
        raw_npy_objects = {s3.full_path(f"raw/npy/{i}.npy"): b for i, b in enumerate(npys)}
        raw_npy = timed(repeat, **raw_path(conn, fs, raw_table, raw_npy_objects, rows))
    conn.close()

    def ratios(ours: dict, raw: dict) -> dict:
        return {
            "insert": ours["insert_s"] / raw["insert_s"],
            "fetch": ours["fetch_s"] / raw["fetch_s"],
        }

    return {
        "rows": n_rows,
        "value_kb": kb,
        "stored_mb": round(total_mb, 1),
        "blob_store": {**blob_store, "ratio_to_raw": ratios(blob_store, raw_blob)},
        "npy_store": {
            **npy_store,
            "ratio_to_raw": {
                **ratios(npy_store, raw_npy),
                "fetch_and_load": npy_store["fetch_and_load_s"] / raw_npy["fetch_s"],
            },
        },
        "in_table_blob": {**in_table, "ratio_to_blob_store": ratios(in_table, blob_store)},
        "raw_blob": raw_blob,
        "raw_npy": raw_npy,
        "codec_only_s": {"pack": pack_s, "unpack": unpack_s, "md5": md5_s},
    }


def main() -> None:
    from datajoint.testing import servers

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--kb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--serial", action="store_true", help="also time <blob@> one transfer at a time"
    )
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    dj.config["safemode"] = False
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = S3TestServer()
    endpoint = server.start()
    try:
        results = per_backend(
            args.backends,
            lambda backend: bench_backend(
                backend, endpoint, args.rows, args.kb, args.repeat, args.serial
            ),
        )
    finally:
        server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
