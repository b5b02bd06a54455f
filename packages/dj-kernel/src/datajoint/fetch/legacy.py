"""The deprecated ``fetch(...)`` of DataJoint 0.x/1.x, mapped onto the 2.x fetch API (SPEC §7)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import DataJointError

FETCH_DEPRECATION = (
    "fetch() is deprecated in DataJoint 2.0. Use to_dicts(), to_pandas(), to_arrays(), or keys() "
    "instead."
)


def legacy_fetch(
    query: Any,
    attrs: Sequence[str],
    *,
    offset: int | None = None,
    limit: int | None = None,
    order_by: str | Sequence[str] | None = None,
    format: str | None = None,
    as_dict: bool | None = None,
    squeeze: bool = False,
) -> Any:
    """Warn, then answer ``fetch(*attrs, ...)`` with the fetch method that replaces it.

    * ``format="frame"`` -> ``to_pandas`` (not with attrs or ``as_dict``); other formats are ignored;
    * ``fetch("KEY")`` -> the list of primary-key dicts;
    * attrs with ``as_dict=True`` -> ``proj(*attrs).to_dicts()`` ("KEY" stands for the key);
    * attrs with "KEY" among others -> per attribute: key dicts for "KEY", arrays for the rest;
    * other attrs -> ``to_arrays(*attrs)``; ``as_dict=True`` -> ``to_dicts()``;
    * otherwise the structured array ``to_arrays()``.
    """
    warnings.warn(FETCH_DEPRECATION, DeprecationWarning, stacklevel=3)
    window: dict[str, Any] = {"order_by": order_by, "limit": limit, "offset": offset}
    if format == "frame":
        if attrs or as_dict is not None:
            raise DataJointError("format='frame' cannot be combined with attrs or as_dict")
        return query.to_pandas(squeeze=squeeze, **window)
    if list(attrs) == ["KEY"]:
        return query.keys(**window)
    if attrs:
        others = [a for a in attrs if a != "KEY"]
        if as_dict:
            return query.proj(*others).to_dicts(squeeze=squeeze, **window)
        if len(others) < len(attrs):
            if others:
                keys, *arrays = query.to_arrays(
                    *others, include_key=True, squeeze=squeeze, **window
                )
            else:
                keys, arrays = query.keys(**window), []
            by_name = dict(zip(others, arrays, strict=True))
            values = [keys if a == "KEY" else by_name[a] for a in attrs]
            return values[0] if len(values) == 1 else tuple(values)
        return query.to_arrays(*attrs, squeeze=squeeze, **window)
    if as_dict:
        return query.to_dicts(squeeze=squeeze, **window)
    return query.to_arrays(squeeze=squeeze, **window)
