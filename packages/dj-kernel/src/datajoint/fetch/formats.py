"""The kernel's fetch formats: dicts, keys, arrays, pandas, polars and arrow.

Each is a function ``fetcher(query, *args, **options)`` registered by the kernel's default plugin
(:mod:`datajoint.builtin_plugin`) through ``dj_register_fetch_formats``, exactly as a third-party
format is. ``Q.to(name, ...)`` calls the one registered under ``name``; ``Q.to_dicts()`` and the
other ``to_*`` methods are shorthands for the built-in names. Every format accepts
``order_by``/``limit``/``offset`` (SPEC §6.8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DataJointError
from .columns import ColumnReader, Dtypes, as_array, read_columns, read_structured
from .reader import apply_order, dict_maker, key_names, read_dicts

OrderBy = str | Sequence[str] | None


def fetch_dicts(
    query: Any,
    order_by: OrderBy = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> list[dict[str, Any]]:
    """Format ``dicts``: a list with one dict of decoded values per row."""
    return read_dicts(apply_order(query, order_by, limit, offset), squeeze)


def fetch_keys(
    query: Any, order_by: OrderBy = None, limit: int | None = None, offset: int | None = None
) -> list[dict[str, Any]]:
    """Format ``keys``: the primary-key values of every row, as dicts (``proj().to_dicts()``)."""
    return read_dicts(apply_order(query.proj(), order_by, limit, offset))


def fetch_arrays(
    query: Any,
    *attrs: str,
    include_key: bool = False,
    order_by: OrderBy = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
    dtypes: Dtypes = "wide",
) -> Any:
    """Format ``arrays``: a structured array, or one array per attribute in ``attrs``.

    With no ``attrs``: a structured numpy array whose dtype comes from the heading. With
    ``attrs``: the query is projected to them and each becomes ``np.array(values)`` (an object
    array when the values are ragged); one attribute gives a bare array, several a tuple, and
    ``include_key=True`` puts the list of primary-key dicts first.

    Integer and float columns come back as int64 and float64, as DataJoint 2.x returns them
    (a ``float32`` 20.33 reads as 20.33, an ``int8`` sum cannot wrap); ``dtypes="declared"``
    keeps each column's declared width instead (``int8`` → ``i1``, ``float32`` → ``f4``), which
    takes less memory for large results.
    """
    query = apply_order(query, order_by, limit, offset)
    if not attrs:
        return read_structured(query, squeeze, dtypes)
    key = key_names(query.proj(*attrs))  # the projection also checks that every attribute exists
    names = list(dict.fromkeys([*(key if include_key else []), *attrs]))
    # read the ordered query itself: a projection of it would be an unordered subquery
    columns = read_columns(query, names, squeeze, dtypes)
    arrays = tuple(as_array(columns[a]) for a in attrs)
    if include_key:
        return (keys_of(columns, key), *arrays)
    return arrays[0] if len(arrays) == 1 else arrays


def keys_of(columns: dict[str, np.ndarray], key: Sequence[str]) -> list[dict[str, Any]]:
    """Primary-key dicts with Python values from per-attribute columns."""
    make = dict_maker(list(key), [None] * len(key))
    return make(zip(*(columns[k].tolist() for k in key), strict=True)) if key else []


def frame_columns(query: Any, squeeze: bool = False) -> tuple[list[str], dict[str, Any]]:
    """The heading's names and each column as a typed array or a list of Python values.

    Lists let the frame library infer types as it would from ``to_dicts()`` (e.g. a column with
    NULLs); typed arrays pass numeric columns without per-value objects.
    """
    names = query.heading.names
    reader = ColumnReader(query, names, "columns", squeeze)
    reader.read()
    return names, {
        name: column.tolist() if column.dtype == object else column
        for name, column in reader.columns().items()
    }


def _require(module: str, method: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError as error:
        raise ImportError(
            f"{module} is required for {method}(). Install with: pip install datajoint[{extra}]"
        ) from error


def fetch_pandas(
    query: Any,
    order_by: OrderBy = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> Any:
    """Format ``pandas``: a DataFrame of the decoded rows, indexed by the primary key when it has
    rows and the key is not empty."""
    pd = _require("pandas", "to_pandas", "pandas")
    query = apply_order(query, order_by, limit, offset)
    names, columns = frame_columns(query, squeeze)
    frame = pd.DataFrame(columns, columns=names)
    key = key_names(query)
    if key and len(frame):
        frame = frame.set_index(key)
    return frame


def fetch_polars(
    query: Any,
    order_by: OrderBy = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> Any:
    """Format ``polars``: a polars DataFrame of the decoded rows (columns in heading order)."""
    pl = _require("polars", "to_polars", "polars")
    names, columns = frame_columns(apply_order(query, order_by, limit, offset), squeeze)
    series = []
    for name in names:
        values = columns[name]
        try:
            series.append(pl.Series(name, values))
        except Exception:  # values polars cannot type (e.g. UUIDs): keep them as objects
            series.append(pl.Series(name, values, dtype=pl.Object))
    return pl.DataFrame(series)


def fetch_arrow(
    query: Any,
    order_by: OrderBy = None,
    limit: int | None = None,
    offset: int | None = None,
    squeeze: bool = False,
) -> Any:
    """Format ``arrow``: a pyarrow Table of the decoded rows; an empty result is an empty table."""
    pa = _require("pyarrow", "to_arrow", "arrow")
    names, columns = frame_columns(apply_order(query, order_by, limit, offset), squeeze)
    arrays = []
    for name in names:
        values = columns[name]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
            if query.heading[name].is_json:  # documents Arrow cannot type: keep them as JSON text
                text_type = pa.json_() if hasattr(pa, "json_") else pa.string()
                texts = [None if v is None else json.dumps(v) for v in values]
                arrays.append(pa.array(texts, type=text_type))
                continue
            raise DataJointError(
                f"Attribute `{name}` cannot be converted to an Arrow column: {error}. "
                "Project it out with .proj() or use another format."
            ) from error
    return pa.table(arrays, names=names)
