"""Where the test suites find database servers, and the rule for a missing one.

Servers are taken from environment variables (defaults: the local test servers):
``DJ_TEST_MYSQL_HOST``/``_PORT``/``_USER``/``_PASSWORD`` and ``DJ_TEST_POSTGRES_HOST``/``_PORT``/
``_USER``/``_PASSWORD``/``_DATABASE``. With ``CI=true`` a missing server is a failure, never a skip;
``DJ_TEST_BACKENDS`` (comma-separated) limits which backends the suites run against.
"""

from __future__ import annotations

import os
import socket

from ..backend.contract import ConnectParams

ALL_BACKENDS = ("sqlite", "mysql", "postgresql")


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def connect_params(backend: str) -> ConnectParams:
    """Connection parameters of the test server for ``backend`` (mysql or postgresql)."""
    if backend == "mysql":
        return ConnectParams(
            host=_env("DJ_TEST_MYSQL_HOST", "127.0.0.1"),
            port=int(_env("DJ_TEST_MYSQL_PORT", "3306")),
            user=_env("DJ_TEST_MYSQL_USER", "root"),
            password=os.environ.get("DJ_TEST_MYSQL_PASSWORD", ""),
        )
    if backend == "postgresql":
        return ConnectParams(
            host=_env("DJ_TEST_POSTGRES_HOST", "127.0.0.1"),
            port=int(_env("DJ_TEST_POSTGRES_PORT", "5432")),
            user=_env("DJ_TEST_POSTGRES_USER", "postgres"),
            password=os.environ.get("DJ_TEST_POSTGRES_PASSWORD", ""),
            database_name=_env("DJ_TEST_POSTGRES_DATABASE", "postgres"),
        )
    raise ValueError(f"No test server for backend {backend!r}")


def required() -> bool:
    """True when a missing server must fail the run (CI)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def selected_backends() -> tuple[str, ...]:
    """The backends the suites run against (``DJ_TEST_BACKENDS``, default all three)."""
    raw = os.environ.get("DJ_TEST_BACKENDS")
    if not raw:
        return ALL_BACKENDS
    return tuple(b.strip() for b in raw.split(",") if b.strip() in ALL_BACKENDS)


def server_reachable(backend: str) -> bool:
    """Whether a TCP connection to the test server of ``backend`` can be opened."""
    params = connect_params(backend)
    try:
        with socket.create_connection((params.host, params.port), timeout=2):
            return True
    except OSError:
        return False


def unavailable_reason(backend: str) -> str | None:
    """None when ``backend`` can be tested here, else why not (the caller skips, or fails on CI)."""
    if backend == "sqlite" or server_reachable(backend):
        return None
    params = connect_params(backend)
    return f"{backend} test server at {params.host}:{params.port} is not reachable"
