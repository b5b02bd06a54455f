"""Item type codes and item encoders of the blob format (SPEC §5).

The tables map numpy dtypes to the ``u32 type_id`` of an ``A`` item and back, and exact Python
scalar types to their item encoders. The MATLAB marker classes ``MatCell``/``MatStruct`` are the
kernel's (:mod:`datajoint.matlab_types`).
"""

from __future__ import annotations

import datetime
import struct
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from datajoint.errors import DataJointError

__all__ = [
    "DATETIME_BASE",
    "DATETIME_UNITS",
    "MAX_INT_BYTES",
    "SCALAR_ENCODERS",
    "SIZED_ENCODERS",
    "TYPE_BOOL",
    "TYPE_CHAR",
    "TYPE_OBJECT",
    "array_type_id",
    "dtype_for_type_id",
    "enc_bool",
    "enc_complex",
    "enc_datetime",
    "enc_decimal",
    "enc_float",
    "enc_int",
    "enc_str",
    "enc_uuid",
    "little_endian",
]


TYPE_BOOL = 3  # mxLOGICAL_CLASS
TYPE_CHAR = 4  # mxCHAR_CLASS: S1 stored as uint16
TYPE_OBJECT = 5  # mxVOID_CLASS: each element is ``u64 len + item``
DATETIME_BASE = 65536
DATETIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")

# (dtype.kind, itemsize) -> type_id, for the types whose data are the raw little-endian bytes.
_NUMERIC_IDS: dict[tuple[str, int], int] = {
    ("b", 1): TYPE_BOOL,
    ("f", 8): 6,
    ("f", 4): 7,
    ("i", 1): 8,
    ("u", 1): 9,
    ("i", 2): 10,
    ("u", 2): 11,
    ("i", 4): 12,
    ("u", 4): 13,
    ("i", 8): 14,
    ("u", 8): 15,
}

# type_id -> little-endian dtype of the stored data (CHAR and OBJECT are handled apart).
_DTYPES: dict[int, np.dtype] = {
    TYPE_BOOL: np.dtype(np.bool_),
    6: np.dtype("<f8"),
    7: np.dtype("<f4"),
    8: np.dtype("i1"),
    9: np.dtype("u1"),
    10: np.dtype("<i2"),
    11: np.dtype("<u2"),
    12: np.dtype("<i4"),
    13: np.dtype("<u4"),
    14: np.dtype("<i8"),
    15: np.dtype("<u8"),
}
_DTYPES.update(
    {DATETIME_BASE + k: np.dtype(f"<M8[{unit}]") for k, unit in enumerate(DATETIME_UNITS)}
)

_BIG_ENDIAN_HOST = sys.byteorder == "big"


def _unknown(dtype: np.dtype) -> DataJointError:
    return DataJointError(f"Type {dtype} is ambiguous or unknown")


def array_type_id(dtype: np.dtype) -> tuple[int, bool]:
    """Return ``(type_id, is_complex)`` for an array of ``dtype`` (no fields).

    Raises DataJointError "Type <dtype> is ambiguous or unknown" for any other dtype.
    """
    kind = dtype.kind
    if kind in "OU":
        return TYPE_OBJECT, False
    if kind == "S":
        if dtype.itemsize == 1:
            return TYPE_CHAR, False
        raise _unknown(dtype)
    if kind == "M":
        unit, count = np.datetime_data(dtype)
        if count == 1 and unit in DATETIME_UNITS:
            return DATETIME_BASE + DATETIME_UNITS.index(unit), False
        raise _unknown(dtype)
    if kind == "c":
        type_id = _NUMERIC_IDS.get(("f", dtype.itemsize // 2))
        if type_id is None:
            raise _unknown(dtype)
        return type_id, True
    type_id = _NUMERIC_IDS.get((kind, dtype.itemsize))
    if type_id is None:
        raise _unknown(dtype)
    return type_id, False


def dtype_for_type_id(type_id: int) -> np.dtype:
    """The little-endian dtype of the data of a numeric/bool/datetime64 ``A`` item."""
    try:
        return _DTYPES[type_id]
    except KeyError:
        raise DataJointError(f"Unknown array type id {type_id} in blob") from None


def little_endian(array: np.ndarray) -> np.ndarray:
    """``array`` itself when its data are little-endian (or have no byte order), else a copy."""
    order = array.dtype.byteorder
    if order == ">" or (order == "=" and _BIG_ENDIAN_HOST):
        return array.astype(array.dtype.newbyteorder("<"))
    return array


# --------------------------------------------------------------------------------------------
# Python scalar items (all of them are dj0-only)
# --------------------------------------------------------------------------------------------

MAX_INT_BYTES = 65535
_U16 = struct.Struct("<H")
_U64 = struct.Struct("<Q")
_CODE_U64 = struct.Struct("<cQ")
_DATE_TIME = struct.Struct("<iq")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")
_u64 = _U64.pack
_code_u64 = _CODE_U64.pack


def enc_none(_obj: None) -> bytes:
    return b"\xff"


def enc_bool(obj: bool) -> bytes:
    return b"\x0b\x01" if obj else b"\x0b\x00"


def enc_int(obj: int) -> bytes:
    n_bytes = obj.bit_length() // 8 + 1
    if n_bytes > MAX_INT_BYTES:
        raise DataJointError("Integers are limited to 65535 bytes")
    return b"\x0a" + _U16.pack(n_bytes) + obj.to_bytes(n_bytes, "little", signed=True)


def enc_float(obj: float) -> bytes:
    return b"\x0d" + _F64.pack(obj)


def enc_complex(obj: complex) -> bytes:
    return b"\x0c" + _C128.pack(obj.real, obj.imag)


def enc_str(obj: str) -> bytes:
    data = obj.encode()
    return _code_u64(b"\x05", len(data)) + data


def enc_decimal(obj: Decimal) -> bytes:
    data = str(obj).encode("ascii")
    return _code_u64(b"d", len(data)) + data


def enc_uuid(obj: uuid.UUID) -> bytes:
    return b"u" + obj.bytes


def enc_datetime(obj: datetime.date | datetime.time) -> bytes:
    """``t``: int32 yyyymmdd (or -1) and int64 hhmmss·10⁶ + µs (or -1); tzinfo is dropped."""
    date = time = -1
    if isinstance(obj, datetime.date):
        date = obj.year * 10000 + obj.month * 100 + obj.day
    if isinstance(obj, datetime.datetime | datetime.time):
        hhmmss = obj.hour * 10000 + obj.minute * 100 + obj.second
        time = hhmmss * 1_000_000 + obj.microsecond
    return b"t" + _DATE_TIME.pack(date, time)


# Exact Python types whose item is a single bytes object (all of them are dj0-only).
SCALAR_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    type(None): enc_none,
    bool: enc_bool,
    int: enc_int,
    float: enc_float,
    complex: enc_complex,
    str: enc_str,
    Decimal: enc_decimal,
    uuid.UUID: enc_uuid,
    datetime.datetime: enc_datetime,
    datetime.date: enc_datetime,
    datetime.time: enc_datetime,
}


_SIZED_HEAD = struct.Struct("<QcQ")  # u64 len, code, u64 payload length
_SIZED_INT = struct.Struct("<QcH")
_SIZED_FLOAT = struct.Struct("<Qcd")


def _sized_int(obj: int) -> bytes:
    n_bytes = obj.bit_length() // 8 + 1
    if n_bytes > MAX_INT_BYTES:
        raise DataJointError("Integers are limited to 65535 bytes")
    head = _SIZED_INT.pack(n_bytes + 3, b"\x0a", n_bytes)
    return head + obj.to_bytes(n_bytes, "little", signed=True)


def _sized_float(obj: float) -> bytes:
    return _SIZED_FLOAT.pack(9, b"\x0d", obj)


def _sized_str(obj: str) -> bytes:
    data = obj.encode()
    return _SIZED_HEAD.pack(len(data) + 9, b"\x05", len(data)) + data


def _sized(encoder: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    def encode(obj: Any) -> bytes:
        data = encoder(obj)
        return _u64(len(data)) + data

    return encode


# The same types, encoded as ``u64 len + item`` in one go (elements of containers).
SIZED_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    **{kind: _sized(encoder) for kind, encoder in SCALAR_ENCODERS.items()},
    type(None): lambda _obj: b"\x01\0\0\0\0\0\0\0\xff",
    bool: lambda obj: b"\x02\0\0\0\0\0\0\0\x0b\x01" if obj else b"\x02\0\0\0\0\0\0\0\x0b\x00",
    int: _sized_int,
    float: _sized_float,
    str: _sized_str,
}
