"""Hook implementations of dj-backend-mysql (entry point group ``datajoint.plugins``).

The backend is registered by reference, so loading this module does not import pymysql.
"""

from __future__ import annotations

from datajoint import hookimpl
from datajoint.hookspecs import RegisterBackend


@hookimpl
def dj_register_backends(register: RegisterBackend) -> None:
    """Register the ``mysql`` backend (alias ``mariadb``)."""
    register("mysql", "dj_backend_mysql.backend:create_backend", aliases=("mariadb",))
