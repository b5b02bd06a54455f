"""Byte-compatible blob serialization (SPEC §5): ``pack(obj)`` and ``unpack(blob)``.

Layout (every integer little-endian)::

    blob     := [ "ZL123\\0" u64(len(body)) zlib(body) ] | body
    body     := ("mYm\\0" | "dj0\\0") item
    item     := code payload

``mYm\\0`` is the MATLAB-compatible protocol; the writer switches the whole blob to ``dj0\\0`` as
soon as it packs anything mym cannot represent. Array data are written in Fortran order straight
from numpy buffers; the output is assembled from a list of parts joined once.
"""

from __future__ import annotations

import collections.abc
import datetime
import math
import struct
import uuid
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from datajoint.errors import DataJointError
from datajoint.matlab_types import MatCell, MatStruct

from .blob_items import (
    SCALAR_ENCODERS,
    SIZED_ENCODERS,
    TYPE_CHAR,
    TYPE_OBJECT,
    array_type_id,
    dtype_for_type_id,
    enc_bool,
    enc_complex,
    enc_datetime,
    enc_decimal,
    enc_float,
    enc_int,
    enc_str,
    enc_uuid,
    little_endian,
)

__all__ = ["MatCell", "MatStruct", "pack", "unpack"]

PROTOCOL_MYM = b"mYm\0"
PROTOCOL_DJ0 = b"dj0\0"
COMPRESSION_PREFIX = b"ZL123\0"
COMPRESSION_THRESHOLD = 1000

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_CODE_U64 = struct.Struct("<cQ")
_TYPE_HEADER = struct.Struct("<II")
_DATE_TIME = struct.Struct("<iq")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")
_u64 = _U64.pack
_code_u64 = _CODE_U64.pack

_LENGTH_ERROR = "Blob length check failed! Invalid blob"


# --------------------------------------------------------------------------------------------
# pack
# --------------------------------------------------------------------------------------------


def _shape_bytes(array: np.ndarray) -> bytes:
    return _u64(array.ndim) + struct.pack(f"<{array.ndim}Q", *array.shape)


def _names_bytes(names: tuple[str, ...]) -> bytes:
    # names are NUL-terminated in the format: a NUL inside a name would end it early
    for name in names:
        if "\0" in name:
            raise DataJointError(
                f"Field name {name!r} contains a NUL character, which the blob format cannot "
                "store: rename the field."
            )
    return _U32.pack(len(names)) + b"".join(name.encode() + b"\0" for name in names)


class _Packer:
    """Appends the items of one blob to ``parts`` and records whether ``dj0`` is required."""

    __slots__ = ("dj0", "parts")

    def __init__(self) -> None:
        self.parts: list[Any] = [b""]  # parts[0] is the protocol, filled in at the end
        self.dj0 = False

    # Each method appends one item to ``parts`` and returns its size in bytes.

    def item(self, obj: Any) -> int:
        encoder = SCALAR_ENCODERS.get(type(obj))
        if encoder is not None:
            self.dj0 = True
            data = encoder(obj)
            self.parts.append(data)
            return len(data)
        method = _CONTAINER_PACKERS.get(type(obj))
        if method is not None:
            self.dj0 = True
            return method(self, obj)
        return self._dispatch(obj)

    def sized(self, obj: Any) -> int:
        """Append ``u64 len + item``; return the total size."""
        parts = self.parts
        encoder = SIZED_ENCODERS.get(type(obj))
        if encoder is not None:
            self.dj0 = True
            data = encoder(obj)
            parts.append(data)
            return len(data)
        index = len(parts)
        parts.append(b"")
        size = self.item(obj)
        parts[index] = _u64(size)
        return size + 8

    def _dispatch(self, obj: Any) -> int:
        """The pack dispatch order of SPEC §5, for anything without a fast path."""
        if isinstance(obj, MatCell):
            return self.cell(obj)
        if isinstance(obj, MatStruct):
            return self.struct(obj)
        if isinstance(obj, np.ndarray) and obj.dtype.names is None:
            return self.array(obj)
        self.dj0 = True
        if not isinstance(obj, np.ndarray | np.generic):
            if isinstance(obj, bool):
                return self._put(enc_bool(obj))
            if isinstance(obj, int):
                return self._put(enc_int(obj))
            if isinstance(obj, complex):
                return self._put(enc_complex(obj))
            if isinstance(obj, float):
                return self._put(enc_float(obj))
        if isinstance(obj, np.ndarray):
            return self.recarray(obj)
        if isinstance(obj, np.number | np.bool_ | np.datetime64):
            return self.array(np.array(obj))
        if isinstance(obj, datetime.date | datetime.time):
            return self._put(enc_datetime(obj))
        if isinstance(obj, Decimal):
            return self._put(enc_decimal(obj))
        if isinstance(obj, uuid.UUID):
            return self._put(enc_uuid(obj))
        if isinstance(obj, collections.abc.Mapping):
            return self.mapping(obj)
        if isinstance(obj, str):
            return self._put(enc_str(obj))
        if isinstance(obj, bytes | bytearray):
            return self.raw_bytes(obj)
        if isinstance(obj, collections.abc.MutableSequence):
            return self.sequence(b"\x02", obj)
        if isinstance(obj, collections.abc.Sequence):
            return self.sequence(b"\x01", obj)
        if isinstance(obj, collections.abc.Set):
            return self.sequence(b"\x03", obj)
        if obj is None:
            return self._put(b"\xff")
        raise DataJointError(f"Packing object of type {type(obj)} currently not supported!")

    def _put(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)

    def raw_bytes(self, obj: bytes | bytearray) -> int:
        """``\\x06``: u64 len + the bytes, appended as a separate part (no copy here)."""
        self.parts.append(_code_u64(b"\x06", len(obj)))
        self.parts.append(bytes(obj))
        return 9 + len(obj)

    def sequence(self, code: bytes, items: Any) -> int:
        """``\\x01`` tuple, ``\\x02`` list, ``\\x03`` set: u64 count, then sized elements."""
        parts = self.parts
        parts.append(_code_u64(code, len(items)))
        size = 9
        sized = self.sized
        encoders = SIZED_ENCODERS
        for element in items:
            encoder = encoders.get(type(element))
            if encoder is None:
                size += sized(element)
            else:  # inlined fast path of sized(); dj0 is already set by the container
                data = encoder(element)
                parts.append(data)
                size += len(data)
        return size

    def mapping(self, obj: collections.abc.Mapping) -> int:
        parts = self.parts
        parts.append(_code_u64(b"\x04", len(obj)))
        size = 9
        sized = self.sized
        encoders = SIZED_ENCODERS
        for pair in obj.items():
            for element in pair:
                encoder = encoders.get(type(element))
                if encoder is None:
                    size += sized(element)
                else:  # inlined fast path of sized(); dj0 is already set by the container
                    data = encoder(element)
                    parts.append(data)
                    size += len(data)
        return size

    def array(self, array: np.ndarray) -> int:
        """``A``: header, then the data in Fortran order straight from numpy buffers."""
        array = np.asarray(array)
        type_id, is_complex = array_type_id(array.dtype)
        if array.ndim == 0 or type_id == TYPE_OBJECT or array.dtype.kind == "M":
            self.dj0 = True
        header = b"A" + _shape_bytes(array) + _TYPE_HEADER.pack(type_id, is_complex)
        parts = self.parts
        parts.append(header)
        size = len(header)
        if type_id == TYPE_OBJECT:
            flat = array.ravel(order="F")
            elements = flat.tolist() if array.dtype.kind == "U" else list(flat)
            sized = self.sized
            for element in elements:
                size += sized(element)
            return size
        if type_id == TYPE_CHAR:
            data = np.ravel(array, order="F").view(np.uint8).astype("<u2")
            blocks = [data]
        elif is_complex:
            array = little_endian(array)
            blocks = [np.ravel(array.real, order="F"), np.ravel(array.imag, order="F")]
        else:
            blocks = [np.ravel(little_endian(array), order="F")]
        for block in blocks:
            parts.append(block.view(np.uint8))  # a contiguous 1-D view: joined without a copy
            size += block.nbytes
        return size

    def recarray(self, array: np.ndarray) -> int:
        """``F``: u32 n_fields, names, then one item per field (no length prefix)."""
        array = np.asarray(array)
        names = array.dtype.names or ()
        head = b"F" + _names_bytes(names)
        self.parts.append(head)
        size = len(head)
        for name in names:
            size += self.item(array[name])
        return size

    def struct(self, obj: MatStruct) -> int:
        """``S``: shape, names, then each element (F order) and field as ``u64 len + item``."""
        array = np.asarray(obj)
        names = array.dtype.names or ()
        head = b"S" + _shape_bytes(array) + _names_bytes(names)
        self.parts.append(head)
        size = len(head)
        if names:
            flat = array.ravel(order="F")
            columns = [flat[name] for name in names]
            sized = self.sized
            for index in range(flat.size):
                for column in columns:
                    size += sized(column[index])
        return size

    def cell(self, obj: MatCell) -> int:
        """``C``: shape, then each element (F order) as ``u64 len + item``."""
        array = np.asarray(obj)
        head = b"C" + _shape_bytes(array)
        self.parts.append(head)
        size = len(head)
        sized = self.sized
        for element in list(array.ravel(order="F")):
            size += sized(element)
        return size


_CONTAINER_PACKERS: dict[type, Callable[[_Packer, Any], int]] = {
    dict: _Packer.mapping,
    bytes: _Packer.raw_bytes,
    bytearray: _Packer.raw_bytes,
    list: lambda packer, obj: packer.sequence(b"\x02", obj),
    tuple: lambda packer, obj: packer.sequence(b"\x01", obj),
    set: lambda packer, obj: packer.sequence(b"\x03", obj),
    frozenset: lambda packer, obj: packer.sequence(b"\x03", obj),
}


def pack(obj: Any, compress: bool = True) -> bytes:
    """Serialize ``obj`` to blob bytes (SPEC §5).

    With ``compress``, a body longer than 1000 bytes is zlib-compressed when that is shorter.
    """
    packer = _Packer()
    packer.item(obj)
    parts = packer.parts
    parts[0] = PROTOCOL_DJ0 if packer.dj0 else PROTOCOL_MYM
    body = b"".join(parts)
    del parts, packer  # release array views before compressing
    if compress and len(body) > COMPRESSION_THRESHOLD:
        compressed = zlib.compress(body)
        if len(compressed) + len(COMPRESSION_PREFIX) + 8 < len(body):
            return b"".join((COMPRESSION_PREFIX, _u64(len(body)), compressed))
    return body


# --------------------------------------------------------------------------------------------
# unpack
# --------------------------------------------------------------------------------------------


class _Reader:
    """Reads items from ``buf`` (bytes or a byte memoryview) starting at ``pos``."""

    __slots__ = ("buf", "end", "pos", "squeeze")

    def __init__(self, buf: bytes | memoryview, pos: int, squeeze: bool) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf)
        self.squeeze = squeeze

    def take(self, n: int) -> bytes | memoryview:
        start = self.pos
        stop = start + n
        if stop > self.end:
            raise DataJointError(_LENGTH_ERROR)
        self.pos = stop
        return self.buf[start:stop]

    def u64(self) -> int:
        value = _U64.unpack_from(self.buf, self.pos)[0]
        self.pos += 8
        return value

    def u32(self) -> int:
        value = _U32.unpack_from(self.buf, self.pos)[0]
        self.pos += 4
        return value

    def shape(self) -> tuple[int, ...]:
        ndim = self.u64()
        if 8 * ndim > self.end - self.pos:
            raise DataJointError(_LENGTH_ERROR)
        shape = struct.unpack_from(f"<{ndim}Q", self.buf, self.pos)
        self.pos += 8 * ndim
        return shape

    def count(self, n: int, min_size: int = 9) -> int:
        """``n`` when ``n`` items of at least ``min_size`` bytes can fit in the rest of the blob."""
        if n * min_size > self.end - self.pos:
            raise DataJointError(_LENGTH_ERROR)
        return n

    def cstring(self) -> str:
        buf, start = self.buf, self.pos
        if isinstance(buf, bytes):
            stop = buf.find(b"\0", start)
        else:
            stop = start
            while stop < self.end and buf[stop] != 0:
                stop += 1
        if stop < 0 or stop >= self.end:
            raise DataJointError(_LENGTH_ERROR)
        self.pos = stop + 1
        return str(buf[start:stop], "utf-8")

    def item(self) -> Any:
        code = self.buf[self.pos]
        self.pos += 1
        reader = _ITEM_READERS.get(code)
        if reader is None:
            raise DataJointError(f'Unknown data structure code "{chr(code)}". Upgrade datajoint.')
        return reader(self)

    def sized(self) -> Any:
        """Read ``u64 len + item`` and check that the item used exactly ``len`` bytes."""
        buf = self.buf
        start = self.pos + 8
        n = _U64.unpack_from(buf, self.pos)[0]
        code = buf[start]
        self.pos = start + 1
        reader = _ITEM_READERS.get(code)
        if reader is None:
            raise DataJointError(f'Unknown data structure code "{chr(code)}". Upgrade datajoint.')
        value = reader(self)
        if self.pos - start != n:
            raise DataJointError(_LENGTH_ERROR)
        return value

    def squeezed(self, array: Any, to_scalar: bool = True) -> Any:
        if not self.squeeze:
            return array
        array = array.squeeze()
        return array.item() if to_scalar and array.ndim == 0 else array

    # --- item readers -------------------------------------------------------------------

    def array(self, to_scalar: bool = True) -> Any:
        shape = self.shape()
        type_id, is_complex = _TYPE_HEADER.unpack_from(self.buf, self.pos)
        self.pos += 8
        n = math.prod(shape)
        if type_id == TYPE_OBJECT:
            data = np.empty(self.count(n), dtype=object)
            for index in range(n):
                data[index] = self.sized()
            return self.squeezed(data.reshape(shape, order="F"), to_scalar)
        if type_id == TYPE_CHAR:
            return self.squeezed(self._chars(shape, n), to_scalar)
        dtype = dtype_for_type_id(type_id)
        if is_complex:
            real = self._numeric(dtype, n)
            data = np.empty(
                n,
                dtype=np.complex64 if dtype.kind == "f" and dtype.itemsize == 4 else np.complex128,
            )
            data.real = real
            data.imag = self._numeric(dtype, n)
        else:
            data = self._numeric(dtype, n).copy()
        data = data.reshape(shape, order="F")
        if not shape:
            data = data[()]  # a 0-d array reads back as a numpy scalar
        return self.squeezed(data, to_scalar)

    def _numeric(self, dtype: np.dtype, n: int) -> np.ndarray:
        offset = self.pos
        nbytes = n * dtype.itemsize
        if offset + nbytes > self.end:
            raise DataJointError(_LENGTH_ERROR)
        self.pos = offset + nbytes
        if n == 0:
            return np.empty(0, dtype=dtype)
        return np.frombuffer(self.buf, dtype=dtype, count=n, offset=offset)

    def _chars(self, shape: tuple[int, ...], n: int) -> np.ndarray:
        """CHAR: uint16 per character; the low byte of each is kept (as a U1 code point)."""
        raw = self._numeric(np.dtype(np.uint8), 2 * n)
        chars = raw[::2].astype("<u4").view("<U1")
        if len(shape) == 1 or (len(shape) == 2 and shape[0] == 1):
            # A row of characters becomes one string held in a 1-element array.
            if n != 1:
                chars = np.array("".join(chars.tolist()))
            return chars.reshape(1)
        return chars.reshape(shape, order="F")

    def recarray(self) -> Any:
        n_fields = self.u32()
        if not n_fields:
            return np.array(None)
        names = [self.cstring() for _ in range(n_fields)]
        fields = [np.asarray(self.field()) for _ in range(n_fields)]
        shape = fields[0].shape
        depth = len(shape)
        descr = []
        for name, field in zip(names, fields, strict=True):
            extra = field.shape[depth:] if field.shape[:depth] == shape else ()
            descr.append((name, field.dtype, extra) if extra else (name, field.dtype))
        rec = np.empty(shape, dtype=descr)
        for name, field in zip(names, fields, strict=True):
            rec[name] = field
        return rec.view(np.recarray)

    def field(self) -> Any:
        """A field of an ``F`` item: squeezed like any array, but never turned into a scalar."""
        if self.buf[self.pos] == ord("A"):
            self.pos += 1
            return self.array(to_scalar=False)
        return self.item()

    def struct(self) -> Any:
        shape = self.shape()
        n_fields = self.u32()
        if not n_fields:
            return np.array(None)
        names = [self.cstring() for _ in range(n_fields)]
        n = self.count(math.prod(shape), 9 * n_fields)
        data = np.empty(n, dtype=[(name, object) for name in names])
        columns = [data[name] for name in names]
        sized = self.sized
        for index in range(n):
            for column in columns:
                column[index] = sized()
        data = data.reshape(shape, order="F")
        return self.squeezed(data, to_scalar=False).view(MatStruct)

    def cell(self) -> Any:
        shape = self.shape()
        n = self.count(math.prod(shape))
        data = np.empty(n, dtype=object)
        sized = self.sized
        for index in range(n):
            data[index] = sized()
        if n:
            data = data.reshape(shape, order="F")
        return self.squeezed(data, to_scalar=False).view(MatCell)

    def sparse(self) -> Any:
        raise DataJointError("datajoint-python does not yet support sparse arrays. Issue (#590)")

    def tuple_(self) -> tuple:
        return tuple(self._elements())

    def list_(self) -> list:
        return self._elements()

    def set_(self) -> set:
        return set(self._elements())

    def _elements(self) -> list:
        count = self.count(self.u64())
        sized = self.sized
        return [sized() for _ in range(count)]

    def dict_(self) -> dict:
        count = self.count(self.u64(), 18)
        sized = self.sized
        result = {}
        for _ in range(count):
            key = sized()
            result[key] = sized()
        return result

    def str_(self) -> str:
        buf = self.buf
        start = self.pos + 8
        stop = start + _U64.unpack_from(buf, self.pos)[0]
        if stop > self.end:
            raise DataJointError(_LENGTH_ERROR)
        self.pos = stop
        return str(buf[start:stop], "utf-8")

    def bytes_(self) -> bytes:
        return bytes(self.take(self.u64()))

    def int_(self) -> int:
        buf = self.buf
        start = self.pos + 2
        stop = start + _U16.unpack_from(buf, self.pos)[0]
        if stop > self.end:
            raise DataJointError(_LENGTH_ERROR)
        self.pos = stop
        return int.from_bytes(buf[start:stop], "little", signed=True)

    def bool_(self) -> bool:
        return self.take(1)[0] != 0

    def complex_(self) -> complex:
        real, imag = _C128.unpack_from(self.buf, self.pos)
        self.pos += 16
        return complex(real, imag)

    def float_(self) -> float:
        value = _F64.unpack_from(self.buf, self.pos)[0]
        self.pos += 8
        return value

    def decimal(self) -> Decimal:
        return Decimal(str(self.take(self.u64()), "ascii"))

    def datetime_(self) -> datetime.date | datetime.time | datetime.datetime | None:
        date, time = _DATE_TIME.unpack_from(self.buf, self.pos)
        self.pos += _DATE_TIME.size
        if date == -1 and time == -1:
            return None
        if time != -1:
            hhmmss, microsecond = divmod(time, 1_000_000)
            hour, minute, second = hhmmss // 10000, hhmmss // 100 % 100, hhmmss % 100
            if date == -1:
                return datetime.time(hour, minute, second, microsecond)
        year, month, day = date // 10000, date // 100 % 100, date % 100
        if time == -1:
            return datetime.date(year, month, day)
        return datetime.datetime(year, month, day, hour, minute, second, microsecond)

    def uuid_(self) -> uuid.UUID:
        return uuid.UUID(bytes=bytes(self.take(16)))

    def none(self) -> None:
        return None


_ITEM_READERS: dict[int, Callable[[_Reader], Any]] = {
    ord("A"): _Reader.array,
    ord("F"): _Reader.recarray,
    ord("S"): _Reader.struct,
    ord("C"): _Reader.cell,
    ord("P"): _Reader.sparse,
    0x01: _Reader.tuple_,
    0x02: _Reader.list_,
    0x03: _Reader.set_,
    0x04: _Reader.dict_,
    0x05: _Reader.str_,
    0x06: _Reader.bytes_,
    0x0A: _Reader.int_,
    0x0B: _Reader.bool_,
    0x0C: _Reader.complex_,
    0x0D: _Reader.float_,
    ord("d"): _Reader.decimal,
    ord("t"): _Reader.datetime_,
    ord("u"): _Reader.uuid_,
    0xFF: _Reader.none,
}


def _decompress(view: memoryview) -> bytes:
    if len(view) < 14:
        raise DataJointError(_LENGTH_ERROR)
    expected = _U64.unpack_from(view, 6)[0]
    payload = view[14:]
    # Preallocate the expected size, bounded by zlib's maximal compression ratio (~1032:1).
    bufsize = max(1, min(expected, 1032 * len(payload) + 1024))
    try:
        body = zlib.decompress(payload, bufsize=bufsize)
    except zlib.error as error:
        raise DataJointError(f"Blob decompression failed: {error}") from error
    if len(body) != expected:
        raise DataJointError(f"Blob size mismatch: expected {expected}, got {len(body)}")
    return body


def unpack(blob: bytes | bytearray | memoryview | None, squeeze: bool = False) -> Any:
    """Deserialize blob bytes (SPEC §5); ``None`` gives ``None``.

    With ``squeeze``, every array read is squeezed and 0-d results become Python scalars.
    A body whose protocol is neither ``mYm\\0`` nor ``dj0\\0`` unpacks to ``None``.
    """
    if blob is None:
        return None
    view = memoryview(blob)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    buf: bytes | memoryview = blob if isinstance(blob, bytes) else view
    if view[: len(COMPRESSION_PREFIX)] == COMPRESSION_PREFIX:
        buf = _decompress(view)
    if bytes(buf[:4]) not in (PROTOCOL_MYM, PROTOCOL_DJ0):
        return None
    reader = _Reader(buf, 4, squeeze)
    try:
        obj = reader.item()
    except (struct.error, IndexError) as error:
        raise DataJointError(_LENGTH_ERROR) from error
    if reader.pos != reader.end:
        raise DataJointError(_LENGTH_ERROR)
    return obj
