"""Driven by tests/interop/test_interop_v014.py in a virtual environment with datajoint==0.14.10:
``python ref_v014.py ACTION CONFIG_JSON`` prints one JSON document on its last line.

Actions: ``build`` (drop and build a legacy pipeline: plain columns, in-table blobs, an internal
attachment, external blobs and attachments in a file store, a filepath, uuid, a computed table
with external results, populated with reserved jobs), ``dump`` (every table's rows as 0.14 reads
them).
"""

from __future__ import annotations

import json
import sys
import uuid
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
from values import dump_module  # noqa: E402

import datajoint as dj  # noqa: E402

action, config = sys.argv[1], json.loads(sys.argv[2])
dj.config["database.host"] = config["host"]
dj.config["database.port"] = config["port"]
dj.config["database.user"] = config["user"]
dj.config["database.password"] = config["password"]
dj.config["database.use_tls"] = False
dj.config["safemode"] = False
dj.config["stores"] = {
    "ext": {"protocol": "file", "location": config["ext"]},
    "fp": {"protocol": "file", "location": config["fp"], "stage": config["fp"]},
}
SCHEMA = config["schema"]
FILES = Path(config["files"])


def build() -> dict:
    dj.Schema(SCHEMA).drop(force=True)
    schema = dj.Schema(SCHEMA)

    @schema
    class Subject(dj.Manual):
        definition = """
        # legacy subject
        subject_id : int
        ---
        name : varchar(32)         # name
        weight : float
        sex : enum('M', 'F')
        dob = null : date
        uid = null : uuid
        data : longblob            # in-table blob
        extra = null : mediumblob
        ext = null : blob@ext      # external blob
        doc = null : attach@ext
        note = null : attach
        path = null : filepath@fp
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : smallint
        ---
        -> [nullable] Subject.proj(buddy="subject_id")
        started = null : datetime(3)
        """

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Session
        ---
        total : double
        result = null : blob@ext
        """

        def make(self, key):
            self.insert1(
                {**key, "total": 1.5 * key["session"], "result": np.full(3, key["session"])}
            )

    FILES.mkdir(parents=True, exist_ok=True)
    (FILES / "doc.txt").write_text("external attachment\n")
    (FILES / "note.bin").write_bytes(b"\x00internal\xff")
    Path(config["fp"], "raw").mkdir(parents=True, exist_ok=True)
    Path(config["fp"], "raw", "rec1.dat").write_bytes(b"recording one")
    shared = np.arange(12.0).reshape(3, 4)
    Subject.insert(
        [
            {
                "subject_id": 1,
                "name": "Ann",
                "weight": 20.5,
                "sex": "F",
                "dob": "2020-01-02",
                "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
                "data": {"a": np.eye(2), "s": "text", "l": [1, 2.5]},
                "extra": np.array([1, 2, 3], dtype=np.uint8),
                "ext": shared,
                "doc": str(FILES / "doc.txt"),
                "note": str(FILES / "note.bin"),
                "path": str(Path(config["fp"], "raw", "rec1.dat")),
            },
            {
                "subject_id": 2,
                "name": "Bob",
                "weight": 31.25,
                "sex": "M",
                "dob": None,
                "uid": None,
                "data": "just a string",
                "extra": None,
                "ext": shared,  # the same object: one ~external row, one file
                "doc": None,
                "note": None,
                "path": None,
            },
        ]
    )
    Session.insert(
        [
            {"subject_id": 1, "session": 1, "buddy": 2, "started": "2024-01-01 10:00:00.250"},
            {"subject_id": 1, "session": 2, "buddy": None, "started": None},
            {"subject_id": 2, "session": 1, "buddy": 1, "started": None},
        ]
    )
    Analysis.populate(reserve_jobs=True)
    return {"tables": sorted(schema.list_tables())}


def dump() -> dict:
    vm = dj.VirtualModule("ref", SCHEMA)
    return {"tables": dump_module(vm, download_path=config["download"])}


print(json.dumps({"build": build, "dump": dump}[action](), default=str))
