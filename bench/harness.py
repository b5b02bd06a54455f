"""Shared helpers of the benchmark scripts (not tests): timing, the codec on its own and
raw-driver reads."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(run: Callable[[], object], setup: Callable[[], object] | None = None) -> float:
    """Seconds of one call of ``run`` (``setup`` runs untimed before it)."""
    if setup is not None:
        setup()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def times_of(
    repeat: int, run: Callable[[], object], setup: Callable[[], object] | None = None
) -> list[float]:
    """Seconds of each of ``repeat`` timed calls of ``run`` (``setup`` runs untimed before each)."""
    return [timed(run, setup) for _ in range(repeat)]


def best_of(
    repeat: int, run: Callable[[], object], setup: Callable[[], object] | None = None
) -> float:
    """The fastest of ``repeat`` timed calls of ``run`` (``setup`` runs untimed before each)."""
    return min(times_of(repeat, run, setup))


def median_of(
    repeat: int, run: Callable[[], object], setup: Callable[[], object] | None = None
) -> float:
    """The median of ``repeat`` timed calls of ``run``: on a machine other work keeps busy,
    steadier than the fastest call."""
    return statistics.median(times_of(repeat, run, setup))


def blob_codec_times(arrays: list[Any]) -> tuple[list[bytes], float, float]:
    """The ``<blob>`` codec alone, on one thread: the packed blobs of ``arrays`` and the
    seconds spent packing them all and unpacking them all."""
    import datajoint as dj

    codec = dj.get_codec("blob")
    start = time.perf_counter()
    packed = [codec.encode(a) for a in arrays]
    pack_s = time.perf_counter() - start
    start = time.perf_counter()
    for b in packed:
        codec.decode(b)
    return packed, pack_s, time.perf_counter() - start


def raw_rows(conn: Any, sql: str, params: Any = (), *, as_dict: bool = False) -> list:
    """Every row of ``sql`` through the driver's own cursor (no DataJoint in the path)."""
    cursor = conn.backend.driver.cursor(conn._raw, as_dict=as_dict)
    cursor.execute(sql, list(params))
    rows = cursor.fetchall()
    cursor.close()
    return rows


def per_backend(backends: str, bench: Callable[[str], dict]) -> dict:
    """``bench(backend)`` for each backend that can be reached, else the reason it was skipped."""
    # imported here: best_of also runs under another interpreter's datajoint (--compare)
    from datajoint.testing import servers

    results = {}
    for backend in backends.split(","):
        reason = servers.unavailable_reason(backend)
        results[backend] = {"skipped": reason} if reason else bench(backend)
    return results
