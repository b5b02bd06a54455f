"""The storage protocols of dj-storage (SPEC §14): registration, settings, filesystems.

GCS and Azure are tested up to building their filesystems (no live I/O against them here).
"""

from __future__ import annotations

import importlib.metadata as im
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.plugin_host import PluginHost, set_host
from dj_storage import plugin
from dj_storage.adapters import (
    AzureAdapter,
    FileAdapter,
    GCSAdapter,
    MemoryAdapter,
    S3Adapter,
)
from dj_storage.backend import StorageBackend

BUILT_IN = {
    "file": FileAdapter,
    "memory": MemoryAdapter,
    "s3": S3Adapter,
    "gcs": GCSAdapter,
    "azure": AzureAdapter,
}


# ---- registration ---------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", list(BUILT_IN))
def test_built_ins_register_through_the_hook(protocol: str) -> None:
    adapter = dj.get_storage_adapter(protocol)
    assert type(adapter) is BUILT_IN[protocol] and adapter.protocol == protocol
    listed = {p["name"]: p for p in dj.plugins()["storage_protocols"]}
    assert listed[protocol]["distribution"] == "dj-storage"
    assert listed[protocol]["plugin"] == "storage"


def test_services_are_registered() -> None:
    listed = {s["name"]: s for s in dj.plugins()["storage_services"]}
    assert set(listed) == set(dj.storage.SERVICES) == set(plugin.SERVICES)
    assert all(s["distribution"] == "dj-storage" for s in listed.values())
    assert dj.storage.storage_service("StorageBackend") is StorageBackend


def test_registration_is_lazy() -> None:
    """Listing the plugins imports neither fsspec nor a driver; using a protocol does."""
    code = (
        "import sys, datajoint as dj\n"
        "dj.plugins()\n"
        "assert not {'fsspec', 's3fs', 'dj_storage.adapters'} & set(sys.modules), sys.modules\n"
        "dj.get_storage_adapter('s3')\n"
        "assert 'fsspec' in sys.modules and 's3fs' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_entry_point_adapter_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A StorageAdapter subclass named in the ``datajoint.storage`` group (a 2.x plugin)."""
    point = im.EntryPoint(
        name="epmem", value="dj_storage.adapters:MemoryAdapter", group="datajoint.storage"
    )
    original = im.entry_points

    def entry_points(group: str | None = None) -> Any:
        return [point] if group == "datajoint.storage" else original(group=group)

    monkeypatch.setattr(im, "entry_points", entry_points)
    previous = set_host(PluginHost())
    try:
        adapter = dj.get_storage_adapter("epmem")
        assert isinstance(adapter, MemoryAdapter)
        backend = StorageBackend({"protocol": "epmem", "location": "ep"})
        backend.put_buffer(b"x", "y")
        assert backend.get_buffer("y") == b"x"
    finally:
        set_host(previous)


def test_a_memory_store_through_the_config(memory_store: str) -> None:
    spec = dj.config.get_store_spec()
    assert spec["protocol"] == "memory"
    bad = dj.config.override(stores={"m": {"protocol": "memory", "bucket": "b"}})
    with bad, pytest.raises(DataJointError, match=r"^Invalid key\(s\) for memory: bucket$"):
        dj.config.get_store_spec("m")


# ---- file -----------------------------------------------------------------------------------
def test_file_location_must_be_a_directory(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError, match=f"^Inaccessible local directory {missing}$"):
        StorageBackend({"protocol": "file", "location": str(missing)})
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(FileNotFoundError, match="Inaccessible local directory"):
        StorageBackend({"protocol": "file", "location": str(plain)})


def test_file_creates_parent_directories(tmp_path: Path) -> None:
    backend = StorageBackend({"protocol": "file", "location": str(tmp_path)})
    assert backend.fs.auto_mkdir
    backend.put_buffer(b"deep", "a/b/c/d")
    assert (tmp_path / "a" / "b" / "c" / "d").read_bytes() == b"deep"


def test_file_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = StorageBackend({"protocol": "file", "location": str(tmp_path)})
    assert backend.full_path("x/y") == f"{tmp_path}/x/y"
    assert backend.get_url("x/y") == f"{tmp_path}/x/y"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel").mkdir()
    relative = StorageBackend({"protocol": "file", "location": "rel"})
    assert relative.full_path("x") == "rel/x"
    assert relative.get_url("x") == f"{tmp_path}/rel/x"  # absolute


def test_protocol_defaults_to_file_and_is_compared_lower_case(tmp_path: Path) -> None:
    assert StorageBackend({"location": str(tmp_path)}).protocol == "file"
    assert StorageBackend({"protocol": "FILE", "location": str(tmp_path)}).protocol == "file"


def test_unsupported_protocol() -> None:
    with pytest.raises(DataJointError, match=r"^Unsupported storage protocol: ftp$"):
        StorageBackend({"protocol": "FTP", "location": "/x"})


# ---- memory ---------------------------------------------------------------------------------
def test_memory_paths() -> None:
    backend = StorageBackend({"protocol": "memory", "location": "any/where"})
    assert backend.full_path("a") == "/any/where/a"
    assert backend.get_url("a") == "memory:///any/where/a"
    assert StorageBackend({"protocol": "memory"}).full_path("a") == "/a"


# ---- s3 -------------------------------------------------------------------------------------
S3 = {"protocol": "s3", "endpoint": "s3.example.org:9000", "bucket": "bkt", "location": "loc"}


@pytest.mark.parametrize(
    ("spec", "missing"),
    [
        ({"protocol": "s3", "location": "l"}, "endpoint, bucket"),
        ({"protocol": "s3", "endpoint": "e"}, "bucket"),
        ({"protocol": "s3", "bucket": "b", "endpoint": ""}, "endpoint"),
    ],
)
def test_s3_requires_endpoint_and_bucket(spec: dict[str, Any], missing: str) -> None:
    with pytest.raises(DataJointError, match=f"^Missing S3 configuration: {missing}\\."):
        StorageBackend(spec)


@pytest.mark.parametrize("given", ["access_key", "secret_key"])
def test_s3_credentials_come_in_pairs(given: str) -> None:
    with pytest.raises(DataJointError, match=f"^Incomplete S3 credentials: {given} is set"):
        StorageBackend({**S3, given: "x"})


@pytest.mark.parametrize(
    ("settings", "url"),
    [
        ({}, "http://s3.example.org:9000"),
        ({"secure": False}, "http://s3.example.org:9000"),
        ({"secure": True}, "https://s3.example.org:9000"),
        ({"endpoint": "http://h:1", "secure": True}, "http://h:1"),
    ],
)
def test_s3_endpoint_scheme(settings: dict[str, Any], url: str) -> None:
    backend = StorageBackend({**S3, **settings})
    assert backend.fs.client_kwargs["endpoint_url"] == url


def test_s3_config_store_defaults_to_secure() -> None:
    with dj.config.override(stores={"s": dict(S3)}):
        backend = dj.storage.get_backend("s")
    assert backend.fs.client_kwargs["endpoint_url"] == "https://s3.example.org:9000"


def test_s3_filesystem_options() -> None:
    backend = StorageBackend(
        {**S3, "access_key": "ak", "secret_key": "sk", "proxy_server": "http://proxy:3128"}
    )
    assert (backend.fs.key, backend.fs.secret) == ("ak", "sk")
    assert backend.fs.config_kwargs == {
        "proxies": {"http": "http://proxy:3128", "https": "http://proxy:3128"}
    }
    assert not backend.fs.dircache.use_listings_cache
    ambient = StorageBackend(dict(S3))
    assert ambient.fs.key is None and ambient.fs.secret is None


def test_s3_paths() -> None:
    backend = StorageBackend(dict(S3))
    assert backend.full_path("a/b") == "bkt/loc/a/b"
    assert backend.get_url("a/b") == "s3://bkt/loc/a/b"
    assert StorageBackend({**S3, "location": ""}).full_path("a/b") == "bkt/a/b"
    assert StorageBackend({**S3, "location": "/deep/loc/"}).full_path("/a") == "bkt/deep/loc/a"


def test_s3_unknown_key() -> None:
    with pytest.raises(DataJointError, match=r"^Invalid key\(s\) for s3: container$"):
        StorageBackend({**S3, "container": "c"})


# ---- gcs ------------------------------------------------------------------------------------
def test_gcs_filesystem_and_paths() -> None:
    import gcsfs

    backend = StorageBackend(
        {"protocol": "gcs", "bucket": "gb", "location": "gl", "token": "anon", "project": "proj"}
    )
    assert isinstance(backend.fs, gcsfs.GCSFileSystem)
    assert backend.fs.project == "proj"
    assert backend.full_path("x") == "gb/gl/x"
    assert backend.get_url("x") == "gs://gb/gl/x"


def test_gcs_requires_a_bucket() -> None:
    with pytest.raises(DataJointError, match=r"^gcs store is missing: bucket$"):
        StorageBackend({"protocol": "gcs", "location": "l", "token": "anon"})


def test_gcs_settings_through_the_config() -> None:
    entry = {"protocol": "gcs", "bucket": "b", "location": "l", "token": "anon", "project": "p"}
    with dj.config.override(stores={"g": entry}):
        backend = dj.storage.get_backend("g")
    assert backend.protocol == "gcs" and backend.fs.project == "p"


# ---- azure ----------------------------------------------------------------------------------
def test_azure_filesystem_and_paths() -> None:
    import adlfs

    backend = StorageBackend(
        {
            "protocol": "azure",
            "container": "cont",
            "location": "al",
            "account_name": "acct",
            "account_key": "a2V5",
        }
    )
    assert isinstance(backend.fs, adlfs.AzureBlobFileSystem)
    assert backend.fs.account_name == "acct"
    assert backend.full_path("x") == "cont/al/x"
    assert backend.get_url("x") == "az://cont/al/x"


def test_azure_connection_string_and_bucket() -> None:
    connection = (
        "DefaultEndpointsProtocol=https;AccountName=acc2;AccountKey=a2V5;"
        "EndpointSuffix=core.windows.net"
    )
    backend = StorageBackend(
        {"protocol": "azure", "bucket": "bk", "location": "", "connection_string": connection}
    )
    assert backend.fs.connection_string == connection
    assert backend.full_path("x") == "bk/x"


def test_azure_requires_a_container() -> None:
    with pytest.raises(DataJointError, match=r"^azure store is missing: container$"):
        StorageBackend({"protocol": "azure", "location": "l", "account_name": "a"})


# ---- missing drivers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "spec", "extra"),
    [
        ("s3fs", dict(S3), "s3"),
        ("gcsfs", {"protocol": "gcs", "bucket": "b", "token": "anon"}, "gcs"),
        ("adlfs", {"protocol": "azure", "container": "c", "account_name": "a"}, "azure"),
    ],
)
def test_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, spec: dict[str, Any], extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(DataJointError) as info:
        StorageBackend(spec)
    assert f"needs the {module} package" in str(info.value)
    assert f'pip install "dj-kernel[{extra}]"' in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)
