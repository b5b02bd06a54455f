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


# ---- 3. Part-of-part cascade and every part_integrity mode ----------------------------------
def declare_deep_chain(schema):
    """Master with PartA (-> master), PartB (-> Master.PartA) and PartC (-> Master.PartB,
    -> Tool): parts of parts, the deepest also referencing a table outside the master."""

    @schema
    class Tool(dj.Lookup):
        definition = """
        tool : varchar(8)
        """
        contents = [("saw",), ("drill",)]

    @schema
    class Master(dj.Manual):
        definition = """
        master_id : int32
        """

        class PartA(dj.Part):
            definition = """
            -> master
            a_id : int32
            """

        class PartB(dj.Part):
            definition = """
            -> Master.PartA
            b_id : int32
            """

        class PartC(dj.Part):
            definition = """
            -> Master.PartB
            -> Tool
            """

    Master.insert([{"master_id": m} for m in (1, 2)])
    Master.PartA.insert([{"master_id": m, "a_id": a} for m in (1, 2) for a in (0, 1)])
    Master.PartB.insert([{"master_id": m, "a_id": a, "b_id": 0} for m in (1, 2) for a in (0, 1)])
    Master.PartC.insert(
        [{"master_id": m, "a_id": a, "b_id": 0, "tool": "saw"} for m in (1, 2) for a in (0, 1)]
        + [{"master_id": 2, "a_id": 0, "b_id": 0, "tool": "drill"}]
    )
    return Tool, Master


def chain_state(Master) -> tuple[list[int], set[int]]:
    """The row counts of the master and its parts, and the master ids left."""
    tables = (Master, Master.PartA, Master.PartB, Master.PartC)
    return [len(t) for t in tables], {k["master_id"] for k in Master.to_dicts()}


def test_part_of_part_cascade_goes_up_to_the_master(dj_schema):
    _Tool, Master = declare_deep_chain(dj_schema)
    # from the deepest part: master 1 and its whole chain go, master 2's stays whole
    (Master.PartC & {"master_id": 1}).delete(part_integrity="cascade", prompt=False)
    assert chain_state(Master) == ([1, 2, 2, 3], {2})
    # from a middle part, restricted below the master's key: the whole master goes
    (Master.PartB & {"master_id": 2, "a_id": 1}).delete(part_integrity="cascade", prompt=False)
    assert chain_state(Master) == ([0, 0, 0, 0], set())


def test_part_of_part_enforce_and_ignore(dj_schema):
    Tool, Master = declare_deep_chain(dj_schema)
    for part in (Master.PartA, Master.PartB, Master.PartC):
        with pytest.raises(DataJointError, match="Cannot delete from a Part directly"):
            (part & {"master_id": 1}).delete(prompt=False)
    with pytest.raises(DataJointError, match="before its master"):  # reached from outside
        (Tool & {"tool": "drill"}).delete(prompt=False)
    assert chain_state(Master) == ([2, 4, 4, 5], {1, 2})
    # ignore: the part rows asked for and their own descendants, nothing upward
    (Master.PartB & {"master_id": 1, "a_id": 0}).delete(part_integrity="ignore", prompt=False)
    assert chain_state(Master) == ([2, 4, 3, 4], {1, 2})
    (Tool & {"tool": "drill"}).delete(part_integrity="ignore", prompt=False)
    assert chain_state(Master) == ([2, 4, 3, 3], {1, 2})
    # the master is always allowed, and takes every level of its parts with it
    (Master & {"master_id": 1}).delete(prompt=False)
    assert chain_state(Master) == ([1, 2, 2, 2], {2})


def test_part_reached_from_outside_cascades_to_its_master(dj_schema):
    Tool, Master = declare_deep_chain(dj_schema)
    (Tool & {"tool": "drill"}).delete(part_integrity="cascade", prompt=False)
    assert chain_state(Master) == ([1, 2, 2, 2], {1})
    assert Tool.to_dicts() == [{"tool": "saw"}]


def test_two_parts_of_one_master_in_every_mode(dj_schema):
    @dj_schema
    class Master(dj.Manual):
        definition = """
        master_id : int32
        """

        class Left(dj.Part):
            definition = """
            -> master
            left_id : int32
            """

        class Right(dj.Part):
            definition = """
            -> master.Left
            right_id : int32
            """

    Master.insert([{"master_id": m} for m in (1, 2, 3)])
    Master.Left.insert([{"master_id": m, "left_id": i} for m in (1, 2, 3) for i in (0, 1)])
    Master.Right.insert([{"master_id": m, "left_id": 0, "right_id": 0} for m in (1, 2, 3)])

    def state():
        return [len(Master), len(Master.Left), len(Master.Right)]

    with pytest.raises(DataJointError, match="Cannot delete from a Part directly"):
        (Master.Right & {"master_id": 1}).delete(prompt=False)
    (Master.Left & {"master_id": 1, "left_id": 0}).delete(part_integrity="ignore", prompt=False)
    assert state() == [3, 5, 2]  # the Right row below it went too
    (Master.Right & {"master_id": 2}).delete(part_integrity="cascade", prompt=False)
    assert state() == [2, 3, 1] and {k["master_id"] for k in Master.to_dicts()} == {1, 3}
    with pytest.raises(DataJointError, match="part_integrity"):
        Master.Left.drop(prompt=False)
    assert state() == [2, 3, 1]


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
    assert small.type == small.sql_type and small.original_type == "int8"
    assert small.declared_type == "int8" and heading["data"].type == "<blob>"
    assert small.numeric and not small.string and small.dtype == np.dtype("i8")
    assert ratio.numeric and ratio.dtype == np.dtype("f8")
    assert label.string and not label.numeric and label.original_type == "varchar(32)"
    assert heading["kind"].string and not heading["ident"].string and not heading["doc"].string
    assert heading["ident"].uuid and not heading["ident"].json
    assert heading["doc"].json and not heading["doc"].is_blob
    codec = heading["data"].codec  # the codec object, as in 2.x
    assert isinstance(codec, dj.Codec) and codec is dj.codecs.get_codec("blob")
    assert codec.name == "blob" and heading["data"].is_blob
    assert heading["data"].todict()["codec"] is codec
    assert heading["data"].original_type is None and not heading["data"].numeric
    assert heading["raw"].is_blob and heading["raw"].codec is None
    maybe = heading["maybe"]
    assert maybe.nullable and maybe.default is not None and maybe.dtype == np.dtype(object)
    assert heading["probe_id"].in_key and not small.in_key
    assert small.comment == "" and isinstance(small.todict(), dict)
    assert small.todict()["name"] == "small"
    assert small.sql_comment.startswith(":int8:")

    @dj_schema
    class Dated(dj.Manual):
        definition = """
        dated_id : int32
        ---
        day : date
        moment = CURRENT_TIMESTAMP : datetime
        code : char(4)
        """

    dated = Dated.heading  # 2.x flags character types as strings, dates and datetimes not
    assert dated["code"].string and not dated["day"].string and not dated["moment"].string
    assert dated["day"].original_type == "date" and dated["day"].dtype == np.dtype(object)


def test_codec_attribute_is_the_codec_object_looked_up_when_read(dj_schema):
    class Tagged(dj.Codec):
        name = "compat_tagged"

        def get_dtype(self, is_store):
            return "json"

        def encode(self, value, *, key=None, store_name=None):
            return {"tag": value}

        def decode(self, stored, *, key=None):
            return stored["tag"]

    try:

        @dj_schema
        class Labelled(dj.Manual):
            definition = """
            labelled_id : int32
            ---
            label : <compat_tagged>
            """

        attr = Labelled.heading["label"]
        assert (
            attr.codec is dj.codecs.get_codec("compat_tagged")
            and attr.codec_name == attr.codec.name
        )
        assert attr.codec.encode("x") == {"tag": "x"} and attr.store is None
        Labelled.insert1({"labelled_id": 1, "label": "x"})
        dj.codecs.unregister_codec("compat_tagged")
        # the heading stays loaded; its codec is now a stand-in that says what is missing
        assert attr.codec.name == "compat_tagged" and not isinstance(attr.codec, Tagged)
        with pytest.raises(DataJointError, match="compat_tagged"):
            attr.codec.decode({"tag": "x"})
        assert Labelled.proj().to_dicts() == [{"labelled_id": 1}]
    finally:
        if dj.codecs.is_codec_registered("compat_tagged"):
            dj.codecs.unregister_codec("compat_tagged")


def test_object_storage_attributes_of_2x(dj_schema, file_store):
    @dj_schema
    class Stored(dj.Manual):
        definition = """
        stored_id : int32
        ---
        inline : <blob>
        hashed : <blob@>
        attached = null : <attach@>
        content = null : <hash@>
        obj = null : <object@>
        arr = null : <npy@>
        """

    heading = Stored.heading
    assert heading.hash_objects == ["hashed", "attached", "content"]
    assert heading.schema_objects == ["obj", "arr"]
    assert not heading["inline"].is_hash_object and not heading["inline"].is_schema_object
    assert heading["hashed"].store == "" and heading["inline"].store is None
    assert isinstance(heading["obj"].codec, dj.SchemaCodec)
    assert not heading["stored_id"].is_hash_object and heading["stored_id"].codec is None


def test_hidden_attributes_are_left_out_of_every_name_list(dj_schema):
    @dj_schema
    class Setting(dj.Manual):
        definition = """
        # a singleton: its one row has the hidden key attribute _singleton
        ---
        level : int16
        """

    @dj_schema
    class Source(dj.Manual):
        definition = """
        source_id : int32
        """

    with dj_schema.connection.config.override(jobs__add_job_metadata=True):

        @dj_schema
        class Tuned(dj.Computed):
            definition = """
            -> Source
            -> Setting
            ---
            value : int32
            """

            def make(self, key):
                self.insert1({**key, "value": (Setting & key).fetch1("level")})

    heading = Setting.heading
    assert heading.primary_key == [] and Setting.primary_key == []
    assert heading.full_primary_key == ["_singleton"]
    assert heading.names == ["level"] and heading.secondary_attributes == ["level"]
    assert list(heading.attributes) == ["level"] and len(heading) == 1
    assert heading.as_dtype.names == ("level",)
    assert Tuned.heading.primary_key == ["source_id"] == Tuned.primary_key
    assert Tuned.heading.full_primary_key == ["source_id", "_singleton"]
    assert Tuned.heading.secondary_attributes == ["value"] == Tuned.heading.names[1:]
    assert {"_job_start_time", "_job_duration", "_job_version"}.isdisjoint(Tuned.heading.names)

    # the kernel still keys the hidden attribute: inserts, updates and deletes find the one row
    Setting.insert1({"level": 3})
    Setting.insert1({"level": 4}, skip_duplicates=True)
    assert Setting.to_dicts() == [{"level": 3}] and Setting.keys() == [{}]
    Setting.insert1({"level": 5}, replace=True)
    Setting.update1({"level": 6})
    assert Setting.fetch1("level") == 6
    Source.insert([{"source_id": 1}, {"source_id": 2}])
    Tuned.populate()
    assert Tuned.to_dicts(order_by="KEY") == [
        {"source_id": 1, "value": 6},
        {"source_id": 2, "value": 6},
    ]
    assert (Tuned * Setting).to_dicts(order_by="KEY")[0] == {
        "source_id": 1,
        "value": 6,
        "level": 6,
    }
    Setting.delete(prompt=False)  # cascades through the hidden key attribute
    assert len(Setting) == 0 and len(Tuned) == 0 and len(Source) == 2


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


# ---- 4. Heading.indexes / table_status, Attribute.sql / unsupported --------------------------
def test_heading_indexes_table_status_and_attribute_sql_of_2x(dj_schema, monkeypatch):
    @dj_schema
    class Rig(dj.Manual):
        definition = """
        rig_id : int32
        ---
        rig_name : varchar(16)
        """

    @dj_schema
    class Session(dj.Manual):
        definition = """
        # a recording session
        session_id : int32
        ---
        -> [nullable] Rig
        small : int8  # small one
        maybe = null : int16
        label = "x" : varchar(32)
        kind : enum('a','b')
        ident : uuid
        doc : json
        data : <blob>
        raw : bytes
        unique index (label, kind)
        index (small)
        index (maybe, small)
        """

    conn = Session.connection
    intro = conn.introspection
    reads = []
    real_indexes = intro.indexes

    def counting_indexes(run, schema, table):
        reads.append(table)
        return real_indexes(run, schema, table)

    monkeypatch.setattr(intro, "indexes", counting_indexes)
    dj.heading.forget_schema(conn, Session.database)
    heading = Session.heading
    assert reads == []  # loading a heading does not read its indexes
    indexes = heading.indexes
    assert reads == ["session"]
    assert indexes[("label", "kind")] == {"unique": True, "nullable": False}
    assert indexes[("small",)] == {"unique": False, "nullable": False}
    assert indexes[("maybe", "small")] == {"unique": False, "nullable": True}
    assert ("session_id",) not in indexes  # the primary key is not a secondary index
    if conn.backend.name == "mysql":  # InnoDB indexes every foreign key
        assert indexes[("rig_id",)] == {"unique": False, "nullable": True}
    indexes.clear()  # a copy: the heading keeps its own
    assert ("small",) in heading.indexes and reads == ["session"]
    assert Rig.heading.indexes == {}
    assert Session.proj().heading.indexes is None

    status = heading.table_status
    assert status["comment"] == status["table_comment"] == "a recording session"
    assert status["table_name"] == "session" and status["table_schema"] == Session.database
    assert (Session * Rig).heading.table_status is None

    small, label = heading["small"], heading["label"]
    assert small.sql == f'`small` {small.type} NOT NULL COMMENT "{small.sql_comment}"'
    assert heading["maybe"].sql.endswith('NOT NULL COMMENT ":int16:"')  # as 2.x: no NULL
    assert heading["data"].sql.startswith("`data` <blob> NOT NULL")
    assert label.sql.startswith(f"`label` {label.type} ")
    for name in ("session_id", "small", "maybe", "data", "raw"):
        assert not heading[name].unsupported, name
    for name in ("label", "kind", "ident", "doc"):
        assert heading[name].unsupported, name
