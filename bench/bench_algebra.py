"""Query algebra: compile time per operator, and query execution beside hand-written SQL.

Not a test: ``.venv/bin/python bench/bench_algebra.py [--backends a,b] [--rows N]``. Prints JSON:
the time to build and compile a 10-operator expression (per operator), and for a 3-table join, an
aggregation and a restriction by 1,000 dicts, the DataJoint time beside the same SQL written by
hand and run through the raw driver in the same run, with their ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from harness import best_of, per_backend, raw_rows

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema


def declare(schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int32
        ---
        species : varchar(20)
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int32
        ---
        duration : float64
        """

    @schema
    class Trial(dj.Manual):
        definition = """
        -> Session
        trial : int32
        ---
        rt : float64
        """

    return Subject, Session, Trial


def ten_operators(Subject, Session, Trial):
    q = Trial & "rt > 0.1"
    q = q * Session
    q = q.proj("rt", "duration", dur2="duration * 2")
    q = q & "dur2 > 1"
    q = q * Subject
    q = q - {"subject_id": 3}
    q = q.proj("rt", "dur2")
    q = Session.aggr(q, n="count(*)", mean_rt="avg(rt)")
    q = q & "n > 0"
    return q & dj.Top(100, "n DESC")


def bench_backend(backend: str, rows: int, repeat: int) -> dict:
    conn = make_connection(backend, Path(tempfile.mkdtemp()) / "bench.sqlite3")
    out: dict = {}
    with throwaway_schema(conn, prefix="djbench") as schema:
        Subject, Session, Trial = declare(schema)
        n_subjects = max(rows // 100, 10)
        Subject.insert(
            {"subject_id": i, "species": "mouse" if i % 2 else "rat"} for i in range(n_subjects)
        )
        Session.insert(
            {"subject_id": i, "session": s, "duration": 1.0 + s}
            for i in range(n_subjects)
            for s in range(10)
        )
        Trial.insert(
            {"subject_id": i, "session": s, "trial": t, "rt": (i * 7 + s * 3 + t) % 100 / 100}
            for i in range(n_subjects)
            for s in range(10)
            for t in range(10)
        )
        n_ops = 10
        compile_time = best_of(
            repeat * 20,
            lambda: conn.dialect.render(ten_operators(Subject, Session, Trial).make_select()),
        )
        out["compile_10_operators_ms"] = compile_time * 1000
        out["compile_per_operator_ms"] = compile_time * 1000 / n_ops
        q = conn.dialect.quote
        subject = conn.dialect.full_table_name(schema.database, "subject")
        session = conn.dialect.full_table_name(schema.database, "session")
        trial = conn.dialect.full_table_name(schema.database, "trial")
        ph = conn.dialect.placeholder
        cases = {
            "join_3_tables": (
                lambda: (Trial * Session * Subject).to_dicts(),
                f"SELECT {q('subject_id')}, {q('session')}, {q('trial')}, {q('rt')}, "
                f"{q('duration')}, {q('species')} FROM {trial} JOIN {session} "
                f"USING ({q('subject_id')}, {q('session')}) JOIN {subject} USING ({q('subject_id')})",
                (),
            ),
            "aggregation": (
                lambda: Session.aggr(Trial, n="count(*)", mean_rt="avg(rt)").to_dicts(),
                f"SELECT {q('subject_id')}, {q('session')}, count(*) AS n, avg(rt) AS mean_rt "
                f"FROM {session} LEFT JOIN {trial} USING ({q('subject_id')}, {q('session')}) "
                f"GROUP BY {q('subject_id')}, {q('session')}",
                (),
            ),
        }
        keys = [
            {"subject_id": i % n_subjects, "session": i % 10, "trial": i % 7} for i in range(1000)
        ]
        flat = [v for k in keys for v in (k["subject_id"], k["session"], k["trial"])]
        row = "(" + ", ".join([ph] * 3) + ")"
        condition = (
            f"({q('subject_id')}, {q('session')}, {q('trial')}) IN ({', '.join([row] * 1000)})"
        )
        cases["restrict_by_1000_dicts"] = (
            lambda: (Trial & keys).to_dicts(),
            f"SELECT {q('subject_id')}, {q('session')}, {q('trial')}, {q('rt')} FROM {trial} WHERE {condition}",
            flat,
        )
        for name, (dj_run, sql, params) in cases.items():
            dj_time = best_of(repeat, dj_run)
            raw_time = best_of(repeat, lambda sql=sql, params=params: raw_rows(conn, sql, params))
            out[name] = {"datajoint_s": dj_time, "raw_s": raw_time, "ratio": dj_time / raw_time}
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="trials per 100 subjects")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default=",".join(servers.selected_backends()))
    args = parser.parse_args()
    results = per_backend(
        args.backends, lambda backend: bench_backend(backend, args.rows, args.repeat)
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
