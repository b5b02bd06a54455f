"""The base class of schema-addressed codecs: :class:`SchemaCodec` and its path rules (SPEC §4.3).

A schema-addressed codec stores each value as an object in a store, at a path that mirrors schema,
table and primary key. DataJoint 2.x codec packages import the class as
``datajoint.builtin_codecs.SchemaCodec``; that module re-exports it from here.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
import string
import urllib.parse
import warnings
from collections.abc import Mapping
from typing import Any

from .codecs import Codec
from .errors import DataJointError

__all__ = ["SchemaCodec", "path_value"]

_TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
_UNSAFE_PATH_CHARS = re.compile(r'[/\\:*?"<>|]')
_PATTERN_FIELD = re.compile(r"\{\s*(\w+)\s*\}")


def path_value(value: Any) -> str:
    """A primary-key value as it appears in a schema-addressed path (SPEC §4.3)."""
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%dT%H-%M-%S")
    elif isinstance(value, bool | int | float):
        text = str(value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    if len(text) > 100:
        text = text[:50] + "_" + hashlib.md5(text.encode()).hexdigest()[:8]
        return urllib.parse.quote(text, safe="")
    if _UNSAFE_PATH_CHARS.search(text):
        return urllib.parse.quote(text, safe="")
    return text


class SchemaCodec(Codec, register=False):
    """Base class of schema-addressed codecs: values stored in a store under
    ``{schema_prefix}/{partitions}/{schema}/{table}/{pk=value}/…/{field}_{token}{ext}``.

    Subclasses set ``name`` and implement ``encode``/``decode``; ``get_dtype`` requires a store
    and stores the metadata as ``json``.
    """

    def get_dtype(self, is_store: bool) -> str:
        """``json`` (the stored metadata); a column without ``@`` is refused."""
        if not is_store:
            raise DataJointError(f"<{self.name}> requires @ (store only)")
        return "json"

    def _extract_context(
        self, key: Mapping[str, Any] | None, context: Mapping[str, Any] | None = None
    ) -> tuple[str, str, str, dict[str, Any]]:
        """``(schema, table, field, primary_key)`` of the row being encoded.

        ``context`` is the current source; reading ``_schema``/``_table``/``_field`` from ``key``
        without it still works but is deprecated.
        """
        key = key or {}
        primary_key = {k: v for k, v in key.items() if not str(k).startswith("_")}
        if context is not None:
            source: Mapping[str, Any] = {
                "_schema": context.get("schema"),
                "_table": context.get("table"),
                "_field": context.get("field"),
            }
        else:
            if any(k in key for k in ("_schema", "_table", "_field", "_config")):
                warnings.warn(
                    f"<{self.name}>: reading _schema/_table/_field/_config from `key` is "
                    "deprecated; declare `context=None` in encode() and pass it to "
                    "_extract_context(key, context).",
                    DeprecationWarning,
                    stacklevel=2,
                )
            source = key
        return (
            source.get("_schema") or "unknown",
            source.get("_table") or "unknown",
            source.get("_field") or "data",
            primary_key,
        )

    def _build_path(
        self,
        schema: str,
        table: str,
        field: str,
        primary_key: Mapping[str, Any],
        ext: str | None = None,
        store_name: str | None = None,
        config: Any = None,
    ) -> tuple[str, str]:
        """The store-relative path of a new object and its random token."""
        config = config if config is not None else self._codec_config()
        spec = config.get_store_spec(store_name or None)
        prefix = (spec.get("schema_prefix") or "").strip("/")
        pattern = spec.get("partition_pattern") or ""
        partitions = [a for a in _PATTERN_FIELD.findall(pattern) if a in primary_key]
        parts = [prefix] if prefix else []
        parts += [f"{a}={path_value(primary_key[a])}" for a in partitions]
        parts += [schema, table]
        parts += [f"{a}={path_value(v)}" for a, v in primary_key.items() if a not in partitions]
        length = min(max(int(spec.get("token_length") or 8), 4), 16)
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))
        suffix = "" if not ext else ext if ext.startswith(".") else "." + ext
        parts.append(f"{field}_{token}{suffix}")
        return "/".join(parts), token

    def _get_backend(self, store: str | None = None, config: Any = None) -> Any:
        """The storage backend of ``store`` (None or ``""``: ``stores.default``).

        See :func:`datajoint.storage.get_backend`; the backend class comes from the plugin that
        provides object storage (dj-storage).
        """
        from .storage import get_backend

        config = config if config is not None else self._codec_config()
        return get_backend(store, config)
