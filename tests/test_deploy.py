"""dj.deploy (SPEC §12): replica identity on PostgreSQL, the ``_prov`` column on every backend."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.errors import DataJointError


def declare(schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject : int32
        ---
        name = "" : varchar(16)
        """

    @schema
    class Kind(dj.Lookup):
        definition = """
        kind : varchar(8)
        """
        contents = [("a",), ("b",)]

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        """

        class Note(dj.Part):
            definition = """
            -> master
            note : int16
            """

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Session
        ---
        value : float64
        """

        def make(self, key):
            self.insert1({**key, "value": 1.0})

    return Subject, Kind, Session, Analysis


def _identities(conn, schema):
    rows = conn.query(
        "SELECT c.relname, c.relreplident FROM pg_catalog.pg_class c JOIN "
        "pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r'",
        [schema],
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("dj_backend", ["postgresql"], indirect=True)
def test_set_replica_identity(dj_schema):
    Subject, _, _, _ = declare(dj_schema)
    conn, db = dj_schema.connection, dj_schema.database
    preview = dj.deploy.set_replica_identity(dj_schema)
    assert preview["tables_analyzed"] == 5 and preview["tables_modified"] == 5
    assert all(s.endswith("REPLICA IDENTITY FULL") for s in preview["ddl"])
    assert set(_identities(conn, db).values()) == {"d"}  # dry run: unchanged

    done = dj.deploy.set_replica_identity(dj_schema, dry_run=False)
    assert done["tables_modified"] == 5
    identities = _identities(conn, db)
    assert identities["subject"] == "f" and identities["__analysis"] == "f"
    assert identities["~lineage"] == "d"  # hidden tables are not replicated data
    again = dj.deploy.set_replica_identity(dj_schema, dry_run=False)
    assert (again["tables_modified"], again["ddl"]) == (0, [])

    one = dj.deploy.set_replica_identity(Subject, mode="default", dry_run=False)
    assert (one["tables_analyzed"], one["tables_modified"]) == (1, 1)
    assert _identities(conn, db)["subject"] == "d"
    Subject.insert1({"subject": 1})  # the table still works
    assert len(Subject()) == 1


@pytest.mark.parametrize("dj_backend", ["postgresql"], indirect=True)
def test_set_replica_identity_bad_mode(dj_schema):
    declare(dj_schema)
    with pytest.raises(DataJointError, match="Invalid replica identity mode"):
        dj.deploy.set_replica_identity(dj_schema, mode="nothing")


@pytest.mark.parametrize("dj_backend", ["sqlite", "mysql"], indirect=True)
def test_set_replica_identity_needs_postgres(dj_schema):
    declare(dj_schema)
    with pytest.raises(DataJointError, match="PostgreSQL only"):
        dj.deploy.set_replica_identity(dj_schema)


def test_add_prov_column(dj_schema):
    Subject, *_ = declare(dj_schema)
    conn, db = dj_schema.connection, dj_schema.database

    def columns(table):
        return {c.name: c.comment for c in conn.introspection.columns(conn.run, db, table)}

    preview = dj.deploy.add_prov_column(dj_schema)
    assert (preview["tables_analyzed"], preview["tables_modified"]) == (2, 2)
    assert preview["columns_added"] == 2 and len(preview["ddl"]) >= 2
    assert [d["status"] for d in preview["details"]] == ["dry_run", "dry_run"]
    assert "_prov" not in columns("subject")

    done = dj.deploy.add_prov_column(dj_schema, dry_run=False)
    assert sorted(d["table"] for d in done["details"]) == [f"{db}.session", f"{db}.subject"]
    assert columns("subject")["_prov"] == (
        ":json:extrinsic provenance for a row that entered from outside"
    )
    for other in ("#kind", "session__note", "__analysis"):
        assert "_prov" not in columns(other)
    again = dj.deploy.add_prov_column(Subject, dry_run=False)
    assert again["tables_modified"] == 0 and again["details"][0]["status"] == "present"

    # the next schema load sees the hidden column; inserts and fetches are unchanged
    fresh = dj.VirtualModule("fresh", db, connection=conn)
    with dj.config.override(provenance__capture=True):
        fresh.Subject.insert1({"subject": 7, "name": "x"})
    assert fresh.Subject.to_dicts() == [{"subject": 7, "name": "x"}]
    assert "_prov" not in fresh.Subject.heading.names
