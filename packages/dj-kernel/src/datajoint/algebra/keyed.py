"""Statements compiled once for a key: the same SELECT for every key value, values bound per call.

Per-key work (populate's already-made check, ``fetch1`` by key) runs one statement shape many
times; rendering it once with a placeholder per key column and binding each key's values saves
building and rendering the query model for every key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from . import model as m


def key_statement(dialect: Any, select: m.Select, columns: Sequence[str]) -> str | None:
    """The SQL of ``select`` restricted to ``column = value`` for each of ``columns`` (replacing
    its WHERE clause), with one placeholder per column, in that order; None when the dialect
    does not render it so, and the caller must take its general path."""
    markers = [object() for _ in columns]
    where = m.conjunction(
        [m.Compare(m.Column(c), "=", m.Param(k)) for c, k in zip(columns, markers, strict=True)]
    )
    sql, params = dialect.render(replace(select, where=where))
    if len(params) != len(markers) or any(p is not k for p, k in zip(params, markers, strict=True)):
        return None  # each key value must bind once, in order, as it is
    return sql
