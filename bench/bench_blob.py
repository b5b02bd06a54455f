"""Throughput of the blob serializer (SPEC §5) beside numpy, zlib and pickle baselines.

Not a test. Run ``python bench/bench_blob.py [--quick]``; prints one JSON document.

Cases: random-bit float64 arrays of 1 MB and 100 MB (compression is attempted and rejected), a
compressible 100 MB float64 array, and a list of 10k small dicts. For each case and method the
best of a few runs is reported as seconds and MB/s, where MB is the size of the value's
uncompressed blob (1 MB = 10**6 bytes) so that all methods share one yardstick.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import platform
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from dj_codecs_builtin.blob import pack, unpack


def best_time(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(
    name: str,
    encode: Callable[[], Any],
    decode: Callable[[Any], Any],
    megabytes: float,
    repeat: int,
) -> dict[str, Any]:
    pack_s, encoded = best_time(encode, repeat)
    unpack_s, _ = best_time(lambda: decode(encoded), repeat)
    return {
        "method": name,
        "pack_s": round(pack_s, 6),
        "pack_MBps": round(megabytes / pack_s, 1),
        "unpack_s": round(unpack_s, 6),
        "unpack_MBps": round(megabytes / unpack_s, 1),
        "output_bytes": len(encoded),
    }


def array_case(label: str, array: np.ndarray, repeat: int) -> dict[str, Any]:
    megabytes = len(pack(array, compress=False)) / 1e6
    dtype, shape = array.dtype, array.shape

    def tobytes_zlib() -> bytes:
        return zlib.compress(array.tobytes())

    def from_zlib(data: bytes) -> np.ndarray:
        return np.frombuffer(zlib.decompress(data), dtype=dtype).reshape(shape)

    methods = [
        measure("blob.pack/unpack", lambda: pack(array), unpack, megabytes, repeat),
        measure(
            "blob.pack(compress=False)/unpack",
            lambda: pack(array, compress=False),
            unpack,
            megabytes,
            repeat,
        ),
        measure(
            "ndarray.tobytes/np.frombuffer",
            array.tobytes,
            lambda data: np.frombuffer(data, dtype=dtype).reshape(shape),
            megabytes,
            repeat,
        ),
        measure("tobytes+zlib.compress/decompress", tobytes_zlib, from_zlib, megabytes, repeat),
        measure(
            "pickle.dumps/loads",
            lambda: pickle.dumps(array, protocol=pickle.HIGHEST_PROTOCOL),
            pickle.loads,
            megabytes,
            repeat,
        ),
    ]
    by_name = {m["method"]: m for m in methods}
    blob, baseline = by_name["blob.pack/unpack"], by_name["tobytes+zlib.compress/decompress"]
    return {
        "case": label,
        "blob_MB": round(megabytes, 3),
        "compressed": pack(array).startswith(b"ZL123\0"),
        "pack_speed_vs_tobytes_zlib": round(baseline["pack_s"] / blob["pack_s"], 3),
        "methods": methods,
    }


def dicts_case(count: int, repeat: int) -> dict[str, Any]:
    rng = np.random.default_rng(2)
    values = [
        {"id": i, "name": f"item-{i}", "score": float(rng.random()), "ok": bool(i % 2)}
        for i in range(count)
    ]
    megabytes = len(pack(values, compress=False)) / 1e6
    methods = [
        measure("blob.pack/unpack", lambda: pack(values), unpack, megabytes, repeat),
        measure(
            "pickle.dumps/loads",
            lambda: pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL),
            pickle.loads,
            megabytes,
            repeat,
        ),
    ]
    return {
        "case": f"list of {count} small dicts",
        "blob_MB": round(megabytes, 3),
        "methods": methods,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 MB instead of 100 MB arrays")
    args = parser.parse_args()
    big = 10**6 if args.quick else 10**7 + 2_500_000  # float64 elements: 10 MB or 100 MB
    rng = np.random.default_rng(0)

    def random_bits(count: int) -> np.ndarray:
        # Uniformly random bit patterns: incompressible, so compression is tried and rejected.
        # (standard_normal data would still shrink by ~4% through the exponent bytes.)
        return np.frombuffer(rng.bytes(8 * count), dtype=np.float64).copy()

    cases = [
        array_case("random float64, 1 MB", random_bits(125_000), repeat=7),
        array_case(f"random float64, {big * 8 // 10**6} MB", random_bits(big), repeat=3),
        array_case(
            f"compressible float64 (rounded ramp), {big * 8 // 10**6} MB",
            np.round(np.linspace(0, 1000, big), 1),
            repeat=3,
        ),
        dicts_case(10_000, repeat=5),
    ]
    report = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "machine": platform.machine(),
        "cases": cases,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
