"""dj-storage's entry in the ``datajoint.plugins`` group.

Storage protocols (file, memory, s3, gcs, azure) are registered here through
``dj_register_storage_protocols`` once the storage layer lands; until then the package installs,
loads and registers nothing.
"""
