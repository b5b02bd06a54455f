"""Code written for DataJoint 2.x runs here unchanged (issue 11), on every backend.

Each test is one behaviour of the DataJoint 2.3.5 release that user code relies on: tables and
class layouts it accepts, the attributes and module paths code reads, the messages code matches,
the numbers ``to_arrays()`` gives, and the safety net where 2.x deletes more than was meant.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

import datajoint as dj
from datajoint.errors import DataJointError, UnmatchedRestrictionError

KERNEL_PYPROJECT = Path(__file__).resolve().parents[1] / "packages" / "dj-kernel" / "pyproject.toml"


# ---- 1. Computed tables with their own primary-key attributes -------------------------------
def test_computed_table_with_own_key_attributes_populates(dj_schema, caplog):
    @dj_schema
    class Recording(dj.Manual):
        definition = """
        recording_id : int32
        ---
        channels : int16
        """

    with caplog.at_level(logging.WARNING, logger="datajoint"):

        @dj_schema
        class Channel(dj.Computed):
            definition = """
            -> Recording
            channel : int16
            ---
            gain : float64
            """

            def make(self, key):
                count = (Recording & key).fetch1("channels")
                self.insert({**key, "channel": c, "gain": c / 2} for c in range(count))

    warned = [r for r in caplog.records if "non-FK primary key" in r.getMessage()]
    assert len(warned) == 1 and "Part table" in warned[0].getMessage()
    Recording.insert([{"recording_id": 1, "channels": 3}, {"recording_id": 2, "channels": 2}])
    Channel.populate(reserve_jobs=True)
    assert len(Channel) == 5
    assert Channel.progress(display=False) == (0, 2)
    assert sorted(Channel.keys(), key=lambda k: (k["recording_id"], k["channel"]))[:2] == [
        {"recording_id": 1, "channel": 0},
        {"recording_id": 1, "channel": 1},
    ]


# ---- 2. Inherited master/part classes --------------------------------------------------------
def test_subclassed_master_declares_its_inherited_parts(dj_schema):
    class A(dj.Manual):
        definition = "a_id : int32"

    class B(dj.Manual):
        source = None
        definition = "-> self.source\nb_id : int32"

        class H(dj.Part):
            definition = "-> master\nname : varchar(128)"

        class C(dj.Part):
            definition = "-> master\n-> master.H"

    class D(B):
        source = A

    dj_schema(A, context={})
    dj_schema(D, context={})
    assert {"a_id", "b_id", "name"} <= set(D.C().heading.attributes)
    assert D.H.table_name == "d__h" and D.C.table_name == "d__c"
    assert D.C.master is D and D.H.master is D
    # the base class's parts stay the base class's: unbound, not shared with D
    assert B.H is not D.H and B.H._master is None
    assert set(D.C.parents()) == {D.full_table_name, D.H.full_table_name}
    A.insert1({"a_id": 1})
    D.insert1({"a_id": 1, "b_id": 2})
    D.H.insert1({"a_id": 1, "b_id": 2, "name": "x"})
    D.C.insert1({"a_id": 1, "b_id": 2, "name": "x"})
    assert D.C.to_dicts() == [{"a_id": 1, "b_id": 2, "name": "x"}]


# ---- 4. Heading and attribute properties -----------------------------------------------------
def test_heading_and_attribute_properties_of_2x(dj_schema):
    @dj_schema
    class Probe(dj.Manual):
        definition = """
        probe_id : int32
        ---
        small : int8
        maybe = null : int16
        ratio : float32
        label : varchar(32)
        kind : enum('a','b')
        ident : uuid
        doc : json
        data : <blob>
        raw : bytes
        """

    heading = Probe.heading
    assert heading.names == [
        "probe_id",
        "small",
        "maybe",
        "ratio",
        "label",
        "kind",
        "ident",
        "doc",
        "data",
        "raw",
    ]
    assert heading.primary_key == ["probe_id"]
    assert heading.secondary_attributes == heading.names[1:]
    assert set(heading.attributes) == set(heading.names)
    assert heading.blobs == ["data", "raw"]
    assert heading.non_blobs == ["probe_id", "small", "maybe", "ratio", "label", "kind", "ident"]
    assert not heading.has_autoincrement and heading.lineage_available
    dtype = heading.as_dtype
    assert dtype.names == tuple(heading.names)
    assert dtype["small"] == np.dtype("i8") and dtype["ratio"] == np.dtype("f8")
    assert dtype["maybe"] == np.dtype(object) and dtype["label"] == np.dtype(object)
    quote = Probe.connection.dialect.quote
    assert heading.as_sql(["probe_id", "label"], dialect=Probe.connection.dialect) == (
        f"{quote('probe_id')},{quote('label')}"
    )
    renamed = Probe.proj(p="probe_id", twice="small * 2").heading
    assert renamed.as_sql(["p", "twice"]) == '"probe_id" AS "p",small * 2 AS "twice"'
    assert renamed.as_sql(["twice"], include_aliases=False) == "small * 2"
    assert renamed.new_attributes == ["twice"] and renamed["p"].original_name == "probe_id"
    assert heading.determines(Probe.proj().heading)

    small, ratio, label = heading["small"], heading["ratio"], heading["label"]
    assert small.type == "int8" and small.original_type == "int8" and small.sql_type
    assert small.numeric and not small.string and small.dtype == np.dtype("i8")
    assert ratio.numeric and ratio.dtype == np.dtype("f8")
    assert label.string and not label.numeric and label.original_type == "varchar(32)"
    assert heading["kind"].string
    assert heading["ident"].uuid and not heading["ident"].json
    assert heading["doc"].json and not heading["doc"].is_blob
    assert heading["data"].codec == "blob" and heading["data"].is_blob
    assert heading["data"].original_type is None and not heading["data"].numeric
    assert heading["raw"].is_blob and heading["raw"].codec is None
    maybe = heading["maybe"]
    assert maybe.nullable and maybe.default is not None and maybe.dtype == np.dtype(object)
    assert heading["probe_id"].in_key and not small.in_key
    assert small.comment == "" and isinstance(small.todict(), dict)
    assert small.todict()["name"] == "small"
    assert small.sql_comment.startswith(":int8:")


# ---- 5. The module paths user code imports ---------------------------------------------------
def test_2x_module_paths_reexport_the_kernel_names():
    modules = {
        name: importlib.import_module(f"datajoint.{name}")
        for name in (
            "errors",
            "blob",
            "utils",
            "condition",
            "expression",
            "table",
            "user_tables",
            "heading",
            "settings",
            "hash",
            "schemas",
        )
    }
    assert modules["errors"].DataJointError is dj.DataJointError
    assert modules["condition"].AndList is dj.AndList and modules["condition"].Not is dj.Not
    assert modules["condition"].Top is dj.Top
    assert modules["expression"].QueryExpression is dj.QueryExpression
    assert modules["expression"].U is dj.U
    assert modules["table"].Table is dj.Table and modules["table"].FreeTable is dj.FreeTable
    assert modules["user_tables"].Computed is dj.Computed
    assert modules["user_tables"].Part is dj.Part
    assert modules["heading"].Heading and modules["heading"].Attribute
    assert isinstance(dj.config, modules["settings"].Config)
    assert modules["schemas"].Schema is dj.Schema
    assert modules["schemas"].VirtualModule is dj.VirtualModule
    assert modules["utils"].from_camel_case("SessionTrial") == "session_trial"
    assert modules["utils"].to_camel_case("session_trial") == "SessionTrial"
    assert modules["hash"].key_hash({"b": 2, "a": 1}) == modules["hash"].key_hash({"a": 1, "b": 2})
    assert re.fullmatch(r"[0-9a-f]{32}", modules["hash"].key_hash({"a": 1}))
    blob = modules["blob"]
    assert blob.MatCell is dj.MatCell and blob.MatStruct is dj.MatStruct
    value = {"x": np.arange(4.0), "y": "text"}
    restored = blob.unpack(blob.pack(value))
    assert restored["y"] == "text" and np.array_equal(restored["x"], value["x"])
    assert blob.pack(value, compress=False) != b""
    with pytest.raises(AttributeError):
        blob.no_such_name  # noqa: B018


def test_blob_module_serializes_values_a_blob_column_reads(dj_schema):
    from datajoint import blob

    @dj_schema
    class Packed(dj.Manual):
        definition = """
        packed_id : int32
        ---
        payload : <blob>
        """

    Packed.insert1({"packed_id": 1, "payload": [1, 2, 3]})
    stored = Packed.proj().to_dicts()  # the row exists; its blob decodes as pack's bytes do
    assert stored == [{"packed_id": 1}]
    assert blob.unpack(blob.pack([1, 2, 3])) == Packed.fetch1("payload")


# ---- 6. Messages users match on --------------------------------------------------------------
def test_positional_insert_warning_and_unconfigured_table_message(dj_schema):
    @dj_schema
    class Row(dj.Manual):
        definition = """
        row_id : int32
        ---
        word : varchar(8)
        """

    with pytest.warns(DeprecationWarning, match=r"^Positional inserts"):
        Row.insert1((1, "one"))
    assert Row.fetch1("word") == "one"

    class Unbound(dj.Manual):
        definition = "unbound_id : int32"

    with pytest.raises(DataJointError, match=r"Table `Unbound` is not properly configured"):
        Unbound().heading  # noqa: B018
    with pytest.raises(DataJointError, match="not properly configured"):
        Unbound().to_dicts()


# ---- 7. The safety net of destructive writes -------------------------------------------------
@pytest.fixture
def sessions(dj_schema):
    @dj_schema
    class Session(dj.Manual):
        definition = """
        subject_id : int32
        session : int16
        ---
        note = "" : varchar(16)
        """

    Session.insert(
        [{"subject_id": s, "session": n, "note": "x"} for s in (1, 2, 3) for n in (1, 2)]
    )
    return Session


def test_typo_restrictions_are_refused_by_destructive_writes(sessions):
    Session = sessions
    typo = Session & {"subjectid": 3}
    assert len(typo) == 6  # a query keeps the 2.x meaning: the dict restricts nothing
    pattern = r"subjectid.*subject_id, session, note"
    with pytest.raises(UnmatchedRestrictionError, match=pattern):
        typo.delete(prompt=False)
    with pytest.raises(UnmatchedRestrictionError, match=pattern):
        typo.delete_quick()
    with pytest.raises(UnmatchedRestrictionError, match=pattern):
        typo.drop(prompt=False)
    with pytest.raises(UnmatchedRestrictionError, match=pattern):
        typo.update1({"subject_id": 1, "session": 1, "note": "y"})
    with pytest.raises(UnmatchedRestrictionError, match="sesion"):  # one dict of a list
        (Session & [{"subject_id": 1}, {"sesion": 2}]).delete_quick()
    with pytest.raises(UnmatchedRestrictionError, match="subjectid"):  # kept through restrictions
        (Session & {"subjectid": 3} & {"session": 1}).delete(prompt=False)
    assert len(Session) == 6 and Session.is_declared
    assert set(Session.to_dicts(order_by="KEY")[0]) == {"subject_id", "session", "note"}


def test_restrictions_naming_an_attribute_still_delete_and_update(sessions):
    Session = sessions
    # a known key beside an unknown one restricts by the known key, as in 2.x
    assert (Session & {"subject_id": 3, "extra": 1}).delete(prompt=False) == 2
    (Session & {"subject_id": 2, "session": 1}).delete_quick()
    Session.update1({"subject_id": 1, "session": 1, "note": "y"})
    assert (Session & {"subject_id": 1, "session": 1}).fetch1("note") == "y"
    assert (Session - {"subjectid": 1}).to_dicts() == []  # Not(...) of it empties the query
    (Session - {"subjectid": 1}).delete_quick()  # restricts to nothing: nothing to refuse
    assert len(Session) == 3
    (Session & {}).delete_quick()  # an empty dict names no key that could be a typo
    assert len(Session) == 0


# ---- 8. Numbers from to_arrays() as 2.x gives them -------------------------------------------
def test_to_arrays_gives_int64_and_float64_unless_declared_widths_are_asked(dj_schema):
    @dj_schema
    class Reading(dj.Manual):
        definition = """
        reading_id : int8
        ---
        level : int8
        value : float32
        count : int32
        flag : bool
        """

    Reading.insert(
        [
            {"reading_id": 1, "level": 100, "value": 20.33, "count": 7, "flag": True},
            {"reading_id": 2, "level": 100, "value": 1.5, "count": 8, "flag": False},
        ]
    )
    array = Reading.to_arrays(order_by="KEY")
    assert [array.dtype[n] for n in ("reading_id", "level", "value", "count")] == [
        np.dtype("i8"),
        np.dtype("i8"),
        np.dtype("f8"),
        np.dtype("i8"),
    ]
    assert array.dtype["flag"] == np.dtype("?")
    rows = Reading.to_dicts(order_by="KEY")
    assert array["value"][0] == rows[0]["value"]
    assert array["value"][0] == pytest.approx(20.33, abs=1e-6)
    assert int(array["level"].sum()) == 200  # no int8 wrap-around
    level, value = Reading.to_arrays("level", "value", order_by="KEY")
    assert level.dtype == np.dtype("i8") and value.dtype == np.dtype("f8")

    declared = Reading.to_arrays(order_by="KEY", dtypes="declared")
    assert declared.dtype["level"] == np.dtype("i1") and declared.dtype["value"] == np.dtype("f4")
    assert declared.dtype["count"] == np.dtype("i4")
    assert declared["level"].tolist() == [100, 100]
    level, value = Reading.to_arrays("level", "value", order_by="KEY", dtypes="declared")
    assert level.dtype == np.dtype("i1") and value.dtype == np.dtype("f4")
    with pytest.raises(ValueError, match="dtypes"):
        Reading.to_arrays(dtypes="narrow")


# ---- 9. The same install gives the same tools ------------------------------------------------
def test_pandas_and_the_dj_command_are_base_dependencies(dj_schema):
    # the source of truth is the kernel's pyproject (CI's wheel check installs it and runs both)
    project = tomllib.loads(KERNEL_PYPROJECT.read_text(encoding="utf-8"))["project"]
    base = {re.split(r"[ <>=~!;\[]", r, maxsplit=1)[0].lower() for r in project["dependencies"]}
    assert {"pandas", "dj-cli"} <= base
    entry_points = importlib.metadata.entry_points(group="console_scripts")
    assert "dj" in {e.name for e in entry_points if e.dist and e.dist.name == "dj-cli"}

    @dj_schema
    class Framed(dj.Manual):
        definition = """
        framed_id : int32
        ---
        weight : float64
        """

    Framed.insert([{"framed_id": 1, "weight": 2.5}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = Framed.to_pandas()
    assert list(frame.index) == [1] and list(frame["weight"]) == [2.5]
