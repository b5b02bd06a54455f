"""The codec API of the kernel (SPEC §4.1), with in-process codecs and throwaway plugin hosts."""

from __future__ import annotations

import datetime
import importlib.metadata as im
import json
import subprocess
import sys
import textwrap
import types
from typing import Any

import pytest

import datajoint as dj
from datajoint import codecs, hookimpl
from datajoint.codecs import (
    Codec,
    CodecChain,
    codec_chain,
    codec_or_placeholder,
    column_chain,
    column_final_dtype,
    get_codec,
    is_codec_registered,
    list_codecs,
    lookup_codec,
    resolve_dtype,
    unregister_codec,
)
from datajoint.errors import DataJointError, PluginError
from datajoint.plugin_host import PluginHost, set_host
from datajoint.schema_codec import SchemaCodec, path_value


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """A fresh plugin host with nothing installed: codecs a test defines go away with it."""
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    host = PluginHost(use_entry_points=False)
    previous = set_host(host)
    yield host
    set_host(previous)


def plugin(name: str, **targets: object) -> types.ModuleType:
    """A plugin module whose dj_register_codecs registers ``targets``."""
    module = types.ModuleType(name)

    def dj_register_codecs(register):
        for codec_name, target in targets.items():
            register(codec_name, target)

    module.dj_register_codecs = hookimpl(dj_register_codecs)
    return module


class Recorder:
    """Collects what the codecs of a test see."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []


def make_codec(name: str, dtype: str, record: Recorder | None = None, **extra: Any) -> type:
    """A codec class named ``name`` storing ``("tag", value)`` wrappers, recording its calls."""
    record = record or Recorder()

    class Made(Codec, register=False):
        def get_dtype(self, is_store: bool) -> str:
            record.calls.append(("get_dtype", name, is_store))
            return dtype

        def validate(self, value):
            record.calls.append(("validate", name, value))

        def encode(self, value, *, key=None, store_name=None):
            record.calls.append(("encode", name, value, store_name))
            return [name, value]

        def decode(self, stored, *, key=None):
            record.calls.append(("decode", name, stored))
            assert stored[0] == name
            return stored[1]

    Made.name = name
    Made.__qualname__ = f"Made_{name}"
    for attr, value in extra.items():
        setattr(Made, attr, value)
    codecs._register_class(Made)
    return Made


def identity_codec(name: str, dtype: str) -> type:
    """An unregistered codec class that stores values unchanged."""

    class Identity(Codec, register=False):
        def get_dtype(self, is_store: bool) -> str:
            return dtype

        def encode(self, value, *, key=None, store_name=None):
            return value

        def decode(self, stored, *, key=None):
            return stored

    Identity.name = name
    return Identity


# ---- registration -----------------------------------------------------------------------------
def test_subclass_registers_one_instance():
    class Gizmo(Codec):
        name = "t_gizmo"

        def get_dtype(self, is_store):
            return "json"

        def encode(self, value, *, key=None, store_name=None):
            return value

        def decode(self, stored, *, key=None):
            return stored

    codec = get_codec("t_gizmo")
    assert isinstance(codec, Gizmo) and codec is get_codec("<t_gizmo>")
    assert "t_gizmo" in list_codecs() and is_codec_registered("<t_gizmo@store>")
    assert repr(codec).startswith("<t_gizmo> codec")


def test_unnamed_and_opted_out_subclasses_are_not_registered():
    before = list_codecs()

    class Base(Codec):
        def get_dtype(self, is_store):
            return "json"

    class Quiet(Codec, register=False):
        name = "t_quiet"

        def get_dtype(self, is_store):
            return "json"

    assert list_codecs() == before
    assert not is_codec_registered("t_quiet")


@pytest.mark.parametrize("bad", ["", 3])
def test_codec_name_must_be_a_non_empty_string(bad):
    with pytest.raises(DataJointError, match="Codec name must be a non-empty string, got"):

        class Bad(Codec):
            name = bad

            def get_dtype(self, is_store):
                return "json"

            def encode(self, value, *, key=None, store_name=None):
                return value

            def decode(self, stored, *, key=None):
                return stored


def test_same_name_from_another_class_is_refused():
    make_codec("t_dup", "json")
    with pytest.raises(DataJointError, match=r"Codec <t_dup> already registered by .*Made_t_dup"):

        class Other(Codec):
            name = "t_dup"

            def get_dtype(self, is_store):
                return "json"

            def encode(self, value, *, key=None, store_name=None):
                return value

            def decode(self, stored, *, key=None):
                return stored


def test_redefining_the_same_class_is_allowed():
    for version in (1, 2):

        class Again(Codec):
            name = "t_again"
            generation = version

            def get_dtype(self, is_store):
                return "json"

            def encode(self, value, *, key=None, store_name=None):
                return value

            def decode(self, stored, *, key=None):
                return stored

    assert get_codec("t_again").generation == 2


def test_a_named_codec_must_implement_the_api():
    with pytest.raises(DataJointError, match="does not implement decode"):

        class Half(Codec):
            name = "t_half"

            def get_dtype(self, is_store):
                return "json"

            def encode(self, value, *, key=None, store_name=None):
                return value


def test_unknown_codec_messages():
    with pytest.raises(DataJointError, match=r"Unknown codec: <t_nope>\. Ensure the codec"):
        get_codec("<t_nope@s>")
    with pytest.raises(DataJointError, match=r"Codec <t_nope> is not registered\."):
        lookup_codec("<t_nope>")
    with pytest.raises(DataJointError, match=r"Codec <t_nope> is not registered"):
        unregister_codec("t_nope")


def test_lookup_codec_returns_the_store():
    make_codec("t_look", "json")
    assert lookup_codec("<t_look>")[1] is None
    assert lookup_codec("<t_look@>")[1] == ""
    assert lookup_codec("<t_look@cold>")[1] == "cold"
    assert lookup_codec("t_look@cold")[0] is get_codec("t_look")


def test_unregister_hides_plugin_registrations_too(registry):
    registry.add_plugin(plugin("p", t_plugged="json:JSONDecoder"))
    make_codec("t_gone", "json")
    assert {"t_plugged", "t_gone"} <= set(list_codecs())
    unregister_codec("t_gone")
    unregister_codec("<t_plugged>")
    assert not is_codec_registered("t_gone") and not is_codec_registered("t_plugged")
    assert "t_plugged" not in list_codecs()
    with pytest.raises(DataJointError, match="Unknown codec"):
        get_codec("t_plugged")
    make_codec("t_gone", "json")  # a new definition registers the name again
    assert is_codec_registered("t_gone")


# ---- plugins ----------------------------------------------------------------------------------
def _codec_module(tmp_path, monkeypatch, module: str, codec_name: str) -> None:
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(
            f"""
            import datajoint as dj

            class LazyCodec(dj.Codec):
                name = {codec_name!r}

                def get_dtype(self, is_store):
                    return "json"

                def encode(self, value, *, key=None, store_name=None):
                    return {{"v": value}}

                def decode(self, stored, *, key=None):
                    return stored["v"]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_hook_registrations_load_lazily(registry, tmp_path, monkeypatch):
    _codec_module(tmp_path, monkeypatch, "t_lazy_mod", "t_lazy")
    registry.add_plugin(plugin("lazy", t_lazy="t_lazy_mod:LazyCodec"), distribution="dj-lazy")
    assert "t_lazy" in list_codecs()
    assert is_codec_registered("t_lazy")
    assert "t_lazy_mod" not in sys.modules
    codec = get_codec("t_lazy")
    assert type(codec).__module__ == "t_lazy_mod"
    assert codec is get_codec("t_lazy")  # one instance: the class registered itself on import
    assert codec.decode(codec.encode(5)) == 5
    sys.modules.pop("t_lazy_mod", None)


def test_entry_point_groups_are_codec_registrations(monkeypatch, tmp_path):
    _codec_module(tmp_path, monkeypatch, "t_ep_mod", "t_ep_codec")
    points = [
        im.EntryPoint(name="t_ep_codec", value="t_ep_mod:LazyCodec", group="datajoint.codecs"),
        im.EntryPoint(name="t_ep_old", value="t_ep_mod:LazyCodec", group="datajoint.types"),
    ]
    monkeypatch.setattr(
        im, "entry_points", lambda group=None: [p for p in points if p.group == group]
    )
    set_host(PluginHost())
    assert {"t_ep_codec", "t_ep_old"} <= set(list_codecs())
    assert "t_ep_mod" not in sys.modules
    assert get_codec("t_ep_old") is get_codec("t_ep_codec")  # the class's own instance
    sys.modules.pop("t_ep_mod", None)


def test_a_name_claimed_by_two_distributions_names_both(registry):
    registry.add_plugin(plugin("a", t_twice="json:JSONDecoder"), distribution="dist-one")
    registry.add_plugin(plugin("b", t_twice="json:JSONEncoder"), distribution="dist-two")
    with pytest.raises(PluginError, match=r"dist-one.*dist-two"):
        get_codec("t_twice")


def test_a_plugin_and_an_in_process_class_claiming_one_name(registry, tmp_path, monkeypatch):
    _codec_module(tmp_path, monkeypatch, "t_claim_mod", "t_claimed")
    registry.add_plugin(plugin("c", t_claimed="t_claim_mod:LazyCodec"), distribution="dist-c")
    make_codec("t_claimed", "json")
    with pytest.raises(PluginError, match=r"dist-c.*Made_t_claimed"):
        get_codec("t_claimed")
    sys.modules.pop("t_claim_mod", None)


def test_a_broken_codec_plugin_raises_chained_when_used(registry):
    registry.add_plugin(plugin("b", t_broken="no_such_module_xyz:Codec"), distribution="dist-b")
    assert "t_broken" in list_codecs()
    with pytest.raises(PluginError, match="could not be loaded") as info:
        get_codec("t_broken")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    placeholder = codec_or_placeholder("t_broken")
    with pytest.raises(PluginError, match="could not be loaded"):
        placeholder.decode(b"")


def test_a_registration_that_is_not_a_codec(registry):
    registry.add_plugin(plugin("n", t_notcodec="json:dumps"), distribution="dist-n")
    with pytest.raises(PluginError, match="is not a Codec subclass"):
        get_codec("t_notcodec")


# ---- chains -----------------------------------------------------------------------------------
def test_resolve_dtype_follows_chains_and_inherits_the_store():
    record = Recorder()
    make_codec("t_outer", "<t_inner>", record)
    make_codec("t_inner", "bytes", record)
    final, chain, store = resolve_dtype("<t_outer@cold>")
    assert final == "bytes" and store == "cold"
    assert [c.name for c in chain] == ["t_outer", "t_inner"]
    assert ("get_dtype", "t_inner", True) in record.calls  # the store is inherited
    assert resolve_dtype("<t_outer>")[2] is None
    assert resolve_dtype("<t_outer@>")[2] == ""
    assert ("get_dtype", "t_inner", False) in record.calls
    assert resolve_dtype("int32") == ("int32", [], None)
    assert resolve_dtype("int32", store_name="s") == ("int32", [], "s")


def test_a_cycle_is_detected():
    make_codec("t_ping", "<t_pong>")
    make_codec("t_pong", "<t_ping>")
    with pytest.raises(DataJointError, match=r"Circular codec reference detected: <t_ping>"):
        resolve_dtype("<t_ping>")
    assert column_final_dtype("<t_ping>") is None  # a heading still loads
    with pytest.raises(DataJointError, match="Circular codec reference"):
        column_chain("<t_ping>").encode(1)


def test_chain_runs_outermost_first_and_validates_only_the_outermost():
    record = Recorder()
    make_codec("t_a", "<t_b>", record)
    make_codec("t_b", "json", record)
    chain = codec_chain("<t_a>")
    assert chain.final_dtype == "json" and chain.store is None
    record.calls.clear()
    stored = chain.encode(7, key={"k": 1})
    assert stored == ["t_b", ["t_a", 7]]
    assert [c[:2] for c in record.calls] == [
        ("validate", "t_a"),
        ("encode", "t_a"),
        ("encode", "t_b"),
    ]
    record.calls.clear()
    assert chain.decode(stored) == 7
    assert [c[:2] for c in record.calls] == [("decode", "t_b"), ("decode", "t_a")]


def test_none_skips_validate_and_encode():
    record = Recorder()
    make_codec("t_none", "json", record)
    chain = codec_chain("<t_none>")
    record.calls.clear()
    assert chain.encode(None) is None and chain.decode(None) is None
    assert record.calls == []


def test_store_name_and_context_go_only_to_encoders_that_declare_them():
    seen: dict[str, dict] = {}

    class Plain(Codec):
        name = "t_plain"

        def get_dtype(self, is_store):
            return "<t_ctx>"

        def encode(self, value, *, key=None):
            seen["plain"] = {"key": key}
            return value

        def decode(self, stored, *, key=None):
            seen["plain_decode"] = {"key": key}
            return stored

    class WithContext(Codec):
        name = "t_ctx"

        def get_dtype(self, is_store):
            return "<t_kw>"

        def encode(self, value, *, key=None, store_name=None, context=None):
            seen["ctx"] = {"key": key, "store_name": store_name, "context": context}
            return value

        def decode(self, stored, *, key=None, context=None):
            seen["ctx_decode"] = {"key": key, "context": context}
            return stored

    class Kwargs(Codec):
        name = "t_kw"

        def get_dtype(self, is_store):
            return "json"

        def encode(self, value, **kwargs):
            seen["kw"] = kwargs
            return value

        def decode(self, stored, **kwargs):
            seen["kw_decode"] = kwargs
            return stored

    chain = codec_chain("<t_plain@warm>")
    context = {"schema": "s", "table": "t", "field": "f", "config": "cfg"}
    chain.encode(1, key={"_field": "f"}, context=context, store_name="warm")
    assert seen["plain"] == {"key": {"_field": "f"}}
    assert seen["ctx"] == {"key": {"_field": "f"}, "store_name": "warm", "context": context}
    assert set(seen["kw"]) == {"key", "store_name", "context"}
    chain.decode(1, key={"_config": "cfg"}, context={"config": "cfg"})
    assert seen["plain_decode"] == {"key": {"_config": "cfg"}}
    assert seen["ctx_decode"]["context"] == {"config": "cfg"}
    assert set(seen["kw_decode"]) == {"key", "context"}


def test_placeholder_raises_when_used():
    placeholder = codec_or_placeholder("<t_missing@s>")
    message = (
        r"Codec <t_missing> is not registered\. Define a Codec subclass with name='t_missing'\."
    )
    for use in (
        lambda: placeholder.encode(1),
        lambda: placeholder.decode(b""),
        lambda: placeholder.validate(1),
        lambda: placeholder.get_dtype(False),
    ):
        with pytest.raises(DataJointError, match=message):
            use()
    chain = column_chain("<t_missing>")
    assert chain.encode(None) is None
    with pytest.raises(DataJointError, match=message):
        chain.decode(b"x")
    assert column_final_dtype("<t_missing>") is None


def test_invalid_final_dtype():
    make_codec("t_weird", "wibble")
    with pytest.raises(DataJointError, match=r"Invalid dtype 'wibble' in codec <t_weird>\."):
        column_final_dtype("<t_weird>")
    make_codec("t_good", "varchar(20)")
    assert column_final_dtype("<t_good>") == "varchar(20)"


def test_default_referenced_paths_and_config():
    codec = make_codec("t_ref", "json")()
    assert codec.referenced_paths({"path": "a/b", "store": "s"}) == [("a/b", "s")]
    assert codec.referenced_paths(json.dumps({"path": "a/b"})) == [("a/b", None)]
    assert codec.referenced_paths("not json") == []
    assert codec.referenced_paths(b"bytes") == []
    assert codec._codec_config({"_config": 1}, {"config": 2}) == 2
    assert codec._codec_config({"_config": 1}) == 1
    assert codec._codec_config() is dj.config


# ---- encode context -------------------------------------------------------------------------------
def test_attribute_encoder_key_context_and_store():
    from datajoint.encode import DEFAULT, AttributeEncoder
    from datajoint.heading import Attribute

    seen = []

    class Probe(Codec):
        name = "t_probe"

        def get_dtype(self, is_store):
            return "json"

        def encode(self, value, *, key=None, store_name=None, context=None):
            seen.append((value, key, store_name, context))
            return {"v": value}

        def decode(self, stored, *, key=None):
            return stored["v"]

    config = types.SimpleNamespace(stores={"default": "main"})
    attr = Attribute("payload", "<t_probe@>", "json", core="json", codec_name="t_probe", store="")
    dialect = types.SimpleNamespace(encode_param=lambda v, core: ("bound", core, v))
    table = types.SimpleNamespace(
        heading={"payload": attr},
        connection=types.SimpleNamespace(dialect=dialect, config=config),
        database="lab",
        table_name="_session",
        full_table_name="`lab`.`_session`",
        primary_key=["subject", "session"],
    )
    encoder = AttributeEncoder(table, "payload")
    rows = [{"subject": "m1", "session": 2, "payload": 10}, {"subject": "m2", "payload": None}]
    out = encoder.column([r["payload"] for r in rows], rows=rows)
    assert out == [("bound", "json", {"v": 10}), DEFAULT]
    value, key, store_name, context = seen[0]
    assert value == 10
    assert key == {
        "_schema": "lab",
        "_table": "_session",
        "_field": "payload",
        "_config": config,
        "subject": "m1",
        "session": 2,
    }
    assert store_name == "main"  # a bare @ means stores.default
    assert context == {"schema": "lab", "table": "_session", "field": "payload", "config": config}
    assert len(seen) == 1  # None was neither validated nor encoded
    assert encoder(3)[2] == {"v": 3}  # without a row: no PK values
    assert "subject" not in seen[-1][1]


# ---- SchemaCodec and the compatibility module --------------------------------------------------
class _Cfg:
    def __init__(self, **spec: Any) -> None:
        self.spec = {
            "protocol": "file",
            "location": "/tmp",
            "schema_prefix": "_schema",
            "token_length": 8,
            **spec,
        }

    def get_store_spec(self, store=None):
        return self.spec


class Snapshot(SchemaCodec, register=False):
    name = "t_snap"

    def encode(self, value, *, key=None, store_name=None):
        return value

    def decode(self, stored, *, key=None):
        return stored


def test_schema_codec_requires_a_store():
    codec = Snapshot()
    with pytest.raises(DataJointError, match=r"<t_snap> requires @ \(store only\)"):
        codec.get_dtype(False)
    assert codec.get_dtype(True) == "json"
    assert isinstance(codec, dj.SchemaCodec)


def test_schema_codec_extract_context():
    codec = Snapshot()
    key = {"_schema": "s", "_table": "t", "_field": "f", "_config": None, "id": 3}
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert codec._extract_context(key) == ("s", "t", "f", {"id": 3})
    context = {"schema": "s2", "table": "t2", "field": "f2"}
    assert codec._extract_context(key, context) == ("s2", "t2", "f2", {"id": 3})
    assert codec._extract_context(None, {}) == ("unknown", "unknown", "data", {})


def test_schema_codec_build_path():
    codec = Snapshot()
    pk = {"subject": "m/1", "session": 2, "when": datetime.datetime(2024, 1, 2, 3, 4, 5)}
    path, token = codec._build_path("lab", "_rec", "trace", pk, ext="npy", config=_Cfg())
    assert (
        path
        == f"_schema/lab/_rec/subject=m%2F1/session=2/when=2024-01-02T03-04-05/trace_{token}.npy"
    )
    assert len(token) == 8
    cfg = _Cfg(partition_pattern="{session}", token_length=40, schema_prefix="")
    path, token = codec._build_path("lab", "_rec", "trace", pk, config=cfg)
    assert path.startswith("session=2/lab/_rec/subject=") and len(token) == 16
    assert len(codec._build_path("l", "t", "f", {}, config=_Cfg(token_length=1))[1]) == 4


def test_path_value_encoding():
    assert path_value(True) == "True" and path_value(1.5) == "1.5"
    assert path_value(datetime.date(2024, 1, 2)) == "2024-01-02"
    long = "x" * 120
    assert path_value(long).startswith("x" * 50 + "_") and len(path_value(long)) == 59
    assert path_value('a:b"c') == "a%3Ab%22c"


def test_builtin_codecs_module_looks_classes_up(registry):
    Blobby = identity_codec("blob", "bytes")

    import datajoint.builtin_codecs as compat

    codecs._register_class(Blobby)  # into the test's throwaway host
    assert compat.BlobCodec is Blobby
    with pytest.raises(AttributeError, match="<npy> is not installed"):
        compat.NpyCodec  # noqa: B018
    with pytest.raises(AttributeError):
        compat.NoSuchThing  # noqa: B018
    assert "BlobCodec" in dir(compat)


def test_kernel_exports_and_no_plugin_import():
    assert dj.MatCell.__module__ == "datajoint.matlab_types"
    for name in ("Codec", "SchemaCodec", "get_codec", "list_codecs", "MatCell", "MatStruct"):
        assert name in dj.__all__
    code = (
        "import sys, datajoint, datajoint.builtin_codecs; "
        "assert 'dj_codecs_builtin' not in sys.modules, 'kernel imported the plugin'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_codec_chain_is_a_value():
    chain = CodecChain((), "bytes", None)
    assert chain.final_dtype == "bytes" and chain.codecs == ()


def test_a_plugin_instance_and_an_in_process_class_claiming_one_name(registry):
    Unlisted = identity_codec("t_inst", "json")

    registry.add_plugin(plugin("i", t_inst=Unlisted()), distribution="dist-i")
    assert isinstance(get_codec("t_inst"), Unlisted)  # an instance may be registered
    make_codec("t_inst", "json")
    with pytest.raises(PluginError, match=r"claimed twice: by dist-i .*Made_t_inst"):
        get_codec("t_inst")


def test_a_reloaded_plugin_module_keeps_working(registry, tmp_path, monkeypatch):
    import importlib

    _codec_module(tmp_path, monkeypatch, "t_reload_mod", "t_reloaded")
    registry.add_plugin(plugin("r", t_reloaded="t_reload_mod:LazyCodec"), distribution="dist-r")
    first = get_codec("t_reloaded")
    module = importlib.reload(sys.modules["t_reload_mod"])
    second = get_codec("t_reloaded")
    assert type(second) is module.LazyCodec and type(first) is not type(second)
    sys.modules.pop("t_reload_mod", None)


# ---- one registry: the plugin host ------------------------------------------------------------
def test_a_codec_subclass_is_listed_by_the_host_with_provenance(registry):
    Listed = identity_codec("t_listed", "json")
    Listed.__qualname__ = "Listed"
    codecs._register_class(Listed)
    assert {
        "name": "t_listed",
        "distribution": "(in-process)",
        "version": "",
        "plugin": f"{__name__}.Listed",
    } in registry.listing()["codecs"]
    assert registry.definition("codec", "t_listed").target is get_codec("t_listed")
    assert dj.plugins() == registry.listing()


def test_entry_point_codecs_and_subclasses_use_the_hosts_registration_api(monkeypatch, tmp_path):
    _codec_module(tmp_path, monkeypatch, "t_door_mod", "t_door")
    points = [im.EntryPoint(name="t_door", value="t_door_mod:LazyCodec", group="datajoint.codecs")]
    monkeypatch.setattr(
        im, "entry_points", lambda group=None: [p for p in points if p.group == group]
    )
    calls = []
    register, define = PluginHost.register, PluginHost.define

    def spy_register(self, kind, name, target, **provenance):
        calls.append(("register", kind, name))
        return register(self, kind, name, target, **provenance)

    def spy_define(self, kind, name, target, *, identity):
        calls.append(("define", kind, name))
        return define(self, kind, name, target, identity=identity)

    monkeypatch.setattr(PluginHost, "register", spy_register)
    monkeypatch.setattr(PluginHost, "define", spy_define)
    set_host(PluginHost())
    get_codec("t_door")  # imports the module: the class defines itself in the host
    codec_calls = [call for call in calls if call[1] == "codec"]
    assert codec_calls == [("register", "codec", "t_door"), ("define", "codec", "t_door")]
    sys.modules.pop("t_door_mod", None)


def test_unregister_is_per_host(registry):
    make_codec("t_host_local", "json")
    unregister_codec("t_host_local")
    assert not registry.has("codec", "t_host_local")
    make_codec("t_host_local", "json")
    assert registry.has("codec", "t_host_local")
