"""The kernel's storage registry (SPEC §4.6, §14): plugin protocols in store settings,
``dj.StorageAdapter``, ``dj.get_storage_adapter``, storage services and ``get_backend``.

Everything runs on a private plugin host with in-process plugins; the built-in key checks of
§4.6 are in test_settings.py.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest

import datajoint as dj
from datajoint import hookimpl, storage
from datajoint.errors import DataJointError, PluginError
from datajoint.plugin_host import PluginHost, set_host
from datajoint.schema_codec import SchemaCodec
from datajoint.settings import Config


class VolumeAdapter(dj.StorageAdapter):
    """A third-party protocol: a volume is required, a region may be set."""

    protocol = "vol"
    required_keys = ("volume",)
    allowed_keys = ("region",)
    built: list[dict[str, Any]] = []

    def create_filesystem(self, spec: Any) -> Any:
        self.built.append(dict(spec))
        return types.SimpleNamespace(spec=dict(spec))


class FakeBackend:
    """Stands in for dj-storage's StorageBackend: records the settings it was built from."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec


def _plugin(protocols: dict[str, Any], services: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType("storage_test_plugin")

    def dj_register_storage_protocols(register: Any) -> None:
        for name, target in protocols.items():
            register(name, target)

    def dj_register_storage_services(register: Any) -> None:
        for name, target in services.items():
            register(name, target)

    module.dj_register_storage_protocols = hookimpl(dj_register_storage_protocols)  # type: ignore[attr-defined]
    module.dj_register_storage_services = hookimpl(dj_register_storage_services)  # type: ignore[attr-defined]
    return module


@pytest.fixture
def registry() -> Iterator[PluginHost]:
    """A private host with the ``vol`` protocol and a fake StorageBackend service."""
    host = PluginHost(use_entry_points=False)
    host.add_plugin(
        _plugin(
            {"vol": VolumeAdapter},
            {"StorageBackend": FakeBackend, "ObjectRef": "json:JSONDecoder", "gc": "json"},
        ),
        distribution="dj-vol",
        version="1.0",
    )
    previous = set_host(host)
    storage.clear_backends()
    try:
        yield host
    finally:
        set_host(previous)
        storage.clear_backends()


@pytest.fixture
def empty_registry() -> Iterator[PluginHost]:
    host = PluginHost(use_entry_points=False)
    previous = set_host(host)
    try:
        yield host
    finally:
        set_host(previous)


def store_config(**stores: Any) -> Config:
    cfg = Config()
    cfg.stores = stores
    return cfg


# ---- dj.get_storage_adapter -----------------------------------------------------------------
def test_get_storage_adapter(registry: PluginHost) -> None:
    adapter = dj.get_storage_adapter("vol")
    assert isinstance(adapter, VolumeAdapter)
    assert dj.get_storage_adapter("VOL") is adapter  # compared lower case, built once
    assert dj.get_storage_adapter("nothing") is None


def test_a_registration_that_is_not_an_adapter(registry: PluginHost) -> None:
    registry.register("storage_protocol", "odd", "json:dumps")
    with pytest.raises(PluginError, match="not a StorageAdapter"):
        dj.get_storage_adapter("odd")


def test_exports() -> None:
    assert dj.StorageAdapter is storage.StorageAdapter
    assert dj.get_storage_adapter is storage.get_storage_adapter
    assert {"StorageAdapter", "get_storage_adapter", "ObjectRef", "NpyRef"} <= set(dj.__all__)


# ---- plugin protocols in config.stores (SPEC §4.6) ------------------------------------------
def test_plugin_protocol_is_validated_by_its_adapter(registry: PluginHost) -> None:
    spec = store_config(s={"protocol": "Vol", "volume": "v1", "region": "eu"}).get_store_spec("s")
    assert spec["protocol"] == "vol" and spec["volume"] == "v1" and spec["token_length"] == 8
    with pytest.raises(DataJointError, match=r"^vol store is missing: volume$"):
        store_config(s={"protocol": "vol"}).get_store_spec("s")
    with pytest.raises(DataJointError, match=r"^Invalid key\(s\) for vol: a, zz$"):
        store_config(s={"protocol": "vol", "volume": "v", "zz": 1, "a": 2}).get_store_spec("s")


def test_plugin_protocol_still_gets_the_prefix_check(registry: PluginHost) -> None:
    cfg = store_config(s={"protocol": "vol", "volume": "v", "schema_prefix": "_hash/x"})
    with pytest.raises(
        DataJointError, match=r"overlap\. Storage section prefixes must be mutually"
    ):
        cfg.get_store_spec("s")


def test_unknown_plugin_protocol(empty_registry: PluginHost) -> None:
    with pytest.raises(DataJointError) as info:
        store_config(s={"protocol": "vol", "volume": "v"}).get_store_spec("s")
    assert str(info.value) == (
        'Unknown protocol "vol" in config.stores["s"]. Built-in: file, s3, gcs, azure. '
        "Install a plugin package for additional protocols."
    )


def test_built_in_protocols_do_not_ask_the_plugins(registry: PluginHost) -> None:
    registry.register("storage_protocol", "file", "json:dumps")  # would fail if consulted
    spec = store_config(s={"protocol": "file", "location": "/d"}).get_store_spec("s")
    assert spec["location"] == "/d"


# ---- the default StorageAdapter methods (SPEC §14) ------------------------------------------
def test_adapter_defaults() -> None:
    adapter = VolumeAdapter()
    adapter.validate_spec(
        {"protocol": "vol", "volume": "v", "location": "l", "stage": "/s", "subfolding": [2]}
    )
    assert adapter.full_path({"location": "/data/"}, "/a/b") == "/data/a/b"
    assert adapter.full_path({}, "a/b") == "a/b"
    assert adapter.get_url({}, "bucket/a") == "vol://bucket/a"
    with pytest.raises(TypeError):
        dj.StorageAdapter()  # type: ignore[abstract]


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (("/data", "a/b"), "/data/a/b"),
        (("data/", "/a/", "b"), "data/a/b"),
        (("", "a"), "a"),
        (("bucket", "", "a"), "bucket/a"),
        (("/", "a"), "/a"),
        (("loc",), "loc"),
    ],
)
def test_join_path(parts: tuple[str, ...], joined: str) -> None:
    assert storage.join_path(*parts) == joined


# ---- storage services and get_backend -------------------------------------------------------
def test_storage_service_missing(empty_registry: PluginHost) -> None:
    with pytest.raises(DataJointError, match="pip install dj-storage"):
        storage.storage_service("StorageBackend")
    with pytest.raises(DataJointError, match=r"'ObjectRef'.*pip install dj-storage"):
        dj.ObjectRef  # noqa: B018
    with pytest.raises(AttributeError):
        dj.no_such_name  # noqa: B018


def test_lazy_exports_come_from_the_services(registry: PluginHost) -> None:
    import json

    assert dj.ObjectRef is json.JSONDecoder
    assert dj.gc is json


def test_get_backend(registry: PluginHost) -> None:
    cfg = store_config(
        default="main",
        main={"protocol": "vol", "volume": "v"},
        other={"protocol": "vol", "volume": "w"},
    )
    backend = storage.get_backend("main", cfg)
    assert isinstance(backend, FakeBackend) and backend.spec["volume"] == "v"
    assert storage.get_backend(None, cfg) is backend is storage.get_backend("", cfg)
    assert storage.get_backend("other", cfg).spec["volume"] == "w"
    cfg.stores = {**cfg.stores, "main": {"protocol": "vol", "volume": "changed"}}
    assert storage.get_backend("main", cfg).spec["volume"] == "changed"


def test_get_backend_defaults_to_dj_config(registry: PluginHost) -> None:
    with dj.config.override(stores={"default": "m", "m": {"protocol": "vol", "volume": "g"}}):
        assert storage.get_backend().spec["volume"] == "g"


def test_get_backend_keeps_a_bounded_number(
    registry: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "BACKEND_CACHE_SIZE", 2)
    cfg = store_config(**{f"s{i}": {"protocol": "vol", "volume": str(i)} for i in range(3)})
    first = storage.get_backend("s0", cfg)
    storage.get_backend("s1", cfg)
    storage.get_backend("s2", cfg)
    assert storage.get_backend("s0", cfg) is not first


def test_get_backend_errors_name_the_store(registry: PluginHost) -> None:
    with pytest.raises(DataJointError, match=r"^stores\.default is not configured$"):
        storage.get_backend("", store_config())
    with pytest.raises(DataJointError, match="Storage 'x' is requested but not configured"):
        storage.get_backend("x", store_config(default="main"))


def test_schema_codec_get_backend(registry: PluginHost) -> None:
    class Stored(SchemaCodec, register=False):
        name = "stored_test"

        def encode(self, value: Any, *, key: Any = None, store_name: Any = None) -> Any:
            return value

        def decode(self, stored: Any, *, key: Any = None) -> Any:
            return stored

    cfg = store_config(default="main", main={"protocol": "vol", "volume": "v"})
    assert Stored()._get_backend("", cfg) is storage.get_backend("main", cfg)
    assert Stored()._get_backend(None, config=cfg).spec["volume"] == "v"
