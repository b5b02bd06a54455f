"""The inputs insert and validate accept (SPEC §8), turned into a list of mappings."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from ..errors import DataJointError

POSITIONAL_WARNING = (
    "Positional inserts (rows given as tuples or lists) are deprecated and will be removed in a "
    "future version. Insert dicts (or records) that name their attributes instead: "
    "table.insert1({'attr': value, ...})"
)


def _library(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def is_pandas_frame(obj: Any) -> bool:
    return _library(obj) == "pandas" and type(obj).__name__ == "DataFrame"


def _pandas_records(frame: Any) -> list[dict[str, Any]]:
    """Records of a DataFrame: the index becomes columns unless it is one unnamed level."""
    index = frame.index
    single_unnamed = getattr(index, "nlevels", 1) == 1 and index.name is None
    frame = frame.reset_index(drop=single_unnamed)
    missing = frame.isna().any()
    for column in frame.columns[missing.to_numpy()]:
        if frame[column].dtype.kind != "f":  # NaT / NA / NaN in a non-float column -> None
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), None)
    return frame.to_dict(orient="records")


def source_rows(rows: Any) -> Iterable[Any]:
    """The rows of any accepted input: DataFrames (pandas, polars), pyarrow Tables, CSV files,
    numpy structured arrays, or an iterable of rows."""
    if is_pandas_frame(rows):
        return _pandas_records(rows)
    library = _library(rows)
    if library == "polars" and hasattr(rows, "to_dicts"):
        return rows.to_dicts()
    if library == "pyarrow" and hasattr(rows, "to_pylist"):
        return rows.to_pylist()
    if isinstance(rows, Path):
        import csv

        with rows.open(newline="") as f:
            return list(csv.DictReader(f))
    if isinstance(rows, np.ndarray) and rows.dtype.names:
        names = rows.dtype.names
        return [dict(zip(names, record, strict=True)) for record in rows.tolist()]
    if isinstance(rows, Mapping | str | bytes):
        raise DataJointError(
            f"Datatype {type(rows)} cannot be inserted: pass an iterable of rows "
            "(use insert1 for a single row)"
        )
    return rows


def as_mapping(row: Any, names: Sequence[str]) -> Mapping[str, Any]:
    """One row as a mapping; positional rows are zipped with ``names`` (the heading)."""
    if isinstance(row, Mapping):
        return row
    if isinstance(row, np.void) and row.dtype.names:
        return dict(zip(row.dtype.names, row.tolist(), strict=True))
    if isinstance(row, Sequence | np.ndarray) and not isinstance(row, str | bytes):
        if len(row) != len(names):
            raise DataJointError(
                "Invalid insert argument. Incorrect number of attributes: "
                f"{len(row)} given; {len(names)} expected"
            )
        return dict(zip(names, row, strict=True))
    raise DataJointError(f"Datatype {type(row)} cannot be inserted")


def _user_stacklevel() -> int:
    """The stacklevel that points a warning at the first caller outside datajoint."""
    package = str(Path(__file__).resolve().parent.parent)
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def to_mappings(
    rows: Any, names: Sequence[str], *, stacklevel: int | None = None
) -> list[Mapping[str, Any]]:
    """Every row of ``rows`` as a mapping, warning once when positional rows are used."""
    items = source_rows(rows)
    if not isinstance(items, list):
        items = list(items)
    if not items or set(map(type, items)) == {dict}:
        return items
    out: list[Mapping[str, Any]] = []
    warned = False
    for row in items:
        mapping = as_mapping(row, names)
        if not warned and mapping is not row and not isinstance(row, np.void | Mapping):
            level = stacklevel if stacklevel is not None else _user_stacklevel()
            warnings.warn(POSITIONAL_WARNING, DeprecationWarning, stacklevel=level)
            warned = True
        out.append(mapping)
    return out
