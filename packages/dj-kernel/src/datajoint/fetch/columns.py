"""Columns straight from cursor rows: structured arrays and per-attribute arrays without dicts.

Each batch of row tuples becomes one structured numpy chunk through ``np.fromiter`` (numeric
fields are converted in C; the others stay Python objects and are decoded a column at a time).
Chunks are appended to buffers that grow in place (``ndarray.resize``), so a fetch holds the
result plus one batch of driver rows, never a second full copy.

Two layouts share this path: ``"struct"`` (one structured array, dtype from the heading, SPEC §7
``to_arrays()``, numbers as int64/float64 unless ``dtypes="declared"``) and ``"columns"`` (one array per attribute with the types ``np.array`` gives
Python values: int64, float64, bool or object; used by ``to_arrays(*attrs)`` and the frames).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from contextlib import closing
from typing import Any, Literal

import numpy as np

from ..numeric_types import OBJECT, wide_dtype
from ..numeric_types import declared_dtype as heading_dtype
from .reader import (
    Decoder,
    column_decoders,
    concurrent_columns,
    decode_column,
    overlapped_columns,
    read_batches,
)

Layout = Literal["struct", "columns"]
#: the numeric types of a structured array: int64/float64 as DataJoint 2.x gives them
#: (``"wide"``), or each column's declared width (``"declared"``: less memory, e.g. int8 stays i1)
Dtypes = Literal["wide", "declared"]

_PYTHON_DTYPES = {"i": np.dtype("i8"), "u": np.dtype("i8"), "f": np.dtype("f8"), "b": np.dtype("?")}
#: growth factor of the result buffers
_GROWTH = 1.25


def python_dtype(attr: Any) -> np.dtype:
    """The type ``np.array`` gives this attribute's Python values: int64, float64, bool or object."""
    dtype = heading_dtype(attr)
    if dtype.kind == "u" and dtype.itemsize == 8:
        return OBJECT  # values above 2**63 have no int64
    return _PYTHON_DTYPES.get(dtype.kind, OBJECT)


class _Field:
    """How one attribute is read: its decoder and the type it lands in."""

    __slots__ = ("blob_rule", "checked", "decode", "from_blob", "name", "target")

    def __init__(self, name: str, target: np.dtype, decode: Decoder | None, checked: bool) -> None:
        self.name = name
        self.target = target
        self.decode = decode
        # read as objects first and look for NULL (numpy would turn None into False or fail)
        self.checked = checked
        self.blob_rule = False  # the type is still to be taken from the first row's blob
        self.from_blob = False  # the type was taken from the first row's blob


class GrowingArray:
    """An array appended to a chunk at a time, grown in place by ``ndarray.resize``."""

    def __init__(self, dtype: np.dtype) -> None:
        self.array = np.empty(0, dtype)
        self.size = 0

    def append(self, chunk: np.ndarray) -> None:
        need = self.size + len(chunk)
        if need > len(self.array):
            self.array.resize(max(need, int(len(self.array) * _GROWTH)), refcheck=False)
        self.array[self.size : need] = chunk
        self.size = need

    def retype(self, dtype: np.dtype) -> None:
        """Convert what was appended so far (a rare event: a NULL in an integer column)."""
        self.array = self.array[: self.size].astype(dtype)

    def result(self) -> np.ndarray:
        if len(self.array) != self.size:
            self.array.resize(self.size, refcheck=False)
        return self.array


class ColumnReader:
    """Reads a query's rows into a structured array or into one array per attribute."""

    def __init__(
        self,
        query: Any,
        names: Sequence[str],
        layout: Layout,
        squeeze: bool = False,
        dtypes: Dtypes = "wide",
    ) -> None:
        if dtypes not in ("wide", "declared"):
            raise ValueError(f"dtypes must be 'wide' or 'declared', got {dtypes!r}")
        if dtypes == "declared":
            numpy_type = heading_dtype
        else:
            numpy_type = wide_dtype if layout == "struct" else python_dtype
        self.query = query
        self.names = list(names)
        self.layout = layout
        heading = query.heading
        self.fields: list[_Field] = []
        self._decoders = column_decoders(query, self.names, squeeze)
        for name, decode in zip(self.names, self._decoders, strict=True):
            attr = heading[name]
            target = numpy_type(attr)
            if target == OBJECT:
                checked = False
            elif layout == "struct":
                checked = attr.nullable and target.kind != "f"  # NULL -> NaN is fine for floats
            else:
                checked = attr.nullable
            field = _Field(name, target, decode if target == OBJECT else None, checked)
            field.blob_rule = layout == "struct" and bool(attr.codec_name or attr.is_blob)
            self.fields.append(field)
        #: codec columns whose large values decode on the thread pool
        concurrent = concurrent_columns(query, self.names)
        self._concurrent = {self.names[i] for i in concurrent}
        #: columns decoded while the rows are read (:func:`~.reader.decoded_batches`)
        self._overlapped = overlapped_columns(query, self.names, self._decoders, concurrent)
        self._predecoded = {self.names[i] for i in self._overlapped}
        self._buffers: dict[str, GrowingArray] | None = None
        self._struct: GrowingArray | None = None

    # ---- reading ---------------------------------------------------------------------------
    def read(self, batches: Iterable[list[tuple]] | None = None) -> None:
        """Consume every batch (by default the query's rows) into the buffers."""
        if batches is None:  # the query's own cursor, closed even when a decoder raises
            own = read_batches(self.query, self.names, self._decoders, self._overlapped)
            with closing(own):
                for batch, decoded in own:
                    self._append(self._chunk(batch, decoded))
            return
        for batch in batches:
            self._append(self._chunk(batch))

    def _dtype(self, read: bool) -> np.dtype:
        """The chunk dtype as read from the rows (``read``) or as stored in the result."""
        return np.dtype(
            [
                (f.name, OBJECT if read and (f.checked or f.blob_rule) else f.target)
                for f in self.fields
            ]
        )

    def _chunk(self, batch: list[tuple], decoded: bool = False) -> np.ndarray:
        """One batch as a chunk of the result (``decoded``: the overlapped columns' values are
        decoded already)."""
        count = len(batch)
        try:
            raw = np.fromiter(batch, self._dtype(read=True), count)
        except (TypeError, ValueError, OverflowError):
            # a value numpy cannot convert (e.g. NULL where the heading promised none): from
            # here on read every numeric field as objects and check it
            for f in self.fields:
                f.checked = f.checked or f.target != OBJECT
            raw = np.fromiter(batch, self._dtype(read=True), count)
        converted: dict[str, np.ndarray] = {}
        for f in self.fields:
            if f.decode is not None and not (decoded and f.name in self._predecoded):
                values = decode_column(f.decode, raw[f.name], f.name in self._concurrent)
                raw[f.name] = np.fromiter(values, OBJECT, count)
            if f.blob_rule:
                self._apply_blob_rule(f, raw[f.name])
            if f.checked or f.blob_rule:
                converted[f.name] = self._convert(f, raw[f.name])
        if not converted:
            return raw
        chunk = np.empty(count, self._dtype(read=False))
        for f in self.fields:
            chunk[f.name] = converted.get(f.name, raw[f.name])
        return chunk

    def _apply_blob_rule(self, field: _Field, column: np.ndarray) -> None:
        """A blob whose first-row value is a number gets that number's type (SPEC §7)."""
        if len(column) == 0:
            return
        first = column[0]
        field.blob_rule = False
        if isinstance(first, numbers.Number) and not isinstance(first, np.ndarray):
            dtype = np.dtype(type(first))
            if dtype != OBJECT and dtype.kind in "biufc":
                field.target = dtype
                field.checked = True
                field.from_blob = True

    def _convert(self, field: _Field, column: np.ndarray) -> np.ndarray:
        """Objects read for a typed field: the typed column, or objects when that cannot be."""
        if field.target == OBJECT:
            return column
        values = column.tolist()
        if field.from_blob:
            return self._convert_blob_numbers(field, column, values)
        has_null = any(v is None for v in values)
        if not has_null or (field.target.kind == "f" and self.layout == "struct"):
            try:
                return np.array(values, dtype=field.target)
            except (TypeError, ValueError, OverflowError):
                pass
        if field.target.kind == "b":  # a nullable bool: True/False beside None on every backend
            column = np.fromiter((v if v is None else bool(v) for v in values), OBJECT, len(values))
        self._retype(field, OBJECT)
        return column

    def _convert_blob_numbers(
        self, field: _Field, column: np.ndarray, values: list[Any]
    ) -> np.ndarray:
        """Blob numbers: widened when a later row holds a wider number (an int field meeting
        1.5 becomes float, never truncated); objects once a value is not a number."""
        try:
            typed = np.array(values)
        except ValueError:
            typed = column
        if typed.ndim != 1 or typed.dtype.kind not in "biufc":
            self._retype(field, OBJECT)
            return column
        wider = np.result_type(field.target, typed.dtype)
        if wider != field.target:
            self._retype(field, wider)
            field.checked = True
        return typed.astype(field.target, copy=False)

    def _retype(self, field: _Field, dtype: np.dtype) -> None:
        field.target = dtype
        field.checked = False
        if self._struct is not None:
            self._struct.retype(self._dtype(read=False))
        if self._buffers is not None:
            self._buffers[field.name].retype(dtype)

    def _append(self, chunk: np.ndarray) -> None:
        if self.layout == "struct":
            if self._struct is None:
                self._struct = GrowingArray(chunk.dtype)
            self._struct.append(chunk)
            return
        if self._buffers is None:
            self._buffers = {f.name: GrowingArray(f.target) for f in self.fields}
        for f in self.fields:
            self._buffers[f.name].append(chunk[f.name])

    # ---- results ---------------------------------------------------------------------------
    def structured(self) -> np.ndarray:
        """The structured array (``layout="struct"``); no rows give an empty heading-typed array."""
        if self._struct is None:
            return np.empty(0, self._dtype(read=False))
        return self._struct.result()

    def columns(self) -> dict[str, np.ndarray]:
        """One array per attribute (``layout="columns"``): typed, or object arrays of values."""
        if self._buffers is None:
            return {f.name: np.empty(0, f.target) for f in self.fields}
        return {name: buffer.result() for name, buffer in self._buffers.items()}


def as_array(column: np.ndarray) -> np.ndarray:
    """``np.array(values)`` of a column (strings become ``<U``, equal-shape arrays stack); an
    object array when the values are ragged."""
    if column.dtype != OBJECT:
        return column
    if len(column) == 0:
        return column
    try:
        return np.array(column.tolist())
    except ValueError:
        return column


def read_structured(query: Any, squeeze: bool = False, dtypes: Dtypes = "wide") -> np.ndarray:
    """Every row of ``query`` as one structured array with the heading's dtype (numeric widths
    as ``dtypes`` says)."""
    reader = ColumnReader(query, query.heading.names, "struct", squeeze, dtypes)
    reader.read()
    return reader.structured()


def read_columns(
    query: Any, names: Sequence[str], squeeze: bool = False, dtypes: Dtypes = "wide"
) -> dict[str, np.ndarray]:
    """The attributes ``names`` of every row of ``query``, one array each (Python-value types,
    or the declared widths with ``dtypes="declared"``)."""
    reader = ColumnReader(query, names, "columns", squeeze, dtypes)
    reader.read()
    return reader.columns()
