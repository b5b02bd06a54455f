"""``validate()``: check rows against a table without inserting them (SPEC §8)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataJointError
from ..values import DEFAULT, plain, stored, to_uuid
from .rows import as_mapping, source_rows

#: how many errors summary() lists before "... and K more errors"
SUMMARY_LIMIT = 10


@dataclass
class ValidationResult:
    """The outcome of ``Table.validate(rows)``: ``errors`` are ``(row_index, field, message)``
    with ``field`` None for errors about the whole row."""

    is_valid: bool
    errors: list[tuple[int, str | None, str]] = field(default_factory=list)
    rows_checked: int = 0

    def __bool__(self) -> bool:
        return self.is_valid

    def summary(self) -> str:
        """One line when valid; otherwise a count and the first errors, one per line."""
        if self.is_valid:
            return f"Validation passed: {self.rows_checked} rows checked"
        lines = [f"Validation failed: {len(self.errors)} error(s) in {self.rows_checked} rows"]
        for index, name, message in self.errors[:SUMMARY_LIMIT]:
            where = f" in field '{name}'" if name is not None else ""
            lines.append(f"  Row {index}{where}: {message}")
        if len(self.errors) > SUMMARY_LIMIT:
            lines.append(f"  ... and {len(self.errors) - SUMMARY_LIMIT} more errors")
        return "\n".join(lines)

    def raise_if_invalid(self) -> None:
        """Raise DataJointError with the summary when there are errors."""
        if not self.is_valid:
            raise DataJointError(self.summary())


def _check_value(attr: Any, value: Any) -> str | None:
    """The problem with one non-None value of ``attr``, or None."""
    value = plain(value)
    if attr.codec_name:
        try:
            attr.codec.validate(value)
        except (TypeError, ValueError, DataJointError) as error:
            return f"Codec <{attr.codec_name}> rejected the value: {error}"
        return None
    if attr.is_uuid:
        try:
            to_uuid(value, attr.name)
        except DataJointError as error:
            return str(error)
    if attr.is_json:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            return f"Value is not JSON-serializable: {error}"
    return None


def _is_missing(attr: Any, value: Any) -> bool:
    """Whether insert would leave this value to the column default."""
    return stored(value, attr.is_numeric and not attr.codec_name) is DEFAULT


def validate_rows(table: Any, rows: Any, *, ignore_extra_fields: bool = False) -> ValidationResult:
    """Check ``rows`` as insert would, collecting every problem instead of stopping at the first."""
    heading = table.heading
    attributes = heading._attributes
    errors: list[tuple[int, str | None, str]] = []
    try:
        items = list(source_rows(rows))
    except DataJointError as error:
        return ValidationResult(False, [(0, None, str(error))], 0)
    for index, raw in enumerate(items):
        try:
            row = as_mapping(raw, heading.names)
        except DataJointError as error:
            errors.append((index, None, str(error)))
            continue
        for name in row:
            if name not in attributes and not ignore_extra_fields:
                errors.append((index, name, f"Field '{name}' is not in the table heading"))
        for attr in heading.all_attributes:
            present = attr.name in row
            value = row.get(attr.name) if present else None
            if not present or _is_missing(attr, value):
                if attr.autoincrement or attr.nullable or attr.default is not None:
                    continue
                if attr.in_key:
                    message = f"Primary key attribute '{attr.name}' is " + (
                        "missing" if not present else "NULL"
                    )
                elif present:
                    message = f"NULL value in non-nullable field '{attr.name}'"
                else:
                    message = f"Required field '{attr.name}' is missing"
                errors.append((index, attr.name, message))
                continue
            problem = _check_value(attr, value)
            if problem is not None:
                errors.append((index, attr.name, problem))
    return ValidationResult(not errors, errors, len(items))


__all__ = ["ValidationResult", "validate_rows"]
