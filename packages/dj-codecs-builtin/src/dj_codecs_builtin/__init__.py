"""dj-codecs-builtin: the built-in codecs of dj-kernel and the byte-compatible blob format.

``<blob>`` (:class:`dj_codecs_builtin.codecs.BlobCodec`) and ``<attach>``
(:class:`dj_codecs_builtin.codecs.AttachCodec`) are registered with the kernel through the
``dj_register_codecs`` hook (see :mod:`dj_codecs_builtin.plugin`); the serializer is
:mod:`dj_codecs_builtin.blob`.
"""

__version__ = "0.4.0"
