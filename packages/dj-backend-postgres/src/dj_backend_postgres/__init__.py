"""dj-backend-postgres: the PostgreSQL 15+ backend of dj-kernel (through psycopg 3).

The kernel finds it through the ``datajoint.plugins`` entry point
(:mod:`dj_backend_postgres.plugin`); importing this package does not import psycopg.
"""

__version__ = "0.4.0"
