"""The module path DataJoint 2.x codec packages import from: ``datajoint.builtin_codecs``.

A re-export with no logic: :class:`SchemaCodec` lives in :mod:`datajoint.schema_codec`, and the
built-in codec classes (``BlobCodec``, ``AttachCodec``, ...) are looked up in the codec registry on
first access (:func:`datajoint.codecs.builtin_codec_class`).
"""

from __future__ import annotations

from .codecs import BUILTIN_CLASSES
from .codecs import builtin_codec_class as __getattr__  # noqa: F401  (the module's lookup)
from .schema_codec import SchemaCodec, path_value

__all__ = ["SchemaCodec", "path_value"]


def __dir__() -> list[str]:
    return sorted([*__all__, *BUILTIN_CLASSES])
