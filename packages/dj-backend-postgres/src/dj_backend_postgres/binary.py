"""Cursors that read results in psycopg's binary format where it loads the same values as text.

``bytea`` is where the format matters: as text it travels as hex (twice its size) and is
hex-decoded on arrival; as binary it arrives as the bytes themselves, about four times faster to
read. Most other types load to identical Python values in both formats, at about the same speed,
with two exceptions: ``real`` (binary gives the float's exact double, 1.100000023841858; text its
shortest decimal, 1.1) and types psycopg has no loader for, which load as ``str`` from text but as
``bytes`` from binary. Of the latter, DataJoint tables have enum types, whose binary value is the
label's text: these cursors have the connection load them with psycopg's text loader.

:func:`binary_plan` decides from the result's native column types (as the catalog reports them)
before the statement runs; the cursors check the column types the server reports after it ran
and read the statement again as text when the result holds any other type, so a result never
differs from what the text format gives.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Self

import psycopg
from psycopg import postgres
from psycopg.abc import Params, Query
from psycopg.pq import Format
from psycopg.pq.abc import PGresult
from psycopg.rows import RowFactory

#: oids of the types whose binary results load to the same Python values as their text results:
#: bool, bytea, "char", name, int8, int2, int4, text, oid, json, float8, bpchar, varchar, date,
#: time, timestamp, timestamptz, interval, timetz, numeric, uuid, jsonb
SAME_IN_BINARY_OIDS = frozenset(
    {16, 17, 18, 19, 20, 21, 23, 25, 26, 114, 701, 1042, 1043, 1082, 1083, 1114}
    | {1184, 1186, 1266, 1700, 2950, 3802}
)

#: the same types as the catalog names them (ColumnInfo.sql_type without its modifiers)
SAME_IN_BINARY_TYPES = frozenset(
    {"boolean", "bytea", "smallint", "integer", "bigint", "text", "json", "jsonb", "char"}
    | {"varchar", "double precision", "numeric", "date", "time", "timetz", "timestamp"}
    | {"timestamptz", "interval", "uuid"}
)

#: the lowest oid the server gives to objects created after initdb, such as enum types
FIRST_USER_OID = 16384


def binary_plan(column_types: Sequence[str]) -> frozenset[int] | None:
    """The positions of the enum columns when a result of ``column_types`` is to be read in
    binary, or None when it is to be read as text.

    Binary is chosen where it pays, for a result with a ``bytea`` column, when every column has a
    type of :data:`SAME_IN_BINARY_TYPES` or is an enum (``enum(...)``).
    """
    enums = []
    has_bytea = False
    for position, sql_type in enumerate(column_types):
        base = _base_type(sql_type)
        if base == "enum":
            enums.append(position)
        elif base not in SAME_IN_BINARY_TYPES:
            return None
        has_bytea = has_bytea or base == "bytea"
    return frozenset(enums) if has_bytea else None


@functools.lru_cache(maxsize=512)
def read_plan(column_types: tuple[str, ...]) -> tuple[frozenset[int] | None, bool]:
    """:func:`binary_plan` of ``column_types`` and whether one of them is ``bytea``, kept per
    tuple of types (a table's fetches repeat the same few)."""
    plan = binary_plan(column_types)
    return plan, plan is not None or any(_base_type(t) == "bytea" for t in column_types)


def _base_type(sql_type: str) -> str:
    """A catalog type name without its modifiers: ``numeric(10,2)`` -> ``numeric``."""
    return sql_type.split("(", 1)[0].strip().lower()


def same_as_text(result: PGresult | None, enum_columns: frozenset[int], n_columns: int) -> bool:
    """Whether the binary ``result`` loads to the values its text format would give: every
    column has a type of :data:`SAME_IN_BINARY_OIDS`, or a user-defined type where the plan has
    an enum (only when the result has the planned number of columns)."""
    if result is None:
        return True
    planned = result.nfields == n_columns
    for position in range(result.nfields):
        oid = result.ftype(position)
        if oid in SAME_IN_BINARY_OIDS:
            continue
        if not (planned and position in enum_columns and oid >= FIRST_USER_OID):
            return False
    return True


def load_unknown_as_text(connection: psycopg.Connection[Any]) -> None:
    """Have ``connection`` load binary values of types psycopg does not know (here: enums) with
    its binary text loader, instead of as bytes. Only binary results are concerned, and on
    DataJoint's connections only these cursors ask for them."""
    text_loader = postgres.adapters.get_loader(postgres.types["text"].oid, Format.BINARY)
    assert text_loader is not None  # psycopg registers it
    if connection.adapters.get_loader(0, Format.BINARY) is not text_loader:
        connection.adapters.register_loader(0, text_loader)


class BinaryCursor(psycopg.Cursor[Any]):
    """A client cursor reading its result in binary, or as text where that would differ.

    ``enum_columns`` and ``n_columns`` are the plan (:func:`binary_plan`) of the statements it
    runs. A statement whose result has other column types than planned runs a second time, as
    text.
    """

    def __init__(
        self,
        connection: psycopg.Connection[Any],
        enum_columns: frozenset[int],
        n_columns: int,
        *,
        row_factory: RowFactory[Any],
    ) -> None:
        if enum_columns:
            load_unknown_as_text(connection)  # before the cursor copies the connection's loaders
        super().__init__(connection, row_factory=row_factory)
        self._plan = (enum_columns, n_columns)

    def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        """Run ``query`` with its result in binary, unless ``binary`` says otherwise."""
        statement: Any = query  # psycopg's overloads tell a Template (no params) apart
        if binary is not None:
            return super().execute(statement, params, prepare=prepare, binary=binary)
        super().execute(statement, params, prepare=prepare, binary=True)
        if not same_as_text(self.pgresult, *self._plan):
            super().execute(statement, params, prepare=prepare, binary=False)
        return self
