"""dj-codecs-builtin's entry in the ``datajoint.plugins`` group: registers the built-in codecs.

Registrations are lazy (``"module:Class"``): ``import datajoint`` does not import the codecs or
the blob serializer; the first lookup of a codec imports the module that defines it.
"""

from __future__ import annotations

from datajoint import hookimpl

CODECS = {
    "blob": "dj_codecs_builtin.codecs:BlobCodec",
    "attach": "dj_codecs_builtin.codecs:AttachCodec",
    "hash": "dj_codecs_builtin.store_codecs:HashCodec",
    "object": "dj_codecs_builtin.store_codecs:ObjectCodec",
    "npy": "dj_codecs_builtin.store_codecs:NpyCodec",
    "filepath": "dj_codecs_builtin.store_codecs:FilepathCodec",
}


@hookimpl
def dj_register_codecs(register) -> None:
    """Register ``<blob>``, ``<attach>`` and the store-backed ``<hash>``, ``<object>``,
    ``<npy>`` and ``<filepath>``."""
    for name, target in CODECS.items():
        register(name, target)
