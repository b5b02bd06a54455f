"""Exact comparison of values read back from blobs (shared by the blob test modules)."""

from __future__ import annotations

import decimal
import struct
from typing import Any

import numpy as np


def assert_same(actual: Any, expected: Any, where: str = "value") -> None:
    """Exact equality: same type, dtype, shape and contents (floats compared bitwise)."""
    assert type(actual) is type(expected), f"{where}: {type(actual)} is not {type(expected)}"
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, f"{where}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
        if expected.dtype.names:
            for name in expected.dtype.names:
                assert_same(np.asarray(actual[name]), np.asarray(expected[name]), f"{where}.{name}")
        elif expected.dtype.kind == "O":
            for i, (a, e) in enumerate(zip(actual.flat, expected.flat, strict=True)):
                assert_same(a, e, f"{where}[{i}]")
        else:
            assert actual.tobytes() == expected.tobytes(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, np.generic):
        assert actual.tobytes() == expected.tobytes(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, float):
        assert struct.pack("<d", actual) == struct.pack("<d", expected), f"{where}"
    elif isinstance(expected, complex):
        assert struct.pack("<dd", actual.real, actual.imag) == struct.pack(
            "<dd", expected.real, expected.imag
        ), f"{where}"
    elif isinstance(expected, decimal.Decimal):
        assert str(actual) == str(expected), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, dict):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for (ak, av), (ek, ev) in zip(actual.items(), expected.items(), strict=True):
            assert_same(ak, ek, f"{where} key")
            assert_same(av, ev, f"{where}[{ek!r}]")
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, set):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for e in expected:
            assert any(_same(a, e) for a in actual), f"{where}: {e!r} missing from {actual!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _same(actual: Any, expected: Any) -> bool:
    try:
        assert_same(actual, expected)
    except AssertionError:
        return False
    return True
