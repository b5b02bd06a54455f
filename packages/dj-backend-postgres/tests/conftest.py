"""Fixtures of the live PostgreSQL tests: a connection and throwaway schemas."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from datajoint.backend.contract import Statement
from datajoint.testing import servers
from datajoint.testing.pytest_plugin import require_backend
from dj_backend_postgres.backend import create_backend

from .pg_tables import table_specs

Run = Callable[..., list[tuple]]


@pytest.fixture(scope="session")
def backend() -> Any:
    return create_backend()


@pytest.fixture(scope="module")
def raw(backend: Any) -> Iterator[Any]:
    """One autocommit psycopg connection to the test server."""
    require_backend("postgresql")
    connection = backend.driver.connect(servers.connect_params("postgresql"))
    yield connection
    backend.driver.close(connection)


def make_runner(backend: Any, connection: Any) -> Run:
    """``run(sql, params=())`` on ``connection``: all rows as tuples ([] for statements).

    Like the kernel, it always passes a parameter list, so ``%`` in SQL text must be doubled,
    and a dialect's :class:`Statement` brings its own parameters.
    """

    def run(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if not params and isinstance(sql, Statement):
            params = sql.params
        with backend.driver.cursor(connection) as cur:
            cur.execute(sql, list(params))
            return cur.fetchall() if cur.description is not None else []

    return run


@pytest.fixture(scope="module")
def run(backend: Any, raw: Any) -> Run:
    return make_runner(backend, raw)


@pytest.fixture(scope="module")
def schemas(backend: Any, run: Run) -> Iterator[tuple[str, str]]:
    """Two fresh schemas (upstream, downstream), dropped afterwards."""
    tag = uuid.uuid4().hex[:10]
    names = (f"djtest_pg_{tag}_up", f"djtest_pg_{tag}_down")
    for name in names:
        for sql in backend.dialect.create_schema_sql(name):
            run(sql)
    yield names
    for name in reversed(names):
        for sql in backend.dialect.drop_schema_sql(name):
            run(sql)


@pytest.fixture(scope="module")
def declared(backend: Any, run: Run, schemas: tuple[str, str]) -> tuple[str, str]:
    """The schemas with the tables of :func:`pg_tables.table_specs` (created twice: idempotent)."""
    for spec in table_specs(backend.dialect, *schemas):
        for sql in backend.dialect.create_table_sql(spec):
            run(sql)
        for sql in backend.dialect.create_table_sql(spec):  # idempotent
            run(sql)
    return schemas
