"""Registers the SQLite backend with the DataJoint plugin host."""

from datajoint import hookimpl


@hookimpl
def dj_register_backends(register):
    register("sqlite", "dj_backend_sqlite.backend:create_backend", aliases=("sqlite3",))
