"""The contract suite of a storage protocol, which a plugin runs against itself in a few lines.

from datajoint.testing import StorageContract

class TestMyProtocol(StorageContract):
    protocol = "myproto"

    @pytest.fixture
    def store_spec(self, tmp_path):
        return {"protocol": "myproto", "location": str(tmp_path), ...}

``store_spec`` returns the settings of a fresh, empty store (as in ``dj.config.stores``). The
suite builds the store's backend through the kernel (the ``StorageBackend`` storage service) and
checks every operation the codecs, fetch, insert and gc rely on.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from .. import transfers
from ..errors import DataJointError, MissingExternalFile
from ..settings import config
from ..storage import StorageAdapter, get_storage_adapter, storage_service

__all__ = ["StorageContract"]

PAYLOAD = bytes(range(256)) * 9 + b"\x00end"


class StorageContract:
    """What every storage protocol must do; subclass it, set ``protocol`` and provide the
    ``store_spec`` fixture."""

    protocol: str = ""

    @pytest.fixture
    def store_spec(self) -> dict[str, Any]:
        raise NotImplementedError("A StorageContract subclass provides the store_spec fixture")

    @pytest.fixture
    def backend(self, store_spec: dict[str, Any]) -> Any:
        return storage_service("StorageBackend")(store_spec)

    @pytest.fixture
    def journal(self, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
        """What the backend reports to ``datajoint.transfers.record_write``: (backend, relpath)."""
        reported: list[tuple[Any, str]] = []
        monkeypatch.setattr(
            transfers, "record_write", lambda backend, relpath: reported.append((backend, relpath))
        )
        return reported

    @staticmethod
    def _written(journal: list[tuple[Any, str]]) -> set[str]:
        return {relpath for _, relpath in journal}

    # ---- registration and settings ---------------------------------------------------------
    def test_adapter_is_registered(self) -> None:
        adapter = get_storage_adapter(self.protocol)
        assert isinstance(adapter, StorageAdapter)
        assert adapter.protocol == self.protocol
        assert get_storage_adapter(self.protocol.upper()) is adapter

    def test_settings_pass_the_config_checks(self, store_spec: dict[str, Any]) -> None:
        with config.override(stores={"contract": store_spec}):
            spec = config.get_store_spec("contract")
        assert spec["protocol"] == self.protocol
        assert spec["hash_prefix"] == "_hash" and spec["token_length"] == 8

    def test_backend_attributes(self, backend: Any, store_spec: dict[str, Any]) -> None:
        assert backend.protocol == self.protocol
        assert backend.spec == store_spec and backend.spec is not store_spec
        assert isinstance(backend.adapter, StorageAdapter)
        assert backend.fs is backend.fs

    def test_paths(self, backend: Any) -> None:
        full = backend.full_path("a/b/c.dat")
        assert full.endswith("a/b/c.dat") and "//" not in full.lstrip("/")
        assert backend.full_path("/a/b/c.dat") == full
        assert backend.get_url("a/b/c.dat").endswith(full.lstrip("/"))

    # ---- single objects --------------------------------------------------------------------
    def test_buffer_round_trip(self, backend: Any) -> None:
        backend.put_buffer(PAYLOAD, "x/y/blob")
        assert backend.get_buffer("x/y/blob") == PAYLOAD
        assert backend.exists("x/y/blob") and not backend.isdir("x/y/blob")
        assert backend.isdir("x/y")
        assert backend.size("x/y/blob") == len(PAYLOAD)
        backend.put_buffer(b"", "x/empty")
        assert backend.get_buffer("x/empty") == b"" and backend.size("x/empty") == 0

    def test_overwrite_replaces(self, backend: Any) -> None:
        backend.put_buffer(b"first", "o")
        backend.put_buffer(b"second", "o")
        assert backend.get_buffer("o") == b"second"

    def test_missing_object(self, backend: Any, tmp_path: Path) -> None:
        assert not backend.exists("nope/x")
        with pytest.raises(MissingExternalFile):
            backend.get_buffer("nope/x")
        with pytest.raises(MissingExternalFile):
            backend.size("nope/x")
        with pytest.raises(MissingExternalFile):
            backend.get_file("nope/x", tmp_path / "out")
        with pytest.raises(MissingExternalFile):
            backend.open("nope/x")
        backend.remove("nope/x")  # no error
        assert backend.modified("nope/x") is None

    def test_remove(self, backend: Any) -> None:
        backend.put_buffer(b"1", "r/one")
        backend.remove("r/one")
        assert not backend.exists("r/one")

    def test_file_round_trip(self, backend: Any, tmp_path: Path) -> None:
        source = tmp_path / "source.bin"
        source.write_bytes(PAYLOAD)
        backend.put_file(source, "files/f.bin")
        target = tmp_path / "deep" / "er" / "target.bin"
        backend.get_file("files/f.bin", target)
        assert target.read_bytes() == PAYLOAD

    def test_open(self, backend: Any, journal: list[tuple[Any, str]]) -> None:
        with backend.open("opened/o.txt", "wb") as handle:
            handle.write(b"line")
        with backend.open("opened/o.txt") as handle:
            assert handle.read() == b"line"
        assert self._written(journal) == {"opened/o.txt"}

    def test_modified_is_recent_utc(self, backend: Any) -> None:
        backend.put_buffer(b"t", "when")
        when = backend.modified("when")
        assert when is not None and when.utcoffset() == datetime.timedelta(0)
        now = datetime.datetime.now(datetime.UTC)
        assert abs((now - when).total_seconds()) < 600

    def test_writes_are_reported(
        self, backend: Any, journal: list[tuple[Any, str]], tmp_path: Path
    ) -> None:
        source = tmp_path / "s"
        source.write_bytes(b"s")
        backend.put_buffer(b"a", "w/a")
        backend.put_file(source, "w/s")
        backend.put_buffers({"w/b": b"b", "w/c": b"c"})
        backend.copy_from_url(str(source), "w/copied")
        assert self._written(journal) == {"w/a", "w/s", "w/b", "w/c", "w/copied"}
        assert all(reported is backend for reported, _ in journal)

    # ---- folders ---------------------------------------------------------------------------
    @staticmethod
    def _folder(tmp_path: Path) -> Path:
        folder = tmp_path / "folder"
        (folder / "sub").mkdir(parents=True)
        (folder / "a.txt").write_bytes(b"aaa")
        (folder / "sub" / "b.bin").write_bytes(b"bb")
        return folder

    def test_folder(self, backend: Any, tmp_path: Path, journal: list[tuple[Any, str]]) -> None:
        manifest = backend.put_folder(self._folder(tmp_path), "dir/obj")
        assert manifest["files"] == [
            {"path": "a.txt", "size": 3},
            {"path": "sub/b.bin", "size": 2},
        ]
        assert manifest["total_size"] == 5 and manifest["item_count"] == 2
        assert datetime.datetime.fromisoformat(manifest["created"]).tzinfo is not None
        assert json.loads(backend.get_buffer("dir/obj.manifest.json")) == manifest
        assert backend.isdir("dir/obj") and backend.get_buffer("dir/obj/sub/b.bin") == b"bb"
        assert backend.list_files("dir") == {
            "dir/obj/a.txt": 3,
            "dir/obj/sub/b.bin": 2,
            "dir/obj.manifest.json": len(backend.get_buffer("dir/obj.manifest.json")),
        }
        assert self._written(journal) == {
            "dir/obj/a.txt",
            "dir/obj/sub/b.bin",
            "dir/obj.manifest.json",
        }
        backend.remove_folder("dir/obj")
        assert not backend.exists("dir/obj") and not backend.exists("dir/obj.manifest.json")

    def test_put_folder_refuses_a_file(self, backend: Any, tmp_path: Path) -> None:
        source = tmp_path / "plain"
        source.write_bytes(b"x")
        with pytest.raises(DataJointError, match="not a directory"):
            backend.put_folder(source, "nofolder")

    def test_copy_from_url_folder(self, backend: Any, tmp_path: Path) -> None:
        backend.copy_from_url(str(self._folder(tmp_path)), "copied")
        assert backend.list_files("copied") == {"copied/a.txt": 3, "copied/sub/b.bin": 2}

    def test_list_files(self, backend: Any) -> None:
        assert backend.list_files("absent/prefix") == {}
        backend.put_buffers({"l/1": b"1", "l/d/2": b"22", "other": b"x"})
        assert backend.list_files("l") == {"l/1": 1, "l/d/2": 2}
        assert {"l/1", "l/d/2", "other"} <= set(backend.list_files(""))

    def test_fsmap(self, backend: Any, journal: list[tuple[Any, str]]) -> None:
        mapping = backend.get_fsmap("mapped")
        mapping["k/0"] = b"zero"
        mapping["top"] = b"one"
        assert backend.get_fsmap("mapped")["k/0"] == b"zero"
        assert backend.get_buffer("mapped/top") == b"one"
        assert self._written(journal) == {"mapped/k/0", "mapped/top"}

    def test_sources(self, backend: Any, tmp_path: Path) -> None:
        folder = self._folder(tmp_path)
        assert backend.source_is_directory(folder) and backend.source_exists(folder)
        assert backend.get_source_size(folder) == 5
        assert backend.get_source_size(folder / "a.txt") == 3
        assert not backend.source_exists(tmp_path / "nothing")
        assert not backend.source_is_directory(folder / "a.txt")

    # ---- batches ---------------------------------------------------------------------------
    def test_batches(self, backend: Any) -> None:
        items = {f"batch/{i:03d}": bytes([i]) * (i + 1) for i in range(40)}
        backend.put_buffers(items)
        paths = list(reversed(items))
        assert backend.get_buffers(paths) == [items[p] for p in paths]
        assert backend.get_buffers([]) == []
        assert backend.exists_many(["batch/000", "batch/none", "batch/039"]) == [True, False, True]

    def test_batch_with_a_missing_object(self, backend: Any) -> None:
        backend.put_buffer(b"here", "m/here")
        with pytest.raises(MissingExternalFile, match="m/gone"):
            backend.get_buffers(["m/here", "m/gone"])
