"""Driven by tests/interop/test_interop_v2.py in a virtual environment with datajoint==2.3.5:
``python ref_v2.py ACTION CONFIG_JSON`` prints one JSON document on its last line.

Actions: ``declare`` (drop and build the pipeline, fill it, populate through the jobs table),
``dump`` (every table of the schema through a VirtualModule: headings, tiers, rows, lineage),
``use_extra`` (insert into the table ``extra`` declared by the package under test, then dump).
"""

from __future__ import annotations

import json
import sys
import uuid
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
from values import dump_module, query_results  # noqa: E402

import datajoint as dj  # noqa: E402

action, config = sys.argv[1], json.loads(sys.argv[2])
dj.config["database.backend"] = config["backend"]
dj.config["database.host"] = config["host"]
dj.config["database.port"] = config["port"]
dj.config["database.user"] = config["user"]
dj.config["database.password"] = config["password"]
dj.config["database.use_tls"] = False
if config.get("database_name"):
    dj.config["database.name"] = config["database_name"]
dj.config["safemode"] = False
dj.config["jobs.add_job_metadata"] = True  # Computed tables get the hidden _job_* columns
dj.config["download_path"] = config["download"]
dj.config["stores"] = {
    "default": "files",
    "files": {"protocol": "file", "location": config["store"]},
}
SCHEMA = config["schema"]
FILES = Path(config["files"])


def declare() -> dict:
    existing = dj.Schema(SCHEMA)
    existing.drop()
    schema = dj.Schema(SCHEMA)

    @schema
    class Subject(dj.Manual):
        definition = """
        # experimental subject
        subject_id : int32
        ---
        name : varchar(32)          # full name
        sex : enum('M', 'F', 'U')
        dob = null : date
        weight : float64
        height = null : float32
        tiny : int8
        small : int16
        big : int64
        flag : bool
        price : decimal(8,3)
        code : char(4)
        created : datetime(3)
        uid = null : uuid
        meta = null : json
        data = null : <blob>
        raw = null : bytes
        doc = null : <attach>
        """

    @schema
    class Rig(dj.Lookup):
        definition = """
        rig : varchar(8)
        ---
        room = "" : varchar(16)
        """
        contents = [("r1", "a"), ("r2", "b")]

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        -> [nullable] Subject.proj(buddy="subject_id")
        -> [nullable] Rig
        note = "" : varchar(64)
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int32
            ---
            value : float64
            samples = null : <blob>
            """

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Session
        ---
        total : float64
        n : int32
        """

        def make(self, key):
            values = (Session.Trial & key).to_arrays("value")
            self.insert1({**key, "total": float(np.sum(values)), "n": len(values)})

    FILES.mkdir(parents=True, exist_ok=True)
    doc = FILES / "notes.txt"
    doc.write_text("notes of subject 1\n")
    base = {
        "sex": "F",
        "tiny": -3,
        "small": 300,
        "big": 2**40,
        "flag": True,
        "price": "12.345",
        "code": "ab12",
        "dob": None,
        "height": None,
        "meta": None,
        "data": None,
        "raw": None,
        "doc": None,
    }
    subjects = [
        {
            **base,
            "subject_id": 1,
            "name": "Ann",
            "dob": "2020-01-02",
            "weight": 20.5,
            "height": 1.5,
            "created": "2024-05-06 07:08:09.123",
            "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "meta": {"lab": "x", "tags": [1, 2, 3], "nested": {"a": None}},
            "data": {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": "text"},
            "raw": b"\x00\x01raw",
            "doc": str(doc),
        },
        {
            **base,
            "subject_id": 2,
            "name": "Bob",
            "sex": "M",
            "weight": 31.25,
            "flag": False,
            "created": "2024-05-06 07:08:10",
            "uid": uuid.UUID("87654321-4321-8765-4321-876543218765"),
            "data": [1, "two", 3.0],
        },
        {
            **base,
            "subject_id": 3,
            "name": "Cy",
            "sex": "U",
            "weight": 0.0,
            "created": "2024-05-06 00:00:00",
            "uid": uuid.UUID("00000000-0000-0000-0000-000000000003"),
            "meta": [1, 2],
        },
    ]
    if config["backend"] == "postgresql":  # 2.3.5 binds uuid as bytea there (a defect)
        for row in subjects:
            row["uid"] = None
    Subject.insert(subjects)
    Session.insert(
        [
            {"subject_id": 1, "session": 1, "buddy": 2, "rig": "r1", "note": "first"},
            {"subject_id": 1, "session": 2, "buddy": None, "rig": None, "note": ""},
            {"subject_id": 2, "session": 1, "buddy": 1, "rig": "r2", "note": "x"},
        ]
    )
    Session.Trial.insert(
        [
            {"subject_id": s, "session": n, "trial": t, "value": t * 1.5, "samples": np.ones(t)}
            for s, n in ((1, 1), (1, 2), (2, 1))
            for t in range(1, 4)
        ]
    )
    Analysis.populate(reserve_jobs=True)

    if config["backend"] == "postgresql":  # 2.3.5 binds store metadata as a dict on MySQL
        declare_stored(schema, Subject, doc)
    return {"declared": sorted(schema.list_tables())}


def declare_stored(schema, Subject, doc) -> None:
    """Hash- and schema-addressed objects in the file store ``files``."""

    @schema
    class Stored(dj.Manual):
        definition = """
        -> Subject
        ---
        signal = null : <blob@files>
        doc = null : <attach@files>
        obj = null : <object@files>
        arr = null : <npy@files>
        raw = null : <hash@files>
        """

    Stored.insert1(
        {
            "subject_id": 1,
            "signal": np.arange(5.0),
            "doc": str(doc),
            "obj": str(doc),
            "arr": np.arange(6, dtype=np.int16).reshape(2, 3),
            "raw": b"hashed bytes",
        }
    )
    Stored.insert1({"subject_id": 2, "signal": np.arange(5.0), "obj": ("bin", b"\x00\x01")})


def module():
    return dj.VirtualModule("ref", SCHEMA)


def dump() -> dict:
    vm = module()
    jobs = {job.table_name: job.progress() for job in vm.schema.jobs}
    # 2.3.5 cannot decode <attach> on PostgreSQL (it gets a memoryview): the test reads those
    with_attachments = config["backend"] != "postgresql"
    tables = dump_module(vm, with_attachments=with_attachments)
    queries = query_results(dj, vm)
    return {"tables": tables, "queries": queries, "lineage": vm.schema.lineage, "jobs": jobs}


def use_extra() -> dict:
    vm = module()
    vm.Extra.insert1({"subject_id": 3, "tag": "from 2.3.5", "payload": np.array([[1.5, 2.5]])})
    return dump()


print(json.dumps({"declare": declare, "dump": dump, "use_extra": use_extra}[action](), default=str))
