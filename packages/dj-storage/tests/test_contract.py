"""The storage contract of datajoint.testing, run on the file, memory and s3 protocols."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from datajoint.testing import StorageContract
from datajoint.testing.s3_server import S3Endpoint


class TestFileProtocol(StorageContract):
    protocol = "file"

    @pytest.fixture
    def store_spec(self, tmp_path: Path) -> dict[str, Any]:
        location = tmp_path / "store"
        location.mkdir()
        return {"protocol": "file", "location": str(location)}


class TestMemoryProtocol(StorageContract):
    protocol = "memory"

    @pytest.fixture
    def store_spec(self) -> dict[str, Any]:
        return {"protocol": "memory", "location": f"contract/{uuid.uuid4().hex}"}


class TestS3Protocol(StorageContract):
    protocol = "s3"

    @pytest.fixture
    def store_spec(self, s3_server: S3Endpoint) -> dict[str, Any]:
        return s3_server.store_spec(f"contract/{uuid.uuid4().hex}")
