"""Throughput of the blob serializer (SPEC §5) beside numpy, zlib and pickle baselines.

Not a test. Run ``python bench/bench_blob.py [--quick]``; prints one JSON document.

Cases: random-bit float64 arrays of 1 MB and 100 MB (compression is attempted and rejected), a
compressible 100 MB float64 array, and a list of 10k small dicts. For each case and method the
best of a few runs is reported as seconds and MB/s, where MB is the size of the value's
uncompressed blob (1 MB = 10**6 bytes) so that all methods share one yardstick.

``--compare PYTHON`` also times ``datajoint.blob.pack``/``unpack`` of the ``datajoint`` that
``PYTHON`` imports (e.g. DataJoint 2.3.5 in a throwaway venv) on the same values, in a
subprocess running this file, and reports its times, ``speedup`` (its time / ours) and
``same_bytes`` (whether both produce identical blobs).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import pickle
import platform
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np


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


#: the serializer timed; ``main`` sets it (this project's, or with ``--worker`` the other's)
pack: Callable[..., bytes]
unpack: Callable[..., Any]


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


def dicts_case(label: str, values: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
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
        "case": label,
        "blob_MB": round(megabytes, 3),
        "methods": methods,
    }


def case_values(quick: bool) -> list[tuple[str, Any, int]]:
    """(label, value, repeat) of each case; the same values in every interpreter."""
    big = 10**6 if quick else 10**7 + 2_500_000  # float64 elements: 10 MB or 100 MB
    rng = np.random.default_rng(0)

    def random_bits(count: int) -> np.ndarray:
        # Uniformly random bit patterns: incompressible, so compression is tried and rejected.
        # (standard_normal data would still shrink by ~4% through the exponent bytes.)
        return np.frombuffer(rng.bytes(8 * count), dtype=np.float64).copy()

    dicts_rng = np.random.default_rng(2)
    dicts = [
        {"id": i, "name": f"item-{i}", "score": float(dicts_rng.random()), "ok": bool(i % 2)}
        for i in range(10_000)
    ]
    return [
        ("random float64, 1 MB", random_bits(125_000), 7),
        (f"random float64, {big * 8 // 10**6} MB", random_bits(big), 3),
        (
            f"compressible float64 (rounded ramp), {big * 8 // 10**6} MB",
            np.round(np.linspace(0, 1000, big), 1),
            3,
        ),
        ("list of 10000 small dicts", dicts, 5),
    ]


def worker(quick: bool) -> list[dict[str, Any]]:
    """``--compare``'s subprocess: pack/unpack times and a digest of each case's blob."""
    out = []
    for label, value, repeat in case_values(quick):
        pack_s, blob = best_time(lambda value=value: pack(value), repeat)
        unpack_s, _ = best_time(lambda blob=blob: unpack(blob), repeat)
        digest = hashlib.sha256(blob).hexdigest()
        out.append({"case": label, "pack_s": pack_s, "unpack_s": unpack_s, "sha256": digest})
    return out


def compare(python: str, quick: bool, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Run :func:`worker` under ``python`` and add its figures to ``cases``."""
    command = [python, __file__, "--worker", *(["--quick"] if quick else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"failed": done.stderr.strip().splitlines()[-1:]}
    other = json.loads(done.stdout.strip().splitlines()[-1])
    for case, theirs in zip(cases, other["cases"], strict=True):
        ours = case["methods"][0]  # blob.pack/unpack
        case["other"] = {
            "pack_s": round(theirs["pack_s"], 6),
            "unpack_s": round(theirs["unpack_s"], 6),
            "speedup_pack": round(theirs["pack_s"] / ours["pack_s"], 3),
            "speedup_unpack": round(theirs["unpack_s"] / ours["unpack_s"], 3),
            "same_bytes": theirs["sha256"] == case.pop("sha256"),
        }
    return {"version": other["version"]}


def main() -> None:
    global pack, unpack
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 MB instead of 100 MB arrays")
    parser.add_argument("--compare", metavar="PYTHON", help="another interpreter to compare")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # inside --compare's subprocess: the other datajoint's serializer
        import datajoint
        from datajoint import blob as other

        pack, unpack = other.pack, other.unpack
        print(json.dumps({"version": datajoint.__version__, "cases": worker(args.quick)}))
        return
    from dj_codecs_builtin import blob

    pack, unpack = blob.pack, blob.unpack
    cases = []
    for label, value, repeat in case_values(args.quick):
        make = dicts_case if isinstance(value, list) else array_case
        case = make(label, value, repeat)
        case["sha256"] = hashlib.sha256(pack(value)).hexdigest()
        cases.append(case)
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "machine": platform.machine(),
    }
    if args.compare:
        report["compared"] = compare(args.compare, args.quick, cases)
    for case in cases:
        case.pop("sha256", None)
    report["cases"] = cases
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
