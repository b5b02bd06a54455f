"""The make protocols of auto-populated tables and the content hash of fetched data (SPEC §9).

A table's ``make(key)`` is either *plain* (one call inside the populate transaction) or a
*generator* following the three-part protocol: it yields what it fetched, receives (or computes
and yields) the result, then inserts and yields once more. Populate runs a generator make twice:
once outside any transaction to fetch and compute, then inside the transaction to fetch again and
insert. :func:`content_hash` proves that the second fetch saw the same data as the first.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import inspect
import struct
import uuid
from collections.abc import Callable, Generator, Mapping
from typing import Any

import numpy as np

from ..errors import DataJointError

# ---- content hash ---------------------------------------------------------------------------


def content_hash(value: Any) -> str:
    """A deterministic, order-sensitive digest of fetched data.

    Covers what ``make_fetch`` returns: numpy arrays (dtype, shape and bytes; object arrays
    element by element), dicts (in their order), lists and tuples, scalars, strings, bytes, None,
    dates and times, decimals, UUIDs, sets (order-free) and pandas objects. Equal data gives equal
    digests in any process; values of different types never collide (``1`` vs ``"1"`` vs ``1.0``).
    """
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, value)
    return digest.hexdigest()


def key_hash(key: Mapping[str, Any]) -> str:
    """The 32-character hex MD5 of a key's values as text, in the order of the sorted attribute
    names: the key hash DataJoint 0.x stored in its jobs tables, so values computed there match."""
    digest = hashlib.md5()
    for _, value in sorted(key.items()):
        digest.update(str(value).encode())
    return digest.hexdigest()


def _tag(digest: Any, tag: bytes, payload: bytes = b"") -> None:
    # a length prefix keeps adjacent items from running into each other
    digest.update(tag + struct.pack("<Q", len(payload)) + payload)


def _feed(digest: Any, value: Any) -> None:
    if value is None:
        _tag(digest, b"N")
    elif isinstance(value, (bool, np.bool_)):
        _tag(digest, b"B", b"1" if value else b"0")
    elif isinstance(value, str):
        _tag(digest, b"S", value.encode("utf-8", "surrogatepass"))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        _tag(digest, b"Y", bytes(value))
    elif isinstance(value, (int, np.integer)):
        _tag(digest, b"I", str(int(value)).encode())
    elif isinstance(value, (float, np.floating)):
        _tag(digest, b"F", struct.pack("<d", float(value)))
    elif isinstance(value, (complex, np.complexfloating)):
        _tag(digest, b"C", struct.pack("<dd", value.real, value.imag))
    elif isinstance(value, np.ndarray):
        _feed_array(digest, value)
    elif isinstance(value, np.generic):  # other numpy scalars: datetime64, void records, ...
        _feed_array(digest, np.asarray(value))
    elif isinstance(value, Mapping):
        _tag(digest, b"D", str(len(value)).encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        _tag(digest, b"L" if isinstance(value, list) else b"T", str(len(value)).encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, (set, frozenset)):
        _tag(digest, b"E", "".join(sorted(content_hash(item) for item in value)).encode())
    elif isinstance(value, (datetime.date, datetime.time)):
        _tag(digest, b"t", f"{type(value).__name__}:{value.isoformat()}".encode())
    elif isinstance(value, datetime.timedelta):
        _tag(digest, b"d", f"{value.days}:{value.seconds}:{value.microseconds}".encode())
    elif isinstance(value, decimal.Decimal):
        _tag(digest, b"M", str(value).encode())
    elif isinstance(value, uuid.UUID):
        _tag(digest, b"U", value.bytes)
    elif _is_pandas(value):
        _feed_pandas(digest, value)
    elif hasattr(value, "__dict__"):  # plain objects (e.g. MatStruct-like containers)
        _tag(digest, b"O", f"{type(value).__module__}.{type(value).__qualname__}".encode())
        _feed(digest, vars(value))
    else:
        _tag(digest, b"R", f"{type(value).__qualname__}:{value!r}".encode())


def _feed_array(digest: Any, array: np.ndarray) -> None:
    _tag(digest, b"A", f"{array.dtype.str}|{array.dtype.descr}|{array.shape}".encode())
    if array.dtype.hasobject:
        if array.dtype.names:
            for name in array.dtype.names:
                _feed_array(digest, array[name])
        else:
            for item in array.ravel(order="C"):
                _feed(digest, item)
    else:
        _tag(digest, b"a", np.ascontiguousarray(array).tobytes())


def _is_pandas(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("pandas.") and hasattr(value, "to_numpy")


def _feed_pandas(digest: Any, value: Any) -> None:
    _tag(digest, b"P", type(value).__name__.encode())
    _feed(digest, list(value.index))
    if hasattr(value, "columns"):
        _feed(digest, list(value.columns))
        for column in value.columns:
            _feed(digest, list(value[column]))
    else:
        _feed(digest, list(value))


# ---- make protocols -------------------------------------------------------------------------


def three_part_make(table: Any, key: dict, **make_kwargs: Any) -> Generator[Any, Any, None]:
    """The generator built from ``make_fetch`` / ``make_compute`` / ``make_insert``."""
    fetched = table.make_fetch(key, **make_kwargs)
    computed = yield fetched
    if computed is None:
        computed = table.make_compute(key, *fetched)
        yield computed
    table.make_insert(key, *computed)
    yield


_PARTS = ("make_fetch", "make_compute", "make_insert")


def require_make(table: Any) -> None:
    """NotImplementedError unless ``table`` defines all of the three make parts."""
    if not all(callable(getattr(table, name, None)) for name in _PARTS):
        raise NotImplementedError(
            f"{type(table).__name__} must define make(key), or all of make_fetch(key), "
            "make_compute(key, *fetched) and make_insert(key, *computed)."
        )


def make_callable(table: Any, default_make: Callable) -> tuple[Callable, bool]:
    """The make to run for ``table`` and whether it follows the generator protocol.

    ``_make_tuples`` wins over ``make``; the default ``make`` (``default_make``) is the three-part
    generator, so a table using it must define the three parts.
    """
    legacy = getattr(table, "_make_tuples", None)
    if callable(legacy):
        return legacy, False
    method = type(table).make
    if method is default_make:
        require_make(table)
        return table.make, True
    return table.make, inspect.isgeneratorfunction(method)


class FetchedDataChanged(DataJointError):
    """The data a three-part make fetched changed between its two passes."""


def run_generator_make(
    make: Callable, key: dict, make_kwargs: dict, begin: Callable[[], None]
) -> None:
    """Run a generator make in two passes: fetch and compute outside any transaction, then call
    ``begin`` (which opens the transaction), fetch again, verify and insert."""
    first = make(key, **make_kwargs)
    try:
        fetched_hash = content_hash(next(first))
        computed = next(first)
    finally:
        first.close()
    begin()
    second = make(key, **make_kwargs)
    try:
        if content_hash(next(second)) != fetched_hash:
            raise FetchedDataChanged(
                "Referential integrity failed! The `make_fetch` data has changed"
            )
        try:
            second.send(computed)
        except StopIteration:  # a user generator may end right after its insert
            pass
    finally:
        second.close()
