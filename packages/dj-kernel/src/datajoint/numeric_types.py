"""The numpy types of numeric attributes: as declared, and as DataJoint 2.x returns them.

``declared_dtype`` keeps the column's width (``int8`` → ``i1``, ``float32`` → ``f4``, native
``int unsigned`` → ``u4``); ``wide_dtype`` is what DataJoint 2.x gives every integer and float
column (``i8`` and ``f8``), so that values read back as ``to_dicts()`` gives them and integer
arithmetic does not wrap. Both are ``object`` for anything that is not a number.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

OBJECT = np.dtype(object)
_CORE_DTYPES = {
    "int8": "i1",
    "int16": "i2",
    "int32": "i4",
    "int64": "i8",
    "float32": "f4",
    "float64": "f8",
    "bool": "?",
}
_NATIVE_INT = re.compile(r"^(tiny|small|medium|big)?int(eger)?(\s*\(\s*\d+\s*\))?(\s+unsigned)?$")
_NATIVE_INT_SIZE = {"tiny": 1, "small": 2, "medium": 4, None: 4, "big": 8}
_NATIVE_FLOAT = {"float": "f4", "real": "f4", "double": "f8", "double precision": "f8"}
_INT64 = np.dtype("i8")
_UINT64 = np.dtype("u8")
_FLOAT64 = np.dtype("f8")


def declared_dtype(attr: Any) -> np.dtype:
    """The numpy type of the attribute's declared width (object for non-numeric values)."""
    if attr.codec_name or attr.is_blob:
        return OBJECT
    if attr.core in _CORE_DTYPES:
        return np.dtype(_CORE_DTYPES[attr.core])
    sql_type = (attr.sql_type or "").strip().lower()
    match = _NATIVE_INT.match(sql_type)
    if match:
        kind = "u" if match.group(4) else "i"
        return np.dtype(f"{kind}{_NATIVE_INT_SIZE[match.group(1)]}")
    if sql_type in _NATIVE_FLOAT:
        return np.dtype(_NATIVE_FLOAT[sql_type])
    return OBJECT


def wide_dtype(attr: Any) -> np.dtype:
    """int64 for integer attributes, float64 for floats; an unsigned 64-bit column stays
    uint64, the one integer type int64 cannot hold. Other types as declared."""
    dtype = declared_dtype(attr)
    if dtype.kind in "iu":
        return _UINT64 if dtype == _UINT64 else _INT64
    if dtype.kind == "f":
        return _FLOAT64
    return dtype
