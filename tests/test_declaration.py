"""Declaring tables on every backend: types, foreign keys, errors, describe (SPEC §2-§3)."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import throwaway_schema

CORE_VALUES = {
    "int8": -7,
    "int16": -30000,
    "int32": 2_000_000_000,
    "int64": -9_000_000_000_000,
    "float32": 1.5,
    "float64": 2.718281828459045,
    "bool": True,
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bytes": b"\x00\x01\xff raw",
    "json": {"a": [1, 2.5, None], "b": "text"},
    "date": datetime.date(2024, 2, 29),
    "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5),
    "datetime(3)": datetime.datetime(2024, 1, 2, 3, 4, 5, 678000),
    "char(3)": "abc",
    "varchar(64)": 'it\'s "quoted" \\ 100% ünï',
    "decimal(10,3)": decimal.Decimal("1234.567"),
    "enum('low','high')": "high",
}


def _column(core: str) -> str:
    return "v_" + "".join(ch for ch in core.split("(")[0] if ch.isalnum())


@pytest.mark.parametrize("core", list(CORE_VALUES))
def test_core_type_round_trip(dj_schema, core):
    name = _column(core)
    definition = f"""
    id : int32
    ---
    {name} : {core}
    other = null : {core}
    """

    class Holder(dj.Manual):
        pass

    Holder.definition = definition
    dj_schema(Holder, context={})
    value = CORE_VALUES[core]
    Holder.insert1({"id": 1, name: value})
    row = (Holder & {"id": 1}).fetch1()
    got = row[name]
    if core == "float32":
        assert got == pytest.approx(value)
    else:
        assert got == value and type(got) is type(value), (got, value)
    assert row["other"] is None
    attr = Holder.heading[name]
    assert attr.original_type == core and attr.type == attr.sql_type and not attr.nullable
    if core not in ("json", "bytes", "float32", "float64"):
        assert len(Holder & {name: value}) == 1


def test_foreign_key_forms(dj_schema):
    schema = dj_schema

    @schema
    class Animal(dj.Manual):
        definition = """
        animal : varchar(16)
        ---
        weight = 0 : float64
        """

    @schema
    class Pair(dj.Manual):
        definition = """
        -> Animal.proj(left_animal="animal")
        -> Animal.proj(right_animal="animal")
        ---
        -> [nullable] Animal.proj(referee="animal")
        -> [unique] Animal.proj(mascot="animal")
        """

    @schema
    class Visit(dj.Manual):
        definition = """
        -> Animal
        visit : int16
        """

        class Note(dj.Part):
            definition = """
            -> master
            note_id : int32
            ---
            text : varchar(100)
            """

    Animal.insert([{"animal": a} for a in "abcde"])
    Pair.insert1({"left_animal": "a", "right_animal": "b", "referee": None, "mascot": "c"})
    assert Pair.primary_key == ["left_animal", "right_animal"]
    assert Pair.heading["referee"].nullable
    with pytest.raises(dj.errors.DuplicateError):
        Pair.insert1({"left_animal": "b", "right_animal": "a", "referee": "d", "mascot": "c"})
    with pytest.raises(dj.errors.IntegrityError):
        Pair.insert1({"left_animal": "z", "right_animal": "a", "referee": None, "mascot": "e"})
    Visit.insert1({"animal": "a", "visit": 1})
    Visit.Note.insert1({"animal": "a", "visit": 1, "note_id": 1, "text": "ok"})
    assert Visit.Note.table_name == "visit__note"
    assert Visit.Note.master is Visit
    parents = {p for p in Pair.parents()}
    assert parents == {Animal.full_table_name}
    lineage = schema.lineage
    db = schema.database
    assert lineage[f"{db}.pair.left_animal"] == f"{db}.animal.animal"
    assert lineage[f"{db}.visit__note.visit"] == f"{db}.visit.visit"
    assert f"{db}.pair.referee" in lineage


def test_cross_schema_foreign_keys(dj_connection):
    with throwaway_schema(dj_connection) as upstream, throwaway_schema(dj_connection) as downstream:

        @upstream
        class Source(dj.Manual):
            definition = """
            source_id : int32
            """

        @downstream
        class Derived(dj.Manual):
            definition = """
            -> Source
            part : int16
            """

        Source.insert1({"source_id": 1})
        Derived.insert1({"source_id": 1, "part": 1})
        with pytest.raises(dj.errors.IntegrityError):
            Derived.insert1({"source_id": 2, "part": 1})
        assert downstream.lineage[f"{downstream.database}.derived.source_id"] == (
            f"{upstream.database}.source.source_id"
        )
        Derived.drop_quick()


def test_foreign_key_columns_are_indexed(dj_schema):
    schema = dj_schema

    @schema
    class Left(dj.Manual):
        definition = """
        lid : int32
        """

    @schema
    class Link(dj.Manual):
        definition = """
        link : int32
        ---
        -> Left
        """

    conn = Link.connection
    indexed = [ix.columns for ix in conn.introspection.indexes(conn.run, schema.database, "link")]
    assert ("lid",) in indexed or conn.dialect.capabilities.auto_indexes_foreign_keys


def test_singleton_lookup_defaults_and_hidden(dj_schema):
    schema = dj_schema

    @schema
    class Settings(dj.Lookup):
        definition = """
        # one row of settings
        ---
        threshold = 0.5 : float64
        label = "none" : varchar(20)
        created = CURRENT_TIMESTAMP : datetime
        """
        contents = [{"threshold": 0.75}]

    assert Settings.table_name == "#settings"
    assert Settings.primary_key == [] and Settings.heading.full_primary_key == ["_singleton"]
    assert Settings.heading.names == ["threshold", "label", "created"]
    row = Settings.fetch1()
    assert row["threshold"] == 0.75 and row["label"] == "none"
    assert isinstance(row["created"], datetime.datetime)
    with pytest.raises(dj.errors.DuplicateError):
        Settings.insert1({"threshold": 1.0})
    assert Settings.heading.table_comment == "one row of settings"


def test_describe_declares_the_same_table(dj_schema):
    schema = dj_schema

    @schema
    class Subject(dj.Manual):
        definition = """
        # a subject
        subject_id : int32   # id
        ---
        name = "anon" : varchar(30)
        weight = null : float32
        sex : enum('F','M')
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        -> [nullable] Subject.proj(buddy="subject_id")
        when = CURRENT_TIMESTAMP : datetime
        code : char(4)
        UNIQUE INDEX (code)
        """

    text = Session.describe()
    assert "-> Subject" in text and 'Subject.proj(buddy="subject_id")' in text

    class Session2(dj.Manual):
        definition = text

    schema(Session2, context={"Subject": Subject})
    assert Session2.describe() == text
    assert Subject.describe().startswith("# a subject")
    for name in Session.heading.names:
        a, b = Session.heading[name], Session2.heading[name]
        assert (a.declared_type, a.sql_type, a.nullable, a.default, a.in_key) == (
            b.declared_type,
            b.sql_type,
            b.nullable,
            b.default,
            b.in_key,
        )


BAD_DEFINITIONS = [
    ("id : int32\n---\nx : notatype", "Unsupported attribute type"),
    ("id = null : int32", "Primary key attributes cannot be nullable"),
    ("-> Missing\n---\nx : int32", "could not be resolved"),
    ("id : int32\n---\n_x : int32", "starts with an underscore"),
    ("id : int32\n---\nx : int32 # :bad", "must not start with a colon"),
    ("# :bad\nid : int32", "Table comment must not start with a colon"),
    ("id : int32\n---\nblob_x = 'a' : bytes", "default value for blob attributes"),
    ("j : json", "not allowed in the primary key"),
    ("-> [sometimes] Anchor", 'Invalid foreign key option "sometimes"'),
    ("-> [nullable] Anchor", "Primary dependencies cannot be nullable"),
]


@pytest.mark.parametrize(("definition", "message"), BAD_DEFINITIONS)
def test_bad_definition_leaves_no_table(dj_schema, definition, message):
    schema = dj_schema

    @schema
    class Anchor(dj.Manual):
        definition = """
        anchor_id : int32
        """

    class Broken(dj.Manual):
        pass

    Broken.definition = definition
    before = set(schema.list_tables())
    with pytest.raises(DataJointError, match=message):
        schema(Broken, context={"Anchor": Anchor})
    assert set(schema.list_tables()) == before


def test_bad_class_names(dj_schema):
    class lowercase(dj.Manual):
        definition = "id : int32"

    with pytest.raises(DataJointError, match=r"is invalid\. Class names must be in CamelCase"):
        dj_schema(lowercase, context={})

    class Under_Score(dj.Manual):
        definition = "id : int32"

    with pytest.warns(UserWarning, match="contains underscores"):
        dj_schema(Under_Score, context={})
    assert Under_Score.table_name == "under_score"


def test_too_long_table_name(dj_schema):
    name = "T" + "x" * 70
    cls = type(name, (dj.Manual,), {"definition": "id : int32"})
    with pytest.raises(DataJointError, match="exceeds the max length"):
        dj_schema(cls, context={})
    assert dj_schema.list_tables() == []


def test_declaring_inside_a_transaction_is_refused(dj_schema):
    class Later(dj.Manual):
        definition = "id : int32"

    conn = dj_schema.connection
    conn.start_transaction()
    try:
        with pytest.raises(DataJointError, match="Cannot declare new tables inside a transaction"):
            dj_schema(Later, context={})
    finally:
        conn.cancel_transaction()


def test_auto_populated_key_with_own_attributes_declares_with_one_warning(dj_schema, caplog):
    """DataJoint 2.3.5 accepts non-FK primary-key attributes in Computed tables (SPEC §3.3)."""

    class Source(dj.Manual):
        definition = """
        source_id : int32
        """

    class Result(dj.Computed):
        definition = """
        -> Source
        result_id : int32
        """

    class Quiet(dj.Imported):
        definition = """
        -> Source
        quiet_id : int32
        """

    dj_schema(Source, context={})
    with caplog.at_level("WARNING", logger="datajoint"):
        dj_schema(Result, context={"Source": Source})
    warned = [r.getMessage() for r in caplog.records if "non-FK primary key" in r.getMessage()]
    assert len(warned) == 1
    assert "result_id" in warned[0] and "Part table" in warned[0]
    assert Result.primary_key == ["source_id", "result_id"]
    caplog.clear()
    config = dj_schema.connection.config
    with (
        config.override(jobs__allow_new_pk_fields_in_computed_tables=True),
        caplog.at_level("WARNING", logger="datajoint"),
    ):
        dj_schema(Quiet, context={"Source": Source})
    assert not [r for r in caplog.records if "non-FK primary key" in r.getMessage()]
    assert Quiet.primary_key == ["source_id", "quiet_id"]
