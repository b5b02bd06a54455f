"""The kernel's backend contract suite, run against this backend."""

from __future__ import annotations

import pytest

contracts = pytest.importorskip("datajoint.testing.contracts")


class TestPostgresContract(contracts.BackendContract):
    backend_name = "postgresql"
