"""Encoding and decoding many codec values of a column on several threads.

zlib (the blob format's compression) releases the GIL, so packing or unpacking a column of
large blobs scales with the cores. Only a column with several large values uses the codec pool
(:func:`worth_parallel`): small rows pay nothing. Codecs that move objects to or from a store
wait on the network rather than the CPU: their values run on the I/O pool (:func:`io_pool`,
more threads than cores), whatever their size. Results keep the input order, so the bytes
are those of the single-threaded path. Every task runs in a copy of the caller's context
(:mod:`contextvars`), so the journal of the insert call in progress sees its writes. A
multi-row insert of large blobs uses :func:`pipelined_map`, which returns at once: the insert
sends each chunk while the pool packs the next ones.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: a value at least this large (bytes) is worth handing to another thread
LARGE_VALUE = 64 << 10
#: a column needs this many large values before the pool is used
MIN_LARGE_VALUES = 2
#: an upper bound on the threads, whatever the number of cores
MAX_WORKERS = 4
#: threads of the I/O pool (store transfers), whatever the number of cores
IO_WORKERS = 16
#: the machine's cores, counted once per process (``os.cpu_count()`` reads the system each call)
CORES = os.cpu_count() or 1

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_io_pool: ThreadPoolExecutor | None = None
_io_pool_pid = 0


def workers() -> int:
    """The pool's size: one thread per core, at most :data:`MAX_WORKERS`."""
    return min(MAX_WORKERS, CORES)


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


def io_pool() -> ThreadPoolExecutor:
    """The process-wide pool of :data:`IO_WORKERS` threads for store transfers, created on
    first use (and again in a forked child)."""
    global _io_pool, _io_pool_pid
    with _lock:
        if _io_pool is None or _io_pool_pid != os.getpid():
            _io_pool = ThreadPoolExecutor(IO_WORKERS, thread_name_prefix="dj-io")
            _io_pool_pid = os.getpid()
        return _io_pool


def ordered_map(function: Callable[[T], R], items: Iterable[T], *, io: bool = False) -> list[R]:
    """``[function(x) for x in items]`` computed on the codec pool (the I/O pool with ``io``).

    Each call runs in a copy of the caller's context. The error of the first item that fails
    (in input order) is raised once no call is running any more: the calls not started yet are
    cancelled, so nothing keeps writing behind the caller's back. Called from a thread of that
    pool, it runs the calls in the caller's thread (waiting on its own pool could deadlock).
    """
    if _on_pool("dj-io" if io else "dj-codec"):
        return [function(item) for item in items]
    executor = io_pool() if io else pool()
    context = contextvars.copy_context()
    futures: list[Future[R]] = [
        executor.submit(context.copy().run, function, item) for item in items
    ]
    try:
        return [future.result() for future in futures]
    except BaseException:
        cancel_and_wait(futures)
        raise


#: input bytes a pipelined map keeps submitted ahead of its consumer
AHEAD_BYTES = 32 << 20


class Pending:
    """The result of one item of a :func:`pipelined_map`, computed on the pool; a placeholder
    (in an insert's rows, for example) until :meth:`result` is called, once."""

    __slots__ = ("_index", "_run")

    def __init__(self, run: _Pipeline, index: int) -> None:
        self._run, self._index = run, index

    def result(self) -> Any:
        """The item's result (waiting for it); the first call submits later items as well."""
        return self._run.result(self._index)


class _Pipeline:
    """``function`` over ``items`` on the pool, each call in a copy of the creator's context,
    submitted in order while the submitted and not yet collected items hold less than
    :data:`AHEAD_BYTES` of input (and at least one item per worker beyond the one asked
    for)."""

    def __init__(
        self, function: Callable[[Any], Any], items: list[Any], size: Callable[[Any], int]
    ) -> None:
        self.function, self.items = function, items
        self.futures: list[Future | None] = [None] * len(items)
        self.sizes = [size(item) for item in items]
        self.submitted = 0
        self.ahead = 0  # input bytes submitted and not collected
        # on a thread of the pool itself, waiting on the pool could deadlock: run inline
        self.inline = on_codec_pool()
        self.executor = pool()
        self.context = contextvars.copy_context()
        self.fill(0)

    def fill(self, index: int) -> None:
        lead = index + workers()
        while self.submitted < len(self.items) and (
            self.submitted <= lead or self.ahead < AHEAD_BYTES
        ):
            n = self.submitted
            if self.inline:
                future: Future = Future()
                try:
                    future.set_result(self.function(self.items[n]))
                except Exception as error:
                    future.set_exception(error)
            else:
                future = self.executor.submit(self.context.copy().run, self.function, self.items[n])
            self.futures[n] = future
            self.items[n] = None  # the pool holds the item now
            self.ahead += self.sizes[n]
            self.submitted = n + 1

    def result(self, index: int) -> Any:
        self.fill(index)
        future = self.futures[index]
        if future is None:
            raise RuntimeError(f"item {index} of a pipelined map was collected twice")
        self.futures[index] = None
        self.ahead -= self.sizes[index]
        self.fill(index)
        return future.result()


def pipelined_map(
    function: Callable[[T], R], items: Iterable[T], size: Callable[[T], int] = value_size
) -> list[Pending]:
    """``function`` over ``items`` on the pool, one :class:`Pending` per item, in order.

    Unlike :func:`ordered_map` the call returns at once: the first items are submitted, and
    collecting a result submits more, so producing the results overlaps with using them (an
    insert sends one chunk while the next is packed) and at most about :data:`AHEAD_BYTES` of
    input (``size`` of an item, in bytes) is being worked on ahead of the consumer. An item's
    error is raised by its :meth:`Pending.result`.
    """
    run = _Pipeline(function, list(items), size)
    return [Pending(run, i) for i in range(len(run.items))]


def _on_pool(prefix: str) -> bool:
    return threading.current_thread().name.startswith(prefix)


def on_codec_pool() -> bool:
    """Whether the calling thread is one of the codec pool's (waiting on that pool from one of
    its own threads could deadlock)."""
    return _on_pool("dj-codec")


def submit_in_context(
    context: contextvars.Context, function: Callable[[T], R], item: T
) -> Future[R]:
    """``function(item)`` submitted to the codec pool, run in a copy of ``context``."""
    return pool().submit(context.copy().run, function, item)


def cancel_and_wait(futures: Iterable[Future[Any]]) -> None:
    """Cancel the calls not started yet and wait for the running ones, so that nothing keeps
    running behind a caller that gives up (on an error, say)."""
    futures = list(futures)
    for future in futures:
        future.cancel()
    wait(futures)


def several_workers() -> bool:
    """Whether the caller may spread work over a codec pool of several threads: ``workers()``
    above one and the caller not one of the pool's threads. Cheap enough for every fetch."""
    return workers() >= 2 and not on_codec_pool()
