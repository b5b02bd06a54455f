"""Fetch formats as plugins: the kernel's own, a throwaway third-party one, and the contract suite
run against every registered format."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import numpy as np
import pytest

import datajoint as dj
from datajoint import builtin_plugin, hookimpl
from datajoint.errors import PluginError
from datajoint.fetch import columns as fetch_columns
from datajoint.plugin_host import PluginHost, set_host
from datajoint.plugin_host import host as plugin_host
from datajoint.testing import fetch_contract
from datajoint.testing.fetch_contract import FetchFormatContract
from datajoint.testing.fixtures import make_connection, throwaway_schema

BUILTIN = {"dicts", "keys", "arrays", "pandas", "polars", "arrow"}


# ---- a throwaway third-party format: columns as a dict of lists ------------------------------
def fetch_columns_dict(query, order_by=None, limit=None, offset=None):
    """Format ``columns``: {attribute: [values...]} in result order."""
    rows = query.to_dicts(order_by=order_by, limit=limit, offset=offset)
    return {name: [r[name] for r in rows] for name in query.heading.names}


def third_party_plugin() -> types.ModuleType:
    module = types.ModuleType("dj_columns_format")

    @hookimpl
    def dj_register_fetch_formats(register):
        register("columns", fetch_columns_dict)

    module.dj_register_fetch_formats = dj_register_fetch_formats
    return module


@pytest.fixture
def host_with_columns() -> Iterator[PluginHost]:
    fresh = PluginHost()
    fresh.add_plugin(third_party_plugin(), distribution="dj-columns-format", version="0.1")
    previous = set_host(fresh)
    try:
        yield fresh
    finally:
        set_host(previous)


@pytest.fixture
def table(tmp_path) -> Iterator[type]:
    connection = make_connection("sqlite", tmp_path / "formats.sqlite3")
    with throwaway_schema(connection) as schema:

        class Reading(dj.Manual):
            definition = """
            reading : int32
            ---
            value : float64
            """

        schema(Reading, context={})
        Reading.insert({"reading": i, "value": i / 4} for i in range(6))
        yield Reading
    connection.close()


# ---- registration ----------------------------------------------------------------------------
def test_builtin_formats_are_registered_by_the_kernel_plugin():
    host = PluginHost(use_entry_points=False)
    assert set(host.names("fetch_format")) == BUILTIN == set(builtin_plugin.FETCH_FORMATS)
    for name in BUILTIN:
        registration = host.registration("fetch_format", name)
        assert registration.distribution == "dj-kernel"
        assert isinstance(registration.target, str)  # lazy: "module:attr"
    listed = {f["name"] for f in host.listing()["fetch_formats"]}
    assert listed >= BUILTIN


def test_registering_formats_imports_no_frame_library():
    code = (
        "import sys, datajoint as dj; dj.plugin_host.host().names('fetch_format'); "
        "print(sorted(m for m in ('pandas', 'polars', 'pyarrow') if m in sys.modules))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_third_party_format_is_usable_through_to(host_with_columns, table):
    assert "columns" in host_with_columns.names("fetch_format")
    registration = host_with_columns.registration("fetch_format", "columns")
    assert (registration.distribution, registration.version) == ("dj-columns-format", "0.1")
    result = table().to("columns", order_by="KEY DESC", limit=2)
    assert result == {"reading": [5, 4], "value": [1.25, 1.0]}


def test_to_reaches_every_builtin_format(table):
    query = table()
    assert query.to("dicts") == query.to_dicts()
    assert query.to("keys", limit=2) == [{"reading": 0}, {"reading": 1}]
    assert np.array_equal(query.to("arrays"), query.to_arrays())
    assert list(query.to("arrays", "value", limit=2)) == [0.0, 0.25]
    assert query.to("pandas").equals(query.to_pandas())


def test_unknown_format_names_the_installed_ones(table):
    with pytest.raises(PluginError, match=r"No fetch format 'nope' is installed\..*dicts"):
        table().to("nope")


@pytest.mark.parametrize(
    ("method", "module", "message"),
    [
        (
            "to_polars",
            "polars",
            r"polars is required for to_polars\(\)\. Install with: pip install datajoint\[polars\]",
        ),
        (
            "to_arrow",
            "pyarrow",
            r"pyarrow is required for to_arrow\(\)\. Install with: pip install datajoint\[arrow\]",
        ),
        (
            "to_pandas",
            "pandas",
            r"pandas is required for to_pandas\(\)\. Install with: pip install datajoint\[pandas\]",
        ),
    ],
)
def test_missing_frame_library_gives_an_install_hint(table, monkeypatch, method, module, message):
    monkeypatch.setitem(sys.modules, module, None)  # makes "import module" raise ImportError
    with pytest.raises(ImportError, match=message):
        getattr(table(), method)()


def test_format_conflict_names_both_providers(tmp_path):
    host = PluginHost(use_entry_points=False)
    module = types.ModuleType("rival")

    @hookimpl
    def dj_register_fetch_formats(register):
        register("dicts", "json:dumps")

    module.dj_register_fetch_formats = dj_register_fetch_formats
    host.add_plugin(module, distribution="rival-dist", version="9")
    with pytest.raises(PluginError, match=r"dj-kernel.*rival-dist"):
        host.get("fetch_format", "dicts")


# ---- unit behaviour of the column path -------------------------------------------------------
def test_heading_dtypes_of_native_types():
    attr = types.SimpleNamespace
    cases = {
        ("int unsigned", None): "u4",
        ("tinyint", None): "i1",
        ("bigint unsigned", None): "u8",
        ("double", None): "f8",
        ("varchar(3)", "varchar"): "O",
        ("longblob", "bytes"): "O",
    }
    for (sql_type, core), expected in cases.items():
        a = attr(codec_name=None, is_blob=core == "bytes", core=core, sql_type=sql_type)
        assert fetch_columns.heading_dtype(a) == np.dtype(expected), sql_type
    wide = attr(codec_name=None, is_blob=False, core=None, sql_type="bigint unsigned")
    assert fetch_columns.python_dtype(wide) == np.dtype(object)


def test_growing_array_keeps_appended_rows():
    grow = fetch_columns.GrowingArray(np.dtype("i8"))
    for start in range(0, 1000, 7):
        grow.append(np.arange(start, min(start + 7, 1000)))
    assert np.array_equal(grow.result(), np.arange(1000))


# ---- the contract, for every registered format and for the throwaway one --------------------
for _name in sorted(plugin_host().names("fetch_format")):
    _cls = type(f"TestContract_{_name}", (FetchFormatContract,), {"format_name": _name})
    globals()[_cls.__name__] = _cls


class TestContractThirdParty(FetchFormatContract):
    format_name = "columns"
    plugin = third_party_plugin()

    def to_records(self, result, query):
        names = list(result)
        return [dict(zip(names, row, strict=True)) for row in zip(*result.values(), strict=True)]


# ---- the contract catches a broken format ----------------------------------------------------
def fetch_ignoring_order(query, order_by=None, limit=None, offset=None):
    """A broken format: drops the requested order."""
    rows = query.to_dicts(order_by=order_by, limit=limit, offset=offset)
    return sorted(rows, key=lambda r: (r["subject"], r["tag"]), reverse=True)


def test_contract_rejects_a_format_that_ignores_order_by(tmp_path):
    module = types.ModuleType("broken_format")

    @hookimpl
    def dj_register_fetch_formats(register):
        register("unordered", fetch_ignoring_order)

    module.dj_register_fetch_formats = dj_register_fetch_formats
    contract = FetchFormatContract()
    contract.format_name = "unordered"
    fresh = PluginHost()
    fresh.add_plugin(module)
    previous = set_host(fresh)
    connection = make_connection("sqlite", tmp_path / "broken.sqlite3")
    try:
        with throwaway_schema(connection) as schema:

            class Rows(dj.Manual):
                definition = fetch_contract.DEFINITION

            schema(Rows, context={})
            Rows.insert(fetch_contract.ROWS)
            contract.test_registered()
            contract.test_row_count(Rows())
            with pytest.raises(AssertionError):
                contract.test_row_order(Rows())
    finally:
        set_host(previous)
        connection.close()
