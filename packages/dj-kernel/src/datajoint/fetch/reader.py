"""Reading rows from a cursor: ordering, batches, streaming and decoding into dicts.

Every fetch format reads through :func:`row_batches`: rows are taken from one cursor in batches of
:data:`BATCH_ROWS` so that no format holds the driver's rows and its own result in full at the same
time. Large results use the backend's server-side (streaming) cursor when it declares one
(``capabilities.server_side_cursors``); small ones are answered by one buffered statement first
(:func:`probe`). SQLite steps its statement lazily anyway.

A fetch of codec columns that may decode on several threads (blobs) on a backend whose streaming
cursor is cheap (``capabilities.cheap_streaming``) reads through :func:`decoded_batches` instead:
one streaming cursor, the large values decoded on the codec pool while the next rows arrive, so
reading and decoding overlap (:func:`read_batches` picks the path).
"""

from __future__ import annotations

import contextvars
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import closing
from dataclasses import replace
from typing import Any

import numpy as np

from ..algebra import model as m
from ..algebra.top import Top
from ..codecs import column_chain
from ..decode import StoreDecoder, decoders_for
from ..parallel import (
    AHEAD_BYTES,
    LARGE_VALUE,
    cancel_and_wait,
    ordered_map,
    several_workers,
    submit_in_context,
    value_size,
    worth_parallel,
)

#: rows taken from the cursor at a time
BATCH_ROWS = 16384
#: results up to this many rows are read with one buffered statement, never a streaming cursor
PROBE_ROWS = 1024
#: distinct row shapes whose generated dict makers are kept
_MAX_MAKERS = 512
#: bytes of decoded-column values a batch of :func:`decoded_batches` aims at (its row count
#: follows the sizes of the rows read so far)
DECODE_BATCH_BYTES = 4 << 20

Decoder = Callable[[Any], Any]


def apply_order(
    query: Any,
    order_by: str | Sequence[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Any:
    """``query`` with the fetch arguments ``order_by``/``limit``/``offset`` applied (SPEC §6.8).

    Any of them applies ``dj.Top(limit, order_by, offset)``, so a limit alone orders by the
    primary key, an offset without a limit keeps every following row, and a Top already on the
    query is merged with (or wrapped by) the new one. Order items are attribute names with an
    optional ASC/DESC, or ``"KEY"``/``"KEY DESC"``; they are quoted as identifiers, never SQL.
    """
    if order_by is None and limit is None and not offset:
        return query
    if order_by is not None and not isinstance(order_by, str):
        order_by = list(order_by)
    return query & Top(limit, order_by, offset or 0)


def key_names(query: Any) -> list[str]:
    """The visible primary-key attributes of ``query``, in heading order."""
    return query.heading.primary_key


def use_streaming(connection: Any, select: m.Select) -> bool:
    """Whether ``select`` may be large enough to read through the backend's streaming cursor:
    the backend has one (``capabilities.server_side_cursors``) and the statement has no limit at
    or below one batch."""
    if not connection.dialect.capabilities.server_side_cursors:
        return False
    return select.limit is None or select.limit > BATCH_ROWS


def result_types(query: Any, names: Sequence[str]) -> list[str] | None:
    """The native types of the columns ``names`` of ``query`` for a driver's typed cursor
    (``capabilities.typed_cursors``), else None."""
    if not query.connection.dialect.capabilities.typed_cursors:
        return None
    heading = query.heading
    return [heading[name].sql_type for name in names]


def probe(
    connection: Any, select: m.Select, column_types: Sequence[str] | None = None
) -> list[tuple] | None:
    """The whole result when it has at most :data:`PROBE_ROWS` rows, else None.

    A server-side cursor may cost extra round trips (a DECLARE/FETCH/CLOSE cursor does), which
    would dominate the many small fetches of a pipeline; one buffered statement capped at
    ``PROBE_ROWS + 1`` rows answers those and tells a large result apart. A large result is then
    read again through the streaming cursor, so only the probe's few rows are read twice.
    """
    cursor = connection.execute_model(
        replace(select, limit=PROBE_ROWS + 1), column_types=column_types
    )
    try:
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return list(rows) if len(rows) <= PROBE_ROWS else None


def row_batches(
    query: Any,
    names: Sequence[str],
    *,
    streaming: bool | None = None,
    batch_rows: int | None = None,
    max_rows: int | None = None,
) -> Generator[list[tuple], None, None]:
    """The rows of ``query`` (columns ``names``) as lists of tuples, one batch at a time.

    ``streaming=None`` decides with :func:`use_streaming`, reading small results in one
    buffered statement (:func:`probe`). ``max_rows`` caps an unlimited
    statement with a bare LIMIT (no ordering: for callers that only count, such as ``fetch1``).
    The cursor is closed when the batches are exhausted or the generator is closed, so a
    streaming cursor never outlives its fetch.
    """
    select = query.make_select(list(names), max_rows=max_rows)
    connection = query.connection
    types = result_types(query, names)
    if streaming is None:
        streaming = use_streaming(connection, select)
        small = probe(connection, select, types) if streaming else None
        if small is not None:
            if small:
                yield small
            return
    batch_rows = batch_rows or BATCH_ROWS
    cursor = connection.execute_model(select, streaming=streaming, column_types=types)
    try:
        while True:
            batch = cursor.fetchmany(batch_rows)
            if not batch:
                return
            yield batch if isinstance(batch, list) else list(batch)
    finally:
        cursor.close()


def squeezed(value: Any) -> Any:
    """An array value without its singleton dimensions (``squeeze=True``); other values as is."""
    return value.squeeze() if isinstance(value, np.ndarray) else value


def column_decoders(
    query: Any, names: Sequence[str], squeeze: bool = False
) -> list[Decoder | None]:
    """One decoder per column (None where the driver's value is final).

    Decoders are never called with None: a NULL stays None. With ``squeeze`` array values lose
    their singleton dimensions (codec columns are squeezed by their decoder).
    """
    heading = query.heading
    decoders = _plain_decoders(query, heading, names)
    if decoders is None:
        decoders = decoders_for(query, list(names), squeeze=squeeze)
    if not squeeze:
        return decoders
    out: list[Decoder | None] = []
    for name, decode in zip(names, decoders, strict=True):
        attr = heading[name]
        if attr.codec_name or not attr.is_blob:
            out.append(decode)
        elif decode is None:
            out.append(squeezed)
        else:
            out.append(_then_squeezed(decode))
    return out


#: decoders of codec-free column lists, per heading: (dialect, decoders) by column names
_PLAIN_DECODERS: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], tuple[Any, tuple]]] = (
    weakref.WeakKeyDictionary()
)


def _plain_decoders(query: Any, heading: Any, names: Sequence[str]) -> list[Decoder | None] | None:
    """The decoders of ``names`` when none of them has a codec, worked out once per heading,
    column list and dialect (they depend on nothing else); None for a list with a codec column,
    whose decoders :func:`decoders_for` builds each time (codecs may be registered anew)."""
    dialect = query.connection.dialect
    shape = tuple(names)
    cache = _PLAIN_DECODERS.get(heading)
    if cache is None or len(cache) >= _MAX_MAKERS:
        cache = _PLAIN_DECODERS[heading] = {}
    entry = cache.get(shape)
    if entry is None or entry[0] is not dialect:
        if any(heading[name].codec_name is not None for name in shape):
            return None
        entry = cache[shape] = (dialect, tuple(decoders_for(query, list(shape))))
    return list(entry[1])


def _then_squeezed(decode: Decoder) -> Decoder:
    return lambda value: squeezed(decode(value))


def dict_maker(
    names: Sequence[str], decoders: Sequence[Decoder | None]
) -> Callable[[Iterable[tuple]], list[dict[str, Any]]]:
    """A function turning a batch of row tuples into decoded dicts.

    Each row costs one dict display and one call per decoded value: a comprehension over
    unpacked tuples, several times faster than ``dict(zip(names, row))``. The comprehension is
    generated once per shape (the names and which of them decode) and reused by every fetch of
    that shape with its own decoders, so a small fetch does not pay for compiling it.
    """
    if not names:
        return lambda rows: [{} for _ in rows]
    shape = (tuple(names), tuple(d is not None for d in decoders))
    factory = _MAKER_FACTORIES.get(shape)
    if factory is None:
        if len(_MAKER_FACTORIES) >= _MAX_MAKERS:  # ad-hoc shapes must not grow it forever
            _MAKER_FACTORIES.clear()
        factory = _MAKER_FACTORIES[shape] = _maker_factory(*shape)
    return factory(*(d for d in decoders if d is not None))


#: generated row-maker factories by (names, which names decode)
_MAKER_FACTORIES: dict[tuple[tuple[str, ...], tuple[bool, ...]], Callable[..., Any]] = {}


def _maker_factory(names: tuple[str, ...], decoded: tuple[bool, ...]) -> Callable[..., Any]:
    """Compile ``factory(*decoders) -> make(rows)`` for one shape. Names enter the source only
    through ``repr`` (string literals)."""
    items, params = [], []
    for i, (name, decodes) in enumerate(zip(names, decoded, strict=True)):
        if decodes:
            params.append(f"d{i}")
            items.append(f"{name!r}: (None if v{i} is None else d{i}(v{i}))")
        else:
            items.append(f"{name!r}: v{i}")
    targets = ", ".join(f"v{i}" for i in range(len(names)))
    source = (
        f"def factory({', '.join(params)}):\n"
        f"    def make(rows):\n"
        f"        return [{{{', '.join(items)}}} for ({targets},) in rows]\n"
        f"    return make\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # the generated source holds only literals and local names
    return namespace["factory"]


def concurrent_columns(query: Any, names: Sequence[str]) -> list[int]:
    """Positions of the codec columns whose codecs may decode on several threads at once."""
    heading = query.heading
    return [
        i
        for i, name in enumerate(names)
        if heading[name].codec_name is not None and column_chain(heading[name].type).concurrent
    ]


def decode_column(decode: Decoder, values: Iterable[Any], concurrent: bool) -> list[Any]:
    """``decode`` applied to each non-NULL value, on the thread pool when ``concurrent`` and
    the column holds several large values; in order either way. A store-backed column
    (:class:`~datajoint.decode.StoreDecoder`) reads its objects in batches on the I/O pool."""

    def run(value: Any) -> Any:
        return None if value is None else decode(value)

    values = list(values)
    if isinstance(decode, StoreDecoder):
        return decode.column(values)
    if concurrent and worth_parallel(values):
        return ordered_map(run, values)
    return [run(v) for v in values]


class BatchMaker:
    """Turns batches of rows into decoded dicts, decoding a batch's large values of concurrent
    codec columns (e.g. blobs: zlib releases the GIL) on the thread pool first, and the values
    of store-backed columns a column at a time (their objects read in batches).

    :meth:`batches` reads the query's rows, overlapping reading with decoding where
    :func:`overlapped_columns` allows; :meth:`decoded` makes the dicts of a batch whose values
    it decoded already."""

    def __init__(self, query: Any, names: Sequence[str], squeeze: bool = False) -> None:
        self.names = list(names)
        self.decoders = column_decoders(query, self.names, squeeze)
        self.make = dict_maker(self.names, self.decoders)
        self.concurrent = [
            i for i in concurrent_columns(query, self.names) if self.decoders[i] is not None
        ]
        self.store = [i for i, d in enumerate(self.decoders) if isinstance(d, StoreDecoder)]
        self.overlapped = overlapped_columns(query, self.names, self.decoders, self.concurrent)
        self._make_rest: Callable[[Iterable[tuple]], list[dict[str, Any]]] | None = None

    def __call__(self, batch: list[tuple]) -> list[dict[str, Any]]:
        if not (self.concurrent or self.store) or len(batch) < 2:
            return self.make(batch)
        hot = {i: [row[i] for row in batch] for i in self.store}
        for i in self.concurrent:
            column = [row[i] for row in batch]
            if i not in hot and worth_parallel(column):
                hot[i] = column
        if not hot:
            return self.make(batch)
        rows = [list(row) for row in batch]
        for i, column in hot.items():
            decode = self.decoders[i]
            assert decode is not None
            for row, value in zip(rows, decode_column(decode, column, True), strict=True):
                row[i] = value
        decoders = [None if i in hot else d for i, d in enumerate(self.decoders)]
        return dict_maker(self.names, decoders)(rows)  # type: ignore[arg-type]

    def batches(self, query: Any) -> Generator[tuple[list[tuple], bool], None, None]:
        """The rows of ``query`` as ``(rows, decoded)`` batches (:func:`read_batches`)."""
        return read_batches(query, self.names, self.decoders, self.overlapped)

    def decoded(self, batch: list[tuple]) -> list[dict[str, Any]]:
        """The dicts of a batch whose :attr:`overlapped` columns are decoded already."""
        if self._make_rest is None:
            rest = [None if i in self.overlapped else d for i, d in enumerate(self.decoders)]
            self._make_rest = dict_maker(self.names, rest)
        return self._make_rest(batch)


def overlapped_columns(
    query: Any,
    names: Sequence[str],
    decoders: Sequence[Decoder | None],
    concurrent: Sequence[int],
) -> list[int]:
    """Positions of the columns :func:`decoded_batches` decodes while reading the rows; [] when
    the fetch reads as usual (:func:`row_batches`).

    Overlapping needs a backend whose streaming cursor reads the reply of the one statement as
    it arrives (``capabilities.cheap_streaming``), a fetch whose codec columns are all among
    ``concurrent`` (:func:`concurrent_columns`: they may decode on any thread) and none reads a
    store -- so no decoder uses the connection, which the open cursor holds until the last row
    is read -- and a codec pool of several threads (the caller not being one of them).
    """
    if not query.connection.dialect.capabilities.cheap_streaming:
        return []
    heading = query.heading
    positions = [i for i, name in enumerate(names) if heading[name].codec_name is not None]
    if not positions or not several_workers():
        return []
    for i in positions:
        if i not in concurrent or decoders[i] is None or isinstance(decoders[i], StoreDecoder):
            return []
    return positions


def read_batches(
    query: Any,
    names: Sequence[str],
    decoders: Sequence[Decoder | None],
    overlapped: Sequence[int],
) -> Generator[tuple[list[tuple], bool], None, None]:
    """The rows of ``query`` as ``(rows, decoded)`` batches: :func:`decoded_batches` when
    ``overlapped`` names columns (:func:`overlapped_columns`), else :func:`row_batches`, none
    of them decoded. Closing the generator closes the cursor."""
    if overlapped:
        yield from decoded_batches(query, names, decoders, overlapped)
        return
    with closing(row_batches(query, names)) as batches:
        for batch in batches:
            yield batch, False


#: a batch of :func:`decoded_batches` being decoded: its rows, the (row, position, future) of
#: its large values, and their size in bytes
_Decoding = tuple[list[list[Any]], list[tuple[list[Any], int, Future]], int]


def decoded_batches(
    query: Any,
    names: Sequence[str],
    decoders: Sequence[Decoder | None],
    positions: Sequence[int],
) -> Generator[tuple[list[tuple], bool], None, None]:
    """The rows of ``query`` (columns ``names``) read through the streaming cursor, as
    ``(rows, decoded)`` batches in order, the decoding of large values overlapping the reading.

    In a batch where a value at ``positions`` is large (:data:`~datajoint.parallel.LARGE_VALUE`
    bytes or more) every value at ``positions`` is decoded (``decoded`` is True; NULL stays
    None): the large ones on the codec pool, each submitted as soon as its row is read, so the
    pool decodes while the next rows arrive. Such a batch is handed out once the large values
    read after it reach :data:`~datajoint.parallel.AHEAD_BYTES` (or the rows end). The other
    rows are handed out as the driver gave them, not decoded, in batches of up to about
    :data:`BATCH_ROWS`. The cursor is read about :data:`DECODE_BATCH_BYTES` of the values at
    ``positions`` at a time (one row at first, then as many as the rows read so far suggest).

    A failed decode raises its own error (the first in row order among the values submitted so
    far); then, as when the generator is closed, the decodes not started are cancelled and the
    cursor is closed at once.
    """
    select = query.make_select(list(names))
    context = contextvars.copy_context()
    pending: deque[_Decoding] = deque()
    ahead = 0  # bytes of the large values in ``pending``
    size = 1
    cursor = query.connection.execute_model(
        select, streaming=True, column_types=result_types(query, names)
    )
    plain: list[tuple] = []  # rows without a large value, read after every pending batch
    try:
        while batch := cursor.fetchmany(size):
            batch = batch if isinstance(batch, list) else list(batch)
            nbytes, large = _value_bytes(batch, positions)
            size = max(1, min(BATCH_ROWS, DECODE_BATCH_BYTES * len(batch) // max(nbytes, 1)))
            if not large:
                while pending:
                    yield _collect(pending), True
                ahead = 0
                plain = plain + batch if plain else batch
                if len(plain) >= BATCH_ROWS:
                    yield plain, False
                    plain = []
                continue
            if plain:
                yield plain, False
                plain = []
            pending.append(_submit(batch, decoders, positions, context, pending))
            ahead += pending[-1][2]
            while ahead >= AHEAD_BYTES:
                ahead -= pending[0][2]
                yield _collect(pending), True
        while pending:
            yield _collect(pending), True
        if plain:
            yield plain, False
    except BaseException:
        cancel_and_wait(future for entry in pending for _, _, future in entry[1])
        raise
    finally:
        cursor.close()


def _value_bytes(batch: list[tuple], positions: Sequence[int]) -> tuple[int, bool]:
    """The bytes of a batch's values at ``positions``, and whether one of them is large."""
    total, large = 0, False
    for row in batch:
        for i in positions:
            value = row[i]
            n = len(value) if type(value) is bytes else value_size(value)  # bytes: most drivers'
            total += n
            large = large or n >= LARGE_VALUE
    return total, large


def _submit(
    batch: list[tuple],
    decoders: Sequence[Decoder | None],
    positions: Sequence[int],
    context: contextvars.Context,
    pending: deque[_Decoding],
) -> _Decoding:
    """Start decoding a batch: its large values on the pool, the others here, in row order.

    A value that fails here raises its error after those of the values before it (in
    ``pending`` and in this batch), which are waited for first.
    """
    rows = [list(row) for row in batch]
    futures: list[tuple[list[Any], int, Future]] = []
    nbytes = 0
    for row in rows:
        for i in positions:
            value = row[i]
            if value is None:
                continue
            decode = decoders[i]
            assert decode is not None
            n = value_size(value)
            if n >= LARGE_VALUE:
                futures.append((row, i, submit_in_context(context, decode, value)))
                nbytes += n
                continue
            try:
                row[i] = decode(value)
            except Exception:
                pending.append((rows, futures, nbytes))
                while pending:  # the errors of the values before this one come first
                    _collect(pending)
                raise
    return rows, futures, nbytes


def _collect(pending: deque[_Decoding]) -> list[tuple]:
    """The rows of the first batch of ``pending`` once its large values are decoded; the batch
    leaves ``pending`` then (it stays there when a decode failed: its error is raised)."""
    rows, futures, _ = pending[0]
    for row, i, future in futures:
        row[i] = future.result()
    pending.popleft()
    return [tuple(row) for row in rows]


def read_dicts(query: Any, squeeze: bool = False) -> list[dict[str, Any]]:
    """Every row of ``query`` as a dict of decoded values."""
    names = query.heading.names
    make = BatchMaker(query, names, squeeze)
    out: list[dict[str, Any]] = []
    with closing(make.batches(query)) as batches:  # closed even when a decoder raises
        for batch, decoded in batches:
            out.extend(make.decoded(batch) if decoded else make(batch))
    return out


def iter_dicts(query: Any, squeeze: bool = False) -> Iterator[dict[str, Any]]:
    """Decoded dicts from one cursor, produced a batch at a time.

    A buffered cursor is used: the caller may run other queries on the connection between rows,
    which an open streaming cursor on MySQL or PostgreSQL would not survive.
    """
    names = query.heading.names
    make = BatchMaker(query, names, squeeze)
    with closing(row_batches(query, names, streaming=False)) as batches:
        for batch in batches:
            yield from make(batch)
