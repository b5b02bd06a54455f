"""Encoding of attribute values for binding as query parameters (insert, update)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np

from .errors import DataJointError

#: marks a value the database fills with the column default (the column is left out of the row)
DEFAULT = object()

#: Python types a column of the given core type binds as they are (no per-value adaptation)
_PASS_THROUGH: dict[str, tuple[type, ...]] = {
    "int8": (int,),
    "int16": (int,),
    "int32": (int,),
    "int64": (int,),
    "float32": (float, int),
    "float64": (float, int),
    "char": (str,),
    "varchar": (str,),
    "enum": (str,),
}


class AttributeEncoder:
    """Encodes the values of one attribute for binding; :data:`DEFAULT` marks a value left out."""

    def __init__(self, table: Any, name: str) -> None:
        self.attr = table.heading[name]
        self.dialect = table.connection.dialect
        self.name = name
        self.numeric = self.attr.is_numeric
        self.native_binary = self.attr.codec is None and self.attr.is_blob
        self.pass_through = _PASS_THROUGH.get(self.attr.core or "", ())

    def column(self, values: list[Any]) -> list[Any]:
        """Encode a whole column; plain values of the column's own type are bound unchanged."""
        simple, encode = self.pass_through, self.__call__
        return [(v if v == v else DEFAULT) if type(v) in simple else encode(v) for v in values]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, np.generic):
            value = value.item()
        if value is None:
            return DEFAULT
        if self.numeric and (value == "" or (isinstance(value, float) and math.isnan(value))):
            return DEFAULT
        if self.attr.is_uuid and not isinstance(value, uuid.UUID):
            try:
                value = (
                    uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))
                )
            except (ValueError, TypeError):
                raise DataJointError(
                    f"badly formed UUID value {value} for attribute `{self.name}`"
                ) from None
        if self.native_binary and not isinstance(value, bytes | bytearray | memoryview):
            raise DataJointError(
                f"Attribute `{self.name}` is declared as the native binary type {self.attr.sql_type}, "
                "which accepts only bytes. Declare the attribute as '<blob>' to store Python objects."
            )
        return self.dialect.encode_param(value, self.attr.core)
