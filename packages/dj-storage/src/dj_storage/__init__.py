"""dj-storage: object stores for dj-kernel over fsspec.

The package registers itself through its plugin module (:mod:`dj_storage.plugin`); importing it
imports nothing else. :mod:`dj_storage.backend` holds ``StorageBackend``, :mod:`dj_storage.adapters`
the storage protocols and :mod:`dj_storage.manifest` the folder manifest.
"""
