"""The PostgreSQL backend bundle returned to the kernel's plugin host."""

from __future__ import annotations

from datajoint.backend.contract import Backend

from .dialect import PostgresDialect
from .driver import PostgresDriver
from .errors import PostgresErrors
from .introspection import PostgresIntrospection


def create_backend() -> Backend:
    """Build the ``postgresql`` backend (psycopg 3; default port 5432)."""
    return Backend(
        name="postgresql",
        dialect=PostgresDialect(),
        driver=PostgresDriver(),
        introspection=PostgresIntrospection(),
        errors=PostgresErrors(),
        default_port=5432,
        requires_server=True,
    )
