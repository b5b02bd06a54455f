"""Names the offending value of a failed insert: table, attribute and value (SPEC §8).

Backends translate their driver's data errors (wrong type, out of range, not in the enum, too
long, not a date) into :class:`~datajoint.errors.DataError`, naming the attribute when the driver
does. This module runs only on that error path: it finds the first value of the failed chunk that
does not fit its attribute -- in the attribute the driver named, else in any -- and raises a
DataError that names the table, the attribute and the value, chained to the driver's error.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..declare.types import core_type_args, core_type_name, enum_values
from ..errors import DataError

_INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
_FLOAT32_MAX = 3.4028234663852886e38
_DECIMAL_ARGS = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")
_LENGTH_ARGS = re.compile(r"\(\s*(\d+)\s*\)")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str | decimal.Decimal):
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            return None
        return int(number) if number == number.to_integral_value() else None
    return None


def _as_number(value: Any) -> decimal.Decimal | None:
    if isinstance(value, bool | int | float | decimal.Decimal):
        number = decimal.Decimal(value)
    elif isinstance(value, str):
        try:
            number = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _is_calendar(value: Any, core: str) -> bool:
    if isinstance(value, datetime.date):
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def fits(core: str, type_text: str, value: Any) -> bool:
    """Whether ``value`` (as given or as encoded for binding) fits core type ``core``.

    ``type_text`` is the declared core type with its arguments (``decimal(6,2)``). A value this
    cannot judge counts as fitting, so only a value known to be wrong is blamed.
    """
    if value is None:
        return True
    if core in _INT_BITS:
        number = _as_int(value)
        half = 1 << (_INT_BITS[core] - 1)
        return number is not None and -half <= number < half
    if core in ("float32", "float64"):
        real = _as_number(value)
        return real is not None and (core == "float64" or abs(real) <= _FLOAT32_MAX)
    if core == "decimal":
        amount = _as_number(value)
        if amount is None:
            return False
        match = _DECIMAL_ARGS.search(type_text)
        precision, scale = (int(match.group(1)), int(match.group(2) or 0)) if match else (10, 0)
        quantized = amount.quantize(decimal.Decimal(1).scaleb(-scale), decimal.ROUND_HALF_UP)
        return abs(quantized) < decimal.Decimal(10) ** (precision - scale)
    if core == "bool":
        return isinstance(value, bool | int) and value in (0, 1)
    if core in ("date", "datetime"):
        return _is_calendar(value, core)
    if core in ("char", "varchar"):
        match = _LENGTH_ARGS.search(type_text)
        return not isinstance(value, list | tuple | dict | set) and (
            match is None or len(str(value)) <= int(match.group(1))
        )
    if core == "enum":
        return value in enum_values(type_text)
    if core == "json":
        if isinstance(value, str | bytes):
            try:
                json.loads(value, parse_constant=_no_constant)
            except ValueError:
                return False
        return True
    if core == "uuid":
        return isinstance(value, uuid.UUID) or (isinstance(value, bytes) and len(value) == 16)
    if core == "bytes":
        return isinstance(value, bytes | bytearray | memoryview)
    return True


def _type_text(attr: Any) -> str:
    """The declared core type with its arguments; the native type for codec/native columns."""
    if attr.core and core_type_name(attr.declared_type) == attr.core:
        return attr.declared_type
    return attr.core + core_type_args(attr.sql_type) if attr.core else attr.sql_type


def _is_scalar_misfit(value: Any) -> bool:
    """A container or NaN-free check for values no driver binds to a plain column."""
    return isinstance(value, list | tuple | dict | set) or (
        isinstance(value, float) and math.isinf(value)
    )


def find_misfit(
    heading: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]], attribute: str | None
) -> tuple[str, Any] | None:
    """The first (attribute, value) of ``rows`` that does not fit, looking at ``attribute`` only
    when the driver named it; None when no value is recognisably wrong."""
    names = [attribute] if attribute is not None and attribute in columns else list(columns)
    for name in names:
        index = columns.index(name)
        attr = heading[name]
        if attr.codec_name is not None and name != attribute:
            continue  # a codec's output is the codec's business
        text = _type_text(attr)
        core = attr.core or ""
        for row in rows:
            value = row[index]
            if _is_scalar_misfit(value) and core not in ("json", "bytes"):
                return name, value
            if not fits(core, text, value):
                return name, value
    return None


def data_error(
    error: DataError,
    table: str,
    heading: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> DataError:
    """A DataError naming ``table``, the attribute and the value, from the driver's ``error``."""
    attribute, value = error.attribute, error.value
    found = find_misfit(heading, columns, rows, attribute)
    if found is not None:
        attribute, value = found
    elif attribute is not None and attribute in columns and len(rows) == 1:
        value = rows[0][list(columns).index(attribute)]
    cause = error.args[0] if error.args else str(error)
    if attribute is None:
        message = f"A value does not fit its attribute in {table}: {cause}"
    else:
        attr = heading[attribute]
        message = (
            f"Value {value!r} does not fit attribute `{attribute}` ({attr.declared_type}) of {table}: "
            f"{cause}. Nothing was inserted; correct the value and insert again."
        )
    return DataError(message, table=table, attribute=attribute, value=value)


@contextmanager
def naming_misfits(
    table: str, heading: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Iterator[None]:
    """Turn a DataError raised inside into one naming the table, the attribute and the value."""
    try:
        yield
    except DataError as error:
        raise data_error(error, table, heading, columns, rows) from (error.__cause__ or error)


def _integer_rule(table: str, attr: Any) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, float | str) and _as_int(value) is None and _as_number(value):
            raise _misfit(table, attr, value, "takes no fractional part; round the value first")
        return value

    return check


def _bool_rule(table: str, attr: Any) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, bool | int | float) and value in (0, 1)):
            return value
        raise _misfit(table, attr, value, "takes True, False, 0 or 1")

    return check


def _decimal_rule(table: str, attr: Any) -> Callable[[Any], Any]:
    match = _DECIMAL_ARGS.search(_type_text(attr))
    quantum = decimal.Decimal(1).scaleb(-int(match.group(2) or 0) if match else 0)

    def round_to_scale(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
            return value
        number = decimal.Decimal(value)
        if not number.is_finite():
            return value
        return number.quantize(quantum, decimal.ROUND_HALF_UP)

    return round_to_scale


def _datetime_rule(table: str, attr: Any) -> Callable[[Any], Any] | None:
    match = _LENGTH_ARGS.search(_type_text(attr))
    digits = int(match.group(1)) if match else 0
    if digits >= 6:
        return None
    step = 10 ** (6 - digits)

    def round_fraction(value: Any) -> Any:
        if not isinstance(value, datetime.datetime) or not value.microsecond % step:
            return value
        extra = value.microsecond % step
        up = step if 2 * extra >= step else 0
        return value - datetime.timedelta(microseconds=extra - up)

    return round_fraction


def _misfit(table: str, attr: Any, value: Any, rule: str) -> DataError:
    return DataError(
        f"Value {value!r} does not fit attribute `{attr.name}` ({attr.declared_type}) of {table}: "
        f"{attr.core} {rule}.",
        table=table,
        attribute=attr.name,
        value=value,
    )


def value_rule(table: str, attr: Any) -> Callable[[Any], Any] | None:
    """What every backend does to an inserted value before binding, or None for nothing.

    An integer attribute refuses a float with a fraction and a bool one anything but True,
    False, 0 and 1 (MySQL and PostgreSQL would round or coerce, SQLite refuse); a decimal is
    rounded half up to its scale and a datetime's fraction to its declared digits, as MySQL and
    PostgreSQL store them (MariaDB would truncate the fraction, SQLite keep every digit).
    Strings are left to the backend, which parses or refuses them the same way.
    """
    if attr.codec_name is not None:
        return None
    if attr.core in _INT_BITS:
        return _integer_rule(table, attr)
    if attr.core == "bool":
        return _bool_rule(table, attr)
    if attr.core == "decimal":
        return _decimal_rule(table, attr)
    if attr.core == "datetime":
        return _datetime_rule(table, attr)
    return None
