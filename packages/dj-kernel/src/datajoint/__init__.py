"""DataJoint 2.x for Python: ``import datajoint as dj``.

A relational data pipeline framework: schemas, tables declared as Python classes (Manual, Lookup,
Imported, Computed, Part), foreign keys as the dependency graph and lineage, a query algebra
compiled to the installed backend's SQL, fetching as dicts, arrays, keys or frames, and insert,
update, cascading delete, drop, alter and describe, and Imported/Computed tables filled by
``populate()`` (directly or by many workers through their jobs tables). Backends, codecs, storage
protocols and fetch formats are plugins (see ``dj.plugins()``).

``dj.Diagram`` draws and walks the dependency graph; it, the ``dj.diagram`` module, ``dj.cli``
(the ``dj`` command, from dj-cli), ``dj.migrate`` (upgrades of 0.14 and 2.x catalogs) and
``dj.deploy`` (deploy-time catalog helpers) are loaded on first use. Object stores (``config.stores``) come
from dj-storage: ``dj.StorageAdapter`` and ``dj.get_storage_adapter`` are the protocol plugin API,
and ``dj.ObjectRef``, ``dj.NpyRef`` and the ``dj.gc`` module are loaded from it on first use.
"""

from __future__ import annotations

import importlib as _importlib
import logging as _logging
from typing import Any

from . import errors
from .algebra.conditions import AndList, Not
from .algebra.expression import QueryExpression
from .algebra.top import Top
from .algebra.universal import U
from .codecs import Codec, get_codec, list_codecs
from .connection import Connection, conn
from .errors import DataJointError, ThreadSafetyError
from .fetch.api import install_fetch_api as _install_fetch_api
from .hookspecs import hookimpl
from .instance import Instance
from .matlab_types import MatCell, MatStruct
from .plugin_host import plugins
from .populate import AutoPopulate, Job
from .schema import Schema, VirtualModule, list_schemas, virtual_schema
from .schema_codec import SchemaCodec
from .settings import config
from .storage import StorageAdapter, get_storage_adapter
from .table import FreeTable, Table
from .user_tables import Compute, Computed, Entry, Imported, Ingest, Lookup, Manual, Part
from .version import __version__
from .write import ValidationResult

# The fetch layer sits above the algebra and attaches its methods from here (see fetch/api.py).
_install_fetch_api(QueryExpression)

__author__ = "DataJoint Contributors"


def __getattr__(name: str) -> Any:
    """The names loaded on first use (SPEC §15): networkx, the CLI and the object-store classes are
    not imported with ``datajoint``."""
    if name in ("Diagram", "diagram"):
        diagram = _importlib.import_module(".diagram", __name__)
        return diagram if name == "diagram" else diagram.Diagram
    if name in ("migrate", "deploy"):
        return _importlib.import_module(f".{name}", __name__)
    if name == "cli":
        try:
            from dj_cli.main import cli
        except ImportError as error:
            raise errors.DataJointError(
                'dj.cli needs the dj-cli package. Install it with: pip install "dj-kernel[cli]"'
            ) from error
        return cli
    if name in ("ObjectRef", "NpyRef", "gc"):
        from .storage import storage_service

        return storage_service(name)
    raise AttributeError(f"module 'datajoint' has no attribute {name!r}")


logger = _logging.getLogger("datajoint")
if not logger.handlers:
    _handler = _logging.StreamHandler()
    _handler.setFormatter(
        _logging.Formatter("[%(asctime)s][%(levelname)s]: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    logger.addHandler(_handler)

__all__ = [
    "AndList",
    "AutoPopulate",
    "Codec",
    "Compute",
    "Computed",
    "Connection",
    "DataJointError",
    "Diagram",
    "Entry",
    "FreeTable",
    "Imported",
    "Ingest",
    "Instance",
    "Job",
    "Lookup",
    "Manual",
    "MatCell",
    "MatStruct",
    "Not",
    "NpyRef",
    "ObjectRef",
    "Part",
    "QueryExpression",
    "Schema",
    "SchemaCodec",
    "StorageAdapter",
    "Table",
    "ThreadSafetyError",
    "Top",
    "U",
    "ValidationResult",
    "VirtualModule",
    "__author__",
    "__version__",
    "cli",
    "config",
    "conn",
    "deploy",
    "errors",
    "get_codec",
    "get_storage_adapter",
    "hookimpl",
    "list_codecs",
    "list_schemas",
    "logger",
    "migrate",
    "plugins",
    "virtual_schema",
]
