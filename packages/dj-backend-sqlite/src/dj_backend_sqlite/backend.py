"""The SQLite backend bundle."""

from datajoint.backend.contract import Backend

from .dialect import SQLiteDialect
from .driver import SQLiteDriver
from .errors import SQLiteErrors
from .introspection import SQLiteIntrospection


def create_backend() -> Backend:
    """Build the SQLite backend: stdlib sqlite3, everything in one database file."""
    return Backend(
        name="sqlite",
        dialect=SQLiteDialect(),
        driver=SQLiteDriver(),
        introspection=SQLiteIntrospection(),
        errors=SQLiteErrors(),
        default_port=None,
        requires_server=False,
    )
