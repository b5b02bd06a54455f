"""Streaming cursors (:mod:`dj_backend_postgres.stream`): the statement's own result read in
chunks, the same rows as a buffered read, and the connection (and its transaction) usable after
an early stop, an error or another statement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import capabilities
from psycopg.pq import TransactionStatus

from dj_backend_postgres import stream
from dj_backend_postgres.stream import StreamCursor

from .conftest import Run

ROWS = 3000


@pytest.fixture(scope="module")
def table(backend: Any, run: Run, schemas: tuple[str, str]) -> str:
    """A table of ROWS rows: id, a bytea value of a size that varies, a number."""
    table_sql = backend.dialect.full_table_name(schemas[0], "streamed")
    run(f"CREATE TABLE {table_sql} (id integer PRIMARY KEY, data bytea, x double precision)")
    run(
        f"INSERT INTO {table_sql} SELECT g, decode(repeat(lpad(to_hex(g), 4, '0'), g %% 97), 'hex'), g / 7.0 "
        f"FROM generate_series(1, {ROWS}) AS g"
    )
    return table_sql


@pytest.fixture
def transaction(backend: Any, raw: Any, run: Run) -> Iterator[None]:
    run(backend.dialect.begin_sql())
    try:
        yield
    finally:
        run(backend.dialect.rollback_sql())
    assert raw.info.transaction_status == TransactionStatus.IDLE


def streamed(backend: Any, raw: Any, **kwargs: Any) -> Any:
    return backend.driver.typed_cursor(raw, ["integer", "bytea", "double precision"], **kwargs)


@pytest.mark.parametrize("typed", [True, False])
@pytest.mark.parametrize("single_rows", [False, True])
def test_rows_are_the_buffered_rows(
    backend: Any,
    raw: Any,
    run: Run,
    table: str,
    monkeypatch: pytest.MonkeyPatch,
    typed: bool,
    single_rows: bool,
) -> None:
    if single_rows:  # a libpq without chunked-rows mode streams row by row
        monkeypatch.setattr(capabilities, "has_stream_chunked", lambda check=False: False)
    sql = f"SELECT id, data, x FROM {table} ORDER BY id DESC"
    expected = run(sql)
    cursor = (
        streamed(backend, raw, streaming=True)
        if typed
        else backend.driver.cursor(raw, streaming=True)
    )
    with cursor:
        assert isinstance(cursor, StreamCursor)
        cursor.execute(sql, [])
        assert cursor._chunk == (1 if single_rows else stream.BYTEA_CHUNK_ROWS)
        assert [c.name for c in cursor.description] == ["id", "data", "x"]
        first = [cursor.fetchone(), *cursor.fetchmany(9)]
        rows = first + cursor.fetchmany(1000) + list(cursor)
        assert cursor.fetchone() is None and cursor.fetchmany(5) == [] and cursor.fetchall() == []
    assert rows == expected and type(rows[0][1]) is bytes
    assert raw.info.transaction_status == TransactionStatus.IDLE


def test_a_result_without_bytea_reads_as_text_in_large_chunks(
    backend: Any, raw: Any, run: Run, table: str
) -> None:
    sql = f"SELECT id, x FROM {table} WHERE id > %s ORDER BY id"
    with backend.driver.typed_cursor(raw, ["integer", "double precision"], streaming=True) as cur:
        cur.execute(sql, [10])
        assert cur._chunk == stream.CHUNK_ROWS and cur.pgresult.fformat(0) == 0
        assert cur.fetchall() == run(sql, [10])


@pytest.mark.parametrize("in_transaction", [False, True])
def test_an_early_close_keeps_the_connection_and_its_transaction(
    backend: Any, raw: Any, run: Run, table: str, in_transaction: bool
) -> None:
    if in_transaction:
        run(backend.dialect.begin_sql())
        run(f"UPDATE {table} SET x = -1 WHERE id = 1")
    try:
        with streamed(backend, raw, streaming=True) as cursor:
            cursor.execute(f"SELECT id, data, x FROM {table} ORDER BY id", [])
            assert [row[0] for row in cursor.fetchmany(20)] == list(range(1, 21))
        status = TransactionStatus.INTRANS if in_transaction else TransactionStatus.IDLE
        assert raw.info.transaction_status == status
        assert run(f"SELECT x FROM {table} WHERE id = 1") == [(-1.0 if in_transaction else 1 / 7,)]
    finally:
        if in_transaction:
            run(backend.dialect.rollback_sql())
    assert run(f"SELECT x FROM {table} WHERE id = 1") == [(1 / 7,)]


@pytest.mark.parametrize("in_transaction", [False, True])
def test_an_error_part_way_raises_as_a_buffered_read_does(
    backend: Any, raw: Any, run: Run, table: str, in_transaction: bool
) -> None:
    sql = f"SELECT id, data, 1 / (id - 2500) FROM {table} ORDER BY id"
    with pytest.raises(psycopg.errors.DivisionByZero) as buffered:
        run(sql)
    if in_transaction:
        run(backend.dialect.begin_sql())
    try:
        with streamed(backend, raw, streaming=True) as cursor:
            cursor.execute(sql, [])
            assert len(cursor.fetchmany(100)) == 100  # the error comes with a later chunk
            with pytest.raises(psycopg.errors.DivisionByZero) as streamed_error:
                cursor.fetchall()
        assert str(streamed_error.value) == str(buffered.value)
        status = TransactionStatus.INERROR if in_transaction else TransactionStatus.IDLE
        assert raw.info.transaction_status == status
    finally:
        if in_transaction:
            run(backend.dialect.rollback_sql())
    assert run("SELECT 1") == [(1,)]


def test_another_statement_finishes_an_open_stream(
    backend: Any, raw: Any, run: Run, table: str, transaction: None
) -> None:
    """A statement sent while a stream is open runs after the stream's rest is dropped; the
    stream then raises instead of ending early, and the transaction goes on."""
    cursor = streamed(backend, raw, streaming=True)
    cursor.execute(f"SELECT id, data, x FROM {table} ORDER BY id", [])
    assert len(cursor.fetchmany(10)) == 10
    assert run(f"SELECT count(*) FROM {table}") == [(ROWS,)]
    assert raw.info.transaction_status == TransactionStatus.INTRANS
    with pytest.raises(psycopg.InterfaceError, match="discarded"):
        cursor.fetchmany(10)
    cursor.close()
    another = streamed(backend, raw, streaming=True)
    another.execute(f"SELECT id, data, x FROM {table} WHERE id <= %s ORDER BY id", [5])
    assert backend.driver.ping(raw)
    with pytest.raises(psycopg.InterfaceError):
        another.fetchall()


def test_a_cursor_runs_statement_after_statement(
    backend: Any, raw: Any, run: Run, table: str
) -> None:
    sql = f"SELECT id, data, x FROM {table} WHERE id <= %s ORDER BY id"
    with streamed(backend, raw, streaming=True) as cursor:
        cursor.execute(sql, [50])
        assert len(cursor.fetchmany(3)) == 3
        cursor.execute(sql, [7])  # the first result's rest is dropped
        assert cursor.fetchall() == run(sql, [7])
        cursor.execute(f"SELECT id, data, x FROM {table} WHERE id < 0", [])
        assert cursor.fetchall() == [] and cursor.fetchone() is None
