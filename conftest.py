"""Fixtures shared by every test of the repository (cross-package and per-package).

Object stores (``datajoint.testing.stores``): ``s3_server`` (session: moto over HTTP on
127.0.0.1), and ``file_store``, ``memory_store``, ``s3_store`` and ``store`` (file and s3), each
configuring ``dj.config.stores`` with one store that is also ``stores.default`` and returning its
name.
"""

from datajoint.testing.stores import (  # noqa: F401  (fixtures, found by name)
    file_store,
    memory_store,
    s3_server,
    s3_store,
    store,
)
