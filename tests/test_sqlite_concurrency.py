"""Several processes share one SQLite file: WAL and a busy timeout keep "database is locked"
from reaching the user (dj-backend-sqlite README, "Several processes")."""

from __future__ import annotations

import multiprocessing

import pytest

from datajoint.testing import servers

ROWS_PER_WORKER = 15
WORKERS = 4


def _declare(schema):
    import datajoint as dj

    @schema
    class Shared(dj.Manual):
        definition = """
        worker : int16
        item : int32
        ---
        seen : int64   # rows this worker could read just before writing this one
        """

    return Shared


def _work(path: str, schema_name: str, worker: int) -> str:
    """Insert rows one transaction at a time, reading the table before each write."""
    import datajoint as dj

    try:
        connection = dj.Connection(backend="sqlite", database_name=path)
        table = _declare(dj.Schema(schema_name, connection=connection))
        for item in range(ROWS_PER_WORKER):
            with connection.transaction:
                seen = len(table())
                table.insert1({"worker": worker, "item": item, "seen": seen})
            assert len(table & {"worker": worker}) == item + 1
        connection.close()
    except Exception as error:  # reported to the parent, which fails the test with it
        return f"worker {worker}: {type(error).__name__}: {error}"
    return ""


@pytest.mark.skipif("sqlite" not in servers.selected_backends(), reason="sqlite deselected")
def test_four_processes_write_and_read_one_file(tmp_path) -> None:
    import datajoint as dj

    path = str(tmp_path / "shared.sqlite3")
    connection = dj.Connection(backend="sqlite", database_name=path)
    schema = dj.Schema("shared", connection=connection)
    table = _declare(schema)
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        failures = pool.starmap(_work, [(path, "shared", w) for w in range(WORKERS)])
    assert [f for f in failures if f] == []
    assert len(table) == WORKERS * ROWS_PER_WORKER
    assert connection.query("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
