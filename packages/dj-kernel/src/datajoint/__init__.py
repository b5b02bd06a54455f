"""DataJoint 2.x for Python: ``import datajoint as dj``.

A relational data pipeline framework: tables declared as Python classes, foreign keys as the
dependency graph, a query algebra, and computed tables filled by ``populate()``. Backends, codecs,
storage protocols and fetch formats are plugins (see ``dj.plugins()``).
"""

from __future__ import annotations

import importlib.metadata as _metadata
import logging as _logging

from . import errors
from .algebra.conditions import AndList, Not
from .algebra.expression import QueryExpression
from .algebra.top import Top
from .algebra.universal import U
from .blob_types import MatCell, MatStruct
from .builtin_codecs import SchemaCodec
from .codecs import Codec, get_codec, list_codecs
from .connection import Connection, conn
from .errors import DataJointError, ThreadSafetyError
from .hookspecs import hookimpl
from .instance import Instance
from .plugin_host import plugins
from .schema import Schema, VirtualModule, list_schemas, virtual_schema
from .settings import config
from .table import FreeTable, Table
from .user_tables import Compute, Computed, Entry, Imported, Ingest, Lookup, Manual, Part
from .write import ValidationResult

try:
    __version__ = _metadata.version("dj-kernel")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
__author__ = "DataJoint Contributors"

logger = _logging.getLogger("datajoint")
if not logger.handlers:
    _handler = _logging.StreamHandler()
    _handler.setFormatter(
        _logging.Formatter("[%(asctime)s][%(levelname)s]: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    logger.addHandler(_handler)

__all__ = [
    "AndList",
    "Codec",
    "Compute",
    "Computed",
    "Connection",
    "DataJointError",
    "Entry",
    "FreeTable",
    "Imported",
    "Ingest",
    "Instance",
    "Lookup",
    "Manual",
    "MatCell",
    "MatStruct",
    "Not",
    "Part",
    "QueryExpression",
    "Schema",
    "SchemaCodec",
    "Table",
    "ThreadSafetyError",
    "Top",
    "U",
    "ValidationResult",
    "VirtualModule",
    "__author__",
    "__version__",
    "config",
    "conn",
    "errors",
    "get_codec",
    "hookimpl",
    "list_codecs",
    "list_schemas",
    "logger",
    "plugins",
    "virtual_schema",
]
