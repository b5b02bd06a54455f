"""dj-codecs-builtin's entry in the ``datajoint.plugins`` group: registers the built-in codecs.

Registrations are lazy (``"module:Class"``): ``import datajoint`` does not import the codecs or
the blob serializer; the first lookup of ``<blob>`` or ``<attach>`` does.
"""

from __future__ import annotations

from datajoint import hookimpl

CODECS = {
    "blob": "dj_codecs_builtin.codecs:BlobCodec",
    "attach": "dj_codecs_builtin.codecs:AttachCodec",
}


@hookimpl
def dj_register_codecs(register) -> None:
    """Register ``<blob>`` and ``<attach>``."""
    for name, target in CODECS.items():
        register(name, target)
