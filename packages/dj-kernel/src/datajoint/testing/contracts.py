"""Contract suites a plugin package runs against itself in a few lines.

from datajoint.testing.contracts import BackendContract

class TestMyBackend(BackendContract):
    backend_name = "mybackend"
"""

from __future__ import annotations

import datetime
import decimal
import importlib.metadata as metadata
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from .. import errors
from ..algebra import model as m
from ..backend.contract import (
    Backend,
    BeginWithQueryDriver,
    ColumnSpec,
    CopyDriver,
    Dialect,
    Driver,
    ErrorTranslator,
    ForeignKeySpec,
    IndexSpec,
    Introspection,
    TableSpec,
    TypedCursorDriver,
    protocol_mismatches,
)
from ..connection import get_backend
from ..plugin_host import host
from .fixtures import make_connection, unique_schema_name
from .pytest_plugin import require_backend

#: one value per core type, and the column type it is declared with
CORE_VALUES: dict[str, tuple[str, Any]] = {
    "i8": ("int8", -7),
    "i16": ("int16", -30000),
    "i32": ("int32", 2_000_000_000),
    "i64": ("int64", -9_000_000_000_000),
    "f32": ("float32", 1.5),
    "f64": ("float64", 2.718281828459045),
    "flag": ("bool", True),
    "ident": ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    "raw": ("bytes", b"\x00\x01binary\xff"),
    "doc": ("json", {"a": [1, 2, {"b": None}], "s": "x"}),
    "day": ("date", datetime.date(2024, 2, 29)),
    "moment": ("datetime(3)", datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)),
    "code": ("char(4)", "abcd"),
    "label": ("varchar(40)", 'it\'s "quoted" \\ 100% ünïcode'),
    "amount": ("decimal(10,3)", decimal.Decimal("1234.567")),
    "color": ("enum('red','green','blue')", "green"),
}


class BackendContract:
    """What every backend must do; subclass it and set ``backend_name``."""

    backend_name: str = ""

    @pytest.fixture
    def backend(self) -> Backend:
        require_backend(self.backend_name)
        return get_backend(self.backend_name)

    @pytest.fixture
    def connection(self, backend: Backend, tmp_path) -> Iterator[Any]:
        connection = make_connection(self.backend_name, tmp_path / "contract.sqlite3")
        yield connection
        connection.close()

    @pytest.fixture
    def schema(self, connection: Any) -> Iterator[str]:
        name = unique_schema_name("djcontract")
        for sql in connection.dialect.create_schema_sql(name):
            connection.query(sql)
        yield name
        if connection.in_transaction:
            connection.cancel_transaction()
        intro = connection.introspection
        if not connection.dialect.capabilities.drop_schema_cascades:
            tables = intro.list_tables(connection.run, name)
            children = {fk.table for fk in intro.foreign_keys(connection.run, [name])}
            for table in sorted(tables, key=lambda t: t not in children):
                for sql in connection.dialect.drop_table_sql(name, table):
                    connection.query(sql)
        for sql in connection.dialect.drop_schema_sql(name):
            connection.query(sql)

    def _create(self, connection: Any, spec: TableSpec) -> None:
        for sql in connection.dialect.create_table_sql(spec):
            connection.query(sql)

    def _core_table(self, connection: Any, schema: str) -> TableSpec:
        dialect = connection.dialect
        columns = [
            ColumnSpec("id", dialect.core_type_sql("int32", schema=schema), comment=":int32:key")
        ]
        for name, (core, _) in CORE_VALUES.items():
            columns.append(
                ColumnSpec(
                    name,
                    dialect.core_type_sql(core, schema=schema),
                    nullable=True,
                    default="NULL",
                    comment=f":{core}:",
                )
            )
        return TableSpec(schema, "core_types", tuple(columns), ("id",), comment="every core type")

    # ---- the parts -------------------------------------------------------------------------
    def test_parts_follow_the_protocols(self, backend: Backend) -> None:
        """Every member of each protocol, with the protocol's parameters (names, kinds and
        defaults): a dialect is checked against :class:`Dialect`, not against BaseDialect."""
        parts = (
            (backend.dialect, Dialect),
            (backend.driver, CopyDriver if backend.dialect.capabilities.copy_rows else Driver),
            (
                backend.driver,
                BeginWithQueryDriver if backend.dialect.capabilities.begin_with_query else Driver,
            ),
            (
                backend.driver,
                TypedCursorDriver if backend.dialect.capabilities.typed_cursors else Driver,
            ),
            (backend.introspection, Introspection),
            (backend.errors, ErrorTranslator),
        )
        problems = [p for part, protocol in parts for p in protocol_mismatches(part, protocol)]
        assert problems == [], "\n".join(problems)
        assert backend.name == self.backend_name

    def test_registered_with_provenance(self, backend: Backend) -> None:
        """The registration names the installed distribution that ships the backend's code (a
        ``datajoint.plugins`` entry point of that distribution points into its package), with
        that distribution's installed version."""
        registration = host().registration("backend", self.backend_name)
        package = type(backend.dialect).__module__.partition(".")[0]
        shipping = {
            ep.dist.name
            for ep in metadata.entry_points(group="datajoint.plugins")
            if ep.dist is not None and ep.value.partition(":")[0].partition(".")[0] == package
        }
        assert registration.distribution in shipping, (registration.distribution, shipping)
        assert registration.version == metadata.version(registration.distribution)
        listed = {b["name"] for b in host().listing()["backends"]}
        assert self.backend_name in listed

    def test_quote_doubles_the_quote_character(self, backend: Backend) -> None:
        q = backend.dialect.quote("a")
        assert len(q) == 3 and q[1] == "a"
        assert backend.dialect.quote("a" + q[0] + "b").count(q[0]) == 4

    # ---- with a server ---------------------------------------------------------------------
    def test_schema_lifecycle(self, connection: Any, schema: str) -> None:
        intro = connection.introspection
        assert intro.schema_exists(connection.run, schema)
        assert schema in intro.list_schemas(connection.run)
        assert intro.list_tables(connection.run, schema) == []

    def test_every_core_type_round_trips(self, connection: Any, schema: str) -> None:
        spec = self._core_table(connection, schema)
        self._create(connection, spec)
        dialect = connection.dialect
        names = ["id", *CORE_VALUES]
        cores = ["int32", *(c for c, _ in CORE_VALUES.values())]
        values = [1, *(v for _, v in CORE_VALUES.values())]
        params = [dialect.encode_param(v, _core(c)) for v, c in zip(values, cores, strict=True)]
        connection.query(dialect.insert_sql(schema, "core_types", names, 1), params)
        select = m.Select(
            m.TableSource(schema, "core_types"), tuple(m.SelectItem(m.Column(n)) for n in names)
        )
        row = connection.execute_model(select).fetchone()
        columns = {
            c.name: c
            for c in connection.introspection.columns(connection.run, schema, "core_types")
        }
        for name, core, expected, got in zip(names, cores, values, row, strict=True):
            decode = dialect.column_decoder(_core(core), columns[name].sql_type)
            value = decode(got) if decode and got is not None else got
            if isinstance(expected, float) and core == "float32":
                assert value == pytest.approx(expected)
            elif isinstance(expected, bytes):
                assert bytes(value) == expected
            else:
                assert value == expected, (name, core, value)
        # told the column types, a driver reads the same values (alone and beside every other)
        for pair in [names, *(["raw", n] for n in names)]:
            types = [columns[n].sql_type for n in pair]
            typed = connection.execute_model(project(select, pair), column_types=types).fetchone()
            assert repr(typed) == repr(tuple(row[names.index(n)] for n in pair)), pair

    def test_introspection_reports_columns_and_comments(self, connection: Any, schema: str) -> None:
        self._create(connection, self._core_table(connection, schema))
        intro = connection.introspection
        columns = intro.columns(connection.run, schema, "core_types")
        assert [c.name for c in columns] == ["id", *CORE_VALUES]
        assert [c.name for c in columns if c.in_key] == ["id"]
        assert columns[0].comment == ":int32:key" and columns[0].default is None
        assert all(c.nullable and c.default == "null" for c in columns[1:])
        color = next(c for c in columns if c.name == "color")
        assert color.sql_type == "enum('red','green','blue')"
        assert intro.table_comment(connection.run, schema, "core_types") == "every core type"

    def test_foreign_keys_and_indexes(self, connection: Any, schema: str) -> None:
        dialect = connection.dialect
        i32 = dialect.core_type_sql("int32", schema=schema)
        self._create(connection, TableSpec(schema, "parent", (ColumnSpec("a", i32),), ("a",)))
        child = TableSpec(
            schema,
            "child",
            (ColumnSpec("a", i32), ColumnSpec("b", i32), ColumnSpec("c", i32)),
            ("a", "b"),
            foreign_keys=(
                ForeignKeySpec(("c",), schema, "parent", ("a",)),
                ForeignKeySpec(("a",), schema, "parent", ("a",)),
            ),
            indexes=(IndexSpec(("c",)), IndexSpec(("b", "c"), unique=True)),
        )
        self._create(connection, child)
        fks = connection.introspection.foreign_keys(connection.run, [schema])
        pairs = {(f.table, f.columns, f.ref_table, f.ref_columns) for f in fks}
        assert pairs == {("child", ("c",), "parent", ("a",)), ("child", ("a",), "parent", ("a",))}
        indexes = {
            (i.columns, i.unique)
            for i in connection.introspection.indexes(connection.run, schema, "child")
        }
        assert {(("c",), False), (("b", "c"), True)} <= indexes

    def test_bulk_reads_match_per_table_reads(self, connection: Any, schema: str) -> None:
        """schema_columns, table_comments and schema_indexes report what the per-table methods
        do, for every table, in a number of queries that does not grow with the tables."""
        i32 = connection.dialect.core_type_sql("int32", schema=schema)
        self._create(connection, self._core_table(connection, schema))
        self._create(connection, TableSpec(schema, "bare", (ColumnSpec("a", i32),), ("a",)))
        self._create(
            connection,
            TableSpec(
                schema,
                "indexed",
                (ColumnSpec("a", i32), ColumnSpec("b", i32, comment="b!")),
                ("a",),
                comment="has an index",
                foreign_keys=(ForeignKeySpec(("a",), schema, "bare", ("a",)),),
                indexes=(IndexSpec(("b",), unique=True),),
            ),
        )
        intro, calls = connection.introspection, []

        def run(sql: str, params: Any = ()) -> list[tuple]:
            calls.append(sql)
            return connection.run(sql, params)

        tables = intro.list_tables(connection.run, schema)
        columns = intro.schema_columns(run, schema)
        comments = intro.table_comments(run, schema)
        indexes = intro.schema_indexes(run, schema)
        assert list(columns) == tables == list(comments)
        assert len(calls) <= 8, calls
        for table in tables:
            assert columns[table] == intro.columns(connection.run, schema, table), table
            assert comments[table] == intro.table_comment(connection.run, schema, table)
            assert indexes.get(table, []) == intro.indexes(connection.run, schema, table)
        assert comments["indexed"] == "has an index" and comments["bare"] == ""
        assert (("b",), True) in {(i.columns, i.unique) for i in indexes["indexed"]}
        assert intro.schema_columns(connection.run, unique_schema_name("djnone")) == {}

    def test_cross_schema_foreign_key(self, connection: Any, schema: str) -> None:
        other = unique_schema_name("djcontract")
        for sql in connection.dialect.create_schema_sql(other):
            connection.query(sql)
        try:
            i32 = connection.dialect.core_type_sql("int32", schema=schema)
            self._create(connection, TableSpec(schema, "up", (ColumnSpec("a", i32),), ("a",)))
            self._create(
                connection,
                TableSpec(
                    other,
                    "down",
                    (ColumnSpec("a", i32),),
                    ("a",),
                    foreign_keys=(ForeignKeySpec(("a",), schema, "up", ("a",)),),
                ),
            )
            fks = connection.introspection.foreign_keys(connection.run, [other])
            assert [(f.ref_schema, f.ref_table) for f in fks] == [(schema, "up")]
            assert connection.introspection.downstream_schemas(connection.run, [schema]) == [other]
            assert connection.introspection.upstream_schemas(connection.run, [other]) == [schema]
            with pytest.raises(errors.IntegrityError):
                connection.query(connection.dialect.insert_sql(other, "down", ["a"], 1), [5])
        finally:
            for sql in connection.dialect.drop_table_sql(other, "down"):
                connection.query(sql)
            for sql in connection.dialect.drop_schema_sql(other):
                connection.query(sql)

    def test_errors_are_translated(self, connection: Any, schema: str) -> None:
        dialect = connection.dialect
        i32 = dialect.core_type_sql("int32", schema=schema)
        self._create(
            connection, TableSpec(schema, "t", (ColumnSpec("a", i32), ColumnSpec("b", i32)), ("a",))
        )
        insert = dialect.insert_sql(schema, "t", ["a", "b"], 1)
        connection.query(insert, [1, 1])
        with pytest.raises(errors.DuplicateError):
            connection.query(insert, [1, 2])
        with pytest.raises(errors.MissingTableError):
            connection.query(f"SELECT * FROM {dialect.full_table_name(schema, 'nope')}")
        with pytest.raises(errors.UnknownAttributeError):
            connection.query(
                f"SELECT {dialect.quote('zzz')} FROM {dialect.full_table_name(schema, 't')}"
            )
        with pytest.raises(errors.QuerySyntaxError):
            connection.query("SELEC 1")
        with pytest.raises((errors.MissingAttributeError, errors.IntegrityError)):
            connection.query(dialect.insert_sql(schema, "t", ["a"], 1), [9])

    def test_duplicate_modes(self, connection: Any, schema: str) -> None:
        dialect = connection.dialect
        i32 = dialect.core_type_sql("int32", schema=schema)
        self._create(
            connection, TableSpec(schema, "t", (ColumnSpec("a", i32), ColumnSpec("b", i32)), ("a",))
        )
        plain = dialect.insert_sql(schema, "t", ["a", "b"], 2)
        connection.query(plain, [1, 10, 2, 20])
        skip = dialect.insert_sql(
            schema, "t", ["a", "b"], 2, on_duplicate="skip", primary_key=["a"]
        )
        connection.query(skip, [2, 99, 3, 30])
        replace = dialect.insert_sql(
            schema, "t", ["a", "b"], 1, on_duplicate="replace", primary_key=["a"]
        )
        connection.query(replace, [1, 11])
        rows = connection.run(f"SELECT a, b FROM {dialect.full_table_name(schema, 't')} ORDER BY a")
        assert [tuple(r) for r in rows] == [(1, 11), (2, 20), (3, 30)]

    def test_values_are_bound_never_spliced(self, connection: Any, schema: str) -> None:
        dialect = connection.dialect
        vc = dialect.core_type_sql("varchar(200)", schema=schema)
        self._create(connection, TableSpec(schema, "s", (ColumnSpec("v", vc),), ("v",)))
        nasty = ["'; DROP TABLE s; --", "back\\slash", "100%", "%s", "?", "ünï ☃", "x" * 200]
        connection.query(dialect.insert_sql(schema, "s", ["v"], len(nasty)), nasty)
        for value in nasty:
            node = m.Select(
                m.TableSource(schema, "s"),
                (m.SelectItem(m.Column("v")),),
                where=m.Compare(m.Column("v"), "=", m.Param(value)),
            )
            assert [r[0] for r in connection.execute_model(node).fetchall()] == [value]

    def test_transactions_roll_back(self, connection: Any, schema: str) -> None:
        dialect = connection.dialect
        i32 = dialect.core_type_sql("int32", schema=schema)
        self._create(connection, TableSpec(schema, "t", (ColumnSpec("a", i32),), ("a",)))
        with pytest.raises(RuntimeError), connection.transaction:
            connection.query(dialect.insert_sql(schema, "t", ["a"], 1), [1])
            raise RuntimeError("abort")
        with connection.transaction:
            connection.query(dialect.insert_sql(schema, "t", ["a"], 1), [2])
        rows = connection.run(f"SELECT a FROM {dialect.full_table_name(schema, 't')}")
        assert [r[0] for r in rows] == [2]
        connection.start_transaction()
        with pytest.raises(errors.DataJointError, match=r"Nested connections are not supported\."):
            connection.start_transaction()
        connection.cancel_transaction()

    def test_server_time_matches_current_time_defaults(self, connection: Any, schema: str) -> None:
        """The jobs tables compare stored ``CURRENT_TIMESTAMP(3)`` defaults with the server's
        time, shifted by bound seconds (reservation, delays, stale and orphan timeouts)."""
        dialect = connection.dialect
        i32 = dialect.core_type_sql("int32", schema=schema)
        dt3 = dialect.core_type_sql("datetime(3)", schema=schema)
        columns = (ColumnSpec("a", i32), ColumnSpec("t", dt3, default="CURRENT_TIMESTAMP(3)"))
        self._create(connection, TableSpec(schema, "t", columns, ("a",)))
        connection.query(dialect.insert_sql(schema, "t", ["a"], 1), [1])
        now = dialect.escape_raw(dialect.current_timestamp_sql(3))
        table = dialect.full_table_name(schema, "t")

        def count(condition: str, params: list[Any]) -> int:
            return connection.run(f"SELECT COUNT(*) FROM {table} WHERE t {condition}", params)[0][0]

        assert count(f"<= {now}", []) == 1
        assert count(f"<= {dialect.shifted_timestamp_sql(now)}", [-3600.0]) == 0
        assert count(f"< {dialect.shifted_timestamp_sql(now)}", [1.5]) == 1

    def test_streaming_cursor_and_ping(self, connection: Any, schema: str) -> None:
        dialect = connection.dialect
        i32 = dialect.core_type_sql("int32", schema=schema)
        self._create(connection, TableSpec(schema, "t", (ColumnSpec("a", i32),), ("a",)))
        connection.query(dialect.insert_sql(schema, "t", ["a"], 50), list(range(50)))
        node = m.Select(m.TableSource(schema, "t"), order_by=(m.OrderItem(m.Column("a")),))
        cursor = connection.execute_model(node, streaming=True)
        assert [r[0] for r in cursor.fetchall()] == list(range(50))
        assert connection.ping()
        other = make_connection(self.backend_name, connection.conn_info["database_name"])
        try:
            assert isinstance(connection.connection_id, int)
            assert connection.connection_id != other.connection_id
        finally:
            other.close()


def project(select: m.Select, names: list[str]) -> m.Select:
    """``select`` with the select list ``names``."""
    return replace(select, items=tuple(m.SelectItem(m.Column(n)) for n in names))


def _core(core: str) -> str:
    """The core type name used for binding (``datetime(3)`` -> ``datetime``)."""
    return core.split("(")[0]
