"""Tables with codec columns on every backend: <blob>, <attach>, a third-party codec package,
chains, NULLs and unknown codecs (SPEC §3.3, §4.1, §4.2)."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

import datajoint as dj
from datajoint import codecs
from datajoint.errors import DataJointError
from datajoint.heading import heading_cache

Point = pytest.importorskip("dj_codec_testpkg").Point


@pytest.fixture
def restore_codecs():
    """Codecs defined by a test are removed afterwards."""
    before = set(codecs.list_codecs())
    yield
    for name in set(codecs.list_codecs()) - before:
        codecs.unregister_codec(name)


def declare(schema, name: str, definition: str) -> type:
    table = type(name, (dj.Manual,), {"definition": definition})
    schema(table, context={})
    return table


def test_blob_column_round_trip(dj_schema):
    Data = declare(
        dj_schema,
        "BlobData",
        """
        id : int32
        ---
        value : <blob>   # anything
        maybe = null : <blob>
        """,
    )
    attr = Data.heading["value"]
    assert (attr.type, attr.codec.name, attr.store, attr.core, attr.comment) == (
        "<blob>",
        "blob",
        None,
        "bytes",
        "anything",
    )
    values = {
        1: np.arange(12, dtype=np.int16).reshape(3, 4, order="F"),
        2: {"nested": [1, 2.5, "three", None], "t": (b"raw", np.float32(1.5))},
        3: np.random.default_rng(0).normal(size=(50, 40)),  # compressed
        4: np.array([1, "cell"], dtype=object).view(dj.MatCell),
    }
    Data.insert({"id": k, "value": v} for k, v in values.items())
    rows = {r["id"]: r for r in Data.to_dicts()}
    for k, v in values.items():
        got = rows[k]["value"]
        if isinstance(v, np.ndarray):
            assert type(got) is type(v) and got.dtype == v.dtype and got.shape == v.shape
            assert all(a == b for a, b in zip(got.ravel(), v.ravel(), strict=True))
        else:
            assert got == {"nested": [1, 2.5, "three", None], "t": (b"raw", np.float32(1.5))}
        assert rows[k]["maybe"] is None
    assert (Data & {"id": 3}).fetch1("value").flags.writeable


def test_blob_bytes_are_the_blob_format(dj_schema):
    Data = declare(dj_schema, "RawBlob", "id : int32\n---\nvalue : <blob>")
    Data.insert1({"id": 1, "value": [1, 2]})
    sql = f"SELECT value FROM {Data.full_table_name}"
    (stored,) = dj_schema.connection.run(sql)[0]
    assert bytes(stored) == dj.get_codec("blob").encode([1, 2])


def test_attach_column_round_trip(dj_schema, tmp_path):
    Files = declare(
        dj_schema,
        "Attachment",
        """
        id : int32
        ---
        doc : <attach>
        """,
    )
    source = tmp_path / "source" / "report.txt"
    source.parent.mkdir()
    source.write_text("hello")
    Files.insert1({"id": 1, "doc": source})
    Files.insert1({"id": 2, "doc": str(source)})
    with pytest.raises(TypeError, match="<attach> expects a file path"):
        Files.insert1({"id": 3, "doc": 42})
    downloads = tmp_path / "downloads"
    with dj.config.override(download_path=str(downloads)):
        paths = [r["doc"] for r in Files.to_dicts(order_by="id")]
    assert paths == [str(downloads / "report.txt")] * 2
    assert Path(paths[0]).read_text() == "hello"


def test_third_party_codec_package(dj_schema):
    assert {"testpoint", "testpolyline", "testsnapshot"} <= set(dj.list_codecs())
    Shapes = declare(
        dj_schema,
        "Shape",
        """
        id : int32
        ---
        origin : <testpoint>
        outline = null : <testpolyline>    # through <blob>
        """,
    )
    assert Shapes.heading["origin"].core == "json"
    assert Shapes.heading["outline"].core == "bytes"
    line = [Point(0.0, 0.0), Point(1.5, -2.0)]
    Shapes.insert1({"id": 1, "origin": Point(1.0, 2.0), "outline": line})
    Shapes.insert1({"id": 2, "origin": Point(-1.0, 0.5)})
    rows = Shapes.to_dicts(order_by="id")
    assert rows[0] == {"id": 1, "origin": Point(1.0, 2.0), "outline": line}
    assert rows[1] == {"id": 2, "origin": Point(-1.0, 0.5), "outline": None}
    with pytest.raises(TypeError, match="<testpoint> expects a Point"):
        Shapes.insert1({"id": 3, "origin": (1, 2)})


def test_schema_codec_of_a_package_requires_a_store(dj_schema):
    with pytest.raises(DataJointError, match=r"<testsnapshot> requires @ \(store only\)"):
        declare(dj_schema, "Snap", "id : int32\n---\nshot : <testsnapshot>")


def test_none_skips_validate_and_encode_and_chains_run_in_order(dj_schema, restore_codecs):
    calls = []

    class Outer(dj.Codec):
        name = "tc_outer"

        def get_dtype(self, is_store):
            return "<tc_inner>"

        def validate(self, value):
            calls.append(("validate", value))
            if value == "bad":
                raise ValueError("tc_outer refuses bad")

        def encode(self, value, *, key=None, store_name=None):
            calls.append(("encode outer", value))
            return {"wrapped": value}

        def decode(self, stored, *, key=None):
            return stored["wrapped"]

    class Inner(dj.Codec):
        name = "tc_inner"

        def get_dtype(self, is_store):
            return "<blob>"

        def encode(self, value, *, key=None, store_name=None):
            calls.append(("encode inner", value))
            return [value]

        def decode(self, stored, *, key=None):
            return stored[0]

    Chained = declare(
        dj_schema,
        "Chained",
        """
        id : int32
        ---
        value = null : <tc_outer>
        """,
    )
    assert Chained.heading["value"].sql_type.lower() in ("longblob", "bytea", "blob")
    Chained.insert1({"id": 1, "value": None})
    assert calls == []
    Chained.insert1({"id": 2, "value": "x"})
    assert calls == [("validate", "x"), ("encode outer", "x"), ("encode inner", {"wrapped": "x"})]
    with pytest.raises(ValueError, match="refuses bad"):
        Chained.insert1({"id": 3, "value": "bad"})
    assert Chained.to_dicts(order_by="id") == [{"id": 1, "value": None}, {"id": 2, "value": "x"}]


def test_encoders_receive_the_row_context(dj_schema, restore_codecs):
    seen = []

    class Probe(dj.Codec):
        name = "tc_probe"

        def get_dtype(self, is_store):
            return "json"

        def encode(self, value, *, key=None, store_name=None, context=None):
            seen.append((dict(key), store_name, context))
            return value

        def decode(self, stored, *, key=None, context=None):
            assert key["_config"] is context["config"]
            return stored

    Probed = declare(dj_schema, "Probed", "subject : varchar(8)\n---\nvalue : <tc_probe>")
    Probed.insert1({"subject": "m1", "value": {"a": 1}})
    key, store_name, context = seen[0]
    table = Probed.table_name
    assert {k: key[k] for k in ("_schema", "_table", "_field")} == {
        "_schema": dj_schema.database,
        "_table": table,
        "_field": "value",
    }
    assert key["_config"] is dj_schema.connection.config and store_name is None
    assert context == {
        "schema": dj_schema.database,
        "table": table,
        "field": "value",
        "config": dj_schema.connection.config,
    }
    assert Probed.fetch1("value") == {"a": 1}


def test_encoders_receive_primary_key_values(dj_schema, restore_codecs):
    seen = []

    class PkProbe(dj.Codec):
        name = "tc_pk"

        def get_dtype(self, is_store):
            return "json"

        def encode(self, value, *, key=None, store_name=None):
            seen.append(dict(key))
            return value

        def decode(self, stored, *, key=None):
            return stored

    Keyed = declare(dj_schema, "Keyed", "subject : varchar(8)\nsession : int32\n---\nv : <tc_pk>")
    Keyed.insert1({"subject": "m1", "session": 3, "v": 1})
    assert seen[0]["subject"] == "m1" and seen[0]["session"] == 3


def test_declaration_rules(dj_schema, restore_codecs):
    with pytest.raises(DataJointError, match=r"default value for blob attributes can only be NULL"):
        declare(dj_schema, "BadDefault", 'id : int32\n---\nv = "x" : <blob>')
    with pytest.raises(DataJointError, match="not allowed in the primary key"):
        declare(dj_schema, "BadKey", "v : <blob>\n---\nx : int32")
    with pytest.raises(DataJointError, match=r"Codec <tc_nothing> is not registered"):
        declare(dj_schema, "Nothing", "id : int32\n---\nv : <tc_nothing>")

    class Weird(dj.Codec):
        name = "tc_weird"

        def get_dtype(self, is_store):
            return "wibble"

        def encode(self, value, *, key=None, store_name=None):
            return value

        def decode(self, stored, *, key=None):
            return stored

    with pytest.raises(DataJointError, match=r"Invalid dtype 'wibble' in codec <tc_weird>\."):
        declare(dj_schema, "Weirdo", "id : int32\n---\nv : <tc_weird>")


def test_codec_with_a_scalar_final_type(dj_schema, restore_codecs):
    class Celsius(dj.Codec):
        name = "tc_celsius"

        def get_dtype(self, is_store):
            return "float64"

        def encode(self, value, *, key=None, store_name=None):
            return value - 273.15

        def decode(self, stored, *, key=None):
            return stored + 273.15

    Temps = declare(dj_schema, "Temps", "id : int32\n---\nkelvin = null : <tc_celsius>  # K")
    attr = Temps.heading["kelvin"]
    assert attr.core == "float64" and attr.comment == "K"
    Temps.insert([{"id": 1, "kelvin": 300.0}, {"id": 2, "kelvin": None}])
    rows = Temps.to_dicts(order_by="id")
    assert rows[0]["kelvin"] == pytest.approx(300.0) and rows[1]["kelvin"] is None


def test_unknown_codec_in_an_existing_table(dj_schema, restore_codecs):
    class Ephemeral(dj.Codec):
        name = "tc_ephemeral"

        def get_dtype(self, is_store):
            return "<blob>"

        def encode(self, value, *, key=None, store_name=None):
            return value

        def decode(self, stored, *, key=None):
            return stored

    Old = declare(dj_schema, "OldCodec", "id : int32\n---\nv = null : <tc_ephemeral>\nn : int32")
    Old.insert1({"id": 1, "v": [1, 2], "n": 5})
    Old.insert1({"id": 2, "v": None, "n": 6})
    dj.codecs.unregister_codec("tc_ephemeral")
    heading_cache(dj_schema.connection).clear()
    table = dj.FreeTable(dj_schema.connection, f"{dj_schema.database}.{Old.table_name}")
    assert table.heading["v"].codec.name == "tc_ephemeral"  # the heading still loads
    assert table.proj("n").to_dicts(order_by="id") == [{"id": 1, "n": 5}, {"id": 2, "n": 6}]
    assert (table & {"id": 2}).fetch1("v") is None
    message = r"Codec <tc_ephemeral> is not registered\. Define a Codec subclass with name='tc_ephemeral'\."
    with pytest.raises(DataJointError, match=message):
        (table & {"id": 1}).fetch1("v")
    gc.collect()  # finish the interrupted fetch while its connection is open
    with pytest.raises(DataJointError, match=message):
        table.insert1({"id": 3, "v": [3], "n": 7})
