"""dj-storage's entry in the ``datajoint.plugins`` group.

It registers the storage protocols ``file``, ``memory``, ``s3``, ``gcs`` and ``azure`` (hook
``dj_register_storage_protocols``, the same door a third party uses) and the storage services the
kernel looks up by name (hook ``dj_register_storage_services``). Registrations are lazy
(``"module:attr"``): ``import datajoint`` imports neither fsspec nor a protocol driver.
"""

from __future__ import annotations

from datajoint import hookimpl
from datajoint.hookspecs import RegisterStorageProtocol, RegisterStorageService

#: protocol -> StorageAdapter subclass
PROTOCOLS: dict[str, str] = {
    "file": "dj_storage.adapters:FileAdapter",
    "memory": "dj_storage.adapters:MemoryAdapter",
    "s3": "dj_storage.adapters:S3Adapter",
    "gcs": "dj_storage.adapters:GCSAdapter",
    "azure": "dj_storage.adapters:AzureAdapter",
}

#: service name (see datajoint.storage.SERVICES) -> implementation; a target without ``:`` is a module
SERVICES: dict[str, str] = {
    "StorageBackend": "dj_storage.backend:StorageBackend",
    "ObjectRef": "dj_storage.objectref:ObjectRef",
    "NpyRef": "dj_storage.objectref:NpyRef",
    "StagedInsert": "dj_storage.staged:StagedInsert",
    "gc": "dj_storage.gc",
}


@hookimpl
def dj_register_storage_protocols(register: RegisterStorageProtocol) -> None:
    """Register the storage adapters of file, memory, s3, gcs and azure."""
    for name, target in PROTOCOLS.items():
        register(name, target)


@hookimpl
def dj_register_storage_services(register: RegisterStorageService) -> None:
    """Register StorageBackend, ObjectRef, NpyRef, StagedInsert and the gc module."""
    for name, target in SERVICES.items():
        register(name, target)
