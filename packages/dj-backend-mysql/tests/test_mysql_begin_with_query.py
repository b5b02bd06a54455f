"""Live: ``MySQLDriver.begin_with_query`` -- one compound statement on MariaDB, two statements
one after the other on MySQL -- with the values escaped by pymysql."""

from __future__ import annotations

from typing import Any

import pymysql
import pytest
from pymysql.constants import SERVER_STATUS

from datajoint.backend.contract import Backend

from .conftest import Run

pytestmark = pytest.mark.backend


def in_transaction(raw: Any) -> bool:
    return bool(raw.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)


@pytest.fixture(params=["as the server reports", "MySQL"])
def server(request: pytest.FixtureRequest, raw: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server as the driver sees it: as it is, or a MySQL without compound statements."""
    if request.param == "MySQL":
        monkeypatch.setattr(raw, "get_server_info", lambda: "8.0.36")
    return str(raw.get_server_info())


def test_begin_with_query(backend: Backend, run: Run, raw: Any, db: str, server: str) -> None:
    run(f"CREATE TABLE `{db}`.`t` (`k` int PRIMARY KEY, `label` varchar(40))", [])
    tricky = "it's; DROP TABLE t; --"
    run(f"INSERT INTO `{db}`.`t` VALUES (1, %s)", [tricky])
    driver, begin = backend.driver, backend.dialect.begin_sql()
    sql = f"SELECT EXISTS(SELECT 1 FROM `{db}`.`t` WHERE `k` = %s AND `label` = %s)"
    cursor = driver.begin_with_query(raw, begin, sql, [1, tricky])
    assert cursor.fetchone() == (1,)
    while cursor.nextset():  # the compound statement's closing reply reports the state
        pass
    assert in_transaction(raw)
    run("ROLLBACK", [])
    assert not in_transaction(raw)
    cursor = driver.begin_with_query(raw, begin, sql, [1, "other"])
    assert cursor.fetchone() == (0,)
    run("ROLLBACK", [])  # pymysql reads the unread closing reply before sending this
    assert not in_transaction(raw)
    with pytest.raises(pymysql.err.MySQLError, match="nope"):
        driver.begin_with_query(raw, begin, f"SELECT `nope` FROM `{db}`.`t` WHERE 1 = %s", [1])
    assert run("SELECT @@in_transaction", []) == [(1,)]  # the BEGIN ran: the caller rolls back
    run("ROLLBACK", [])
    assert run("SELECT @@in_transaction", []) == [(0,)]
    assert run(f"SELECT COUNT(*) FROM `{db}`.`t`", []) == [(1,)]
