"""Insert: rows of many shapes into a table, in chunks of multi-row INSERTs, all or nothing.

The bulk path encodes column by column (values of a column's own plain type are bound unchanged,
see :class:`datajoint.encode.AttributeEncoder`), then sends one statement per chunk: a multi-row
``INSERT ... VALUES`` with bound parameters, or the driver's copy path (PostgreSQL ``COPY``) when the
dialect declares ``capabilities.copy_rows``. Values never become SQL text. A call with several
statements runs in one transaction (or a savepoint of the caller's); a single statement is atomic
by itself.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..algebra.expression import QueryExpression
from ..encode import DEFAULT, AttributeEncoder
from ..errors import DataError, DataJointError, DuplicateError, UnknownAttributeError
from ..heading import derived
from ..parallel import Pending
from ..transfers import insert_call
from .atomic import atomic
from .data_errors import data_error
from .provenance import PROV_COLUMN, provenance_value
from .rows import to_mappings

DEFAULT_CHUNK_ROWS = 10_000  # rows per multi-row INSERT statement
MAX_CHUNK_BYTES = 8 << 20  # keeps a statement with large values well below server packet limits
#: a statement of rows whose values the pool is still packing holds about this many bytes at
#: most: it goes out as soon as its few values are packed, so sending keeps pace with packing
#: (and a driver that escapes values into the statement text builds a small one for less CPU)
PIPELINED_CHUNK_BYTES = 2 << 20
#: below this many rows a multi-row INSERT (one round trip) beats the copy path (several)
COPY_MIN_ROWS = 500

Groups = dict[tuple[int, ...], list[tuple[Any, ...]]]


def check_direct_insert(table: Any, allow_direct_insert: bool | None) -> None:
    """Refuse inserts into Imported/Computed tables outside ``make()`` (SPEC §8)."""
    if getattr(table, "_auto_populated", False) and not (
        allow_direct_insert or getattr(type(table), "_allow_insert", False)
    ):
        raise DataJointError(
            "Inserts into an auto-populated table can only be done inside its make method during "
            "a populate call. To override, set keyword argument allow_direct_insert=True."
        )


class _Target:
    """What inserting into one table needs, worked out once per heading and then cached."""

    def __init__(self, table: Any, heading: Any) -> None:
        self.connection = table.connection
        self.dialect = self.connection.dialect
        self.known = heading._attributes
        self.names = heading.names
        self.schema, self.name = table.database, table.table_name
        self.full_name = table.full_table_name
        #: the unit of work's name in error notes
        self.what = f"Insert into {self.full_name}"
        self.primary_key = tuple(heading.full_primary_key)
        self.large = {n for n, a in self.known.items() if a.is_blob or a.is_json or a.codec_name}
        self.required = [
            a.name
            for a in heading.all_attributes
            if not (a.autoincrement or a.nullable or a.default is not None)
        ]
        self._encoders: dict[str, AttributeEncoder] = {}
        self._sql: dict[tuple, str] = {}
        self._plain: dict[tuple, _PlainShape | None] = {}

    def encoder(self, table: Any, name: str) -> AttributeEncoder:
        """The column's encoder; codec columns get a fresh one (their store comes from the
        configuration in force now)."""
        encoder = self._encoders.get(name)
        if encoder is None:
            encoder = AttributeEncoder(table, name)
            if encoder.attr.codec_name is None:
                self._encoders[name] = encoder
        return encoder

    def insert_sql(self, columns: tuple[str, ...], n_rows: int, mode: str) -> str:
        key = (columns, n_rows, mode)
        sql = self._sql.get(key)
        if sql is None:
            sql = self.dialect.insert_sql(
                self.schema,
                self.name,
                list(columns),
                n_rows,
                on_duplicate=mode,
                primary_key=self.primary_key,
            )
            if len(self._sql) < 64:
                self._sql[key] = sql
        return sql

    def plain_shape(self, table: Any, keys: tuple[str, ...], mode: str) -> _PlainShape | None:
        """How a single row with exactly ``keys`` is inserted when each value binds unchanged
        (None when such a row still needs the general path: an unknown key, a codec column,
        a column that always encodes, provenance to add)."""
        key = (keys, mode)
        if key in self._plain:
            return self._plain[key]
        shape = None
        if (
            keys
            and all(k in self.known for k in keys)
            and (PROV_COLUMN not in self.known or PROV_COLUMN in keys)
        ):
            encoders = [self.encoder(table, k) for k in keys]
            types = [getattr(e, "pass_through", ()) for e in encoders]
            if all(types) and not any(e.attr.codec_name for e in encoders):
                shape = _PlainShape(keys, tuple(types), self.insert_sql(keys, 1, mode))
        if len(self._plain) < 64:
            self._plain[key] = shape
        return shape


class _PlainShape:
    """A single-row INSERT of one key shape whose values bind as they are."""

    __slots__ = ("_checked", "columns", "sql", "types")

    def __init__(self, columns: tuple[str, ...], types: tuple[tuple[type, ...], ...], sql: str):
        self.columns, self.types, self.sql = columns, types, sql
        #: the value types seen that bind as they are, with the positions of their floats
        self._checked: dict[tuple[type, ...], tuple[int, ...]] = {}

    def binds_as_is(self, values: tuple[Any, ...]) -> bool:
        """Whether every value has one of its column's pass-through types and none is NaN."""
        kinds = tuple(map(type, values))
        floats = self._checked.get(kinds)
        if floats is None:
            if not all(map(operator.contains, self.types, kinds)):
                return False
            floats = tuple(i for i, kind in enumerate(kinds) if kind is float)
            if len(self._checked) < 64:
                self._checked[kinds] = floats
        for i in floats:  # a loop, not all(): no generator per row  # noqa: SIM110
            if values[i] != values[i]:
                return False
        return True


def _target(table: Any) -> _Target:
    """The table's insert plan, kept with its heading (:func:`datajoint.heading.derived`)."""
    heading = table.heading
    cache = derived(heading)
    target = cache.get(_Target)
    if target is None:
        target = cache[_Target] = _Target(table, heading)
    return target


def insert_rows(
    table: Any,
    rows: Any,
    *,
    replace: bool = False,
    skip_duplicates: bool = False,
    ignore_extra_fields: bool = False,
    allow_direct_insert: bool | None = None,
    chunk_size: int | None = None,
) -> None:
    """Insert ``rows`` into ``table`` (SPEC §8); the whole call is all or nothing."""
    check_direct_insert(table, allow_direct_insert)
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise DataJointError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    mode = "replace" if replace else "skip" if skip_duplicates else "error"
    if type(rows) is tuple and len(rows) == 1 and type(rows[0]) is dict:
        # insert1 of a dict, the common case: one cached statement when its values bind as is
        target = _target(table)
        if _insert_plain_row(target, table, rows[0], mode):
            return
        mappings: list[Mapping[str, Any]] = [rows[0]]
    else:
        if isinstance(rows, type) and issubclass(rows, QueryExpression):
            rows = rows()
        if isinstance(rows, QueryExpression):
            if chunk_size is not None:
                raise DataJointError("chunk_size is not supported for QueryExpression inserts")
            _insert_from_query(table, rows, mode, ignore_extra_fields)
            return
        target = _target(table)
        mappings = to_mappings(rows, target.names)
    if not mappings:
        return
    # objects written to stores while encoding are removed again when the call fails
    with insert_call(target.connection, target.schema):
        fields, groups = encode_rows(table, mappings, ignore_extra_fields, target)
        _check_empty_rows(target, groups)
        _write_groups(target, fields, groups, mode, chunk_size)


def _insert_plain_row(target: _Target, table: Any, row: dict[str, Any], mode: str) -> bool:
    """Insert ``row`` when every value has one of its column's pass-through types (and none is
    NaN), exactly as the general path would send it; False (nothing sent) otherwise."""
    shape = target.plain_shape(table, tuple(row), mode)
    if shape is None:
        return False
    values = tuple(row.values())
    if not shape.binds_as_is(values):
        return False
    try:
        _execute_chunk(target, shape.columns, [values], mode, shape.sql)
    except BaseException as error:
        # ``with atomic(..., single=True)`` without its cost on success: one statement has
        # nothing to begin or undo, the unit only notes on the error what became of the row
        unit = atomic(target.connection, target.what, single=True)
        unit.begin()
        unit.rollback(error)
        raise
    return True


# ---- fields and encoding ---------------------------------------------------------------------
def _fields(known: Mapping[str, Any], first: Mapping[str, Any], ignore_extra: bool) -> list[str]:
    fields = []
    for key in first:
        if key in known:
            fields.append(key)
        elif not ignore_extra:
            raise KeyError(f"`{key}` is not in the table heading")
    return fields


def _check_same_fields(
    mappings: list[Mapping[str, Any]], fields: list[str], known: Any, ignore_extra: bool
) -> None:
    """Every row gives the same known fields as the first one (SPEC §8).

    When every row has as many keys as the first and the first has no extra keys, a row with a
    different key set must lack one of the fields, which extraction reports; otherwise each row
    is compared.
    """
    first = mappings[0]
    if len(fields) == len(first) and set(map(len, mappings)) == {len(first)}:
        return
    wanted = set(fields)
    first_keys = first.keys()
    for row in mappings:
        keys = row.keys()
        if keys == first_keys:
            continue
        present = {k for k in keys if k in known}
        if present != wanted:
            raise DataJointError("Attempt to insert rows with different fields.")
        if not ignore_extra and len(present) != len(keys):
            extra = next(k for k in keys if k not in known)
            raise KeyError(f"`{extra}` is not in the table heading")


class _Values:
    """The rows' values for ``fields``: row tuples, and each column on demand.

    Rows are extracted once with ``itemgetter`` (C speed); a column is read out of them only
    when it has to be checked or encoded, so a table of plain values is never transposed.
    """

    def __init__(self, mappings: list[Mapping[str, Any]], fields: list[str]) -> None:
        self.count = len(mappings)
        self.rows: list[tuple[Any, ...]] | None = None
        self.single: list[Any] | None = None
        try:
            if len(fields) >= 2:
                self.rows = list(map(operator.itemgetter(*fields), mappings))
            elif len(fields) == 1:
                name = fields[0]
                self.single = [row[name] for row in mappings]
        except KeyError:
            raise DataJointError("Attempt to insert rows with different fields.") from None

    def iterate(self, index: int) -> Iterator[Any]:
        if self.single is not None:
            return iter(self.single)
        assert self.rows is not None
        return map(operator.itemgetter(index), self.rows)

    def column(self, index: int) -> list[Any]:
        return self.single if self.single is not None else list(self.iterate(index))


def _bound_unchanged(encoder: AttributeEncoder, values: _Values, index: int) -> bool:
    """Whether ``encoder.column(values)`` would return the values as they are: every value has
    one of the column's pass-through types and none is NaN."""
    simple = getattr(encoder, "pass_through", ())
    if not simple:
        return False
    types = set(map(type, values.iterate(index)))
    if not types.issubset(simple):
        return False
    return float not in types or not any(map(math.isnan, values.iterate(index)))


def encode_rows(
    table: Any,
    mappings: list[Mapping[str, Any]],
    ignore_extra_fields: bool,
    target: _Target | None = None,
) -> tuple[list[str], Groups]:
    """Check the fields and encode every value; rows are grouped by the fields they bind
    (a value left to the column default is left out of its row)."""
    target = target or _target(table)
    known = target.known
    fields = _fields(known, mappings[0], ignore_extra_fields)
    _check_same_fields(mappings, fields, known, ignore_extra_fields)
    values = _Values(mappings, fields)
    encoded: dict[int, list[Any]] = {}
    for index, name in enumerate(fields):
        encoder = target.encoder(table, name)
        if not _bound_unchanged(encoder, values, index):
            encoded[index] = encoder.column(values.column(index), mappings, pipelined=True)
    if PROV_COLUMN in known and PROV_COLUMN not in fields:
        value = provenance_value(table)
        if value is not None:
            prov = target.encoder(table, PROV_COLUMN)(value)
            encoded[len(fields)] = [prov] * len(mappings)
            fields = [*fields, PROV_COLUMN]
    everything = tuple(range(len(fields)))
    if not encoded and values.rows is not None:
        return fields, {everything: values.rows}
    if not fields:
        return fields, {everything: [()] * len(mappings)}
    columns = [encoded[i] if i in encoded else values.column(i) for i in everything]
    rows = list(zip(*columns, strict=True))  # a handful of columns: fast
    is_default = operator.is_
    if not any(any(map(is_default, col, itertools.repeat(DEFAULT))) for col in encoded.values()):
        return fields, {everything: rows}
    groups: Groups = {}
    for row in rows:
        kept = tuple(i for i, v in enumerate(row) if v is not DEFAULT)
        groups.setdefault(kept, []).append(tuple(row[i] for i in kept))
    return fields, groups


def _check_empty_rows(target: _Target, groups: Groups) -> None:
    if () in groups and target.required:
        raise DataJointError(
            f"Cannot insert empty row. The following attributes require values: {target.required}"
        )


# ---- statements ------------------------------------------------------------------------------
def _row_bytes(row: tuple[Any, ...]) -> int:
    return sum(len(v) for v in row if isinstance(v, bytes | bytearray | memoryview | str))


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple]]:
    """Successive lists of at most ``size`` rows."""
    if isinstance(rows, list):
        for start in range(0, len(rows), size):
            yield rows[start : start + size]
        return
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _chunks(
    rows: Iterable[tuple[Any, ...]], per_chunk: int, max_bytes: int | None
) -> Iterator[list[tuple]]:
    """Successive chunks of at most ``per_chunk`` rows (and about ``max_bytes`` when given)."""
    if max_bytes is None:
        yield from _batches(rows, per_chunk)
        return
    chunk: list[tuple] = []
    size = 0
    for row in rows:
        row_size = _row_bytes(row)
        if chunk and (len(chunk) >= per_chunk or size + row_size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(row)
        size += row_size
    if chunk:
        yield chunk


def _collected(rows: list[tuple[Any, ...]], positions: list[int]) -> Iterator[tuple[Any, ...]]:
    """The rows, one at a time, with the pool's results in place of the placeholders at
    ``positions``: a row waits only for its own values while later ones are still packed."""
    for row in rows:
        values = list(row)
        for i in positions:
            values[i] = values[i].result()
        yield tuple(values)


def _pending_positions(rows: list[tuple[Any, ...]]) -> list[int]:
    """Where the rows of a group hold :class:`Pending` values (a column's values are pending
    in all rows of a group or in none: its None values, left to the default, group apart)."""
    return [i for i, value in enumerate(rows[0]) if type(value) is Pending] if rows else []


def _statements(
    target: _Target, fields: list[str], groups: Groups, mode: str, chunk_size: int | None
) -> Iterator[tuple[tuple[str, ...], list[tuple]]]:
    """(columns, rows) of every statement the insert sends, in order. Rows with values being
    packed on the pool are collected as their statement is produced, so the caller sends one
    statement while the pool packs the values of the next ones; such statements hold about
    :data:`PIPELINED_CHUNK_BYTES` at most, so that each waits for few values."""
    capabilities = target.dialect.capabilities
    for kept, rows in groups.items():
        columns = tuple(fields[i] for i in kept)
        if not columns:
            yield from (((), [row]) for row in rows)  # one DEFAULT VALUES row per statement
            continue
        positions = _pending_positions(rows)
        source = _collected(rows, positions) if positions else rows
        if capabilities.copy_rows and mode == "error" and len(rows) >= COPY_MIN_ROWS:
            yield from ((columns, chunk) for chunk in _batches(source, chunk_size or len(rows)))
            continue
        per_chunk = max(1, capabilities.max_bind_parameters // len(columns))
        per_chunk = min(per_chunk, chunk_size or DEFAULT_CHUNK_ROWS)
        max_bytes = None
        if chunk_size is None and not target.large.isdisjoint(columns):
            max_bytes = (
                min(PIPELINED_CHUNK_BYTES, MAX_CHUNK_BYTES) if positions else MAX_CHUNK_BYTES
            )
        yield from ((columns, chunk) for chunk in _chunks(source, per_chunk, max_bytes))


def _write_groups(
    target: _Target, fields: list[str], groups: Groups, mode: str, chunk_size: int | None
) -> None:
    """Send the statements in one unit of work. When values are still being packed the
    number of statements is known only at the end (their sizes decide the chunks)."""
    statements: Iterable[tuple[tuple[str, ...], list[tuple]]]
    statements = _statements(target, fields, groups, mode, chunk_size)
    total = None
    if not any(map(_pending_positions, groups.values())):
        statements = list(statements)
        total = len(statements)
    of = f" of {total}" if total else ""
    with atomic(target.connection, target.what, single=total == 1):
        for number, (columns, rows) in enumerate(statements, 1):
            try:
                _execute_chunk(target, columns, rows, mode)
            except BaseException as error:
                if total != 1 and hasattr(error, "add_note"):
                    error.add_note(f"Statement {number}{of} ({len(rows)} rows) failed.")
                raise


def _execute_chunk(
    target: _Target,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    mode: str,
    sql: str | None = None,
) -> None:
    """Send one chunk (``sql``: its statement when the caller has it), adding the insert hints
    of SPEC §8 to duplicate and unknown-attribute errors and naming the attribute and value of
    a DataError. Plain ``try`` blocks rather than context managers: this runs per statement."""
    conn = target.connection
    try:
        try:
            if (
                len(rows) >= COPY_MIN_ROWS  # first: a single row is decided at once
                and columns
                and mode == "error"
                and target.dialect.capabilities.copy_rows
            ):
                conn.copy_rows(target.schema, target.name, columns, rows)
                return
            if sql is None:
                sql = target.insert_sql(columns, len(rows) if columns else 1, mode)
            if not columns:
                params: list[Any] = []
            elif len(rows) == 1:
                params = list(rows[0])
            else:
                params = list(itertools.chain.from_iterable(rows))
            conn.query(sql, params, transient=True)
        except DataError as error:
            raise data_error(error, target.full_name, target.known, columns, rows) from (
                error.__cause__ or error
            )
    except (DuplicateError, UnknownAttributeError) as error:
        raise _with_hint(error) from error


def _with_hint(error: DuplicateError | UnknownAttributeError) -> DataJointError:
    """The error with the insert hint of SPEC §8 appended."""
    if isinstance(error, DuplicateError):
        return error.suggest("To ignore duplicate entries in insert, set skip_duplicates=True")
    return error.suggest("To ignore extra fields in insert, set ignore_extra_fields=True")


# ---- INSERT ... SELECT -----------------------------------------------------------------------
def _insert_from_query(table: Any, query: QueryExpression, mode: str, ignore_extra: bool) -> None:
    """``INSERT INTO t (fields) SELECT ...``: one statement, so atomic by itself."""
    target = table.heading._attributes
    fields = []
    for name in query.heading.names:
        if name in target:
            fields.append(name)
        elif not ignore_extra:
            raise DataJointError(
                f"Attribute {name} not found. To ignore extra attributes in insert, "
                "set ignore_extra_fields=True."
            )
    if PROV_COLUMN in target and PROV_COLUMN in query.heading._attributes:
        fields.append(PROV_COLUMN)  # provenance travels with the rows it describes
    conn = table.connection
    select_sql, params = conn.dialect.render(query.make_select(fields))
    sql = conn.dialect.insert_select_sql(
        table.database,
        table.table_name,
        fields,
        select_sql,
        on_duplicate=mode,
        primary_key=table.heading.full_primary_key,
    )
    try:
        with atomic(conn, f"Insert into {table.full_table_name}", single=True):
            conn.query(sql, params)
    except (DuplicateError, UnknownAttributeError) as error:
        raise _with_hint(error) from error
