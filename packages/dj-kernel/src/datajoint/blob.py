"""The module path DataJoint 2.x code imports the blob serializer from: ``datajoint.blob``.

A re-export with no logic (see "The 2.x compatibility surface" in docs/architecture.md).
``MatCell`` and ``MatStruct`` are the kernel's. ``pack`` and ``unpack`` belong to whichever
package provides the ``<blob>`` codec (``dj-codecs-builtin``): the kernel imports no plugin
package at import time, so they are looked up in the codec registry on first use, as static
methods of the registered ``<blob>`` codec class.
"""

from __future__ import annotations

from typing import Any

from .codecs import get_codec
from .errors import DataJointError
from .matlab_types import MatCell, MatStruct

_SERIALIZER = ("pack", "unpack")

__all__ = ["MatCell", "MatStruct", "pack", "unpack"]  # noqa: F822 (pack/unpack: __getattr__)


def __getattr__(name: str) -> Any:
    if name not in _SERIALIZER:
        raise AttributeError(f"module 'datajoint.blob' has no attribute {name!r}")
    try:
        codec_class = type(get_codec("blob"))
    except DataJointError as error:
        raise AttributeError(
            f"datajoint.blob.{name} is not available: the <blob> codec is not installed ({error})"
        ) from error
    function = getattr(codec_class, name, None)
    if function is None:
        raise AttributeError(
            f"datajoint.blob.{name} is not available: the installed <blob> codec "
            f"({codec_class.__module__}.{codec_class.__qualname__}) does not provide it"
        )
    return function


def __dir__() -> list[str]:
    return sorted(__all__)
