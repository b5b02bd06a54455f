"""pytest plugin shipped with dj-kernel (entry point ``pytest11``): fixtures over every backend.

Fixtures: ``dj_backend`` (parameterised over sqlite, mysql, postgresql, limited by
``DJ_TEST_BACKENDS``; a missing server skips, or fails when ``CI=true``), ``dj_connection`` and
``dj_schema`` (a throwaway schema dropped after the test).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import servers
from .fixtures import make_connection, throwaway_schema


def require_backend(backend: str) -> None:
    """Skip the test when ``backend`` is deselected or cannot be reached; fail it on CI."""
    if backend not in servers.selected_backends():
        pytest.skip(f"{backend} is not among DJ_TEST_BACKENDS")
    reason = servers.unavailable_reason(backend)
    if reason is None:
        return
    if servers.required():
        pytest.fail(f"{reason} (CI=true requires every backend)")
    pytest.skip(reason)


@pytest.fixture(params=servers.selected_backends())
def dj_backend(request: pytest.FixtureRequest) -> str:
    require_backend(request.param)
    return request.param


@pytest.fixture
def dj_connection(dj_backend: str, tmp_path) -> Iterator[object]:
    connection = make_connection(dj_backend, tmp_path / "test.sqlite3")
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def dj_schema(dj_connection) -> Iterator[object]:
    with throwaway_schema(dj_connection) as schema:
        yield schema
