"""The one rule set that turns Python values into bound parameters (inserts and restrictions)."""

from __future__ import annotations

import datetime
import decimal
import uuid

import numpy as np
import pytest

from datajoint.errors import DataJointError
from datajoint.values import DEFAULT, comparable, pass_through, plain, stored, to_uuid

U = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")


def test_pass_through_types() -> None:
    assert pass_through("int32") == (int,)
    assert pass_through("float64") == (float, int)
    assert pass_through("varchar") == (str,)
    assert pass_through("uuid") == ()
    assert pass_through(None) == ()


def test_plain_unwraps_numpy_scalars_only() -> None:
    assert type(plain(np.int16(3))) is int and plain(np.int16(3)) == 3
    assert type(plain(np.float32(0.5))) is float
    array = np.arange(3)
    assert plain(array) is array


@pytest.mark.parametrize("value", [U, U.bytes, str(U), U.hex, U.urn])
def test_to_uuid_accepts_a_uuid_its_bytes_or_its_text(value: object) -> None:
    assert to_uuid(value, "u") == U


@pytest.mark.parametrize("value", ["nope", b"short", 12])
def test_to_uuid_names_the_attribute_and_the_fix(value: object) -> None:
    with pytest.raises(
        DataJointError, match=r"badly formed UUID value .* for attribute `u` in a restriction: give"
    ):
        to_uuid(value, "u", " in a restriction")


@pytest.mark.parametrize(
    ("value", "numeric", "missing"),
    [
        (None, False, True),
        (None, True, True),
        ("", True, True),
        ("", False, False),
        (float("nan"), True, True),
        (np.float32("nan"), True, True),
        (float("nan"), False, False),
        (0, True, False),
        (0.0, True, False),
    ],
)
def test_stored_leaves_missing_values_to_the_default(
    value: object, numeric: bool, missing: bool
) -> None:
    assert (stored(value, numeric) is DEFAULT) is missing


def test_stored_unwraps_numpy_scalars() -> None:
    assert type(stored(np.int64(7), True)) is int


def test_comparable_keeps_dates_and_decimals_for_their_own_columns() -> None:
    day, amount = datetime.date(2024, 1, 2), decimal.Decimal("1.50")
    assert comparable(day, "date") is day
    assert comparable(day, "datetime") is day
    assert comparable(amount, "decimal") is amount
    assert comparable(day, "varchar") == "2024-01-02"
    assert comparable(amount, None) == "1.50"
    assert comparable(datetime.time(1, 2), "time") == "01:02:00"
    assert comparable([1, 2], "varchar") == "[1, 2]"
    assert comparable(5, "varchar") == 5
