"""update1, validate and alter on every backend (SPEC §3.4, §8)."""

from __future__ import annotations

import logging
import uuid

import pytest

import datajoint as dj
from datajoint.errors import DataJointError


def declare_item(schema):
    @schema
    class Item(dj.Manual):
        definition = """
        # an item
        item_id : int32
        ---
        name : varchar(16)             # the name
        weight = 1.5 : float64
        token = null : uuid
        meta = null : json
        """

    return Item


# ---- update1 -----------------------------------------------------------------------------------
def test_update1(dj_schema):
    Item = declare_item(dj_schema)
    Item.insert(
        [{"item_id": 1, "name": "a", "weight": 3.0}, {"item_id": 2, "name": "b", "weight": None}]
    )
    token = uuid.uuid4()
    Item.update1({"item_id": 1, "name": "z", "token": token, "meta": {"k": [1, 2]}})
    row = (Item & {"item_id": 1}).fetch1()
    assert row == {"item_id": 1, "name": "z", "weight": 3.0, "token": token, "meta": {"k": [1, 2]}}
    Item.update1({"item_id": 1, "weight": None, "token": None})  # None resets to the default
    row = (Item & {"item_id": 1}).fetch1()
    assert row["weight"] == 1.5 and row["token"] is None and row["name"] == "z"
    Item.update1({"item_id": 2})  # nothing but the key: nothing to do
    assert (Item & {"item_id": 2}).fetch1("name") == "b"


def test_update1_errors(dj_schema):
    Item = declare_item(dj_schema)
    Item.insert1({"item_id": 1, "name": "a"})
    with pytest.raises(DataJointError, match="The argument of update1 must be dict-like"):
        Item.update1([1, "b"])
    with pytest.raises(DataJointError, match="must supply all primary key values"):
        Item.update1({"name": "b"})
    with pytest.raises(DataJointError, match="Attribute `color` not found"):
        Item.update1({"item_id": 1, "color": "red"})
    with pytest.raises(DataJointError, match="Update cannot be applied to a restricted table"):
        (Item & {"item_id": 1}).update1({"item_id": 1, "name": "b"})
    with pytest.raises(DataJointError, match="Update can only be applied to one existing entry"):
        Item.update1({"item_id": 7, "name": "b"})
    with pytest.raises(DataJointError, match="badly formed UUID"):
        Item.update1({"item_id": 1, "token": "not-a-uuid"})
    assert (Item & {"item_id": 1}).fetch1("name") == "a"


# ---- validate ----------------------------------------------------------------------------------
def test_validate(dj_schema):
    Item = declare_item(dj_schema)
    good = [{"item_id": 1, "name": "a"}, {"item_id": 2, "name": "b", "token": str(uuid.uuid4())}]
    result = Item.validate(good)
    assert isinstance(result, dj.ValidationResult)
    assert result and result.is_valid and result.errors == [] and result.rows_checked == 2
    assert result.summary() == "Validation passed: 2 rows checked"
    result.raise_if_invalid()
    bad = [
        {"item_id": 1, "name": "a", "color": "red"},  # unknown field
        {"name": "b"},  # primary key missing
        {"item_id": 3},  # required field missing
        {"item_id": 4, "name": None},  # NULL in a non-nullable field
        {"item_id": 5, "name": "e", "token": "xyz"},  # bad UUID
        {"item_id": 6, "name": "f", "meta": {"s": {1, 2}}},  # not JSON-serializable
        {"item_id": None, "name": "g"},  # NULL key
        42,  # not a row at all
    ]
    result = Item.validate(bad)
    assert not result and result.rows_checked == 8
    by_row = {(i, f): m for i, f, m in result.errors}
    assert "not in the table heading" in by_row[(0, "color")]
    assert by_row[(1, "item_id")] == "Primary key attribute 'item_id' is missing"
    assert by_row[(2, "name")] == "Required field 'name' is missing"
    assert by_row[(3, "name")] == "NULL value in non-nullable field 'name'"
    assert "UUID" in by_row[(4, "token")]
    assert "JSON" in by_row[(5, "meta")]
    assert by_row[(6, "item_id")] == "Primary key attribute 'item_id' is NULL"
    assert "cannot be inserted" in by_row[(7, None)]
    assert len(result.errors) == 8
    assert Item.validate(bad[:1], ignore_extra_fields=True).is_valid
    summary = result.summary()
    assert summary.startswith("Validation failed: 8 error(s) in 8 rows")
    assert "  Row 0 in field 'color': " in summary and "  Row 7: " in summary
    with pytest.raises(DataJointError, match="Validation failed"):
        result.raise_if_invalid()
    many = Item.validate([{"item_id": i} for i in range(12)])
    assert many.summary().endswith("  ... and 2 more errors")
    assert len(Item) == 0  # validate never writes


def test_validate_runs_codec_checks(dj_schema):
    class Positive(dj.Codec):
        name = "positive_write_test"

        def get_dtype(self, is_store):
            return "int32"

        def encode(self, value, *, key=None, store_name=None):
            return int(value)

        def decode(self, stored, *, key=None):
            return stored

        def validate(self, value):
            if value <= 0:
                raise ValueError("must be positive")

    @dj_schema
    class Score(dj.Manual):
        definition = """
        id : int32
        ---
        score : <positive_write_test>
        """

    result = Score.validate([{"id": 1, "score": 5}, {"id": 2, "score": -1}])
    assert [(i, f) for i, f, _ in result.errors] == [(1, "score")]
    assert "must be positive" in result.errors[0][2]


# ---- alter -------------------------------------------------------------------------------------
def alter_to(table, definition, **kwargs):
    table.definition = definition
    table.alter(prompt=False, **kwargs)
    from datajoint.heading import heading_cache

    heading_cache(table.connection).clear()


def test_alter_attributes_and_comment(dj_schema):
    Item = declare_item(dj_schema)
    Item.insert(
        [{"item_id": 1, "name": "a", "weight": None}, {"item_id": 2, "name": "bb", "weight": 2.0}]
    )
    alter_to(
        Item,
        """
        # an item, revised
        item_id : int32
        ---
        name : varchar(64)             # the longer name
        count = 0 : int32              # added
        weight = 2.5 : float64
        meta = null : json
        """,
    )
    heading = Item.heading
    assert heading.table_comment == "an item, revised"
    assert heading["name"].type == "varchar(64)" and heading["name"].comment == "the longer name"
    assert heading["count"].default == "0" and heading["weight"].default == "2.5"
    assert "token" not in heading.names
    rows = sorted(Item.to_dicts(), key=lambda r: r["item_id"])
    assert rows == [
        {"item_id": 1, "name": "a", "count": 0, "weight": 1.5, "meta": None},
        {"item_id": 2, "name": "bb", "count": 0, "weight": 2.0, "meta": None},
    ]
    Item.insert1({"item_id": 3, "name": "c" * 60})
    assert (Item & {"item_id": 3}).fetch1("weight") == 2.5
    if Item.connection.dialect.capabilities.column_positions:
        assert heading.names == ["item_id", "name", "count", "weight", "meta"]
        alter_to(
            Item,
            """
            # an item, revised
            item_id : int32
            ---
            meta = null : json
            name : varchar(64)             # the longer name
            count = 0 : int32              # added
            weight = 2.5 : float64
            """,
        )
        assert Item.heading.names == ["item_id", "meta", "name", "count", "weight"]


def test_alter_rename(dj_schema):
    Item = declare_item(dj_schema)
    Item.insert1({"item_id": 1, "name": "a"})
    definition = """
    # an item
    item_id : int32
    ---
    label : varchar(16)            # {name} the name, renamed
    weight = 1.5 : float64
    token = null : uuid
    meta = null : json
    """
    if not Item.connection.dialect.capabilities.rename_column:
        with pytest.raises(
            DataJointError,
            match=r"Renaming attribute `name` to `label` with alter\(\) is not supported on "
            r"postgresql. No change was made.",
        ):
            alter_to(Item, definition)
        assert "name" in Item.heading.names
        return
    alter_to(Item, definition)
    assert Item.heading["label"].comment == "the name, renamed"
    assert "name" not in Item.heading.names
    assert Item.to_dicts()[0]["label"] == "a"
    alter_to(Item, definition)  # the marker left in the class: already done, nothing to do
    with pytest.raises(DataJointError, match="Attribute nosuch does not exist in the original"):
        alter_to(Item, definition.replace("{name}", "{nosuch}").replace("label", "other"))
    twice = """
    item_id : int32
    ---
    first : varchar(16)   # {label}
    second = 1.5 : float64  # {label}
    """
    with pytest.raises(
        DataJointError, match=r"Alter attempted to rename attribute \{label\} twice."
    ):
        alter_to(Item, twice)


def test_alter_refuses_key_changes(dj_schema):
    schema = dj_schema

    @schema
    class Parent(dj.Manual):
        definition = """
        pid : int32
        """

    @schema
    class Other(dj.Manual):
        definition = """
        pid : int32
        """

    @schema
    class Child(dj.Manual):
        definition = """
        -> Parent
        cid : int32
        ---
        value = 0 : int32
        """

    context = {"Parent": Parent, "Other": Other}
    with pytest.raises(
        NotImplementedError, match=r"table.alter cannot alter the primary key \(yet\)."
    ):
        alter_to(Child, "-> Parent\ncid : int64\n---\nvalue = 0 : int32", context=context)
    with pytest.raises(NotImplementedError, match="primary key"):
        alter_to(
            Child, "-> Parent\ncid : int32\nextra : int32\n---\nvalue = 0 : int32", context=context
        )
    with pytest.raises(
        NotImplementedError, match=r"table.alter cannot alter foreign keys \(yet\)."
    ):
        alter_to(Child, "-> Other\ncid : int32\n---\nvalue = 0 : int32", context=context)
    assert Child.heading.names == ["pid", "cid", "value"]


def test_alter_secondary_foreign_keys_and_indexes(dj_schema):
    schema = dj_schema

    @schema
    class Lab(dj.Manual):
        definition = """
        lab : varchar(8)
        """

    @schema
    class Device(dj.Manual):
        definition = """
        device : int32
        ---
        model : varchar(16)
        """

    Lab.insert([{"lab": "x"}, {"lab": "y"}])
    Device.insert([{"device": 1, "model": "m1"}, {"device": 2, "model": "m2"}])
    conn = Device.connection
    alter_to(
        Device,
        """
        device : int32
        ---
        model : varchar(16)
        -> [nullable] Lab
        index (model)
        """,
        context={"Lab": Lab},
    )
    assert Device.parents() == [Lab.full_table_name]
    assert dj_schema.lineage[f"{dj_schema.database}.device.lab"] == f"{dj_schema.database}.lab.lab"
    indexes = {ix.columns for ix in conn.introspection.indexes(conn.run, Device.database, "device")}
    assert ("model",) in indexes
    Device.update1({"device": 1, "lab": "x"})
    with pytest.raises(dj.errors.IntegrityError):
        Device.update1({"device": 2, "lab": "nope"})
    assert "-> [nullable] Lab" in Device.describe(context={"Lab": Lab})
    assert "INDEX (model)" in Device.describe(context={"Lab": Lab})
    # the new reference takes part in cascades
    (Lab & {"lab": "x"}).delete(prompt=False)
    assert Device.keys() == [{"device": 2}]
    alter_to(Device, "device : int32\n---\nmodel : varchar(16)\nunique index (model)")
    assert Device.parents() == []
    assert Device.heading.names == ["device", "model"]
    indexes = conn.introspection.indexes(conn.run, Device.database, "device")
    assert [(ix.columns, ix.unique) for ix in indexes] == [(("model",), True)]
    assert f"{dj_schema.database}.device.lab" not in dj_schema.lineage


def test_alter_prompt_preview_and_nothing_to_alter(dj_schema, monkeypatch, capsys, caplog):
    Item = declare_item(dj_schema)
    Item.definition = Item.definition.replace("# the name", "# the new name")
    monkeypatch.setattr("builtins.input", lambda question: "no")
    Item.alter()
    shown = capsys.readouterr().out
    assert "ALTER TABLE" in shown or "catalog" in shown  # the SQL is shown before the question
    assert Item.heading["name"].comment == "the name"
    monkeypatch.setattr("builtins.input", lambda question: "yes")
    Item.alter()
    from datajoint.heading import heading_cache

    heading_cache(Item.connection).clear()
    assert Item.heading["name"].comment == "the new name"
    with caplog.at_level(logging.WARNING, logger="datajoint"):
        Item.alter()
        assert "Nothing to alter." in caplog.text
        caplog.clear()
        Item.alter(prompt=False)
        assert "Nothing to alter." not in caplog.text
    conn = Item.connection
    with (
        conn.transaction,
        pytest.raises(DataJointError, match="Cannot update table declaration inside a transaction"),
    ):
        Item.alter(prompt=False)


def test_alter_enum_and_nullability(dj_schema):
    schema = dj_schema

    @schema
    class Shape(dj.Manual):
        definition = """
        shape_id : int32
        ---
        kind : enum('round', 'square')
        note = null : varchar(16)
        """

    Shape.insert([{"shape_id": 1, "kind": "round", "note": "n"}])
    alter_to(
        Shape,
        """
        shape_id : int32
        ---
        kind : enum('round', 'square', 'star')
        note = "none" : varchar(16)
        """,
    )
    Shape.insert1({"shape_id": 2, "kind": "star"})
    assert sorted(Shape.to_dicts(), key=lambda r: r["shape_id"]) == [
        {"shape_id": 1, "kind": "round", "note": "n"},
        {"shape_id": 2, "kind": "star", "note": "none"},
    ]
    assert not Shape.heading["note"].nullable


def test_alter_access_error_is_not_raised(dj_schema, monkeypatch, caplog):
    Item = declare_item(dj_schema)
    conn = Item.connection
    original = conn.query

    def refuse(sql, *args, **kwargs):
        if sql.lstrip().upper().startswith(("ALTER", "COMMENT", "DELETE FROM `~CATALOG`")):
            raise dj.errors.AccessError("Insufficient privileges.", "ALTER denied", sql)
        return original(sql, *args, **kwargs)

    Item.definition = Item.definition.replace("# the name", "# renamed comment")
    monkeypatch.setattr(conn, "query", refuse)
    with caplog.at_level(logging.WARNING, logger="datajoint"):
        Item.alter(prompt=False)  # SPEC §3.4: an access error during the ALTER is not raised
    monkeypatch.undo()
    assert "was refused" in caplog.text
    assert Item.heading["name"].comment == "the name"


# ---- the SQL text of the write statements (no server needed) ---------------------------------
def test_write_sql_text():
    from datajoint.backend.contract import ColumnSpec, ForeignKeySpec, IndexSpec, TableSpec
    from datajoint.backend.dialect import AlterClause
    from datajoint.connection import get_backend

    mysql = get_backend("mysql").dialect
    postgres = get_backend("postgresql").dialect
    sqlite = get_backend("sqlite").dialect
    new = ColumnSpec("n", "int", default="'0'", comment=":int32:new")
    spec = TableSpec("s", "t", (ColumnSpec("id", "int", comment=":int32:"), new), ("id",))
    clauses = [
        AlterClause("add_column", column=new, after="id"),
        AlterClause("rename_column", column=new, name="old"),
        AlterClause("drop_column", name="gone"),
        AlterClause("table_comment", comment="50% done"),
        AlterClause("add_foreign_key", foreign_key=ForeignKeySpec(("p",), "s", "p", ("p",))),
        AlterClause("drop_index", name="ix"),
        AlterClause("add_index", index=IndexSpec(("n",), unique=True)),
    ]
    (statement,) = mysql.alter_table_sql(spec, clauses)
    assert statement.startswith("ALTER TABLE `s`.`t` ADD `n` int NOT NULL DEFAULT '0'")
    assert "AFTER `id`" in statement and "CHANGE `old` `n`" in statement
    assert "DROP `gone`" in statement and 'COMMENT="50%% done"' in statement
    assert "ADD FOREIGN KEY (`p`) REFERENCES `s`.`p` (`p`) ON UPDATE CASCADE" in statement
    assert "DROP INDEX `ix`" in statement and "ADD UNIQUE INDEX (`n`)" in statement
    statements = postgres.alter_table_sql(spec, clauses[2:4])
    assert statements[0] == 'ALTER TABLE "s"."t" DROP COLUMN "gone"'
    assert statements[1] == 'COMMENT ON TABLE "s"."t" IS \'50%% done\''
    upsert = postgres.insert_select_sql(
        "s", "t", ["id", "n"], "SELECT 1", on_duplicate="replace", primary_key=["id"]
    )
    assert upsert.endswith('ON CONFLICT ("id") DO UPDATE SET "n" = EXCLUDED."n"')
    skip = mysql.insert_select_sql(
        "s", "t", ["id"], "SELECT 1", on_duplicate="skip", primary_key=["id"]
    )
    assert skip.endswith("ON DUPLICATE KEY UPDATE `id`=`s`.`t`.`id`")
    assert sqlite.insert_select_sql(
        "s", "t", ["id"], "SELECT 1", on_duplicate="replace"
    ).startswith("REPLACE INTO")
    assert sqlite.reset_to_default_sql("abc", False) == ("?", ["abc"])
    assert sqlite.reset_to_default_sql(None, True) == ("NULL", [])
    assert mysql.reset_to_default_sql("abc", False) == ("DEFAULT", [])
    assert mysql.drop_tables_sql([("s", "a"), ("s", "b")]) == [
        "DROP TABLE IF EXISTS `s`.`a`, `s`.`b`"
    ]
    assert postgres.delete_sql("s", "t", None) == 'DELETE FROM "s"."t"'
