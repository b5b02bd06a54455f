"""Insert: rows of many shapes into a table, in chunks of multi-row INSERTs, all or nothing."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .algebra.expression import QueryExpression
from .encode import DEFAULT, AttributeEncoder
from .errors import DataJointError, DuplicateError, UnknownAttributeError

DEFAULT_CHUNK_ROWS = 10_000  # rows per multi-row INSERT statement


def _rows_of(rows: Any) -> Iterable[Any]:
    """Normalise the accepted inputs to an iterable of mappings or sequences."""
    kind = type(rows).__module__.split(".")[0], type(rows).__name__
    if kind == ("pandas", "DataFrame") or (
        hasattr(rows, "reset_index") and hasattr(rows, "to_dict")
    ):
        index = rows.index
        single_unnamed = getattr(index, "nlevels", 1) == 1 and index.name is None
        frame = rows.reset_index(drop=single_unnamed)
        return frame.to_dict(orient="records")
    if kind[0] == "polars" and hasattr(rows, "to_dicts"):
        return rows.to_dicts()
    if kind[0] == "pyarrow" and hasattr(rows, "to_pylist"):
        return rows.to_pylist()
    if isinstance(rows, Path):
        import csv

        with rows.open(newline="") as f:
            return list(csv.DictReader(f))
    if isinstance(rows, np.ndarray) and rows.dtype.names:
        return [{n: r[n] for n in rows.dtype.names} for r in rows]
    return rows


def _as_mapping(row: Any, heading_names: list[str]) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if isinstance(row, np.void) and row.dtype.names:
        return {n: row[n] for n in row.dtype.names}
    if isinstance(row, Sequence) and not isinstance(row, str | bytes):
        warnings.warn(
            "Inserting positional rows is deprecated; insert dicts instead.",
            DeprecationWarning,
            stacklevel=4,
        )
        if len(row) != len(heading_names):
            raise DataJointError(
                "Invalid insert argument. Incorrect number of attributes: "
                f"{len(row)} given; {len(heading_names)} expected"
            )
        return dict(zip(heading_names, row, strict=True))
    raise DataJointError(f"Datatype {type(row)} cannot be inserted")


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
    """Insert ``rows`` into ``table`` (SPEC §8); the whole call is one transaction."""
    if getattr(table, "_auto_populated", False) and not (
        allow_direct_insert or getattr(type(table), "_allow_insert", False)
    ):
        raise DataJointError(
            "Inserts into an auto-populated table can only be done inside its make method during "
            "a populate call. To override, set keyword argument allow_direct_insert=True."
        )
    if isinstance(rows, type) and issubclass(rows, QueryExpression):
        rows = rows()
    if isinstance(rows, QueryExpression):
        if chunk_size is not None:
            raise DataJointError("chunk_size is not supported for QueryExpression inserts")
        _insert_from_query(table, rows, replace, skip_duplicates, ignore_extra_fields)
        return
    heading = table.heading
    names = heading.names
    mappings = [_as_mapping(r, names) for r in _rows_of(rows)]
    if not mappings:
        return
    fields = _fields(table, mappings[0], ignore_extra_fields)
    _check_same_fields(mappings, fields, heading._attributes)
    columns = [
        AttributeEncoder(table, name).column([row[name] for row in mappings]) for name in fields
    ]
    groups: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
    if not any(DEFAULT in col for col in columns):
        groups[tuple(range(len(fields)))] = list(zip(*columns, strict=True)) or [()] * len(mappings)
    else:
        for values in zip(*columns, strict=True):
            kept = tuple(i for i, v in enumerate(values) if v is not DEFAULT)
            groups.setdefault(kept, []).append(tuple(values[i] for i in kept))
    mode = "replace" if replace else "skip" if skip_duplicates else "error"
    _check_empty_rows(table, groups)
    _write_groups(table, fields, groups, mode, chunk_size)


def _check_same_fields(mappings: list[Mapping[str, Any]], fields: list[str], known: Any) -> None:
    """Every row must give the same known fields as the first one."""
    wanted = set(fields)
    first_keys = mappings[0].keys()
    for row in mappings:
        keys = row.keys()
        if keys == first_keys:
            continue
        if {k for k in keys if k in known} != wanted:
            raise DataJointError("Attempt to insert rows with different fields.")


def _fields(table: Any, first: Mapping[str, Any], ignore_extra: bool) -> list[str]:
    names = table.heading._attributes
    fields = []
    for key in first:
        if key in names:
            fields.append(key)
        elif not ignore_extra:
            raise KeyError(f"`{key}` is not in the table heading")
    return fields


def _check_empty_rows(table: Any, groups: dict[tuple[int, ...], list[tuple[Any, ...]]]) -> None:
    if () not in groups:
        return
    required = [
        a.name
        for a in table.heading.all_attributes
        if not (a.autoincrement or a.nullable or a.default is not None)
    ]
    if required:
        raise DataJointError(
            f"Cannot insert empty row. The following attributes require values: {required}"
        )


def _write_groups(
    table: Any,
    fields: list[str],
    groups: dict[tuple[int, ...], list[tuple[Any, ...]]],
    mode: str,
    chunk_size: int | None,
) -> None:
    conn = table.connection
    dialect = conn.dialect
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.start_transaction()
    try:
        for kept, values in groups.items():
            columns = [fields[i] for i in kept]
            per_row = max(len(columns), 1)
            if dialect.capabilities.copy_rows and mode == "error" and columns:
                rows_per_chunk = chunk_size or len(values)  # one COPY streams every row
            else:
                by_params = max(1, dialect.capabilities.max_bind_parameters // per_row)
                rows_per_chunk = min(by_params, chunk_size or DEFAULT_CHUNK_ROWS)
            for start in range(0, len(values), rows_per_chunk):
                chunk = values[start : start + rows_per_chunk]
                _execute_chunk(table, columns, chunk, mode)
    except BaseException:
        if own_transaction:
            conn.cancel_transaction()
        raise
    if own_transaction:
        conn.commit_transaction()


def _execute_chunk(table: Any, columns: list[str], chunk: list[tuple[Any, ...]], mode: str) -> None:
    conn = table.connection
    dialect = conn.dialect
    statements: list[tuple[str, list[Any]]]
    if columns and mode == "error" and dialect.capabilities.copy_rows:
        with _hints():
            conn.copy_rows(table.database, table.table_name, columns, chunk)
        return
    if columns:
        sql = dialect.insert_sql(
            table.database,
            table.table_name,
            columns,
            len(chunk),
            on_duplicate=mode,
            primary_key=table.primary_key,
        )
        statements = [(sql, list(itertools.chain.from_iterable(chunk)))]
    else:
        sql = dialect.insert_sql(
            table.database,
            table.table_name,
            [],
            1,
            on_duplicate=mode,
            primary_key=table.primary_key,
        )
        statements = [(sql, [])] * len(chunk)
    with _hints():
        for sql, params in statements:
            conn.query(sql, params)


@contextmanager
def _hints() -> Iterator[None]:
    """Add the insert hints of SPEC §8 to duplicate and unknown-attribute errors."""
    try:
        yield
    except DuplicateError as error:
        raise error.suggest(
            "To ignore duplicate entries in insert, set skip_duplicates=True"
        ) from None
    except UnknownAttributeError as error:
        raise error.suggest(
            "To ignore extra fields in insert, set ignore_extra_fields=True"
        ) from None


def _insert_from_query(
    table: Any, query: QueryExpression, replace: bool, skip_duplicates: bool, ignore_extra: bool
) -> None:
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
    if skip_duplicates:
        query = query - table.proj()
    dialect = table.connection.dialect
    select_sql, params = dialect.render(query.make_select(fields))
    head = dialect.insert_sql(
        table.database,
        table.table_name,
        fields,
        1,
        on_duplicate="replace" if replace else "error",
        primary_key=table.primary_key,
    )
    sql = head[: head.index(" VALUES ")] + " " + select_sql
    with _maybe_transaction(table.connection):
        table.connection.query(sql, params)


class _maybe_transaction:
    """Joins the caller's transaction, or runs one of its own."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.own = not conn.in_transaction

    def __enter__(self) -> None:
        if self.own:
            self.conn.start_transaction()

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if not self.own:
            return
        if exc_type is None:
            self.conn.commit_transaction()
        else:
            self.conn.cancel_transaction()
