"""The kernel's backend contract suite, run against the MySQL/MariaDB backend."""

from __future__ import annotations

import pytest

from datajoint.testing.contracts import BackendContract

pytestmark = pytest.mark.backend


class TestMySQLContract(BackendContract):
    backend_name = "mysql"
