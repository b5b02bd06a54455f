"""Live tests of the driver and the error translation against the PostgreSQL test server."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from datajoint import errors
from datajoint.testing import servers

from .conftest import Run, make_runner

pytestmark = pytest.mark.backend


def test_error_translation(backend: Any, run: Run, raw: Any, declared: tuple[str, str]) -> None:
    up, down = declared
    d, translate = backend.dialect, backend.errors.translate
    subject = d.full_table_name(up, "subject")

    def provoke(sql: str, params: Sequence[Any] = ()) -> BaseException | None:
        try:
            run(sql, params)
        except psycopg.Error as error:
            return translate(error, sql)
        raise AssertionError(f"no error from {sql}")

    run(f"INSERT INTO {subject} (lab, subject_id) VALUES (%s, %s) ON CONFLICT DO NOTHING", ["E", 1])
    assert isinstance(
        provoke(f"INSERT INTO {subject} (lab, subject_id) VALUES ('E', 1)"), errors.DuplicateError
    )
    session = d.full_table_name(down, "_session")
    assert isinstance(
        provoke(f"INSERT INTO {session} (subject_id, lab, session) VALUES (77, 'none', 1)"),
        errors.IntegrityError,
    )
    assert isinstance(
        provoke(f"INSERT INTO {subject} (lab) VALUES ('E')"), errors.MissingAttributeError
    )
    syntax = provoke("SELEC 1")
    assert isinstance(syntax, errors.QuerySyntaxError) and syntax.args[1] == "SELEC 1"
    missing = provoke(f"SELECT * FROM {d.full_table_name(up, 'nope')}")
    assert isinstance(missing, errors.MissingTableError)
    assert isinstance(provoke(f"SELECT nope FROM {subject}"), errors.UnknownAttributeError)
    assert provoke("SELECT 1/0") is None

    role = "djtest_noaccess_" + uuid.uuid4().hex[:8]
    run(f"CREATE ROLE {role} NOLOGIN")
    try:
        run(f"SET ROLE {role}")
        try:
            access = provoke(f"SELECT * FROM {subject}")
        finally:
            run("RESET ROLE")
        assert isinstance(access, errors.AccessError)
        assert access.args[0] == "Insufficient privileges." and access.args[2] == ""
    finally:
        run(f"DROP ROLE {role}")


def test_lost_connection(backend: Any, run: Run) -> None:
    driver, translator = backend.driver, backend.errors
    other = driver.connect(servers.connect_params("postgresql"))
    try:
        assert driver.ping(other)
        run("SELECT pg_terminate_backend(%s)", [driver.connection_id(other)])
        with pytest.raises(psycopg.Error) as info:
            make_runner(backend, other)("SELECT 1")
        assert translator.is_lost_connection(info.value)
        assert isinstance(translator.translate(info.value, "SELECT 1"), errors.LostConnectionError)
        assert not driver.ping(other)
    finally:
        driver.close(other)
    with pytest.raises(psycopg.Error) as info:
        make_runner(backend, other)("SELECT 1")
    assert isinstance(translator.translate(info.value, "SELECT 1"), errors.LostConnectionError)
    assert not driver.ping(other)
    driver.close(other)  # closing twice is harmless


def test_driver_basics(backend: Any, raw: Any, run: Run) -> None:
    driver = backend.driver
    assert driver.ping(raw)
    assert driver.connection_id(raw) == run("SELECT pg_backend_pid()")[0][0]
    version = driver.server_version(raw)
    assert version[:2].isdigit()
    assert raw.autocommit
    with driver.cursor(raw, as_dict=True) as cur:
        cur.execute("SELECT 1 AS one, %s AS two", ["x"])
        assert cur.fetchall() == [{"one": 1, "two": "x"}]


def test_ping_in_failed_transaction(backend: Any, raw: Any, run: Run) -> None:
    run(backend.dialect.begin_sql())
    try:
        with pytest.raises(psycopg.Error):
            run("SELECT 1/0")
        assert backend.driver.ping(raw)
    finally:
        run(backend.dialect.rollback_sql())


def test_streaming_cursor(backend: Any, raw: Any, run: Run) -> None:
    driver = backend.driver
    sql = "SELECT g AS n FROM generate_series(1, %s) AS g ORDER BY g"
    with driver.cursor(raw, streaming=True) as cur:  # autocommit
        cur.execute(sql, [2500])
        assert [c.name for c in cur.description] == ["n"]
        batches = []
        while rows := cur.fetchmany(1000):
            batches.append(len(rows))
        assert batches == [1000, 1000, 500]
    run(backend.dialect.begin_sql())  # inside a transaction
    try:
        with driver.cursor(raw, streaming=True, as_dict=True) as cur:
            cur.execute(sql, [3])
            assert list(cur) == [{"n": 1}, {"n": 2}, {"n": 3}]
    finally:
        run(backend.dialect.commit_sql())
    assert run("SELECT 1") == [(1,)]
