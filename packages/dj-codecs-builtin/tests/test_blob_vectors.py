"""Byte-exact blob vectors of the reference implementation (SPEC §5), plus hand-built cases.

Every vector in ``data/blob-vectors/manifest.json`` (next to this file; provenance in its README)
must pack to the stored bytes and unpack to the value (exactly: same types, dtypes, shapes and
contents).
"""

from __future__ import annotations

import datetime
import decimal
import json
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from datajoint.errors import DataJointError
from datajoint.testing.codec_laws import assert_same_value as assert_same
from dj_codecs_builtin.blob import MatCell, MatStruct, pack, unpack

VECTORS = Path(__file__).resolve().parent / "data" / "blob-vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text())
NAMESPACE = {
    "np": np,
    "datetime": datetime,
    "decimal": decimal,
    "uuid": uuid,
    "dj_MatCell": MatCell,
    "dj_MatStruct": MatStruct,
}

# Vectors whose documented read-back value differs from the packed value.
READBACK = {
    "arr_0d": np.float64(5.5),  # a 0-d numeric array reads back as a numpy scalar
    "arr_unicode": np.array(["ab", "cde"], dtype=object),  # U arrays are written as objects
    "arr_char_S1": np.array(["abc"]),  # a row of chars becomes one string
    "recarray": np.rec.array([(1, 2.5), (3, 4.5)], dtype=[("a", np.int32), ("b", np.float64)]),
}


def make_cell(*items: Any) -> MatCell:
    """A 1-D MatCell holding ``items`` (np.array would broadcast nested arrays)."""
    cell = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        cell[i] = item
    return cell.view(MatCell)


def _body(blob: bytes) -> bytes:
    return zlib.decompress(blob[14:]) if blob.startswith(b"ZL123\0") else blob


# --------------------------------------------------------------------------------------------
# manifest vectors
# --------------------------------------------------------------------------------------------


def test_vectors_present() -> None:
    assert VECTORS.is_dir(), f"blob vectors not found at {VECTORS}"
    assert len(MANIFEST) >= 45


@pytest.mark.parametrize("row", MANIFEST, ids=[row["name"] for row in MANIFEST])
def test_vector_packs_byte_exact(row: dict) -> None:
    expected = (VECTORS / row["file"]).read_bytes()
    assert len(expected) == row["nbytes"]
    assert expected.startswith(row["protocol"].encode("latin-1"))
    packed = pack(eval(row["expr"], NAMESPACE))
    assert packed == expected


@pytest.mark.parametrize("row", MANIFEST, ids=[row["name"] for row in MANIFEST])
def test_vector_unpacks_to_value(row: dict) -> None:
    data = (VECTORS / row["file"]).read_bytes()
    value = unpack(data)
    assert repr(type(value).__name__) == row["reads_back_as"]
    assert repr(value)[:300] == row["readback_repr"][:300]
    expected = READBACK.get(row["name"], eval(row["expr"], NAMESPACE))
    assert_same(value, expected)
    assert_same(unpack(memoryview(data)), expected)
    assert_same(unpack(bytearray(data)), expected)


# --------------------------------------------------------------------------------------------
# layout details
# --------------------------------------------------------------------------------------------


def test_none_and_unknown_protocol() -> None:
    assert unpack(None) is None
    assert unpack(b"xyz\0\xff") is None
    compressed = b"ZL123\0" + struct.pack("<Q", 5) + zlib.compress(b"abc\0\xff")
    assert unpack(compressed) is None


def test_fortran_order_data() -> None:
    c_order = np.arange(6, dtype=np.int16).reshape(2, 3)
    data = pack(c_order)[-12:]
    assert np.frombuffer(data, "<i2").tolist() == [0, 3, 1, 4, 2, 5]
    assert pack(np.asfortranarray(c_order)) == pack(c_order)
    assert pack(c_order.T) == pack(np.ascontiguousarray(c_order.T))
    strided = np.arange(20.0).reshape(4, 5)[::2, 1::2]
    assert_same(unpack(pack(strided)), np.ascontiguousarray(strided))


def test_big_endian_input_is_written_little_endian() -> None:
    value = np.array([1.5, -2.0], dtype=">f8")
    assert pack(value) == pack(value.astype("<f8"))
    assert_same(unpack(pack(value)), value.astype("<f8"))
    cplx = np.array([1 + 2j], dtype=">c16")
    assert pack(cplx) == pack(cplx.astype("<c16"))


def test_complex_layout_real_then_imag() -> None:
    blob = pack(np.array([1 + 2j, 3 + 4j]))
    assert blob[:4] == b"mYm\0"
    assert struct.unpack("<II", blob[4 + 1 + 16 : 4 + 1 + 16 + 8]) == (6, 1)
    assert struct.unpack("<4d", blob[-32:]) == (1.0, 3.0, 2.0, 4.0)


@pytest.mark.parametrize(
    ("value", "protocol"),
    [
        (np.arange(3), b"mYm\0"),
        (np.zeros((2, 0)), b"mYm\0"),
        (np.array([b"x"], dtype="S1"), b"mYm\0"),
        (np.array([[True]]), b"mYm\0"),
        (np.array([1, 2], dtype="datetime64[s]"), b"dj0\0"),
        (np.array(3), b"dj0\0"),
        (np.array(True), b"dj0\0"),
        (np.array(["a"]), b"dj0\0"),
        (np.array([None]), b"dj0\0"),
        (np.float64(1.0), b"dj0\0"),
        (np.bool_(True), b"dj0\0"),
        (np.datetime64("2024-01-01"), b"dj0\0"),
        (np.zeros(2, dtype=[("a", "f8")]), b"dj0\0"),
        (make_cell(np.arange(2), np.eye(2)), b"mYm\0"),
        (make_cell(np.arange(2), 1), b"dj0\0"),
        ([np.arange(2)], b"dj0\0"),
    ],
)
def test_protocol_switch(value: Any, protocol: bytes) -> None:
    assert pack(value)[:4] == protocol


def test_numpy_scalars_are_0d_arrays() -> None:
    for scalar in [np.int8(-3), np.uint32(7), np.float32(1.5), np.complex64(1 - 1j), np.bool_(0)]:
        blob = pack(scalar)
        assert blob[4:5] == b"A"
        assert struct.unpack("<Q", blob[5:13]) == (0,)
        assert_same(unpack(blob), scalar)
    assert_same(
        unpack(pack(np.datetime64("2024-05-06T07:08", "m"))), np.datetime64("2024-05-06T07:08")
    )


def test_float_subclasses_of_numpy_are_not_python_floats() -> None:
    # np.float64 subclasses float, but is packed as an array, not as a \x0d float.
    assert pack(np.float64(2.0))[4:5] == b"A"
    assert pack(2.0) == b"dj0\0\x0d" + struct.pack("<d", 2.0)


def test_int_encoding() -> None:
    assert pack(0) == b"dj0\0\x0a\x01\x00\x00"
    assert pack(-1) == b"dj0\0\x0a\x01\x00\xff"
    assert pack(255) == b"dj0\0\x0a\x02\x00\xff\x00"
    assert pack(-128) == b"dj0\0\x0a\x02\x00\x80\xff"
    big = 2 ** (8 * 65535 - 1) - 1
    assert unpack(pack(big)) == big
    assert unpack(pack(-big)) == -big
    with pytest.raises(DataJointError, match=r"^Integers are limited to 65535 bytes$"):
        pack(2 ** (8 * 65535 - 1))


def test_datetime_variants() -> None:
    time = datetime.time(23, 59, 58, 999999)
    assert pack(time) == b"dj0\0t" + struct.pack("<iq", -1, 235958999999)
    assert_same(unpack(pack(time)), time)
    aware = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert_same(unpack(pack(aware)), aware.replace(tzinfo=None))
    assert_same(unpack(pack(datetime.date(1, 1, 1))), datetime.date(1, 1, 1))


def test_containers_and_abc_dispatch() -> None:
    from collections import OrderedDict, deque, namedtuple

    point = namedtuple("point", "x y")
    assert_same(unpack(pack(point(1, 2))), (1, 2))
    assert_same(unpack(pack(deque([1, "a"]))), [1, "a"])
    assert_same(unpack(pack(range(3))), (0, 1, 2))
    assert_same(unpack(pack(OrderedDict(b=1, a=2))), {"b": 1, "a": 2})
    assert unpack(pack(frozenset({1, 2}))) == {1, 2}
    assert type(unpack(pack(frozenset({1})))) is set
    assert_same(unpack(pack(bytearray(b"ab"))), b"ab")
    assert_same(unpack(pack(np.str_("s"))), "s")
    assert_same(unpack(pack(np.bytes_(b"s"))), b"s")
    assert pack(True) == b"dj0\0\x0b\x01"
    assert pack({}) == b"dj0\0\x04" + bytes(8)


def test_unsupported_types() -> None:
    with pytest.raises(DataJointError, match=r"Packing object of type .*object.* currently not"):
        pack(object())
    with pytest.raises(DataJointError, match="not supported"):
        pack([1, {2: object()}])
    for dtype in ["float16", "S2", "timedelta64[s]", "datetime64[2D]", "datetime64"]:
        with pytest.raises(DataJointError, match=r"^Type .* is ambiguous or unknown$"):
            pack(np.zeros(2, dtype=dtype))
    with pytest.raises(DataJointError, match=r"^Type float16 is ambiguous or unknown$"):
        pack(np.float16(1))


def test_char_arrays() -> None:
    assert_same(unpack(pack(np.array([b"z"], dtype="S1"))), np.array(["z"]))
    assert_same(unpack(pack(np.array([], dtype="S1"))), np.array([""]))
    row = np.array([[b"a", b"b"]], dtype="S1")
    assert_same(unpack(pack(row)), np.array(["ab"]))
    square = np.array([[b"a", b"b"], [b"c", b"d"]], dtype="S1")
    assert_same(unpack(pack(square)), np.array([["a", "b"], ["c", "d"]]))
    assert_same(unpack(pack(square), squeeze=True), np.array([["a", "b"], ["c", "d"]]))
    assert unpack(pack(row), squeeze=True) == "ab"
    assert_same(unpack(pack(np.array(b"q", dtype="S1"))), np.array("q"))
    # MATLAB writes uint16 characters; the low byte of each is kept.
    matlab = b"mYm\0A" + struct.pack("<QQQII", 2, 1, 2, 4, 0) + struct.pack("<2H", 0x68, 0x69)
    assert unpack(matlab, squeeze=True) == "hi"


def test_squeeze() -> None:
    assert_same(unpack(pack(np.ones((1, 3, 1))), squeeze=True), np.ones(3))
    assert_same(unpack(pack(np.array([[7.0]])), squeeze=True), 7.0)
    assert_same(unpack(pack(np.array(5, dtype=np.int16)), squeeze=True), 5)
    assert_same(unpack(pack(np.array([1 + 1j])), squeeze=True), 1 + 1j)
    assert_same(unpack(pack([np.zeros((1, 2))]), squeeze=True), [np.zeros(2)])
    assert_same(unpack(pack(np.array(["x"])), squeeze=True), "x")
    cell = unpack(pack(np.array([[np.ones((1, 1))]], dtype=object).view(MatCell)), squeeze=True)
    assert type(cell) is MatCell
    assert cell.shape == ()
    assert_same(cell[()], 1.0)
    struct_ = np.array([(1.0,)], dtype=[("a", object)]).view(MatStruct)
    result = unpack(pack(struct_), squeeze=True)
    assert type(result) is MatStruct
    assert result.shape == ()
    rec = unpack(pack(np.array([(1, 2.0)], dtype="i4,f8")), squeeze=True)
    assert type(rec) is np.recarray  # its fields are squeezed, the recarray itself is not
    assert rec.shape == ()
    assert_same(rec[()].f0, np.int32(1))


def test_matcell_round_trip() -> None:
    cell = np.empty((2, 3), dtype=object).view(MatCell)
    for i, value in enumerate([1, "a", np.arange(3), None, [1, 2], {"k": 1.0}]):
        cell[i % 2, i // 2] = value
    result = unpack(pack(cell))
    assert type(result) is MatCell
    assert_same(np.asarray(result), np.asarray(cell))
    empty = unpack(pack(np.empty((0, 4), dtype=object).view(MatCell)))
    assert type(empty) is MatCell
    assert empty.shape == (0,)
    assert empty.dtype == object
    numeric = unpack(pack(np.arange(4.0).reshape(2, 2).view(MatCell)))
    assert_same(numeric[1, 0], np.float64(2.0))


def test_matstruct_round_trip() -> None:
    data = np.empty((1, 2), dtype=[("a", object), ("b", object)]).view(MatStruct)
    data[0, 0] = (np.eye(2), "x")
    data[0, 1] = (np.array([1, 2]), {"n": None})
    blob = pack(data)
    assert blob[4:5] == b"S"
    result = unpack(blob)
    assert type(result) is MatStruct
    assert result.dtype == np.dtype([("a", object), ("b", object)])
    assert result.shape == (1, 2)
    assert_same(result.a[0, 0], np.eye(2))
    assert_same(result[0, 1].b, {"n": None})
    assert_same(result.b[0, 0], "x")
    no_fields = np.empty(3, dtype=[]).view(MatStruct)
    assert_same(unpack(pack(no_fields)), np.array(None))


def test_recarray_variants() -> None:
    nested = np.zeros(3, dtype=[("a", "i2"), ("b", [("c", "f4"), ("d", "u1")])])
    nested["b"]["c"] = [1.5, 2.5, 3.5]
    blob = pack(nested)
    assert blob[4:5] == b"F"
    result = unpack(blob)
    assert type(result) is np.recarray
    assert_same(np.asarray(result.b.c), np.array([1.5, 2.5, 3.5], dtype="f4"))
    zero_d = np.array((1, 2.0), dtype="i4,f8")
    result = unpack(pack(zero_d))
    assert type(result) is np.recarray
    assert result.shape == ()
    assert_same(result["f1"][()], np.float64(2.0))
    sub = np.zeros(2, dtype=[("x", "f8"), ("y", "i4", (3,))])
    sub["y"] = [[1, 2, 3], [4, 5, 6]]
    assert_same(np.asarray(unpack(pack(sub)).y), sub["y"])
    assert_same(unpack(b"dj0\0F" + struct.pack("<I", 0)), np.array(None))
    assert_same(
        unpack(pack(np.recarray((2,), dtype=[("q", "U3")]))).q, np.array(["", ""], dtype=object)
    )


def test_compression_rule() -> None:
    small = np.zeros(972, dtype=np.uint8)  # body = 4 + 25 + 972 = 1001 bytes > 1000: compressed
    assert len(pack(small, compress=False)) == 1001
    assert pack(small).startswith(b"ZL123\0")
    at_limit = np.zeros(971, dtype=np.uint8)  # 1000 bytes: never compressed
    assert len(pack(at_limit, compress=False)) == 1000
    assert pack(at_limit) == pack(at_limit, compress=False)
    random = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)
    assert pack(random) == pack(random, compress=False)  # compression would not be shorter
    blob = pack(np.zeros(1000))
    assert blob.startswith(b"ZL123\0")
    assert struct.unpack("<Q", blob[6:14])[0] == len(_body(blob))
    assert zlib.decompress(blob[14:]) == pack(np.zeros(1000), compress=False)


def test_read_errors() -> None:
    with pytest.raises(
        DataJointError, match=r'^Unknown data structure code "Q". Upgrade datajoint.$'
    ):
        unpack(b"dj0\0Q")
    with pytest.raises(
        DataJointError,
        match=r"^datajoint-python does not yet support sparse arrays. Issue \(#590\)$",
    ):
        unpack(b"mYm\0P")
    with pytest.raises(DataJointError, match=r"^Blob length check failed! Invalid blob$"):
        unpack(pack([1, 2]) + b"\0")
    with pytest.raises(DataJointError, match=r"^Blob length check failed! Invalid blob$"):
        unpack(pack(np.arange(10))[:-1])
    with pytest.raises(DataJointError, match=r"^Blob length check failed! Invalid blob$"):
        unpack(pack("hello")[:-2])
    bad_len = bytearray(pack([1]))
    bad_len[13] += 1  # the element's u64 length
    with pytest.raises(DataJointError, match=r"^Blob length check failed! Invalid blob$"):
        unpack(bytes(bad_len))
    body = pack([1, 2], compress=False)
    wrong = b"ZL123\0" + struct.pack("<Q", len(body) + 1) + zlib.compress(body)
    with pytest.raises(
        DataJointError, match=rf"^Blob size mismatch: expected {len(body) + 1}, got {len(body)}$"
    ):
        unpack(wrong)
    with pytest.raises(DataJointError):
        unpack(b"ZL123\0" + struct.pack("<Q", 3) + b"not zlib")


def test_memoryview_slices_and_copies() -> None:
    blob = pack({"a": np.arange(4.0), "b": "text"})
    buffer = bytearray(b"xx" + blob + b"yy")
    value = unpack(memoryview(buffer)[2:-2])
    buffer[:] = bytes(len(buffer))  # the result must not share memory with the input
    assert_same(value, {"a": np.arange(4.0), "b": "text"})
    assert value["a"].flags.writeable
    words = memoryview(bytearray(pack(np.arange(6)))).cast("B")
    assert_same(unpack(words), np.arange(6))
