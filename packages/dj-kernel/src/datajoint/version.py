"""The kernel's distribution name and installed version, read once from the package metadata.

Everything that reports the kernel's version (``dj.__version__``, the plugin host's provenance of
its own registrations, ``dj --version``) reads it from here.
"""

from __future__ import annotations

import importlib.metadata as _metadata

#: the distribution that installs the ``datajoint`` import package
DISTRIBUTION = "dj-kernel"

try:
    __version__ = _metadata.version(DISTRIBUTION)
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
