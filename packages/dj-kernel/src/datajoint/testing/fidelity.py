"""Backend fidelity: every backend keeps the same values and refuses the same ones.

A data-driven suite: for each core type, values that must be accepted (with the value read
back) and values that must be refused (with the error class). A backend plugin runs it in a
few lines::

    from datajoint.testing.fidelity import FidelityContract

    class TestMyBackendFidelity(FidelityContract):
        backend_name = "mybackend"

and ``tests/test_fidelity.py`` runs :func:`check_case` over every backend of the test matrix.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ..errors import DataError, DataJointError
from .fixtures import make_connection, throwaway_schema
from .pytest_plugin import require_backend

D = decimal.Decimal
_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
_PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))


@dataclass(frozen=True)
class FidelityCase:
    """One core type: ``good`` pairs (inserted value, value read back) and ``bad`` pairs
    (inserted value, error class the insert raises, the same on every backend)."""

    core_type: str
    good: tuple[tuple[Any, Any], ...]
    bad: tuple[tuple[Any, type[Exception]], ...] = ()
    #: whether a restriction by the read-back value finds the row
    restrictable: bool = True

    @property
    def id(self) -> str:
        return re.sub(r"\W+", "_", self.core_type).strip("_")


FIDELITY_CASES: tuple[FidelityCase, ...] = (
    FidelityCase(
        "int8",
        good=((-128, -128), (127, 127), ("12", 12), (5.0, 5), (True, 1)),
        bad=(
            (128, DataError),
            (-129, DataError),
            (300, DataError),
            ("abc", DataError),
            (5.7, DataError),
            ([1, 2], DataError),
        ),
    ),
    FidelityCase(
        "int16",
        good=((-32768, -32768), (32767, 32767)),
        bad=((32768, DataError), (70000, DataError), ("abc", DataError)),
    ),
    FidelityCase(
        "int32",
        good=((-(2**31), -(2**31)), (2**31 - 1, 2**31 - 1)),
        bad=((2**31, DataError), ("1.5", DataError)),
    ),
    FidelityCase(
        "int64",
        good=((-(2**63), -(2**63)), (2**63 - 1, 2**63 - 1)),
        bad=((2**63, DataError),),
    ),
    FidelityCase(
        "float32",
        good=((1.5, 1.5), (-2.25, -2.25), (0, 0.0)),
        bad=(("fast", DataError), (1e39, DataError)),
    ),
    FidelityCase(
        "float64",
        good=((2.718281828459045, 2.718281828459045), (1e300, 1e300), ("1.5", 1.5)),
        bad=(("fast", DataError),),
    ),
    FidelityCase(
        "decimal(6,2)",
        good=(
            (D("1234.56"), D("1234.56")),
            (D("-0.01"), D("-0.01")),
            (12, D("12.00")),
            (D("1.005"), D("1.01")),
        ),
        bad=((D("123456.78"), DataError), (123456.78, DataError), ("cheap", DataError)),
    ),
    FidelityCase(
        "decimal(20,10)",
        good=(
            (D("1234567890.0123456789"), D("1234567890.0123456789")),
            (D("-0.0000000001"), D("-0.0000000001")),
            (D("1E+3"), D("1000.0000000000")),
        ),
        bad=((D("12345678901"), DataError), ("cheap", DataError)),
    ),
    FidelityCase(
        "bool",
        good=((True, True), (False, False), (1, True), (0, False)),
        bad=(("maybe", DataError), (2, DataError)),
    ),
    FidelityCase(
        "date",
        good=(
            (datetime.date(2024, 2, 29), datetime.date(2024, 2, 29)),
            ("2024-03-01", datetime.date(2024, 3, 1)),
            (datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.date(2024, 1, 2)),
        ),
        bad=(("2025-13-45", DataError), ("2023-02-29", DataError), ("soon", DataError)),
    ),
    FidelityCase(
        "datetime",
        good=(
            (datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.datetime(2024, 1, 2, 3, 4, 5)),
            (datetime.date(2024, 1, 3), datetime.datetime(2024, 1, 3)),
            # a timezone-aware value is stored as naive UTC
            (
                datetime.datetime(2024, 1, 4, 12, 0, tzinfo=_PLUS_TWO),
                datetime.datetime(2024, 1, 4, 10, 0),
            ),
        ),
        bad=(("2025-13-45 00:00:00", DataError), ("later", DataError)),
    ),
    FidelityCase(
        "datetime(3)",
        good=(
            (
                datetime.datetime(2024, 1, 2, 3, 4, 5, 678000),
                datetime.datetime(2024, 1, 2, 3, 4, 5, 678000),
            ),
            (
                datetime.datetime(2024, 1, 2, 3, 4, 6, 678900),
                datetime.datetime(2024, 1, 2, 3, 4, 6, 679000),
            ),
        ),
        restrictable=False,  # the servers compare with the rounded value, SQLite with the given
    ),
    FidelityCase(
        "char(4)",
        good=(("abcd", "abcd"),),
        bad=(("abcde", DataError),),
    ),
    FidelityCase(
        "varchar(5)",
        good=(("hello", "hello"), ("ünï", "ünï"), (42, "42")),
        bad=(("toolong", DataError),),
    ),
    FidelityCase(
        "enum('red','green')",
        good=(("red", "red"), ("green", "green")),
        bad=(("purple", DataError), ("", DataError)),
    ),
    FidelityCase(
        "json",
        good=(({"a": [1, None]}, {"a": [1, None]}), ([1, 2], [1, 2]), ("text", "text")),
        bad=((float("nan"), DataError),),
        restrictable=False,
    ),
    FidelityCase(
        "uuid",
        good=(
            (_UUID, _UUID),
            (
                str(_UUID).replace("1234", "abcd", 1),
                uuid.UUID(str(_UUID).replace("1234", "abcd", 1)),
            ),
        ),
        bad=(("not-a-uuid", DataJointError),),
    ),
    FidelityCase(
        "bytes",
        good=((b"\x00\xffraw", b"\x00\xffraw"),),
        bad=(("text", DataJointError),),
        restrictable=False,
    ),
)


def check_case(schema: Any, case: FidelityCase) -> None:
    """Declare a table with one ``case.core_type`` attribute in ``schema`` and check the case:
    good values are stored and read back as given, bad ones raise their error class (a
    DataError naming the attribute) and leave the table as it was."""
    from .. import Manual

    table_class = type(
        "Fidelity" + re.sub(r"\W", "", case.id.title().replace("_", "")),
        (Manual,),
        {"definition": f"id : int32\n---\nv = null : {case.core_type}\n"},
    )
    table = schema(table_class)()
    for key, (given, expected) in enumerate(case.good):
        table.insert1({"id": key, "v": given})
        got = (table & {"id": key}).fetch1("v")
        assert got == expected and type(got) is type(expected), (
            f"{case.core_type}: inserted {given!r}, read back {got!r}, expected {expected!r}"
        )
        if case.restrictable:
            assert len(table & {"v": expected}) >= 1, (
                f"{case.core_type}: restriction by {expected!r} finds nothing"
            )
    for given, error_class in case.bad:
        with pytest.raises(error_class) as caught:
            table.insert1({"id": len(case.good), "v": given})
        error = caught.value
        if isinstance(error, DataError):
            assert error.attribute == "v" and error.table == table.full_table_name, str(error)
            assert error.__cause__ is not None or "fit" in str(error)
        assert len(table) == len(case.good), f"{case.core_type}: {given!r} was written"
    rows = table.to_dicts()  # the table stays readable
    assert len(rows) == len(case.good)


class FidelityContract:
    """The fidelity suite for one backend; subclass it and set ``backend_name``."""

    backend_name: str = ""

    @pytest.fixture
    def schema(self, tmp_path) -> Iterator[Any]:
        require_backend(self.backend_name)
        connection = make_connection(self.backend_name, tmp_path / "fidelity.sqlite3")
        try:
            with throwaway_schema(connection, "djfidelity") as schema:
                yield schema
        finally:
            connection.close()

    @pytest.mark.parametrize("case", FIDELITY_CASES, ids=lambda c: c.id)
    def test_fidelity(self, schema: Any, case: FidelityCase) -> None:
        check_case(schema, case)
