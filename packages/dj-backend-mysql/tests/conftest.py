"""Fixtures of the live tests: a MySQL/MariaDB connection and throwaway databases.

The server comes from :mod:`datajoint.testing.servers`; a missing server skips the live tests,
or fails them when a server is required (CI).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from datajoint.backend.contract import Backend
from datajoint.testing import servers
from datajoint.testing.pytest_plugin import require_backend
from dj_backend_mysql.backend import create_backend

Run = Callable[[str, Sequence[Any]], list[tuple]]


@pytest.fixture(scope="session")
def backend() -> Backend:
    return create_backend()


def make_runner(backend: Backend, raw: Any) -> Run:
    """A kernel-style ``run(sql, params)`` that translates driver errors like the kernel does."""

    def run(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            with backend.driver.cursor(raw) as cur:
                cur.execute(sql, list(params))
                return list(cur.fetchall())
        except Exception as error:
            translated = backend.errors.translate(error, sql)
            if translated is None:
                raise
            raise translated from error

    return run


@pytest.fixture(scope="session")
def raw(backend: Backend) -> Iterator[Any]:
    """One open connection for the session."""
    require_backend("mysql")
    connection = backend.driver.connect(servers.connect_params("mysql"))
    yield connection
    backend.driver.close(connection)


@pytest.fixture(scope="session")
def run(backend: Backend, raw: Any) -> Run:
    return make_runner(backend, raw)


@pytest.fixture
def new_db(backend: Backend, run: Run) -> Iterator[Callable[[], str]]:
    """A factory of uniquely named databases, all dropped at teardown."""
    made: list[str] = []

    def make() -> str:
        name = f"djtest_mysql_{uuid.uuid4().hex[:10]}"
        for sql in backend.dialect.create_schema_sql(name):
            run(sql, [])
        made.append(name)
        return name

    yield make
    run("SET SESSION foreign_key_checks = 0", [])  # cross-database keys must not block cleanup
    try:
        for name in reversed(made):
            for sql in backend.dialect.drop_schema_sql(name):
                run(sql, [])
    finally:
        run("SET SESSION foreign_key_checks = 1", [])


@pytest.fixture
def db(new_db: Callable[[], str]) -> str:
    """A fresh, empty database for one test."""
    return new_db()
