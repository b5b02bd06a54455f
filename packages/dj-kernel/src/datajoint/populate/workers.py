"""``populate(processes=n)``: the per-key step in a pool of worker processes (SPEC §9).

The parent closes its connection before the pool starts, so that no child shares its socket;
each child opens its own connection when it starts and runs :func:`populate_one` for one key per
task. Workers are forked where the platform allows it: the prepared run (table, make, jobs) is
then inherited rather than pickled. The parent reconnects when the pool is done.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from typing import Any

from .autopopulate import PopulateRun, populate_one, progress_bar

#: the run a worker process serves (set once per child by :func:`_start_worker`)
_worker_run: PopulateRun | None = None


def populate_in_pool(
    run: PopulateRun, keys: list[dict], processes: int, display_progress: bool
) -> Iterator[tuple[str, Any]]:
    """Yield the outcome of each key as the pool's workers finish them."""
    conn = run.table.connection
    conn.close()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    try:
        pool = context.Pool(processes, initializer=_start_worker, initargs=(run,))
        try:
            outcomes: Iterable[tuple[str, Any]] = pool.imap(_populate_task, keys)
            if display_progress:
                outcomes = progress_bar(outcomes, type(run.table).__name__, total=len(keys))
            for outcome in outcomes:
                yield _reraised(outcome)
        except BaseException:  # stop the other workers' keys too
            pool.terminate()
            pool.join()
            raise
        pool.close()
        pool.join()
    finally:
        conn.connect()


def _start_worker(run: PopulateRun) -> None:
    global _worker_run
    _worker_run = run
    # this process only makes keys: the make's inserts are let in until it ends
    type(run.table)._allow_insert = True
    run.table.connection.connect()


def _populate_task(key: dict) -> tuple[str, Any]:
    """One key in a worker. A SystemExit or KeyboardInterrupt would kill the worker and leave the
    pool waiting for this task forever, so it travels back as a result and the parent raises it."""
    assert _worker_run is not None
    try:
        return populate_one(_worker_run, key)
    except (SystemExit, KeyboardInterrupt) as error:
        return "raise", (type(error).__name__, str(error))


def _reraised(outcome: tuple[str, Any]) -> tuple[str, Any]:
    status, entry = outcome
    if status == "raise":
        kind, message = entry
        raise (SystemExit if kind == "SystemExit" else KeyboardInterrupt)(message)
    return outcome
