"""The SQLite backend against the kernel's BackendContract."""

from datajoint.testing.contracts import BackendContract


class TestSQLiteBackend(BackendContract):
    backend_name = "sqlite"
