"""Object stores as the kernel sees them (SPEC §4.6, §14): adapters, services and backends.

The kernel holds no object-store code and imports no filesystem library. A plugin package
(dj-storage) provides it through the plugin host:

- **storage protocols** (registry kind ``"storage_protocol"``, hook
  ``dj_register_storage_protocols`` and the ``datajoint.storage`` entry-point group): one
  :class:`StorageAdapter` per protocol, which checks a store's settings and builds its fsspec
  filesystem. :func:`get_storage_adapter` finds one;
- **storage services** (registry kind ``"storage_service"``, hook
  ``dj_register_storage_services``): the objects the kernel uses without importing them, found
  with :func:`storage_service` under the names of :data:`SERVICES`.

:func:`get_backend` returns the storage backend of a configured store, one per store settings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .errors import DataJointError, PluginError
from .plugin_host import host
from .settings_files import COMMON_STORE_KEYS

__all__ = [
    "COMMON_KEYS",
    "SERVICES",
    "StorageAdapter",
    "clear_backends",
    "content_hash",
    "get_backend",
    "get_storage_adapter",
    "join_path",
    "storage_service",
]

#: keys every store may have, whatever its protocol
COMMON_KEYS: tuple[str, ...] = ("protocol", "location", *COMMON_STORE_KEYS)

#: the storage services the kernel looks up, and what each one is
SERVICES: dict[str, str] = {
    "StorageBackend": "the class of a store's backend, built from its settings: cls(spec)",
    "ObjectRef": "the class of a reference to a stored object or folder (dj.ObjectRef)",
    "NpyRef": "the class of a lazy reference to a stored numpy array (dj.NpyRef)",
    "StagedInsert": "the class behind Table.staged_insert1",
    "gc": "the garbage-collection module (dj.gc)",
}

#: how many backends :func:`get_backend` keeps (least recently used ones are dropped)
BACKEND_CACHE_SIZE = 64


class StorageAdapter(ABC):
    """One storage protocol: its settings and how to build its fsspec filesystem (``dj.StorageAdapter``).

    A plugin subclasses it, sets :attr:`protocol`, :attr:`required_keys` and :attr:`allowed_keys`,
    implements :meth:`create_filesystem`, and names the class in the ``datajoint.storage``
    entry-point group (or registers it through the ``dj_register_storage_protocols`` hook).
    """

    #: the protocol name, as written (lower case) in ``config.stores[...]["protocol"]``
    protocol: str = ""
    #: keys a store of this protocol must set
    required_keys: tuple[str, ...] = ()
    #: further keys a store of this protocol may set (besides :data:`COMMON_KEYS`)
    allowed_keys: tuple[str, ...] = ()

    @abstractmethod
    def create_filesystem(self, spec: Mapping[str, Any]) -> Any:
        """The fsspec filesystem of a store with settings ``spec``."""

    def validate_spec(self, spec: Mapping[str, Any]) -> None:
        """Check the keys of ``spec``: required ones first, then unknown ones (DataJointError)."""
        missing = [key for key in self.required_keys if key not in spec]
        if missing:
            raise DataJointError(f"{self.protocol} store is missing: {', '.join(missing)}")
        allowed = {*COMMON_KEYS, *self.required_keys, *self.allowed_keys}
        invalid = sorted(str(key) for key in spec if key not in allowed)
        if invalid:
            raise DataJointError(f"Invalid key(s) for {self.protocol}: {', '.join(invalid)}")

    def full_path(self, spec: Mapping[str, Any], relpath: str) -> str:
        """The filesystem path of the store-relative ``relpath``: ``location/relpath``."""
        return join_path(str(spec.get("location") or ""), relpath)

    def get_url(self, spec: Mapping[str, Any], path: str) -> str:
        """The URL of the full filesystem ``path``: ``<protocol>://path``."""
        return f"{self.protocol}://{path}"


def content_hash(data: bytes | bytearray | memoryview) -> str:
    """DataJoint's content hash of hash-addressed objects (SPEC §4.3): base32 of the MD5 digest,
    lowercase, without ``=`` padding (26 characters of ``[a-z2-7]``)."""
    return base64.b32encode(hashlib.md5(data).digest()).decode("ascii").rstrip("=").lower()


def join_path(*parts: str) -> str:
    """Join path segments with single ``/``, dropping empty ones.

    The result starts with ``/`` when the first segment does (an absolute location).
    """
    joined = "/".join(part.strip("/") for part in parts if part and part.strip("/"))
    return "/" + joined if parts and parts[0].startswith("/") else joined


_adapters_lock = threading.Lock()
_adapters: dict[str, tuple[Any, StorageAdapter]] = {}


def get_storage_adapter(protocol: str) -> StorageAdapter | None:
    """The adapter registered for ``protocol`` (compared lower case), or None (``dj.get_storage_adapter``).

    Plugins and the ``datajoint.storage`` entry points are loaded on the first call. A registered
    class is instantiated once; a registration that fails to load raises its PluginError.
    """
    name = str(protocol).lower()
    registry = host()
    if not registry.has("storage_protocol", name):
        return None
    target = registry.get("storage_protocol", name)
    with _adapters_lock:
        cached = _adapters.get(name)
        if cached is not None and cached[0] is target:
            return cached[1]
        adapter = target() if isinstance(target, type) else target
        if not callable(getattr(adapter, "create_filesystem", None)):
            raise PluginError(
                f"The storage protocol '{name}' is registered with {target!r}, which is not a "
                "StorageAdapter (it has no create_filesystem method)."
            )
        _adapters[name] = (target, adapter)
        return adapter


def storage_service(name: str) -> Any:
    """The storage service ``name`` (one of :data:`SERVICES`) that a plugin registered.

    Missing: a DataJointError saying to install dj-storage.
    """
    registry = host()
    if not registry.has("storage_service", name):
        known = ", ".join(SERVICES)
        raise DataJointError(
            f"Object storage is not available: no plugin provides the storage service '{name}' "
            f"(one of {known}). Install it with: pip install dj-storage"
        )
    return registry.get("storage_service", name)


_backends_lock = threading.Lock()
_backends: OrderedDict[tuple[int, int, str], Any] = OrderedDict()


def _frozen(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, default=repr)


def get_backend(store: str | None = None, config: Any = None) -> Any:
    """The storage backend of ``store`` (None or ``""``: ``stores.default``).

    ``config`` defaults to ``dj.config``. The store's settings come from
    ``config.get_store_spec`` (checked, with defaults); the backend is the ``StorageBackend``
    service built from them, kept and reused for the same config and settings in this process
    (two store names with identical settings share one backend).
    """
    if config is None:
        from .settings import config as global_config

        config = global_config
    spec = config.get_store_spec(store or None)
    key = (os.getpid(), id(config), _frozen(spec))  # a forked worker builds its own
    with _backends_lock:
        backend = _backends.get(key)
        if backend is not None:
            _backends.move_to_end(key)
            return backend
    backend = storage_service("StorageBackend")(spec)
    with _backends_lock:
        backend = _backends.setdefault(key, backend)
        _backends.move_to_end(key)
        while len(_backends) > BACKEND_CACHE_SIZE:
            _backends.popitem(last=False)
    return backend


def clear_backends() -> None:
    """Forget the backends :func:`get_backend` keeps (the next call builds new ones)."""
    with _backends_lock:
        _backends.clear()
