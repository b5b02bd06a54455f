"""Property tests: ``unpack(pack(x))`` gives back ``x`` exactly (SPEC §5).

"Exactly" means the value the spec says reads back: the same Python types, and numpy arrays of the
same dtype, shape and bytes. The documented conversions are applied to the expected value first
(a 0-d numeric array reads back as a numpy scalar, a unicode array as an object array of str, a
char array as U1 characters joined per row, a structured array as a recarray, tzinfo dropped).
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from datajoint.errors import DataJointError
from datajoint.testing.codec_laws import assert_same_value as assert_same
from dj_codecs_builtin.blob import MatCell, pack, unpack

settings.register_profile(
    "dj-blob",
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("dj-blob")


# --------------------------------------------------------------------------------------------
# exact comparison and expected read-back
# --------------------------------------------------------------------------------------------


def _object_array(items: list, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out.reshape(shape)


def readback(value: Any) -> Any:
    """The value that ``unpack(pack(value))`` is documented to return."""
    if isinstance(value, np.ndarray):
        if value.dtype.names is not None:  # field titles and offsets are not stored
            names = value.dtype.names
            dtype = np.dtype([(name, value.dtype.fields[name][0]) for name in names])
            rec = np.empty(value.shape, dtype=dtype)
            for name in names:
                rec[name] = value[name]
            return rec.view(np.recarray)
        if value.dtype.byteorder == ">":  # written (and read back) little-endian
            value = value.astype(value.dtype.newbyteorder("<"))
        kind = value.dtype.kind
        if kind == "U":
            return _object_array(value.ravel().tolist(), value.shape)
        if kind == "O":
            return _object_array([readback(v) for v in value.ravel()], value.shape)
        if kind == "S":  # S1 -> U1 (latin-1 code points); a row of chars joins into one string
            chars = value.ravel(order="F").tolist()
            if value.ndim == 1 or (value.ndim == 2 and value.shape[0] == 1):
                text = b"".join(chars).decode("latin-1")
                return np.array([text])
            letters = [b.decode("latin-1") for b in value.ravel().tolist()]
            return np.array(letters, dtype="U1").reshape(value.shape)
        if value.ndim == 0:
            return value[()]
        return np.array(value)
    if isinstance(value, datetime.datetime | datetime.time):
        return value.replace(tzinfo=None)
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, dict):
        return {readback(k): readback(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readback(v) for v in value]
    if isinstance(value, tuple):
        return tuple(readback(v) for v in value)
    if isinstance(value, set | frozenset):
        return {readback(v) for v in value}
    return value


def check_round_trip(value: Any) -> Any:
    blob = pack(value)
    result = unpack(blob)
    assert_same(result, readback(value))
    assert_same(unpack(memoryview(blob)), readback(value))
    assert pack(value, compress=False) == (
        blob if not blob.startswith(b"ZL123\0") else unpack_body(blob)
    )
    return result


def unpack_body(blob: bytes) -> bytes:
    import zlib

    return zlib.decompress(blob[14:])


# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------

big_ints = st.integers(min_value=-(2**700), max_value=2**700)
hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    big_ints,
    st.text(max_size=8),
    st.binary(max_size=8),
    st.uuids(),
    st.dates(),
)
scalars = st.one_of(
    hashable_scalars,
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.datetimes(),
    st.datetimes(timezones=st.just(datetime.UTC)),
    st.times(),
    st.just(bytearray(b"\x00mut")),
)

NUMERIC_DTYPES = [
    np.dtype(t)
    for t in (
        "?",
        "i1",
        "u1",
        "<i2",
        "<u2",
        "<i4",
        "<u4",
        "<i8",
        "<u8",
        "<f4",
        "<f8",
        "<c8",
        "<c16",
    )
]
DATETIME_DTYPES = [
    np.dtype(f"<M8[{u}]")
    for u in ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")
]
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


@st.composite
def arrays(draw: st.DrawFn, dtypes: st.SearchStrategy[np.dtype] | None = None) -> np.ndarray:
    """Arrays of every supported dtype, any shape (0-d and empty included), C or F order."""
    if dtypes is None:
        dtypes = st.one_of(
            st.sampled_from(NUMERIC_DTYPES),
            st.sampled_from(DATETIME_DTYPES),
            st.just(np.dtype("S1")),
            hnp.unicode_string_dtypes(min_len=1, max_len=4),
            st.just(np.dtype(object)),
            st.sampled_from([np.dtype(">f8"), np.dtype(">i4"), np.dtype(">c16")]),
        )
    dtype = draw(dtypes)
    shape = draw(shapes)
    if dtype.kind == "O":
        elements = st.one_of(scalars, st.lists(st.integers(), max_size=3))
        value = hnp.arrays(dtype, shape, elements=elements, fill=st.nothing())
        array = draw(value)
    else:
        array = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["C", "F", "T", "strided"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "T":
        array = array.T
    elif layout == "strided" and array.ndim:
        array = array[::-1, ...][::2]
    return array


numpy_scalars = st.sampled_from(NUMERIC_DTYPES + DATETIME_DTYPES).flatmap(
    lambda dtype: hnp.from_dtype(dtype).map(lambda v: np.array(v, dtype=dtype)[()])
)
small_arrays = arrays(st.sampled_from([*NUMERIC_DTYPES, np.dtype("U3"), DATETIME_DTYPES[3]]))


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(hashable_scalars, children, max_size=4),
        st.sets(hashable_scalars, max_size=4),
    )


nested = st.recursive(st.one_of(scalars, numpy_scalars, small_arrays), _containers, max_leaves=12)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@PROFILE
@given(scalars)
def test_scalars_round_trip(value: Any) -> None:
    check_round_trip(value)


@PROFILE
@given(st.recursive(scalars, _containers, max_leaves=20))
def test_nested_python_values_round_trip(value: Any) -> None:
    blob = pack(value)
    assert blob.startswith((b"dj0\0", b"ZL123\0"))
    check_round_trip(value)


@PROFILE
@given(arrays())
def test_arrays_round_trip(array: np.ndarray) -> None:
    result = check_round_trip(array)
    if array.dtype.kind in "biufc" and array.ndim:
        assert result.flags.writeable
        assert pack(array, compress=False)[:4] == b"mYm\0"


@PROFILE
@given(numpy_scalars)
def test_numpy_scalars_round_trip(value: np.generic) -> None:
    check_round_trip(value)


@PROFILE
@given(nested)
def test_nested_mixed_round_trip(value: Any) -> None:
    check_round_trip(value)


@PROFILE
@given(arrays(st.sampled_from(NUMERIC_DTYPES + DATETIME_DTYPES[:4])), st.booleans())
def test_squeeze_matches_numpy_squeeze(array: np.ndarray, wrap: bool) -> None:
    value = [array] if wrap else array
    result = unpack(pack(value), squeeze=True)
    if wrap:
        result = result[0]
    expected = np.squeeze(readback(array))
    if expected.ndim == 0:
        assert_same(result, expected.item())
    else:
        assert_same(result, expected)


structured_dtypes = hnp.array_dtypes(
    subtype_strategy=st.sampled_from([*NUMERIC_DTYPES, DATETIME_DTYPES[6]]),
    min_size=1,
    max_size=4,
    allow_subarrays=False,
).filter(lambda dtype: not any("\0" in name for name in dtype.names))
# names are NUL-terminated in the format; a NUL inside one is refused (tested below)


@PROFILE
@given(structured_dtypes.flatmap(lambda dtype: hnp.arrays(dtype, shapes)))
def test_structured_arrays_round_trip(array: np.ndarray) -> None:
    result = check_round_trip(array)
    assert type(result) is np.recarray


def test_field_name_with_nul_is_refused() -> None:
    array = np.array((False,), dtype=[("a\0b", "?")])
    with pytest.raises(DataJointError, match="NUL character"):
        pack(array)


@PROFILE
@given(hnp.arrays(np.dtype(object), shapes, elements=nested, fill=st.nothing()))
def test_matcell_round_trip(cells: np.ndarray) -> None:
    cell = cells.view(MatCell)
    result = unpack(pack(cell))
    assert type(result) is MatCell
    expected = readback(cells)
    if cells.size == 0:
        expected = np.empty(0, dtype=object)
    assert_same(np.asarray(result), expected)


@PROFILE
@given(nested, st.data())
def test_truncated_blobs_raise_datajoint_error(value: Any, data: st.DataObject) -> None:
    body = pack(value, compress=False)
    cut = data.draw(st.integers(min_value=4, max_value=len(body) - 1))
    with pytest.raises(DataJointError, match=r"^Blob length check failed! Invalid blob$"):
        unpack(body[:cut])
    with pytest.raises(DataJointError, match=r"^Blob length check failed! Invalid blob$"):
        unpack(body + b"\0")
