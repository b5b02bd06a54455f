"""Encoding and decoding many large codec values of a column on several threads.

zlib (the blob format's compression) releases the GIL, so packing or unpacking a column of
large blobs scales with the cores. Only a column with several large values uses the pool
(:func:`worth_parallel`): small rows pay nothing. Results keep the input order, so the bytes
are those of the single-threaded path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: a value at least this large (bytes) is worth handing to another thread
LARGE_VALUE = 64 << 10
#: a column needs this many large values before the pool is used
MIN_LARGE_VALUES = 2
#: an upper bound on the threads, whatever the number of cores
MAX_WORKERS = 4

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def workers() -> int:
    """The pool's size: one thread per core, at most :data:`MAX_WORKERS`."""
    return min(MAX_WORKERS, os.cpu_count() or 1)


def value_size(value: Any) -> int:
    """The size in bytes of an array, a buffer or a string value (0 for anything else)."""
    nbytes = getattr(value, "nbytes", None)  # numpy arrays and memoryviews
    if isinstance(nbytes, int):
        return nbytes
    if isinstance(value, bytes | bytearray | str):
        return len(value)
    return 0


def worth_parallel(values: Iterable[Any]) -> bool:
    """Whether ``values`` hold enough large ones to spread over threads (and there are cores)."""
    if workers() < 2:
        return False
    large = 0
    for value in values:
        if value_size(value) >= LARGE_VALUE:
            large += 1
            if large >= MIN_LARGE_VALUES:
                return True
    return False


def pool() -> ThreadPoolExecutor:
    """The process-wide pool, created on first use (and again in a forked child, whose copy of
    the parent's threads does not exist)."""
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(workers(), thread_name_prefix="dj-codec")
            _pool_pid = os.getpid()
        return _pool


def ordered_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(x) for x in items]`` computed on the pool; the first error is raised."""
    return list(pool().map(function, items))
