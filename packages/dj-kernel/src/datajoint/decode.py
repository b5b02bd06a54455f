"""Decoding of fetched column values into Python values (fetch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def decoders_for(query: Any, names: list[str]) -> list[Callable[[Any], Any] | None]:
    """One decoder per fetched column (None where the driver's value is already right)."""
    dialect = query.connection.dialect
    heading = query.heading
    return [dialect.column_decoder(heading[n].core, heading[n].sql_type) for n in names]
