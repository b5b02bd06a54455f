"""``insert_dataframe``: a pandas DataFrame whose index may hold the primary key (SPEC §8)."""

from __future__ import annotations

from typing import Any

from ..errors import DataJointError
from .rows import is_pandas_frame


def _index_names(df: Any) -> list[str | None]:
    return list(getattr(df.index, "names", [df.index.name]))


def insert_dataframe(table: Any, df: Any, index_as_pk: bool | None = None, **kwargs: Any) -> None:
    """Insert ``df``. ``index_as_pk=None`` detects it: a single unnamed index is dropped; named
    index levels are used as columns when they are exactly the primary key. ``True`` requires
    that match; ``False`` drops the index."""
    if not is_pandas_frame(df):
        raise DataJointError("insert_dataframe requires a pandas DataFrame")
    names = _index_names(df)
    primary_key = table.primary_key
    if index_as_pk is None:
        single_unnamed = len(names) == 1 and names[0] is None
        index_as_pk = not single_unnamed and set(names) == set(primary_key)
    elif index_as_pk and set(names) != set(primary_key):
        raise DataJointError(
            f"DataFrame index columns {names} do not match table primary key {primary_key}. "
            "Set the index to the primary key with df.set_index(...), or pass index_as_pk=False."
        )
    frame = df.reset_index(drop=not index_as_pk)
    if not index_as_pk:
        frame = frame.reset_index(drop=True)
    table.insert(frame, **kwargs)
