"""populate() beside the same work written with the raw driver, per backend, in the same run.

Not a test: ``.venv/bin/python bench/bench_populate.py [--backends a,b] [--keys N] [--repeat N]
[--slices N]``.

The table has ``--keys`` (default 2,000) parent rows; its make fetches its parent row and inserts
one row. The raw side inserts into a table of the same definition (foreign key to the parent
included), so that both do the same work on the server. Measured, best of ``--repeat`` with the
two sides alternating:

* ``direct``: ``populate()`` vs, per key, ``SELECT`` parent + ``INSERT`` row in one transaction.
* ``reserve``: ``populate(reserve_jobs=True, refresh=False)`` on a refreshed jobs table vs the same
  raw pattern plus the conditional ``UPDATE`` that reserves a job row (jobs filled untimed on both
  sides).

Each repeat takes the keys in ``--slices`` (default 8) consecutive ranges and times the two sides
slice by slice, alternating who goes first (DataJoint: one ``populate()`` call restricted to the
slice, its per-call queries included), so that a machine whose speed drifts within seconds slows
both alike. Prints JSON: seconds, milliseconds per key, the ratio DataJoint / raw of the best
times and the median of the ratios of each repeat, and the round trips per key besides the make's
own (the make itself sends its SELECT and INSERT; BEGIN sent with the already-made check counts
once; after a commit that chains the next transaction, as in direct mode on MySQL/MariaDB and
PostgreSQL, no BEGIN is sent). The round trips are counted in one more, untimed, pass over the
slices, so that counting them does not slow the timed DataJoint runs.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness import per_backend, timed

import datajoint as dj
from datajoint.populate import autopopulate
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema


class StatementCounter:
    """Counts the round trips a connection makes while :meth:`counting`, and separately those
    made inside make(). The timed runs go without it: it would slow the DataJoint side alone.

    BEGIN sent together with the already-made check (``capabilities.begin_with_query``) is one
    round trip carrying two statements: it counts once.
    """

    SENDS = ("_execute", "_begin_with_query")

    def __init__(self, conn) -> None:
        self.conn = conn
        self.total = 0
        self.in_make = 0
        self.making = False
        self.recorded: list[list[tuple[str, str, list]]] | None = None
        self.recorded_keys: list[dict] = []

    @contextlib.contextmanager
    def counting(self):
        """Count the connection's round trips until the block ends."""
        self.total = self.in_make = 0
        for name in self.SENDS:
            setattr(self.conn, name, self._counting(getattr(self.conn, name)))
        try:
            yield
        finally:
            for name in self.SENDS:
                delattr(self.conn, name)  # the class's method again

    def _counting(self, send):
        name = send.__name__

        def counting(*args, **kwargs):
            self.total += 1
            self.in_make += self.making
            if self.recorded is not None:
                self.recorded[-1].append((name, args[0], list(args[1])))
            return send(*args, **kwargs)

        return counting

    @contextlib.contextmanager
    def recording(self):
        """Count as :meth:`counting` does, and keep what each key's ``populate_one`` sent:
        :attr:`recorded` holds one list of ``(send, sql, params)`` per key."""
        populate_one = autopopulate.populate_one
        self.recorded, self.recorded_keys = [[]], []

        def recording_one(*args, **kwargs):
            self.recorded.append([])
            self.recorded_keys.append(args[1])
            try:
                return populate_one(*args, **kwargs)
            finally:
                self.recorded.append([])  # what comes after the key is not the key's

        autopopulate.populate_one = recording_one
        try:
            with self.counting():
                yield
        finally:
            autopopulate.populate_one = populate_one

    def key_statements(self) -> tuple[list[tuple[str, str, list]], int]:
        """What populate_one sent for the middle key of the last :meth:`recording` (a key in
        the steady state: after the first key's BEGIN, when commits chain), and that key's
        value."""
        middle = len(self.recorded_keys) // 2
        (value,) = self.recorded_keys[middle].values()
        return self.recorded[1::2][middle], value


def replay(conn, statements: list[tuple[str, str, list]], key: int, keys: list[int]) -> None:
    """``statements``, recorded for ``key``, sent again for each of ``keys`` through the driver's
    own cursor, each int parameter equal to ``key`` replaced by the key's value: the cost of the
    statements DataJoint sends per key, without DataJoint's Python."""
    driver, raw, dialect = conn.backend.driver, conn._raw, conn.dialect
    cursor = driver.cursor(raw)
    for value in keys:
        for send, sql, params in statements:
            params = [value if type(p) is int and p == key else p for p in params]
            if send == "_begin_with_query":
                driver.begin_with_query(raw, dialect.begin_sql(), sql, params).fetchall()
            else:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()
    if conn.backend.name == "sqlite":
        if raw.in_transaction:
            raw.execute("COMMIT")
    else:
        cursor.execute(dialect.commit_sql())  # a chained commit leaves a transaction open


def declare(schema, counter: StatementCounter):
    @schema
    class Parent(dj.Manual):
        definition = """
        parent_id : int32
        ---
        value : float64
        """

    @schema
    class Child(dj.Computed):
        definition = """
        -> Parent
        ---
        doubled : float64
        """

        def make(self, key):
            counter.making = True
            try:
                value = (Parent & key).fetch1("value")
                self.insert1({**key, "doubled": 2 * value})
            finally:
                counter.making = False

    @schema
    class RawChild(dj.Manual):  # the same table as Child, foreign key included
        definition = """
        -> Parent
        ---
        doubled : float64
        """

    @schema
    class RawJob(dj.Manual):
        definition = """
        parent_id : int32
        ---
        status : varchar(16)
        """

    return Parent, Child, RawChild, RawJob


def raw_populate(conn, tables: dict[str, str], keys: list[int], reserve: bool) -> None:
    """The hand-written populate: per key (an optional job reservation, then) SELECT + INSERT
    in one transaction, through the driver's own cursor."""
    d, ph = conn.dialect, conn.dialect.placeholder
    select = (
        f"SELECT {d.quote('value')} FROM {tables['parent']} WHERE {d.quote('parent_id')} = {ph}"
    )
    insert = f"INSERT INTO {tables['child']} ({d.quote('parent_id')}, {d.quote('doubled')}) VALUES ({ph}, {ph})"
    update = (
        f"UPDATE {tables['job']} SET {d.quote('status')} = {ph} "
        f"WHERE {d.quote('parent_id')} = {ph} AND {d.quote('status')} = {ph}"
    )
    cursor = conn.backend.driver.cursor(conn._raw)
    begin, commit = d.begin_sql(), d.commit_sql()
    for key in keys:
        if reserve:
            cursor.execute(update, ["reserved", key, "pending"])
            if cursor.rowcount != 1:
                continue
        cursor.execute(begin)
        cursor.execute(select, [key])
        (value,) = cursor.fetchone()
        cursor.execute(insert, [key, 2 * value])
        cursor.execute(commit)


def compare(
    repeat: int,
    dj_setup: Callable[[], None],
    dj_slices: list[Callable[[], object]],
    raw_setup: Callable[[], None],
    raw_slices: list[Callable[[], object]],
) -> tuple[float, float, float]:
    """Best of ``repeat`` per side and the median of the ``repeat`` ratios DataJoint / raw.

    Each repeat sets both sides up (untimed), then times them slice by slice, alternating who
    goes first, and adds up each side's slices."""
    dj_times, raw_times = [], []
    for i in range(repeat):
        dj_setup()
        raw_setup()
        dj_total = raw_total = 0.0
        for j, (dj_run, raw_run) in enumerate(zip(dj_slices, raw_slices, strict=True)):
            if (i + j) % 2:
                raw_total += timed(raw_run)
                dj_total += timed(dj_run)
            else:
                dj_total += timed(dj_run)
                raw_total += timed(raw_run)
        dj_times.append(dj_total)
        raw_times.append(raw_total)
    ratios = [d / r for d, r in zip(dj_times, raw_times, strict=True)]
    return min(dj_times), min(raw_times), statistics.median(ratios)


def bench_backend(backend: str, n_keys: int, repeat: int, slices: int) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    counter = StatementCounter(conn)
    try:
        with throwaway_schema(conn, prefix="djbench") as schema:
            Parent, Child, RawChild, RawJob = declare(schema, counter)
            Parent.insert([{"parent_id": i, "value": i / 3} for i in range(n_keys)])
            tables = {
                "parent": Parent.full_table_name,
                "child": RawChild.full_table_name,
                "job": RawJob.full_table_name,
            }
            keys = list(range(n_keys))
            bounds = [n_keys * j // slices for j in range(slices + 1)]
            ranges = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
            jobs = Child.jobs
            results = {}

            def clear_raw(reserve: bool) -> Callable[[], None]:
                def run() -> None:
                    RawChild.delete_quick()
                    RawJob.delete_quick()
                    if reserve:
                        RawJob.insert([{"parent_id": k, "status": "pending"} for k in keys])

                return run

            def clear_dj(reserve: bool) -> Callable[[], None]:
                def run() -> None:
                    Child.delete_quick()
                    jobs.delete()
                    if reserve:
                        jobs.refresh(delay=-1)

                return run

            for mode, reserve in (("direct", False), ("reserve", True)):
                dj_slices = [
                    functools.partial(
                        Child.populate,
                        f"parent_id >= {a} AND parent_id < {b}",
                        reserve_jobs=reserve,
                        refresh=False,
                    )
                    for a, b in ranges
                ]
                raw_slices = [
                    functools.partial(raw_populate, conn, tables, keys[a:b], reserve)
                    for a, b in ranges
                ]
                dj_time, raw_time, median_ratio = compare(
                    repeat, clear_dj(reserve), dj_slices, clear_raw(reserve), raw_slices
                )
                assert len(Child()) == len(RawChild()) == n_keys
                clear_dj(reserve)()
                with counter.recording():  # untimed: the same slices, their round trips counted
                    for run in dj_slices:
                        run()
                statements, key = counter.key_statements()
                replayed = min(
                    timed(functools.partial(replay, conn, statements, key, keys), clear_dj(reserve))
                    for _ in range(repeat)
                )
                results[mode] = {
                    "datajoint_s": round(dj_time, 4),
                    "raw_s": round(raw_time, 4),
                    "datajoint_ms_per_key": round(1000 * dj_time / n_keys, 3),
                    "raw_ms_per_key": round(1000 * raw_time / n_keys, 3),
                    "ratio": round(dj_time / raw_time, 2),
                    "median_ratio": round(median_ratio, 2),
                    "statements_per_key": round((counter.total - counter.in_make) / n_keys, 2),
                    "make_statements_per_key": round(counter.in_make / n_keys, 2),
                    "replayed_s": round(replayed, 4),
                    "replayed_ratio": round(replayed / raw_time, 2),
                }
    finally:
        conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    dj.config["safemode"] = False
    results = per_backend(
        args.backends, lambda b: bench_backend(b, args.keys, args.repeat, args.slices)
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
