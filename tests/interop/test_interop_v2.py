"""A schema written by DataJoint 2.3.5 itself, opened here, and back (issue 15).

datajoint==2.3.5 (in its own virtual environment, see conftest.py) declares and fills a pipeline
with every core type, an enum, uuid, json, in-table blobs and attachments, a lookup, a part table,
renamed and nullable foreign keys and a jobs table. Here it is opened through dj.VirtualModule:
headings, tiers, lineage, rows and decoded values must equal what 2.3.5 returns. Rows written and
deleted here, and a table declared here, must then read back the same in 2.3.5.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import datajoint as dj
from datajoint.testing.fixtures import unique_schema_name

pytestmark = pytest.mark.interop


def our_dump(values, connection, name, download):
    with dj.config.override(download_path=str(download)):
        module = dj.VirtualModule("ours", name, connection=connection)
        # as the reference script does: 2.3.5 cannot decode <attach> on PostgreSQL
        with_attachments = connection.dialect.name != "postgresql"
        return module, values.dump_module(module, with_attachments=with_attachments)


@pytest.fixture
def store_location(tmp_path):
    """A file store named ``files`` (also the default store), as the reference script sets it."""
    location = tmp_path / "store"
    location.mkdir()
    stores = {"default": "files", "files": {"protocol": "file", "location": str(location)}}
    with dj.config.override(stores=stores):
        yield location


def assert_same_tables(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for table in theirs:
        assert ours[table] == theirs[table], f"table {table} differs"


@pytest.mark.parametrize("dj_backend", ["mysql", "postgresql"], indirect=True)
def test_schema_of_datajoint_2_3_5(
    dj_connection, server, reference, interop_values, store_location, tmp_path
):
    name = unique_schema_name("djinterop")
    config = {
        **server,
        "schema": name,
        "download": str(tmp_path / "theirs"),
        "files": str(tmp_path / "files"),
        "store": str(store_location),
    }
    try:
        declared = reference("2.3.5", "ref_v2.py", "declare", config)
        expected = ["#rig", "__analysis", "session", "session__trial", "subject"]
        if server["backend"] == "postgresql":  # 2.3.5 writes no store objects on MySQL
            expected.insert(4, "stored")
        assert declared["declared"] == expected
        theirs = reference("2.3.5", "ref_v2.py", "dump", config)

        module, ours = our_dump(interop_values, dj_connection, name, tmp_path / "ours")
        assert_same_tables(ours, theirs["tables"])
        assert module.schema.lineage == theirs["lineage"]
        # a schema written by 2.x needs no migration
        assert dj.migrate.verify_schema_v20(name, dj_connection)["compatible"]
        assert dj.migrate.check_migration_status(module.schema)["pending"] == 0
        assert dj.migrate.analyze_columns(module.schema)["external_storage"] == []
        our_queries = interop_values.query_results(dj, module)
        for query, result in theirs["queries"].items():
            assert our_queries[query] == result, f"query {query} differs"
        assert {job.table_name: job.progress() for job in module.schema.jobs} == theirs["jobs"]
        assert ours["session"]["rows"][1]["buddy"] is None  # the nullable renamed FK
        assert ours["subject"]["rows"][0]["data"]["a"]["shape"] == [2, 3]
        with dj.config.override(download_path=str(tmp_path / "attachments")):
            path = (module.Subject & {"subject_id": 1}).fetch1("doc")
        assert Path(path).read_bytes() == (tmp_path / "files" / "notes.txt").read_bytes()

        # rows written and deleted here read back in 2.3.5
        postgres = dj_connection.dialect.name == "postgresql"
        doc = tmp_path / "written_here.bin"
        doc.write_bytes(b"\x00attachment from here\xff")
        module.Subject.insert1(
            {
                "subject_id": 4,
                "name": "Dee",
                "sex": "F",
                "weight": 4.25,
                "tiny": 1,
                "small": 2,
                "big": -(2**40),
                "flag": True,
                "price": "1.500",
                "code": "zz99",
                "created": "2025-01-01 00:00:00.500",
                # 2.3.5 reads no uuid value on PostgreSQL (it expects 16 bytes there)
                "uid": None if postgres else uuid.UUID("0f0f0f0f-0000-1111-2222-333333333333"),
                "meta": {"written": "here", "n": [1.5, None]},
                "data": {"m": np.eye(3), "s": "str", "l": [1, 2]},
                "raw": b"\x01\x02",
                "doc": str(doc),
            }
        )
        (module.Session.Trial & {"subject_id": 1, "session": 2, "trial": 3}).delete_quick()
        module.Session.insert1(
            {"subject_id": 4, "session": 9, "buddy": 1, "rig": "r2", "note": "n"}
        )

        if postgres:  # store objects written here are read by 2.3.5
            module.Stored.insert1(
                {
                    "subject_id": 4,
                    "signal": {"written": np.arange(3)},
                    "obj": str(doc),
                    "arr": np.ones((2, 2), dtype=np.float32),
                    "raw": b"bytes from here",
                }
            )

        # a table declared here is used by 2.3.5
        schema = dj.Schema(name, connection=dj_connection, context=vars(module))

        @schema
        class Extra(dj.Manual):
            definition = """
            -> Subject
            tag : varchar(32)
            ---
            payload = null : <blob>
            """

        Extra.insert1({"subject_id": 1, "tag": "from here", "payload": np.arange(4.0)})

        # the job-metadata columns dj.migrate adds are the ones 2.3.5 declares
        @schema
        class Summary(dj.Computed):
            definition = """
            -> Subject
            ---
            mean : float64
            """

            def make(self, key):
                self.insert1({**key, "mean": 0.0})

        added = dj.migrate.add_job_metadata_columns(Summary, dry_run=False)
        assert added["columns_added"] == 3

        def job_columns(table):
            columns = dj_connection.introspection.columns(dj_connection.run, name, table)
            return [replace(c, in_key=False) for c in columns if c.name.startswith("_job_")]

        assert job_columns("__summary") == job_columns("__analysis")
        assert len(job_columns("__analysis")) == 3

        again = reference("2.3.5", "ref_v2.py", "use_extra", config)
        module, ours = our_dump(interop_values, dj_connection, name, tmp_path / "ours2")
        assert interop_values.query_results(dj, module) == again["queries"]
        assert_same_tables(ours, again["tables"])
        extra = again["tables"]["extra"]
        assert [r["tag"] for r in extra["rows"]] == ["from here", "from 2.3.5"]
        assert extra["attributes"]["subject_id"]["lineage"] == f"{name}.subject.subject_id"
        written = next(r for r in again["tables"]["subject"]["rows"] if r["subject_id"] == 4)
        if "doc" in written:  # read by 2.3.5 (not on PostgreSQL, see our_dump)
            assert written["doc"] == {"attach": doc.name, "content": doc.read_bytes().hex()}
        assert written["data"]["m"]["shape"] == [3, 3]
        assert len(again["tables"]["session__trial"]["rows"]) == 8
        if postgres:
            stored = again["tables"]["stored"]["rows"][-1]
            assert stored["raw"] == {"bytes": b"bytes from here".hex()}
            assert stored["arr"]["array"]["shape"] == [2, 2]
            assert stored["obj"]["content"] == doc.read_bytes().hex()
    finally:
        dj.Schema(name, connection=dj_connection, create_tables=False).drop(prompt=False)
