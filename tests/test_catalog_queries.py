"""Catalog round trips (issue 16): opening a schema reads its catalog per schema, not per table;
headings and lineage are cached per connection and refreshed after DDL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import datajoint as dj
from datajoint.testing.fixtures import make_connection, throwaway_schema


@contextmanager
def counted(conn: Any) -> Iterator[list[str]]:
    """The SQL text of every statement ``conn`` runs inside the block."""
    statements: list[str] = []
    query = conn.query

    def counting(sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(sql))
        return query(sql, *args, **kwargs)

    conn.query = counting
    try:
        yield statements
    finally:
        del conn.query


def _reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def _declare(schema: Any, count: int) -> dict[str, type]:
    """``count`` tables: a root, then children of the root and a part table on one of them."""
    context: dict[str, Any] = {}

    class Root(dj.Lookup):
        definition = """
        # the root
        root : int32
        ---
        label : varchar(20)  # a label
        """
        contents = [(1, "one")]

    context["Root"] = Root
    schema(Root, context=context)
    for i in range(1, count):
        attrs = {"definition": f"-> Root\nk{i} : int32\n---\nv{i}=null : float64  # value\n"}
        if i == 1:
            attrs["Part"] = type("Part", (dj.Part,), {"definition": "-> master\np : int16\n"})
        cls = type(f"Child{i}", (dj.Manual,), attrs)
        context[cls.__name__] = cls
        schema(cls, context=context)
    return context


def _open_and_read(dj_backend: str, tmp_path: Any, name: str) -> tuple[int, int]:
    """Statements run by a fresh connection for virtual_schema, then for every heading."""
    conn = make_connection(dj_backend, tmp_path / "test.sqlite3")
    try:
        with counted(conn) as opening:
            module = dj.virtual_schema(name, connection=conn)
        tables = [v for v in vars(module).values() if isinstance(v, type)]
        tables += [t.Part for t in tables if hasattr(t, "Part")]
        with counted(conn) as reading:
            for table in tables:
                assert table.heading.primary_key
        return len(opening), len(reading)
    finally:
        conn.close()


def test_opening_a_schema_takes_a_constant_number_of_queries(
    dj_backend: str, dj_connection: Any, tmp_path: Any
) -> None:
    counts = []
    for count in (5, 20):
        with throwaway_schema(dj_connection) as schema:
            _declare(schema, count)
            counts.append(_open_and_read(dj_backend, tmp_path, schema.database))
    assert counts[0] == counts[1], counts
    assert sum(counts[0]) <= 12, counts  # schema, tables, columns, comments, lineage, keys


def test_declaring_reads_the_catalog_once_per_table(dj_connection: Any) -> None:
    """Declaring a table whose parents' headings are cached reads the catalog only to see
    whether the table exists; the lineage table is created and read once per schema."""
    with throwaway_schema(dj_connection) as schema:
        context = _declare(schema, 2)
        with counted(dj_connection) as statements:
            for i in range(2, 12):
                cls = type(f"More{i}", (dj.Manual,), {"definition": f"-> Root\nm{i} : int32\n"})
                context[cls.__name__] = cls
                schema(cls, context=context)
        assert len(_reads(statements)) == 10, _reads(statements)
        assert not [s for s in statements if "~lineage" in s and "CREATE" in s.upper()]


def test_headings_and_lineage_refresh_after_ddl(dj_connection: Any) -> None:
    with throwaway_schema(dj_connection) as schema:
        context = _declare(schema, 3)
        child = context["Child2"]
        assert child.heading.attributes["k2"].lineage == f"{schema.database}.child2.k2"
        assert child.heading.lineage("root") == f"{schema.database}.#root.root"
        child.definition = "-> Root\nk2 : int32\n---\nv2=null : float64  # value\nw=null : int32\n"
        child.alter(prompt=False)
        assert "w" in child.heading.names
        child.drop_quick()
        assert "child2" not in schema.list_tables()
        with pytest.raises(dj.DataJointError, match="not declared"):
            dj.FreeTable(dj_connection, f"{schema.database}.child2").heading  # noqa: B018

        class Child2(dj.Manual):
            definition = "-> Root\nk2 : int32\n---\nu : varchar(8)\n"

        context["Child2"] = Child2
        schema(Child2, context=context)
        assert Child2.heading.names == ["root", "k2", "u"]
        assert Child2.heading.attributes["root"].lineage == f"{schema.database}.#root.root"
        assert schema.lineage[f"{schema.database}.child2.k2"] == f"{schema.database}.child2.k2"
