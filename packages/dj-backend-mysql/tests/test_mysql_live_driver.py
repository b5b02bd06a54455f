"""Live: session settings, cursors, ping/ids, TLS policy, lost connections and access errors."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

import pymysql
import pytest

from datajoint import errors
from datajoint.backend.contract import Backend, ColumnSpec, TableSpec
from datajoint.testing import servers

from .conftest import Run, make_runner

pytestmark = pytest.mark.backend


def test_session_settings(backend: Backend, run: Run, raw: Any) -> None:
    mode = set(run("SELECT @@SESSION.sql_mode", [])[0][0].split(","))
    assert {
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "STRICT_ALL_TABLES",
        "NO_ENGINE_SUBSTITUTION",
        "ONLY_FULL_GROUP_BY",
    } <= mode
    assert run("SELECT @@autocommit", [])[0][0] == 1
    assert run("SELECT @@character_set_client", [])[0][0] == "utf8mb4"


def test_ids_versions_and_ping(backend: Backend, raw: Any) -> None:
    driver = backend.driver
    assert driver.ping(raw) is True
    cid = driver.connection_id(raw)
    assert isinstance(cid, int) and cid > 0
    version = driver.server_version(raw)
    assert version and version[0].isdigit()


def test_cursor_kinds(backend: Backend, run: Run, raw: Any, db: str) -> None:
    spec = TableSpec(db, "many", (ColumnSpec("i", "int"), ColumnSpec("sq", "bigint")), ("i",))
    for sql in backend.dialect.create_table_sql(spec):
        run(sql, [])
    n = 5000
    run(
        backend.dialect.insert_sql(db, "many", ("i", "sq"), n),
        [v for i in range(n) for v in (i, i * i)],
    )
    query = f"SELECT i, sq FROM `{db}`.`many` ORDER BY i"
    driver = backend.driver
    with driver.cursor(raw, streaming=True) as cur:
        assert isinstance(cur, pymysql.cursors.SSCursor)
        cur.execute(query)
        total = sum(1 for i, sq in cur if sq == i * i)
    assert total == n
    with driver.cursor(raw, streaming=True, as_dict=True) as cur:
        assert isinstance(cur, pymysql.cursors.SSDictCursor)
        cur.execute(query + " LIMIT %s", [2])
        assert list(cur) == [{"i": 0, "sq": 0}, {"i": 1, "sq": 1}]
    with driver.cursor(raw, as_dict=True) as cur:
        assert isinstance(cur, pymysql.cursors.DictCursor)
        assert not isinstance(cur, pymysql.cursors.SSCursor)
        cur.execute(query + " LIMIT 1")
        assert cur.fetchall() == [{"i": 0, "sq": 0}]
    with driver.cursor(raw) as cur:
        # no parameter list: the statement is still a pyformat string (%% is a percent sign)
        cur.execute("SELECT '100%%'")
        assert cur.fetchall() == (("100%",),)


def test_ddl_with_percent_signs(backend: Backend, raw: Any, db: str) -> None:
    spec = TableSpec(
        db,
        "pct",
        (ColumnSpec("k", "varchar(8)", default="'5%'", comment="50% of it"),),
        ("k",),
        comment="100% done",
    )
    with backend.driver.cursor(raw) as cur:
        for sql in backend.dialect.create_table_sql(spec):
            cur.execute(sql)  # kernels may pass no parameter list for DDL
    run = make_runner(backend, raw)
    (info,) = backend.introspection.columns(run, db, "pct")
    assert (info.default, info.comment) == ("5%", "50% of it")
    assert backend.introspection.table_comment(run, db, "pct") == "100% done"


def test_tls_policy(backend: Backend, raw: Any, caplog: pytest.LogCaptureFixture) -> None:
    driver = backend.driver
    base = servers.connect_params("mysql")
    with caplog.at_level(logging.WARNING, logger="datajoint"):
        conn = driver.connect(base)  # use_tls=None: TLS if possible, else plain with a warning
    try:
        tls = driver.tls_active(conn)  # type: ignore[attr-defined]
        assert tls or any("TLS" in r.getMessage() for r in caplog.records)
    finally:
        driver.close(conn)
    plain = driver.connect(dataclasses.replace(base, use_tls=False))
    try:
        assert not driver.tls_active(plain)  # type: ignore[attr-defined]
    finally:
        driver.close(plain)
    if tls:
        strict = driver.connect(dataclasses.replace(base, use_tls=True))
        assert driver.tls_active(strict)  # type: ignore[attr-defined]
        driver.close(strict)
    else:
        with pytest.raises(pymysql.err.OperationalError):
            driver.connect(dataclasses.replace(base, use_tls=True))


def test_lost_connection(backend: Backend, run: Run) -> None:
    driver = backend.driver
    victim = driver.connect(dataclasses.replace(servers.connect_params("mysql"), use_tls=False))
    victim_run = make_runner(backend, victim)
    try:
        run("KILL %s", [driver.connection_id(victim)])
        assert driver.ping(victim) is False
        with pytest.raises(errors.LostConnectionError):
            victim_run("SELECT 1", [])
        with pytest.raises(errors.LostConnectionError):  # and again once the socket is closed
            victim_run("SELECT 1", [])
    finally:
        driver.close(victim)
        driver.close(victim)  # closing twice is harmless


def test_access_error(backend: Backend, run: Run, db: str) -> None:
    user = f"djtest_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    spec = TableSpec(db, "secret", (ColumnSpec("k", "int"),), ("k",))
    for sql in backend.dialect.create_table_sql(spec):
        run(sql, [])
    try:
        run(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", [password])
        run(f"GRANT USAGE ON *.* TO '{user}'@'%%'", [])
        params = dataclasses.replace(
            servers.connect_params("mysql"), user=user, password=password, use_tls=False
        )
        try:
            conn = backend.driver.connect(params)
        except pymysql.err.OperationalError as error:  # e.g. an anonymous user shadows ours
            if servers.required():
                pytest.fail(f"cannot log in as a throwaway user on the CI server: {error}")
            pytest.skip(f"cannot log in as a throwaway user: {error}")
        try:
            limited = make_runner(backend, conn)
            with pytest.raises(errors.AccessError) as denied:
                limited(f"SELECT * FROM `{db}`.`secret`", [])
            assert denied.value.args[0] == "Insufficient privileges."
            with pytest.raises(errors.AccessError):
                limited(f"CREATE DATABASE `{db}_x`", [])
        finally:
            backend.driver.close(conn)
    finally:
        run(f"DROP USER IF EXISTS '{user}'@'%%'", [])


def test_large_bytes_statements(backend: Backend, run: Run, raw: Any, db: str) -> None:
    """A statement binding a large bytes value sends it apart (binary protocol) or, when it
    returns rows, is built as bytes: every byte value arrives intact beside strings with quotes,
    question marks, percent signs and non-ASCII text, numbers and NULL, in every cursor kind; a
    wrong number of values is pymysql's ProgrammingError as before, and ``%%`` in the text stays
    one percent sign."""
    from dj_backend_mysql.statement import LARGE_BYTES, bytes_statement

    spec = TableSpec(
        db,
        "big",
        (
            ColumnSpec("i", "int"),
            ColumnSpec("data", "longblob", nullable=True),
            ColumnSpec("note", "varchar(64)", nullable=True),
            ColumnSpec("x", "double", nullable=True),
        ),
        ("i",),
    )
    for sql in backend.dialect.create_table_sql(spec):
        run(sql, [])
    every_byte = bytes(range(256)) * (LARGE_BYTES // 256 + 1)
    rows = [
        (1, every_byte, 'it\'s 100% \\ "ünïcode" %s %% ?', 1.5),
        (2, bytearray(b"\x00'\\" * LARGE_BYTES), None, None),
        (3, b"small", "%(name)s", -0.0),
    ]
    insert = f"INSERT INTO `{db}`.`big` VALUES (%s, %s, %s, %s), (%s, %s, %s, %s), (%s, %s, %s, %s)"
    params = [v for row in rows for v in row]
    statement = bytes_statement(raw, insert, params)
    assert statement.startswith(b"INSERT INTO") and b"X'0001" in statement
    with backend.driver.cursor(raw) as cur:
        assert cur.execute(insert, params) == 3
    for streaming in (False, True):
        with backend.driver.cursor(raw, streaming=streaming) as cur:
            cur.execute(f"SELECT i, data, note, x FROM `{db}`.`big` ORDER BY i")
            got = list(cur)
        assert [tuple(r) for r in got] == [
            (1, every_byte, rows[0][2], 1.5),
            (2, bytes(rows[1][1]), None, None),
            (3, b"small", "%(name)s", -0.0),
        ]
    with backend.driver.cursor(raw) as cur, pytest.raises(pymysql.err.ProgrammingError):
        cur.execute(f"SELECT %s, %s FROM `{db}`.`big`", [every_byte])
    with backend.driver.cursor(raw) as cur, pytest.raises(pymysql.err.ProgrammingError):
        cur.execute("SELECT %s", [every_byte, 1])
    with backend.driver.cursor(raw) as cur:  # an escaped percent sign is one percent sign
        cur.execute("SELECT '100%%', %s, %s", [every_byte, "50%"])
        assert cur.fetchone() == ("100%", every_byte, "50%")


def _statement_status(run: Run) -> dict[str, int]:
    rows = run("SHOW SESSION STATUS WHERE Variable_name IN %s", [("Com_stmt_execute",)])
    rows += run("SHOW GLOBAL STATUS WHERE Variable_name = %s", ["Prepared_stmt_count"])
    return {name: int(value) for name, value in rows}


def test_large_bytes_sent_apart(
    backend: Backend, run: Run, raw: Any, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large bytes values travel through the binary protocol (one executed prepared statement,
    closed after): inserts and updates in every cursor kind, values longer than one packet's
    piece, and server errors that leave the connection usable with no statement left open."""
    from dj_backend_mysql import long_data
    from dj_backend_mysql.statement import LARGE_BYTES

    spec = TableSpec(
        db,
        "apart",
        (ColumnSpec("i", "int"), ColumnSpec("data", "longblob"), ColumnSpec("note", "text")),
        ("i",),
    )
    for sql in backend.dialect.create_table_sql(spec):
        run(sql, [])
    table = f"`{db}`.`apart`"
    values = [bytes([i]) * (LARGE_BYTES + i) for i in range(4)]
    before = _statement_status(run)
    for i, (as_dict, streaming) in enumerate(
        [(False, False), (True, False), (False, True), (True, True)]
    ):
        with backend.driver.cursor(raw, as_dict=as_dict, streaming=streaming) as cur:
            insert = f"INSERT INTO {table} VALUES (%s, %s, %s)"
            assert cur.execute(insert, (i, values[i], f"row {i}?")) == 1
    after = _statement_status(run)
    assert after["Com_stmt_execute"] - before["Com_stmt_execute"] == 4
    assert after["Prepared_stmt_count"] == before["Prepared_stmt_count"]
    got = run(f"SELECT i, data, note FROM {table} ORDER BY i", [])
    assert got == [(i, values[i], f"row {i}?") for i in range(4)]

    # a value longer than the server takes: a DataError that says what to do; nothing changed
    (limit,) = run("SELECT @@max_allowed_packet", [])[0]
    with pytest.raises(errors.DataError, match="max_allowed_packet; raise it"):
        run(f"UPDATE {table} SET data = %s WHERE i = %s", [bytes(limit + 1), 0])
    assert run(f"SELECT data FROM {table} WHERE i = %s", [0]) == [(values[0],)]

    # an update, with the value cut into pieces of 1000 bytes on the way
    monkeypatch.setattr(long_data, "_LONG_DATA_PIECE", 1000)
    pieces = bytes(range(256)) * (LARGE_BYTES // 256 + 7)
    with backend.driver.cursor(raw) as cur:
        assert cur.execute(f"UPDATE {table} SET data = %s WHERE i = %s", [pieces, 2]) == 1
    assert run(f"SELECT data FROM {table} WHERE i = %s", [2]) == [(pieces,)]

    # a duplicate: the server's error, the statement closed, the connection still usable
    with pytest.raises(errors.DuplicateError):
        run(f"INSERT INTO {table} VALUES (%s, %s, %s)", [1, values[0], "again"])
    assert _statement_status(run)["Prepared_stmt_count"] == before["Prepared_stmt_count"]
    assert run(f"SELECT count(*) FROM {table}", []) == [(4,)]
    # a ? of the statement's own stays text, as in the text form (here: a syntax error)
    with pytest.raises(errors.QuerySyntaxError):
        run(f"UPDATE {table} SET data = %s WHERE i = ?", [pieces])
    assert _statement_status(run)["Prepared_stmt_count"] == before["Prepared_stmt_count"]
    # a statement that returns rows goes as text, after its prepared form is closed unrun
    status = _statement_status(run)
    assert run("SELECT length(%s)", [pieces]) == [(len(pieces),)]
    assert _statement_status(run) == status
