"""FetchFormatContract: what every fetch format must do, for formats shipped by any package.

A package that registers a format through ``dj_register_fetch_formats`` tests it in a few lines::

    from datajoint.testing.fetch_contract import FetchFormatContract

    class TestMyFormat(FetchFormatContract):
        format_name = "myformat"
        plugin = my_package.plugin        # optional: add this plugin for the tests only

        def to_records(self, result, query):   # only if the result is not a list of dicts,
            return my_package.as_dicts(result)   # an ndarray or a pandas/polars/arrow frame

The suite reads a small table on every test backend (``DJ_TEST_BACKENDS``) through
``query.to(format_name, order_by=..., limit=..., offset=...)`` and checks row order, row count,
key round-trip, values and their types against the rows read with the raw DB-API connection
(DataJoint's own fetch is not the reference: the ``dicts`` format must pass too), and empty
results.
"""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ..plugin_host import PluginHost, set_host
from ..plugin_host import host as plugin_host
from . import servers
from .fixtures import make_connection, throwaway_schema
from .pytest_plugin import require_backend

DEFINITION = """
subject : int32
tag : varchar(8)
---
weight : float64
count = null : int32
label : varchar(32)
day : date
flag : bool
"""

ROWS = [
    {
        "subject": s,
        "tag": t,
        "weight": s * 10 + {"b": 1, "aa": 2, "c": 3}[t] * 0.5,
        "count": None if (s + len(t)) % 3 == 0 else s * 10 + len(t),
        "label": f"{t}-{s} ünï",
        "day": datetime.date(2024, 1, 1) + datetime.timedelta(days=s),
        "flag": s % 2 == 0,
    }
    for s in (3, 1, 2)
    for t in ("b", "aa", "c")
]


#: ORDER BY of the raw reference query for each ``order_by`` the contract fetches with
ORDERS: dict[str, tuple[Any, tuple[tuple[str, bool], ...]]] = {
    "key": ("KEY", (("subject", False), ("tag", False))),
    "key desc": ("KEY DESC", (("subject", True), ("tag", True))),
    "tag desc": (["tag DESC", "subject"], (("tag", True), ("subject", False))),
    "weight": ("weight", (("weight", False),)),
}

#: what a raw driver value of a column becomes as Python (SQLite keeps dates as text and
#: booleans as integers; the servers return dates already)
_FROM_DRIVER: dict[str, Any] = {
    "day": lambda v: datetime.date.fromisoformat(v) if isinstance(v, str) else v,
    "flag": lambda v: None if v is None else bool(v),
}


def raw_rows(query: Any, order: tuple[tuple[str, bool], ...]) -> list[dict[str, Any]]:
    """Every row of the contract table, read with a cursor on the connection's raw DB-API
    connection (no DataJoint decoding), ordered by ``(column, descending)`` pairs."""
    connection = query.connection
    dialect = connection.dialect
    names = list(ROWS[0])
    sql = (
        f"SELECT {', '.join(dialect.quote(n) for n in names)} "
        f"FROM {dialect.full_table_name(query.database, query.table_name)} ORDER BY "
        + ", ".join(dialect.quote(c) + (" DESC" if desc else "") for c, desc in order)
    )
    cursor = connection._raw.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [
        {n: _FROM_DRIVER.get(n, normalize)(v) for n, v in zip(names, row, strict=True)}
        for row in rows
    ]


def normalize(value: Any) -> Any:
    """A value as plain Python: numpy scalars unwrapped, NaN and NaT as None, timestamps as
    datetimes (pandas) -- so that formats can be compared with the raw rows."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    return value


class FetchFormatContract:
    """The fetch-format contract; subclass it and set ``format_name``."""

    format_name: str = ""
    #: a module or object with hook implementations, added to a fresh plugin host for each test
    plugin: object | None = None
    #: extra keyword arguments passed to every fetch
    options: dict[str, Any] = {}

    # ---- what a subclass may override ------------------------------------------------------
    def to_records(self, result: Any, query: Any) -> list[dict[str, Any]]:
        """The fetched result as a list of dicts (attribute -> value), in result order."""
        if isinstance(result, list) and all(isinstance(r, dict) for r in result):
            return result
        if isinstance(result, np.ndarray) and result.dtype.names:
            names = result.dtype.names
            return [dict(zip(names, row, strict=True)) for row in result.tolist()]
        module = type(result).__module__.split(".")[0]
        if module == "pandas":
            frame = result.reset_index() if any(result.index.names) else result
            return frame.to_dict("records")
        if module == "polars":
            return result.to_dicts()
        if module == "pyarrow":
            return result.to_pylist()
        raise NotImplementedError(
            f"Override to_records() to turn a {type(result).__name__} into a list of dicts."
        )

    def fetch(self, query: Any, **options: Any) -> list[dict[str, Any]]:
        result = query.to(self.format_name, **self.options, **options)
        return [
            {k: normalize(v) for k, v in record.items()}
            for record in self.to_records(result, query)
        ]

    # ---- fixtures --------------------------------------------------------------------------
    @pytest.fixture(autouse=True)
    def _plugin_host(self) -> Iterator[None]:
        if self.plugin is None:
            yield
            return
        fresh = PluginHost()
        fresh.add_plugin(self.plugin, name=f"contract:{self.format_name}")
        previous = set_host(fresh)
        try:
            yield
        finally:
            set_host(previous)

    @pytest.fixture(scope="class", params=servers.selected_backends())
    @classmethod
    def query(cls, request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Any]:
        """A table of :data:`ROWS` (composite key, a nullable column) on one backend."""
        from ..user_tables import Manual

        require_backend(request.param)
        path = tmp_path_factory.mktemp("fetch-contract") / "contract.sqlite3"
        connection = make_connection(request.param, path)
        try:
            with throwaway_schema(connection, prefix="djfetchcontract") as schema:

                class FetchContractRows(Manual):
                    definition = DEFINITION

                schema(FetchContractRows, context={})
                FetchContractRows().insert(ROWS)
                yield FetchContractRows()
        finally:
            connection.close()

    # ---- the contract ----------------------------------------------------------------------
    def test_registered(self) -> None:
        assert self.format_name in plugin_host().names("fetch_format")

    def test_row_count(self, query: Any) -> None:
        assert len(self.fetch(query)) == len(ROWS)
        assert len(self.fetch(query, limit=4)) == 4
        assert len(self.fetch(query, limit=4, offset=7)) == 2
        assert len(self.fetch(query & {"subject": 2})) == 3

    def test_row_order(self, query: Any) -> None:
        key = query.primary_key
        for order_by, order in ORDERS.values():
            expected = [{k: r[k] for k in key} for r in raw_rows(query, order)]
            got = [{k: r[k] for k in key} for r in self.fetch(query, order_by=order_by)]
            assert got == expected, order_by
        window = self.fetch(query, order_by="KEY", limit=3, offset=2)
        assert [r["subject"] for r in window] == [1, 2, 2]

    def test_key_round_trip(self, query: Any) -> None:
        key = query.primary_key
        raw = {tuple(r[k] for k in key): r for r in raw_rows(query, ORDERS["key"][1])}
        for record in self.fetch(query):
            restriction = {k: record[k] for k in key}
            assert len(query & restriction) == 1
            want = raw[tuple(restriction.values())]
            assert all(_same(want[k], record[k]) for k in record), (want, record)

    def test_values_and_types(self, query: Any) -> None:
        expected = raw_rows(query, ORDERS["key"][1])
        assert len(expected) == len(ROWS)
        got = self.fetch(query, order_by="KEY")
        assert len(got) == len(expected)
        for want, have in zip(expected, got, strict=True):
            assert set(have) <= set(want) and set(query.primary_key) <= set(have)
            for name, value in have.items():
                assert _same(want[name], value), (name, want[name], value)

    def test_empty_result(self, query: Any) -> None:
        assert self.fetch(query & {"subject": -1}) == []
        assert self.fetch(query, limit=0) == []


def _same(want: Any, have: Any) -> bool:
    """Equal values of compatible types (a format may widen ints to floats, e.g. with NULLs)."""
    if want is None or have is None:
        return want is None and have is None
    if isinstance(want, bool):
        return isinstance(have, bool | numbers.Integral) and bool(have) == want
    if isinstance(want, numbers.Real):
        return isinstance(have, numbers.Real) and math.isclose(want, have, rel_tol=1e-6)
    if isinstance(want, datetime.datetime | datetime.date):
        return isinstance(have, datetime.date) and have == want
    return type(have) is type(want) and have == want
