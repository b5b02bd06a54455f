"""Entry point of the ``datajoint.plugins`` group: registers the PostgreSQL backend lazily.

Importing this module imports neither psycopg nor the backend's modules; the plugin host
resolves ``dj_backend_postgres.backend:create_backend`` when the backend is first used.
"""

from __future__ import annotations

from datajoint import hookimpl
from datajoint.hookspecs import RegisterBackend


@hookimpl
def dj_register_backends(register: RegisterBackend) -> None:
    """Register ``postgresql`` (alias ``postgres``)."""
    register("postgresql", "dj_backend_postgres.backend:create_backend", aliases=("postgres",))
