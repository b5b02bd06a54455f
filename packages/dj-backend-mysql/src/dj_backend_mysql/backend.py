"""The factory the plugin registers: builds the MySQL/MariaDB :class:`Backend` bundle."""

from __future__ import annotations

from datajoint.backend.contract import Backend

from .dialect import MySQLDialect
from .driver import DEFAULT_PORT, MySQLDriver
from .errors import MySQLErrors
from .introspection import MySQLIntrospection


def create_backend() -> Backend:
    """The MySQL backend: dialect, pymysql driver, information_schema introspection, errors."""
    return Backend(
        name="mysql",
        dialect=MySQLDialect(),
        driver=MySQLDriver(),
        introspection=MySQLIntrospection(),
        errors=MySQLErrors(),
        default_port=DEFAULT_PORT,
    )
