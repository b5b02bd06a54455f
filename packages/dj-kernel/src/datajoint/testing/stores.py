"""pytest fixtures for object stores; a ``conftest.py`` imports the ones it uses.

- ``s3_server`` (session): the test S3 server (:mod:`datajoint.testing.s3_server`), stopped at
  the end of the session;
- ``file_store``, ``memory_store``, ``s3_store``: configure ``dj.config.stores`` for the test with
  one store (a fresh directory, memory location or bucket prefix) that is also
  ``stores.default``, and return its name (``"file"``, ``"memory"``, ``"s3"``);
- ``store``: the same, parameterised over file and s3.

The store settings are restored after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..settings import config
from .s3_server import S3Endpoint, shared_s3_server, stop_shared_s3_server

__all__ = ["file_store", "memory_store", "s3_server", "s3_store", "store", "use_store"]


def use_store(name: str, spec: dict[str, Any]) -> Any:
    """A context manager making ``spec`` the only store of ``dj.config``, under ``name`` and as
    ``stores.default``."""
    return config.override(stores={"default": name, name: spec})


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Endpoint]:
    """The session's S3 server (moto over HTTP on 127.0.0.1) and its bucket."""
    yield shared_s3_server()
    stop_shared_s3_server()


@pytest.fixture
def file_store(tmp_path: Path) -> Iterator[str]:
    """A file store in a fresh directory, as ``stores.default`` (name ``"file"``)."""
    location = tmp_path / "store"
    location.mkdir()
    with use_store("file", {"protocol": "file", "location": str(location)}):
        yield "file"


@pytest.fixture
def memory_store() -> Iterator[str]:
    """A memory store at a fresh location, as ``stores.default`` (name ``"memory"``)."""
    location = f"/djtest/{uuid.uuid4().hex}"
    with use_store("memory", {"protocol": "memory", "location": location}):
        yield "memory"


@pytest.fixture
def s3_store(s3_server: S3Endpoint) -> Iterator[str]:
    """An s3 store under a fresh prefix of the test bucket, as ``stores.default`` (name ``"s3"``)."""
    with use_store("s3", s3_server.store_spec(f"djtest/{uuid.uuid4().hex}")):
        yield "s3"


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest) -> str:
    """The name of a configured default store, once a file store and once an s3 store."""
    return str(request.getfixturevalue(f"{request.param}_store"))
