"""Schema, virtual modules, FreeTable and the minimal data path on every backend (SPEC §2, §8)."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import unique_schema_name


def _pipeline(schema):
    @schema
    class Mouse(dj.Manual):
        definition = """
        mouse_id : int32
        ---
        name : varchar(40)
        """

    @schema
    class Kind(dj.Lookup):
        definition = """
        kind : varchar(10)
        """
        contents = [("a",), ("b",)]

    @schema
    class Scan(dj.Manual):
        definition = """
        -> Mouse
        scan : int16
        ---
        -> Kind
        """

        class Frame(dj.Part):
            definition = """
            -> master
            frame : int32
            """

    return Mouse, Kind, Scan


def test_schema_contents_and_lookup(dj_schema):
    Mouse, Kind, _ = _pipeline(dj_schema)
    tables = dj_schema.list_tables()
    assert sorted(tables) == ["#kind", "mouse", "scan", "scan__frame"]
    position = {name: i for i, name in enumerate(tables)}  # topological: parents first
    assert position["mouse"] < position["scan"] and position["#kind"] < position["scan"]
    assert position["scan__frame"] == position["scan"] + 1
    assert dj_schema.exists and dj_schema.is_activated()
    assert len(Kind) == 2
    assert "Mouse" in dj_schema and "mouse" in dj_schema and "Nope" not in dj_schema
    assert dj_schema["Kind"].table_name == "#kind"
    assert dj_schema.get_table("scan__frame").table_name == "scan__frame"
    with pytest.raises(DataJointError, match=r"Table `nope` does not exist in schema"):
        dj_schema.get_table("nope")
    assert [t.table_name for t in dj_schema] == dj_schema.list_tables()
    assert repr(dj_schema) == f"Schema `{dj_schema.database}`\n"
    assert dj_schema.database in dj.list_schemas(dj_schema.connection)
    assert "Table definition:" in Mouse.__doc__


def test_minimal_data_path(dj_schema):
    Mouse, _, Scan = _pipeline(dj_schema)
    Mouse.insert([{"mouse_id": i, "name": f"m{i}"} for i in range(5)])
    Mouse.insert1({"mouse_id": 10, "name": "O'Brien; DROP TABLE x --"})
    assert len(Mouse) == 6
    assert (Mouse & {"name": "O'Brien; DROP TABLE x --"}).fetch1("mouse_id") == 10
    assert (Mouse & {"mouse_id": 3}).fetch1() == {"mouse_id": 3, "name": "m3"}
    assert (Mouse & {"mouse_id": 3}).fetch1("name", "KEY") == ("m3", {"mouse_id": 3})
    assert len(Mouse & [{"mouse_id": 1}, {"mouse_id": 2}]) == 2
    assert len(Mouse - {"mouse_id": 1}) == 5
    assert len(Mouse & "mouse_id > 2") == 3
    assert Mouse.keys(limit=2) == [{"mouse_id": 0}, {"mouse_id": 1}]
    assert [r["mouse_id"] for r in Mouse.to_dicts(order_by="mouse_id DESC", limit=2)] == [10, 4]
    assert {"mouse_id": 4} in Mouse and {"mouse_id": 99} not in Mouse
    with pytest.raises(DataJointError, match="fetch1 requires exactly one tuple"):
        Mouse.fetch1()
    with pytest.raises(dj.errors.DuplicateError, match="skip_duplicates=True"):
        Mouse.insert1({"mouse_id": 1, "name": "again"})
    Mouse.insert1({"mouse_id": 1, "name": "again"}, skip_duplicates=True)
    with pytest.raises(KeyError, match="is not in the table heading"):
        Mouse.insert1({"mouse_id": 20, "name": "x", "age": 3})
    Mouse.insert1({"mouse_id": 20, "name": "x", "age": 3}, ignore_extra_fields=True)
    Scan.insert1({"mouse_id": 1, "scan": 1, "kind": "a"})
    assert len(Mouse & Scan) == 1 and len(Mouse - Scan) == 6


def test_insert_is_all_or_nothing(dj_schema):
    Mouse, _, _ = _pipeline(dj_schema)
    rows = [{"mouse_id": i, "name": "x"} for i in range(100)] + [{"mouse_id": 5, "name": "dup"}]
    with pytest.raises(dj.errors.DuplicateError):
        Mouse.insert(rows, chunk_size=10)
    assert len(Mouse) == 0


def test_table_drop_cascades_to_descendants(dj_schema):
    Mouse, _, _ = _pipeline(dj_schema)
    Mouse.drop(prompt=False)
    assert dj_schema.list_tables() == ["#kind"]
    with pytest.raises(DataJointError, match="cannot be dropped"):
        (dj_schema["Kind"] & {"kind": "a"}).drop(prompt=False)


def test_virtual_modules_and_make_classes(dj_schema):
    _pipeline(dj_schema)
    module = dj.VirtualModule("lab", dj_schema.database, connection=dj_schema.connection)
    assert {"Mouse", "Kind", "Scan"} <= set(vars(module))
    assert issubclass(module.Kind, dj.Lookup) and issubclass(module.Scan, dj.Manual)
    assert module.Scan.Frame.master is module.Scan
    module.Mouse.insert1({"mouse_id": 1, "name": "v"})
    assert len(module.Mouse) == 1
    vs = dj.virtual_schema(dj_schema.database, connection=dj_schema.connection)
    assert vs.schema.database == dj_schema.database
    namespace: dict = {}
    dj_schema.make_classes(into=namespace)
    assert set(namespace) == {"Mouse", "Kind", "Scan"}


def test_free_table(dj_schema):
    Mouse, _, _ = _pipeline(dj_schema)
    Mouse.insert1({"mouse_id": 1, "name": "f"})
    table = dj.FreeTable(dj_schema.connection, f"{dj_schema.database}.mouse")
    assert table.to_dicts() == [{"mouse_id": 1, "name": "f"}]
    assert table.primary_key == ["mouse_id"]


def test_activation_rules(dj_connection):
    schema = dj.Schema(connection=dj_connection)
    with pytest.raises(DataJointError, match="Please provide a schema_name"):
        schema.activate()
    with pytest.raises(DataJointError, match="Schema must be activated first"):
        _ = schema.exists

    class Early(dj.Manual):
        definition = "early_id : int32"

    schema(Early, context={})  # deferred until activation
    name = unique_schema_name()
    with pytest.raises(DataJointError, match="has not yet been declared"):
        dj.Schema(name, connection=dj_connection, create_schema=False)
    schema.activate(name)
    try:
        assert schema.list_tables() == ["early"]
        schema.activate(name)  # same name: no-op
        with pytest.raises(DataJointError, match="already activated"):
            schema.activate(name + "x")
        with pytest.raises(DataJointError, match="should not be applied to Part"):

            class Loose(dj.Part):
                definition = "-> master"

            schema(Loose)
    finally:
        schema.drop(prompt=False)
    assert not schema.exists


def test_instance_and_thread_safe_mode(dj_backend, tmp_path, monkeypatch):
    from datajoint.testing import servers

    if dj_backend == "sqlite":
        kwargs = {"backend": "sqlite", "database__sqlite_file": str(tmp_path / "inst.sqlite3")}
        args = ()
    else:
        p = servers.connect_params(dj_backend)
        kwargs = {"backend": dj_backend, "port": p.port, "use_tls": False}
        args = (p.host, p.user, p.password)
    monkeypatch.setenv("DJ_THREAD_SAFE", "true")
    with pytest.raises(dj.ThreadSafetyError):
        dj.conn()
    with pytest.raises(dj.ThreadSafetyError):
        _ = dj.config["database.host"]
    with pytest.raises(dj.ThreadSafetyError):
        dj.Schema(unique_schema_name())
    with pytest.raises(dj.ThreadSafetyError):
        dj.FreeTable("a.b")
    instance = dj.Instance(*args, **kwargs)
    schema = instance.Schema(unique_schema_name())
    try:

        @schema
        class Item(dj.Manual):
            definition = "item : int32"

        Item.insert1({"item": 1})
        assert instance.FreeTable(f"{schema.database}.item").to_dicts() == [{"item": 1}]
    finally:
        schema.drop(prompt=False)
        instance.connection.close()
