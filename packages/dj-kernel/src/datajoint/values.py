"""Python values as bound parameters: one rule set for inserts, updates and restrictions.

A value stored in an attribute (insert, update) or compared with it (restriction) is adapted here
before the dialect's ``encode_param`` turns it into what the driver binds:

- a value whose type the column binds as it is (:data:`PASS_THROUGH`) is used unchanged; callers
  test ``type(value) in pass_through(core)`` per value, the fast path of bulk inserts;
- numpy scalars become Python values (:func:`plain`);
- a uuid column takes a ``uuid.UUID``, its 16 bytes or its text (:func:`to_uuid`);
- an insert leaves ``None`` (and, in a numeric column, ``""`` and NaN) to the column default
  (:func:`stored` gives :data:`DEFAULT`);
- a restriction compares dates, times, decimals and lists as text unless the column holds dates or
  decimals (:func:`comparable`), so that every backend compares like with like.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from typing import Any

import numpy as np

from .errors import DataJointError

#: Python types a column of the given core type binds as they are (no per-value adaptation)
PASS_THROUGH: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("int8", "int16", "int32", "int64"), (int,)),
    **dict.fromkeys(("float32", "float64"), (float, int)),
    **dict.fromkeys(("char", "varchar", "enum"), (str,)),
}


def pass_through(core: str | None) -> tuple[type, ...]:
    """The Python types a column of core type ``core`` binds unchanged (empty when none)."""
    return PASS_THROUGH.get(core or "", ())


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; any other value unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def to_uuid(value: Any, name: str, where: str = "") -> uuid.UUID:
    """``value`` for the uuid attribute ``name``: a ``uuid.UUID``, its 16 bytes or its text.

    ``where`` (e.g. ``" in a restriction"``) says where the value came from in the error.
    """
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise DataJointError(
            f"badly formed UUID value {value} for attribute `{name}`{where}: give a uuid.UUID, "
            "its 16 bytes or its text (e.g. '123e4567-e89b-12d3-a456-426614174000')."
        ) from None


#: marks a value the database fills with the column default (the column is left out of the row)
DEFAULT = object()


def stored(value: Any, numeric: bool) -> Any:
    """``value`` as an insert binds it: numpy scalars unwrapped, and :data:`DEFAULT` for a value
    that leaves the column to its default -- None, or, in a numeric column, ``""`` or NaN."""
    if isinstance(value, np.generic):  # plain(), inlined: this runs once per value
        value = value.item()
    if value is None:
        return DEFAULT
    if numeric and (value == "" or (isinstance(value, float) and math.isnan(value))):
        return DEFAULT
    return value


#: values a restriction compares as text unless the column holds dates or decimals
_AS_TEXT = (list, datetime.date, datetime.time, decimal.Decimal)


def comparable(value: Any, core: str | None) -> Any:
    """A restriction value as the column of core type ``core`` compares it."""
    if isinstance(value, _AS_TEXT) and not (core and core.startswith(("date", "decimal"))):
        return str(value)
    return value


def naive_utc(value: datetime.datetime) -> datetime.datetime:
    """A timezone-aware datetime as the naive UTC datetime every backend stores (SPEC §3.3:
    ``datetime`` has no time zone; an aware value is converted, never silently shifted)."""
    return value.astimezone(datetime.UTC).replace(tzinfo=None)
