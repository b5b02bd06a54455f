"""dj.migrate on every backend (SPEC §12): type markers for legacy columns, blob markers, job
metadata columns, lineage rebuild, verification, parallel schemas, backup and restore.

A legacy (pre-2.x) catalog is made here by clearing the ``:type:`` markers of a table declared by
this package, which is what a table declared by DataJoint 0.14 looks like on MySQL; the interop
tests (``tests/interop``) run the same steps on schemas that DataJoint 0.14.10 itself declared.
"""

from __future__ import annotations

import datetime
import uuid
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import datajoint as dj
from datajoint import blob
from datajoint.backend.contract import ColumnSpec, ForeignKeySpec, TableSpec
from datajoint.errors import DataJointError
from datajoint.heading import split_comment
from datajoint.migrate._catalog import execute, set_comment_sql
from datajoint.testing.fixtures import unique_schema_name


def _comments(conn, schema, table):
    return {c.name: c.comment for c in conn.introspection.columns(conn.run, schema, table)}


def make_legacy(schema, table, columns=None, marker=None):
    """Turn the markers of ``columns`` (default: all) into what DataJoint 0.14 stored: no marker
    (``marker=None``) or ``:marker:``."""
    conn = schema.connection
    changes = {}
    for name, comment in _comments(conn, schema.database, table).items():
        if columns is not None and name not in columns:
            continue
        _, text = split_comment(comment)
        changes[name] = text if marker is None else f":{marker}:{text}"
    execute(conn, schema.database, set_comment_sql(conn, schema.database, table, changes), [table])


@contextmanager
def extra_schema(connection, prefix="djmig"):
    """A schema name for a copy; the schema is dropped afterwards if it was created."""
    name = unique_schema_name(prefix)
    try:
        yield name
    finally:
        if connection.introspection.schema_exists(connection.run, name):
            dj.Schema(name, connection=connection, create_tables=False).drop(prompt=False)


@pytest.fixture
def legacy(dj_schema):
    """A Session table whose columns lost their markers, with one row holding a packed blob."""

    @dj_schema
    class Session(dj.Manual):
        definition = """
        session : int32
        ---
        weight : float64           # grams
        label : varchar(20)
        started : datetime(3)
        kind : enum('a', 'b')
        meta = null : json
        data : bytes               # serialized by 0.14
        """

    row = {
        "session": 1,
        "weight": 2.5,
        "label": "x",
        "started": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "kind": "b",
        "meta": {"k": [1, 2]},
        "data": blob.pack(np.arange(6).reshape(2, 3)),
    }
    Session.insert1(row)
    make_legacy(dj_schema, "session")
    return Session


def test_analyze_columns_lists_what_needs_a_marker(dj_schema, legacy):
    found = dj.migrate.analyze_columns(dj_schema)
    needs = {e["column"]: e["core_type"] for e in found["needs_migration"]}
    assert needs["weight"] == "float64"
    assert needs["data"] == "<blob>"
    assert needs["label"] == "varchar(20)"
    assert needs["session"] == "int32"
    assert needs["started"] == "datetime(3)"
    assert needs["kind"].replace(" ", "") == "enum('a','b')"
    assert needs["meta"] == "json"
    assert found["external_storage"] == []
    assert all(e["table"] == f"{dj_schema.database}.session" for e in found["needs_migration"])


def test_migrate_columns_dry_run_then_apply_then_noop(dj_schema, legacy):
    conn, db = dj_schema.connection, dj_schema.database
    before = _comments(conn, db, "session")
    preview = dj.migrate.migrate_columns(dj_schema)
    assert preview["dry_run"] and preview["columns_migrated"] == 0
    assert preview["sql_statements"]
    assert _comments(conn, db, "session") == before  # a dry run changes nothing

    done = dj.migrate.migrate_columns(dj_schema, dry_run=False)
    assert done["columns_migrated"] == 7
    assert {d["status"] for d in done["details"]} == {"migrated"}
    comments = _comments(conn, db, "session")
    assert comments["weight"] == ":float64:grams"
    assert comments["data"] == ":<blob>:serialized by 0.14"
    # values read back through the markers: the blob is decoded, not raw bytes
    table = dj_schema.get_table("session")
    row = table.fetch1()
    np.testing.assert_array_equal(row["data"], np.arange(6).reshape(2, 3))
    assert row["meta"] == {"k": [1, 2]} and row["kind"] == "b" and row["weight"] == 2.5

    again = dj.migrate.migrate_columns(dj_schema, dry_run=False)
    assert again["columns_migrated"] == 0 and again["sql_statements"] == []
    assert again["columns_skipped"] == again["columns_analyzed"]


def test_blob_column_steps(dj_schema, legacy):
    blobs = dj.migrate.analyze_blob_columns(dj_schema)
    assert [(b["column_name"], b["needs_migration"]) for b in blobs] == [("data", True)]
    status = dj.migrate.check_migration_status(dj_schema)
    assert (status["total_blob_columns"], status["migrated"], status["pending"]) == (1, 0, 1)

    sql = dj.migrate.generate_migration_sql(dj_schema)
    assert sql and all(isinstance(s, str) for s in sql)
    preview = dj.migrate.migrate_blob_columns(dj_schema)
    assert (preview["needs_migration"], preview["migrated"]) == (1, 0)
    assert dj.migrate.check_migration_status(dj_schema)["pending"] == 1

    done = dj.migrate.migrate_blob_columns(dj_schema, dry_run=False)
    assert (done["analyzed"], done["migrated"]) == (1, 1)
    assert dj.migrate.check_migration_status(dj_schema)["pending"] == 0
    # only the blob column changed: the others still lack their markers
    comments = _comments(dj_schema.connection, dj_schema.database, "session")
    assert comments["data"].startswith(":<blob>:") and comments["weight"] == "grams"
    again = dj.migrate.migrate_blob_columns(dj_schema, dry_run=False)
    assert (again["needs_migration"], again["sql_statements"]) == (0, [])
    assert dj.migrate.generate_migration_sql(dj_schema) == []


def test_legacy_attach_marker_becomes_the_codec(dj_schema, tmp_path):
    @dj_schema
    class Doc(dj.Manual):
        definition = """
        doc : int32
        ---
        file : <attach>
        """

    source = tmp_path / "note.txt"
    source.write_text("hello")
    Doc.insert1({"doc": 1, "file": source})
    make_legacy(dj_schema, "doc", ["file"], marker="attach")  # 0.14 wrote :attach:
    found = dj.migrate.analyze_columns(dj_schema)["needs_migration"]
    assert [(e["column"], e["core_type"], e["reason"]) for e in found] == [
        ("file", "<attach>", "legacy_marker")
    ]
    assert not dj.migrate.verify_schema_v20(dj_schema.database, dj_schema.connection)["compatible"]
    dj.migrate.migrate_columns(dj_schema, dry_run=False)
    with dj.config.override(download_path=str(tmp_path / "down")):
        path = dj_schema.get_table("doc").fetch1("file")
    assert Path(path).read_text() == "hello"


def test_add_job_metadata_columns(dj_schema):
    @dj_schema
    class Subject(dj.Manual):
        definition = """
        subject : int32
        """

    @dj_schema
    class Analysis(dj.Computed):
        definition = """
        -> Subject
        ---
        value : float64
        """

        def make(self, key):
            self.insert1({**key, "value": 1.0})

    conn, db = dj_schema.connection, dj_schema.database
    preview = dj.migrate.add_job_metadata_columns(dj_schema)
    assert (preview["tables_analyzed"], preview["tables_modified"]) == (1, 1)
    assert preview["columns_added"] == 3 and preview["ddl"]
    assert "_job_start_time" not in _comments(conn, db, "__analysis")

    done = dj.migrate.add_job_metadata_columns(Analysis, dry_run=False)
    assert done["columns_added"] == 3
    comments = _comments(conn, db, "__analysis")
    assert comments["_job_duration"] == ":float32:computation duration in seconds"
    assert "_job_start_time" not in _comments(conn, db, "subject")  # other tiers untouched
    again = dj.migrate.add_job_metadata_columns(dj_schema, dry_run=False)
    assert (again["tables_modified"], again["columns_added"], again["ddl"]) == (0, 0, [])
    # populate fills the new columns
    Subject.insert1({"subject": 1})
    Analysis.populate()
    version, start = conn.query(
        f"SELECT _job_version, _job_start_time FROM {conn.dialect.full_table_name(db, '__analysis')}"
    ).fetchone()
    assert start is not None and version is not None


def _pipeline(schema):
    @schema
    class Animal(dj.Manual):
        definition = """
        animal : int32
        ---
        name : varchar(16)
        weight = null : float64
        """

    @schema
    class Scan(dj.Manual):
        definition = """
        -> Animal.proj(subject="animal")
        scan : int16
        ---
        -> [nullable] Animal
        """

    Animal.insert([{"animal": i, "name": f"a{i}", "weight": i / 3} for i in range(5)])
    Scan.insert([{"subject": 1, "scan": s, "animal": None} for s in range(3)])
    return Animal, Scan


def test_rebuild_lineage(dj_schema):
    _pipeline(dj_schema)
    original = dj_schema.lineage
    conn, db = dj_schema.connection, dj_schema.database
    conn.query(f"DELETE FROM {conn.dialect.full_table_name(db, '~lineage')}")
    execute(conn, db, [], [])
    preview = dj.migrate.rebuild_lineage(dj_schema)
    assert preview["status"] == "dry_run" and preview["lineage_entries"] == len(original)
    assert dj_schema.lineage == {}
    done = dj.migrate.rebuild_lineage(dj_schema, dry_run=False)
    assert done["status"] == "rebuilt" and done["tables_analyzed"] == 2
    assert dj_schema.lineage == original
    assert original[f"{db}.scan.subject"] == f"{db}.animal.animal"
    assert dj.migrate.rebuild_lineage(dj_schema, dry_run=False) == done  # idempotent


def test_rebuild_lineage_creates_the_missing_table(dj_schema):
    _pipeline(dj_schema)
    original = dj_schema.lineage
    conn, db = dj_schema.connection, dj_schema.database
    execute(conn, db, conn.dialect.drop_table_sql(db, "~lineage"))
    assert not dj.migrate.verify_schema_v20(db, conn)["lineage_exists"]
    report = dj.migrate.rebuild_lineage(dj_schema, dry_run=False)
    assert report["lineage_table_existed"] is False
    assert dj_schema.lineage == original
    assert dj.migrate.verify_schema_v20(db, conn)["compatible"]


def test_verify_schema_v20(dj_schema, legacy):
    conn, db = dj_schema.connection, dj_schema.database
    report = dj.migrate.verify_schema_v20(db, conn)
    assert not report["compatible"] and not report["blob_markers"]
    assert any("`data`" in issue and "migrate_blob_columns" in issue for issue in report["issues"])
    assert report["lineage_exists"]
    dj.migrate.migrate_columns(dj_schema, dry_run=False)
    report = dj.migrate.verify_schema_v20(dj_schema)
    assert report["compatible"], report["issues"]
    assert report["blob_markers"] and report["lineage_complete"]
    assert report["unmarked_columns"] == []


def test_parallel_schema_copy_and_compare(dj_schema):
    Animal, Scan = _pipeline(dj_schema)
    conn, db = dj_schema.connection, dj_schema.database
    with extra_schema(conn) as dest:
        created = dj.migrate.create_parallel_schema(db, dest, connection=conn)
        assert created["tables_created"] == 2 and not created["data_copied"]
        assert created["tables"] == ["animal", "scan"]  # parents first
        again = dj.migrate.create_parallel_schema(db, dest, connection=conn)
        assert again["tables_created"] == 0  # resumable

        # the copy has the same headings and a lineage that points into it
        copy = dj.VirtualModule("copy", dest, connection=conn)
        assert copy.Scan.heading.names == Scan.heading.names
        assert copy.schema.lineage[f"{dest}.scan.subject"] == f"{dest}.animal.animal"

        sample = dj.migrate.copy_table_data(db, dest, "Animal", limit=2, connection=conn)
        assert sample["rows_copied"] == 2 and sample["time_taken"] >= 0
        diff = dj.migrate.compare_query_results(db, dest, "animal", connection=conn)
        assert not diff["match"] and diff["row_count"] == 5 and diff["test_row_count"] == 2
        assert sum(1 for d in diff["discrepancies"] if d.get("missing_in") == dest) == 3

        rest = dj.migrate.copy_table_data(
            db, dest, "animal", where_clause="name LIKE 'a%' AND animal > 0", connection=conn
        )
        assert rest["rows_copied"] == 3  # the row animal=1 was there already
        assert dj.migrate.copy_table_data(db, dest, "scan", connection=conn)["rows_copied"] == 3
        assert dj.migrate.compare_query_results(db, dest, "Animal", connection=conn)["match"]

        # a value changed in the copy shows up, within tolerance or not
        conn.query(
            f"UPDATE {conn.dialect.full_table_name(dest, 'animal')} SET weight = weight + 1e-9"
        )
        assert dj.migrate.compare_query_results(db, dest, "animal", connection=conn)["match"]
        assert not dj.migrate.compare_query_results(
            db, dest, "animal", tolerance=1e-12, connection=conn
        )["match"]
        assert len(Animal()) == 5  # the source is only read


def test_backup_and_restore(dj_schema):
    _, Scan = _pipeline(dj_schema)
    conn, db = dj_schema.connection, dj_schema.database
    with extra_schema(conn, "djbak") as backup, extra_schema(conn, "djres") as restored:
        report = dj.migrate.backup_schema(db, backup, connection=conn)
        assert report == {
            "tables_backed_up": 2,
            "tables_created": 2,
            "rows_backed_up": 8,
            "backup_location": backup,
        }
        assert dj.migrate.backup_schema(db, backup, connection=conn)["rows_backed_up"] == 0
        result = dj.migrate.restore_schema(backup, restored, connection=conn)
        assert result == {"tables_restored": 2, "rows_restored": 8}
        assert dj.migrate.restore_schema(backup, restored, connection=conn)["rows_restored"] == 0
        for table in ("animal", "scan"):
            assert dj.migrate.compare_query_results(db, restored, table, connection=conn)["match"]
        # restoring over the source puts back deleted rows and keeps the others
        (Scan & {"scan": 2}).delete_quick()
        assert dj.migrate.restore_schema(backup, db, connection=conn)["rows_restored"] == 1
        assert len(Scan()) == 3


def test_bad_targets(dj_schema):
    with pytest.raises(DataJointError, match=r"Expected a dj\.Schema or a schema name"):
        dj.migrate.analyze_columns(42)
    with pytest.raises(DataJointError, match="does not exist"):
        dj.migrate.verify_schema_v20("no_such_schema_here", dj_schema.connection)
    with pytest.raises(DataJointError, match="must differ"):
        dj.migrate.create_parallel_schema(
            dj_schema.database, dj_schema.database, connection=dj_schema.connection
        )
    with pytest.raises(DataJointError, match="does not exist in schema"):
        dj.migrate.compare_query_results(
            dj_schema.database, dj_schema.database, "nothing", connection=dj_schema.connection
        )


def test_dj_migrate_is_the_module():
    import datajoint.migrate

    assert dj.migrate is datajoint.migrate
    assert "migrate" in dj.__all__ and "deploy" in dj.__all__


# ---- 0.14 external storage ---------------------------------------------------------------------
# DataJoint 0.14 ran on MySQL only; the layout is rebuilt on both server backends (SQLite has no
# 0.14 databases to upgrade).
SERVERS = pytest.mark.parametrize("dj_backend", ["mysql", "postgresql"], indirect=True)
SIGNAL = np.linspace(0, 1, 7)


def legacy_external(schema, location):
    """A table laid out as DataJoint 0.14 lays out external storage, on any backend: columns
    holding uuids that reference ``~external_legacy``, whose objects sit in the store at
    ``{schema}/{h[:2]}/{h[2:4]}/{h}`` (attachments: ``{h}.{name}``); filepaths are recorded
    relative to the store. Returns the uuids of the blob rows."""
    conn, db, dialect = schema.connection, schema.database, schema.connection.dialect

    def sql(core):
        return dialect.core_type_sql(core, schema=db)

    external = TableSpec(
        db,
        "~external_legacy",
        (
            ColumnSpec("hash", sql("uuid"), comment=":uuid:hash of contents"),
            ColumnSpec("size", sql("int64"), comment="size of object in bytes"),
            ColumnSpec("attachment_name", sql("varchar(255)"), nullable=True),
            ColumnSpec("filepath", sql("varchar(1000)"), nullable=True),
            ColumnSpec("contents_hash", sql("uuid"), nullable=True, comment=":uuid:"),
        ),
        ("hash",),
        comment="external storage tracking",
    )
    ref = (db, "~external_legacy", ("hash",))
    rec = TableSpec(
        db,
        "rec",
        (
            ColumnSpec("rec", sql("int32"), comment=":int32:"),
            ColumnSpec("signal", sql("uuid"), nullable=True, comment=":blob@legacy:the signal"),
            ColumnSpec("doc", sql("uuid"), nullable=True, comment=":attach@legacy:"),
            ColumnSpec("raw", sql("uuid"), nullable=True, comment=":filepath@legacy:"),
        ),
        ("rec",),
        foreign_keys=tuple(ForeignKeySpec((c,), *ref) for c in ("signal", "doc", "raw")),
    )
    statements = [*dialect.create_table_sql(external), *dialect.create_table_sql(rec)]
    execute(conn, db, statements, [])
    blob_id, doc_id, raw_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    packed = blob.pack(SIGNAL)

    def place(ref_id, name, data):
        h = ref_id.hex
        path = location / db / h[:2] / h[2:4] / (h if name is None else f"{h}.{name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    place(blob_id, None, packed)
    place(doc_id, "notes.txt", b"attached in 0.14")
    (location / "raw").mkdir(parents=True, exist_ok=True)
    (location / "raw" / "take1.dat").write_bytes(b"take one")
    u = partial(dialect.encode_param, core_type="uuid")
    insert = dialect.insert_sql(
        db, "~external_legacy", ["hash", "size", "attachment_name", "filepath"], 3
    )
    conn.query(
        insert,
        [
            *(u(blob_id), len(packed), None, None),
            *(u(doc_id), 16, "notes.txt", None),
            *(u(raw_id), 8, None, "raw/take1.dat"),
        ],
    )
    rows = [
        [1, u(blob_id), u(doc_id), u(raw_id)],
        [2, u(blob_id), None, None],
        [3, None, None, None],
    ]
    conn.query(
        dialect.insert_sql(db, "rec", ["rec", "signal", "doc", "raw"], 3),
        [v for row in rows for v in row],
    )
    return blob_id


@pytest.fixture
def legacy_store(tmp_path):
    location = tmp_path / "legacy"
    location.mkdir()
    stores = {"legacy": {"protocol": "file", "location": str(location)}}
    with dj.config.override(stores=stores, download_path=str(tmp_path / "downloads")):
        yield location


@SERVERS
def test_migrate_external_and_filepath(dj_schema, legacy_store):
    legacy_external(dj_schema, legacy_store)
    conn, db = dj_schema.connection, dj_schema.database
    found = dj.migrate.analyze_columns(dj_schema)["external_storage"]
    assert sorted(e["column"] for e in found) == ["doc", "raw", "signal"]
    integrity = dj.migrate.verify_external_integrity(dj_schema)
    assert (integrity["total_references"], integrity["valid"]) == (3, 3)
    assert integrity["stores_checked"] == ["legacy"]

    preview = dj.migrate.migrate_external(dj_schema)
    assert preview["columns_found"] == 2
    assert {d["column"]: d["rows"] for d in preview["details"]} == {"signal": 2, "doc": 1}
    assert "signal_v2" not in _comments(conn, db, "rec")  # a dry run changes nothing

    step1 = dj.migrate.migrate_external(dj_schema, dry_run=False)
    assert (step1["rows_migrated"], step1["errors"]) == (3, [])
    assert _comments(conn, db, "rec")["signal_v2"] == ":<blob@legacy>:the signal"
    resumed = dj.migrate.migrate_external(dj_schema, dry_run=False)
    assert resumed["rows_migrated"] == 0  # rows already copied are skipped

    final = dj.migrate.migrate_external(dj_schema, dry_run=False, finalize=True)
    assert final["columns_finalized"] == 2
    comments = _comments(conn, db, "rec")
    assert comments["signal"] == ":<blob@legacy>:the signal"
    assert comments["_signal_v1"] == ":blob@legacy:the signal"  # the 0.14 data is kept
    assert (
        dj.migrate.migrate_external(dj_schema, dry_run=False, finalize=True)["columns_found"] == 0
    )

    done = dj.migrate.migrate_filepath(dj_schema, dry_run=False, finalize=True)
    assert (done["columns_finalized"], done["rows_migrated"]) == (1, 1)
    assert dj.migrate.migrate_filepath(dj_schema, dry_run=False)["columns_found"] == 0

    rows = dj_schema.get_table("rec").to_dicts(order_by="rec")
    np.testing.assert_array_equal(rows[0]["signal"], SIGNAL)
    np.testing.assert_array_equal(rows[1]["signal"], SIGNAL)
    assert Path(rows[0]["doc"]).read_bytes() == b"attached in 0.14"
    assert rows[0]["raw"].read() == b"take one"
    assert rows[2] == {"rec": 3, "signal": None, "doc": None, "raw": None}
    # objects now live hash-addressed in the store, next to the untouched 0.14 files
    assert (legacy_store / "_hash" / db).is_dir() and (legacy_store / db).is_dir()
    after = dj.migrate.verify_external_integrity(dj_schema)
    assert after["missing"] == [] and after["total_references"] == 3 + 4  # 0.14 + 2.x
    dj.migrate.rebuild_lineage(dj_schema, dry_run=False)
    assert dj.migrate.verify_schema_v20(dj_schema)["compatible"]


@SERVERS
def test_missing_objects_block_finalizing(dj_schema, legacy_store):
    blob_id = legacy_external(dj_schema, legacy_store)
    h = blob_id.hex
    (legacy_store / dj_schema.database / h[:2] / h[2:4] / h).unlink()
    integrity = dj.migrate.verify_external_integrity(dj_schema, store_name="legacy")
    assert integrity["valid"] == 2 and len(integrity["missing"]) == 1
    report = dj.migrate.migrate_external(dj_schema, dry_run=False, finalize=True)
    assert len(report["errors"]) == 2 and report["columns_finalized"] == 1  # doc only
    status = {d["column"]: d["status"] for d in report["details"]}
    assert status == {"signal": "not finalized: some rows failed", "doc": "finalized"}
    assert not dj.migrate.verify_schema_v20(dj_schema)["external_migrated"]


@SERVERS
def test_migrate_external_pointers_v2(dj_schema, legacy_store, tmp_path):
    legacy_external(dj_schema, legacy_store)
    new_location = tmp_path / "new"
    new_location.mkdir()
    stores = {
        "legacy": {"protocol": "file", "location": str(legacy_store)},
        "new": {"protocol": "file", "location": str(new_location)},
    }
    with dj.config.override(stores=stores):
        report = dj.migrate.migrate_external_pointers_v2(
            dj_schema.database,
            "rec",
            "signal",
            "legacy",
            "new",
            copy_files=True,
            connection=dj_schema.connection,
        )
        assert report == {"rows_migrated": 2, "files_copied": 2, "errors": []}
        comments = _comments(dj_schema.connection, dj_schema.database, "rec")
        assert comments["signal"] == ":<blob@new>:the signal"
        signal = (dj_schema.get_table("rec") & {"rec": 1}).fetch1("signal")
        np.testing.assert_array_equal(signal, SIGNAL)
        assert (new_location / "_hash" / dj_schema.database).is_dir()
        with pytest.raises(DataJointError, match=r"no 0\.14 external"):
            dj.migrate.migrate_external_pointers_v2(
                dj_schema.database,
                "rec",
                "signal",
                "legacy",
                "new",
                connection=dj_schema.connection,
            )
        # in place: the metadata points at the 0.14 object, which is not copied
        kept = dj.migrate.migrate_external_pointers_v2(
            dj_schema.database,
            "rec",
            "doc",
            "legacy",
            "legacy",
            connection=dj_schema.connection,
        )
        assert kept["rows_migrated"] == 1


@SERVERS
def test_check_store_configuration(dj_schema, legacy_store, tmp_path):
    legacy_external(dj_schema, legacy_store)
    report = dj.migrate.check_store_configuration(dj_schema)
    assert report["stores_configured"] == ["legacy"]
    assert report["details"]["legacy"]["referenced_by"][-1].endswith("~external_legacy")
    with dj.config.override(stores={}):
        missing = dj.migrate.check_store_configuration(dj_schema)
    assert missing["stores_missing"] == ["legacy"] and missing["stores_configured"] == []
    gone = {"legacy": {"protocol": "file", "location": str(tmp_path / "nowhere")}}
    with dj.config.override(stores=gone):
        unreachable = dj.migrate.check_store_configuration(dj_schema)
    assert unreachable["stores_unreachable"] == ["legacy"]


@SERVERS
def test_interrupted_finalize_resumes(dj_schema, legacy_store):
    """A finalize stopped between its two renames (c -> _c_v1 done, c_v2 -> c not) completes on
    the next run."""
    from datajoint.migrate.external import _finalize_sql, legacy_columns

    legacy_external(dj_schema, legacy_store)
    conn, db = dj_schema.connection, dj_schema.database
    dj.migrate.migrate_external(dj_schema, dry_run=False)
    signal = next(c for c in legacy_columns(conn, db) if c.name == "signal")
    first_rename = _finalize_sql(conn, db, signal)[0]
    execute(conn, db, [first_rename], ["rec"])
    assert {"_signal_v1", "signal_v2"} <= set(_comments(conn, db, "rec"))
    assert not dj.migrate.verify_schema_v20(dj_schema)["external_migrated"]

    report = dj.migrate.migrate_external(dj_schema, dry_run=False, finalize=True)
    assert report["columns_finalized"] == 2 and report["rows_migrated"] == 0
    comments = _comments(conn, db, "rec")
    assert "signal_v2" not in comments and comments["signal"].startswith(":<blob@legacy>:")
    np.testing.assert_array_equal(
        (dj_schema.get_table("rec") & {"rec": 2}).fetch1("signal"), SIGNAL
    )
