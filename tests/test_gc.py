"""``dj.gc`` (SPEC §4.7) on every backend, on file and S3 stores: dry runs, deletion of orphans
only, shared hash content, folders, scan errors, the grace period, and the race with an insert
that has uploaded its objects but not yet committed its row."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

import datajoint as dj
from datajoint.errors import DataJointError
from datajoint.storage import get_backend
from datajoint.testing.fixtures import make_connection


def declare(schema):
    @schema
    class Item(dj.Manual):
        definition = """
        item_id : int32
        ---
        payload = null : <blob@>
        array = null : <npy@>
        folder = null : <object@>
        """

    return Item


def everything(store: str, schema) -> dict[str, int]:
    """Every file the store holds for ``schema`` (hash- and schema-addressed sections)."""
    spec = dj.config.get_store_spec(store)
    backend = get_backend(store)
    files = backend.list_files(f"{spec['hash_prefix']}/{schema.database}")
    files.update(backend.list_files(f"{spec['schema_prefix']}/{schema.database}"))
    return files


def stored_json(table, key: dict, attr: str) -> dict:
    """The metadata a store-backed column holds for one row (not decoded)."""
    import json

    select = (table & key).make_select([attr])
    (value,) = table.connection.execute_model(select).fetchall()[0]
    return value if isinstance(value, dict) else json.loads(value)


def test_at_least_one_schema_and_a_valid_grace_period(dj_schema, store):
    with pytest.raises(DataJointError, match="At least one schema must be provided"):
        dj.gc.GarbageCollector()
    with pytest.raises(DataJointError, match="grace_period must not be negative"):
        dj.gc.GarbageCollector(dj_schema, grace_period=-1)
    with pytest.raises(DataJointError, match="grace_period must be a timedelta"):
        dj.gc.GarbageCollector(dj_schema, grace_period="1h")


def test_dry_run_reports_orphans_and_deletes_nothing(dj_schema, store, tmp_path):
    Item = declare(dj_schema)
    folder = tmp_path / "session"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"aaaa")
    (folder / "sub" / "b.txt").write_bytes(b"bb")
    Item.insert(
        [
            {"item_id": 1, "payload": {"keep": 1}, "array": np.arange(5), "folder": folder},
            {"item_id": 2, "payload": {"drop": 2}, "array": np.ones(3), "folder": folder},
        ]
    )
    dropped = {
        a: stored_json(Item, {"item_id": 2}, a)["path"] for a in Item.heading.secondary_attributes
    }
    (Item & {"item_id": 2}).delete(prompt=False)
    before = everything(store, dj_schema)

    collector = dj.gc.GarbageCollector(dj_schema, grace_period=0)
    report = collector.collect()

    listed = collector.list_hash_paths(dj_schema.database)
    listed.update(collector.list_schema_paths(dj_schema.database))
    assert listed == before
    assert collector.hash_references() == {stored_json(Item, {"item_id": 1}, "payload")["path"]}
    assert len(collector.schema_references()) == 2
    assert report["dry_run"] is True and report["deleted"] == 0 and report["bytes_freed"] == 0
    assert everything(store, dj_schema) == before  # nothing deleted
    assert report["orphaned_hash_paths"] == [dropped["payload"]]
    assert report["hash_paths_stored"] == 2 and report["hash_paths_referenced"] == 1
    assert report["hash_paths_orphaned"] == 1
    assert report["hash_paths_orphaned_bytes"] == before[dropped["payload"]]
    # the npy file, and the folder's two files and its manifest
    folder_files = sorted(
        p
        for p in before
        if p.startswith(dropped["folder"] + "/") or p == dropped["folder"] + ".manifest.json"
    )
    assert len(folder_files) == 3
    assert report["orphaned_schema_paths"] == sorted([dropped["array"], *folder_files])
    assert report["schema_paths_stored"] == 8 and report["schema_paths_referenced"] == 2
    assert report["schema_paths_orphaned_bytes"] == sum(
        before[p] for p in report["orphaned_schema_paths"]
    )
    assert report["scan_errors"] == [] and report["errors"] == 0
    assert report["recent_hash_paths"] == report["recent_schema_paths"] == []
    assert "would delete" in dj.gc.format_report(report)


def test_collect_deletes_only_orphans(dj_schema, store, tmp_path):
    Item = declare(dj_schema)
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"x" * 10)
    shared = {"same": "content"}
    Item.insert(
        [
            {"item_id": 1, "payload": shared, "array": np.arange(4), "folder": folder},
            {"item_id": 2, "payload": shared, "array": np.arange(6), "folder": folder},
            {"item_id": 3, "payload": [3], "array": None, "folder": folder},
        ]
    )
    (Item & "item_id > 1").delete(prompt=False)
    before = everything(store, dj_schema)

    report = dj.gc.GarbageCollector(dj_schema, store=store, grace_period=0).collect(dry_run=False)

    # the payload shared with row 1 stays; row 3's payload and every object of rows 2, 3 go
    assert report["hash_paths_deleted"] == 1 and report["hash_paths_referenced"] == 1
    assert report["schema_paths_deleted"] == 1 + 2 * 2  # npy, two folders with manifests
    assert report["deleted"] == 6 and report["errors"] == 0
    after = everything(store, dj_schema)
    assert report["bytes_freed"] == sum(before.values()) - sum(after.values())
    assert set(after) == set(before) - set(report["orphaned_hash_paths"]) - set(
        report["orphaned_schema_paths"]
    )
    row = (Item & {"item_id": 1}).fetch1()
    assert row["payload"] == shared and list(row["array"].load()) == [0, 1, 2, 3]
    assert row["folder"].verify()
    assert dj.gc.GarbageCollector(dj_schema, grace_period=0).collect()["deleted"] == 0
    again = dj.gc.GarbageCollector(dj_schema, grace_period=0).collect()
    assert again["hash_paths_orphaned"] == again["schema_paths_orphaned"] == 0
    # the folders a deleted object leaves empty are removed too
    backend = get_backend(store)
    for path in report["orphaned_schema_paths"]:
        parent = path.rpartition("/")[0]
        assert not backend.isdir(parent) or backend.list_files(parent)


def test_objects_younger_than_the_grace_period_are_never_deleted(dj_schema, store):
    Item = declare(dj_schema)
    Item.insert1({"item_id": 1, "payload": b"young", "array": np.zeros(2)})
    (Item & {"item_id": 1}).delete(prompt=False)
    before = everything(store, dj_schema)

    report = dj.gc.GarbageCollector(dj_schema).collect(dry_run=False)  # default: one hour

    assert everything(store, dj_schema) == before
    assert report["deleted"] == 0 and report["grace_period"] == 3600
    assert report["hash_paths_orphaned"] == report["schema_paths_orphaned"] == 0
    assert report["hash_paths_recent"] == 1 and report["schema_paths_recent"] == 1
    assert sorted(report["recent_hash_paths"] + report["recent_schema_paths"]) == sorted(before)
    assert "kept (recent)" in dj.gc.format_report(report)
    short = dj.gc.GarbageCollector(dj_schema, grace_period=timedelta(seconds=0))
    assert short.collect(dry_run=False)["deleted"] == 2
    assert everything(store, dj_schema) == {}


def test_a_listing_error_refuses_deletion(dj_schema, store, monkeypatch):
    Item = declare(dj_schema)
    Item.insert1({"item_id": 1, "payload": b"orphan"})
    Item.delete_quick()
    before = everything(store, dj_schema)
    collector = dj.gc.GarbageCollector(dj_schema, grace_period=0)
    original = collector.backend.list_files

    def failing(prefix: str = "") -> dict[str, int]:
        if "_schema" in prefix:
            raise PermissionError("listing denied")
        return original(prefix)

    monkeypatch.setattr(collector.backend, "list_files", failing)
    report = collector.collect()
    assert len(report["scan_errors"]) == 1 and "listing denied" in report["scan_errors"][0]
    with pytest.raises(DataJointError, match=r"^Refusing to delete: 1 scan error\(s\) — "):
        collector.collect(dry_run=False)
    monkeypatch.undo()
    assert everything(store, dj_schema) == before


def test_an_unreadable_reference_column_refuses_deletion(dj_schema, store, monkeypatch):
    Item = declare(dj_schema)
    Item.insert1({"item_id": 1, "payload": b"live"})
    codec = dj.get_codec("blob")

    def broken(stored):
        raise RuntimeError("cannot read")

    monkeypatch.setattr(codec, "referenced_paths", broken)
    collector = dj.gc.GarbageCollector(dj_schema, grace_period=0)
    with pytest.raises(DataJointError, match="Refusing to delete: 1 scan error"):
        collector.collect(dry_run=False)
    assert (Item & {"item_id": 1}).fetch1("payload") == b"live"


def test_references_of_another_store_do_not_count(dj_schema, store):
    Item = declare(dj_schema)
    Item.insert1({"item_id": 1, "payload": b"mine"})
    with dj.config.override(stores={**dj.config.stores, "other": dj.config.stores[store]}):
        other = dj.gc.GarbageCollector(dj_schema, store="other", grace_period=0).collect()
    assert other["hash_paths_referenced"] == 0 and other["hash_paths_orphaned"] == 1
    mine = dj.gc.GarbageCollector(dj_schema, store=store, grace_period=0).collect()
    assert mine["hash_paths_referenced"] == 1 and mine["hash_paths_orphaned"] == 0


def test_gc_beside_an_uncommitted_insert_keeps_its_objects(dj_schema, dj_backend, store, tmp_path):
    """The race: an insert has uploaded its objects but its transaction has not committed, so
    another connection sees no row referring to them. The grace period keeps them."""
    Item = declare(dj_schema)
    writer = dj_schema.connection
    reader = make_connection(dj_backend, tmp_path / "test.sqlite3")
    try:
        observed = dj.Schema(dj_schema.database, connection=reader, create_schema=False)
        writer.start_transaction()
        try:
            Item.insert1({"item_id": 1, "payload": b"in flight", "array": np.arange(3)})
            uploaded = everything(store, dj_schema)
            assert len(uploaded) == 2

            # without a grace period the uploaded objects look orphaned to the other connection
            unsafe = dj.gc.GarbageCollector(observed, grace_period=0).collect()
            assert unsafe["hash_paths_orphaned"] + unsafe["schema_paths_orphaned"] == 2
            report = dj.gc.GarbageCollector(observed).collect(dry_run=False)
            assert report["deleted"] == 0
            assert sorted(report["recent_hash_paths"] + report["recent_schema_paths"]) == sorted(
                uploaded
            )
            assert everything(store, dj_schema) == uploaded
        except BaseException:
            writer.cancel_transaction()
            raise
        writer.commit_transaction()

        after = dj.gc.GarbageCollector(observed, grace_period=0).collect(dry_run=False)
        assert after["hash_paths_referenced"] == after["schema_paths_referenced"] == 1
        assert after["deleted"] == 0
        row = (Item & {"item_id": 1}).fetch1()
        assert row["payload"] == b"in flight" and list(row["array"].load()) == [0, 1, 2]
    finally:
        reader.close()


def test_partitioned_schema_paths_are_collected(dj_schema, store):
    spec = {**dj.config.stores[store], "partition_pattern": "{item_id}"}
    with dj.config.override(stores={**dj.config.stores, store: spec}):
        Item = declare(dj_schema)
        Item.insert([{"item_id": i, "array": np.arange(i + 1)} for i in (1, 2)])
        paths = {i: stored_json(Item, {"item_id": i}, "array")["path"] for i in (1, 2)}
        assert paths[2].startswith(f"_schema/item_id=2/{dj_schema.database}/")
        (Item & {"item_id": 2}).delete(prompt=False)
        report = dj.gc.GarbageCollector(dj_schema, grace_period=0).collect(dry_run=False)
        assert report["orphaned_schema_paths"] == [paths[2]]
        assert report["schema_paths_referenced"] == 1 and report["schema_paths_deleted"] == 1
        assert list((Item & {"item_id": 1}).fetch1("array").load()) == [0, 1]
