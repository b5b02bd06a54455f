"""A pipeline built by DataJoint 0.14.10 itself, upgraded by dj.migrate, read here (issue 15).

datajoint==0.14.10 (in its own virtual environment, see conftest.py) builds a legacy pipeline on
MariaDB: unmarked plain columns, in-table blobs, an internal attachment, external blobs and
attachments in a file store (``~external_ext``), a filepath (``~external_fp``), uuid, a renamed
nullable foreign key and a computed table with external results. The upgrade steps of the README
run here; afterwards every value reads here as 0.14 read it, the schema verifies as 2.x, and the
upgrade run a second time changes nothing.
"""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.testing.fixtures import unique_schema_name

pytestmark = pytest.mark.interop


def upgrade(schema):
    """The upgrade of the README's "Coming from DataJoint 0.14" section, in its order."""
    return {
        "columns": dj.migrate.migrate_columns(schema, dry_run=False),
        "external": dj.migrate.migrate_external(schema, dry_run=False, finalize=True),
        "filepath": dj.migrate.migrate_filepath(schema, dry_run=False, finalize=True),
        "lineage": dj.migrate.rebuild_lineage(schema, dry_run=False),
        "jobs": dj.migrate.add_job_metadata_columns(schema, dry_run=False),
    }


def rows_by_table(dump):
    return {table: content["rows"] for table, content in dump.items()}


@pytest.mark.parametrize("dj_backend", ["mysql"], indirect=True)
def test_pipeline_of_datajoint_0_14_10(dj_connection, server, reference, interop_values, tmp_path):
    name = unique_schema_name("djlegacy")
    stores = {
        "ext": {"protocol": "file", "location": str(tmp_path / "ext")},
        "fp": {"protocol": "file", "location": str(tmp_path / "fp")},
    }
    for store in stores.values():
        (tmp_path / store["location"]).mkdir(parents=True, exist_ok=True)
    config = {
        **server,
        "schema": name,
        "ext": stores["ext"]["location"],
        "fp": stores["fp"]["location"],
        "files": str(tmp_path / "files"),
        "download": str(tmp_path / "theirs"),
    }
    try:
        built = reference("0.14.10", "ref_v014.py", "build", config)
        assert built["tables"] == ["__analysis", "session", "subject"]
        theirs = rows_by_table(reference("0.14.10", "ref_v014.py", "dump", config)["tables"])

        with dj.config.override(stores=stores, download_path=str(tmp_path / "ours")):
            schema = dj.Schema(name, connection=dj_connection, create_tables=False)
            # before: a preview finds the legacy columns and changes nothing
            found = dj.migrate.analyze_columns(schema)
            external = {(e["table"].split(".")[1], e["column"]) for e in found["external_storage"]}
            assert external == {
                ("subject", "ext"),
                ("subject", "doc"),
                ("subject", "path"),
                ("__analysis", "result"),
            }
            preview = dj.migrate.migrate_external(schema)
            assert preview["columns_found"] == 3 and preview["rows_migrated"] == 0
            stores_report = dj.migrate.check_store_configuration(schema)
            assert stores_report["stores_configured"] == ["ext", "fp"]
            integrity = dj.migrate.verify_external_integrity(schema)
            assert integrity["total_references"] == 5 and integrity["missing"] == []
            assert not dj.migrate.verify_schema_v20(schema)["compatible"]

            first = upgrade(schema)
            assert first["columns"]["columns_migrated"] > 0
            assert first["external"]["columns_finalized"] == 3
            assert first["external"]["rows_migrated"] == 6 and first["external"]["errors"] == []
            assert first["filepath"]["columns_finalized"] == 1
            assert first["jobs"]["columns_added"] == 3

            report = dj.migrate.verify_schema_v20(schema)
            assert report["compatible"], report["issues"]
            after = dj.migrate.verify_external_integrity(schema)
            assert after["missing"] == [] and after["valid"] == after["total_references"]

            # every value reads here as 0.14 read it
            module = dj.VirtualModule("legacy", name, connection=dj_connection)
            ours = rows_by_table(interop_values.dump_module(module))
            their_path = theirs["subject"][0].pop("path")
            our_path = ours["subject"][0].pop("path")
            assert their_path == str(tmp_path / "fp" / "raw" / "rec1.dat")
            ref = (module.Subject & {"subject_id": 1}).fetch1("path")
            assert ref.path == "raw/rec1.dat" and ref.read() == b"recording one"
            assert our_path is not None
            assert (
                theirs["subject"][1].pop("path") is None and ours["subject"][1].pop("path") is None
            )
            assert ours == theirs
            assert module.schema.lineage[f"{name}.session.buddy"] == f"{name}.subject.subject_id"

            # the upgrade run twice is a no-op
            second = upgrade(schema)
            assert second["columns"]["columns_migrated"] == 0
            assert second["columns"]["sql_statements"] == []
            assert second["external"]["columns_found"] == 0
            assert second["filepath"]["columns_found"] == 0
            assert second["jobs"]["columns_added"] == 0
            assert second["lineage"]["lineage_entries"] == first["lineage"]["lineage_entries"]
            again = rows_by_table(
                interop_values.dump_module(
                    dj.VirtualModule("again", name, connection=dj_connection)
                )
            )
            for table in again:
                for row in again[table]:
                    row.pop("path", None)
            assert again == ours
    finally:
        dj.Schema(name, connection=dj_connection, create_tables=False).drop(prompt=False)
