"""Catalog compatibility with DataJoint 2.x on MySQL/MariaDB and PostgreSQL (SPEC §2-§3)."""

from __future__ import annotations

import pytest

import datajoint as dj
from datajoint.testing import servers
from datajoint.testing.fixtures import make_connection, throwaway_schema, unique_schema_name
from datajoint.testing.pytest_plugin import require_backend


@pytest.fixture(params=[b for b in servers.selected_backends() if b != "sqlite"])
def server_schema(request, tmp_path):
    """A throwaway schema on each server backend (SQLite has its own catalog conventions)."""
    require_backend(request.param)
    connection = make_connection(request.param)
    with throwaway_schema(connection) as schema:
        yield schema
    connection.close()


def _column_types(conn, schema, table):
    return {
        c.name: (c.sql_type, c.comment)
        for c in conn.introspection.columns(conn.run, schema.database, table)
    }


def test_declared_layout_matches_datajoint(server_schema):
    schema = server_schema

    @schema
    class Subject(dj.Manual):
        definition = """
        # experimental subject
        subject_id : int32   # unique id
        ---
        flag : bool
        weight : float32
        ident : uuid
        payload : bytes
        doc = null : json
        born : datetime(3)
        """

    @schema
    class Stim(dj.Lookup):
        definition = """
        stim : varchar(16)
        """

    @schema
    class Trial(dj.Manual):
        definition = """
        -> Subject
        trial : int16
        """

    conn = schema.connection
    mysql = conn.backend.name == "mysql"
    assert set(schema.list_tables()) == {"subject", "#stim", "trial"}
    types = _column_types(conn, schema, "subject")
    expected = {
        "subject_id": ("int" if mysql else "integer", ":int32:unique id"),
        "flag": ("tinyint" if mysql else "boolean", ":bool:"),
        "weight": ("float" if mysql else "real", ":float32:"),
        "ident": ("binary(16)" if mysql else "uuid", ":uuid:"),
        "payload": ("longblob" if mysql else "bytea", ":bytes:"),
        "doc": ("json" if mysql else "jsonb", ":json:"),
        "born": ("datetime(3)" if mysql else "timestamp(3)", ":datetime(3):"),
    }
    assert types == expected
    assert conn.introspection.table_comment(conn.run, schema.database, "subject") == (
        "experimental subject"
    )
    assert "~lineage" in conn.introspection.list_tables(conn.run, schema.database)
    lineage_columns = _column_types(conn, schema, "~lineage")
    assert lineage_columns["table_name"][0] == "varchar(64)"
    assert lineage_columns["lineage"] == ("varchar(255)", "origin: schema.table.attribute")


def _quote_all(conn, text):
    """Write DDL with backquotes and turn them into the backend's identifier quotes."""
    return text.replace("`", conn.dialect.quote("")[0])


def test_tables_in_datajoint_layout_are_read_back(server_schema):
    """Tables created by raw DDL in DataJoint 2.x's layout open here with heading, tier and keys."""
    schema = server_schema
    conn = schema.connection
    db = schema.database
    mysql = conn.backend.name == "mysql"
    int32, i16, f64 = (
        ("int", "smallint", "double") if mysql else ("integer", "smallint", "double precision")
    )
    options = " ENGINE=InnoDB" if mysql else ""

    def comment(text):
        return f' COMMENT "{text}"' if mysql else ""

    ddl = [
        f"CREATE TABLE `{db}`.`#species` (`species` varchar(20) NOT NULL{comment(':varchar(20):name')}, "
        f"PRIMARY KEY (`species`)){options}",
        f"CREATE TABLE `{db}`.`animal` (`animal_id` {int32} NOT NULL{comment(':int32:')}, "
        f"`species` varchar(20) NOT NULL{comment(':varchar(20):name')}, "
        f"`mass` {f64} DEFAULT NULL{comment(':float64:grams') if mysql else ''}, "
        f"PRIMARY KEY (`animal_id`), FOREIGN KEY (`species`) REFERENCES `{db}`.`#species` (`species`) "
        f"ON UPDATE CASCADE ON DELETE RESTRICT){options}",
        f"CREATE TABLE `{db}`.`__analysis` (`animal_id` {int32} NOT NULL{comment(':int32:')}, "
        f"`run` {i16} NOT NULL{comment(':int16:')}, PRIMARY KEY (`animal_id`, `run`), "
        f"FOREIGN KEY (`animal_id`) REFERENCES `{db}`.`animal` (`animal_id`) "
        f"ON UPDATE CASCADE ON DELETE RESTRICT){options}",
    ]
    if not mysql:
        ddl += [
            f"COMMENT ON COLUMN `{db}`.`#species`.`species` IS ':varchar(20):name'",
            f"COMMENT ON COLUMN `{db}`.`animal`.`animal_id` IS ':int32:'",
            f"COMMENT ON COLUMN `{db}`.`animal`.`species` IS ':varchar(20):name'",
            f"COMMENT ON COLUMN `{db}`.`animal`.`mass` IS ':float64:grams'",
            f"COMMENT ON COLUMN `{db}`.`__analysis`.`animal_id` IS ':int32:'",
            f"COMMENT ON COLUMN `{db}`.`__analysis`.`run` IS ':int16:'",
        ]
    for statement in ddl:
        conn.query(_quote_all(conn, statement))
    module = dj.VirtualModule("legacy", db, connection=conn)
    assert issubclass(module.Species, dj.Lookup)
    assert issubclass(module.Animal, dj.Manual)
    assert issubclass(module.Analysis, dj.Computed)
    heading = module.Animal.heading
    assert heading.primary_key == ["animal_id"]
    assert heading["mass"].original_type == "float64" and heading["mass"].comment == "grams"
    assert heading["mass"].nullable
    assert module.Animal.parents() == [conn.dialect.full_table_name(db, "#species")]
    assert module.Analysis.parents(primary=True) == [conn.dialect.full_table_name(db, "animal")]
    module.Species.insert1({"species": "mouse"})
    module.Animal.insert1({"animal_id": 1, "species": "mouse", "mass": 21.5})
    assert module.Animal.fetch1() == {"animal_id": 1, "species": "mouse", "mass": 21.5}
    assert not schema.lineage_table_exists or "animal" not in {
        k.split(".")[1] for k in schema.lineage
    }
    schema.rebuild_lineage()
    assert schema.lineage[f"{db}.__analysis.animal_id"] == f"{db}.animal.animal_id"
    assert schema.lineage[f"{db}.animal.species"] == f"{db}.#species.species"
    assert unique_schema_name()  # names stay unique across calls
