"""MATLAB marker classes of the blob format (SPEC §5), kept in the kernel so ``dj.MatCell`` works without
importing a codec plugin.

``MatCell`` marks an object ndarray packed as a MATLAB cell array (item code ``C``); ``MatStruct``
marks a record array packed as a MATLAB struct array (item code ``S``). The serializer itself lives
in the ``dj-codecs-builtin`` package.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MatCell", "MatStruct"]


class MatCell(np.ndarray):
    """A MATLAB cell array: an object ndarray packed element by element (item code ``C``)."""


class MatStruct(np.recarray):
    """A MATLAB struct array: a record array packed element by element (item code ``S``)."""
