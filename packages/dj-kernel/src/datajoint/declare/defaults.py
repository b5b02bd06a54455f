"""Declared defaults (SPEC §3.2), checked as literals of the column's type before they reach DDL.

DDL takes no bound parameters, so a default becomes SQL text. Only these reach it: ``NULL``,
``CURRENT_TIMESTAMP[(n)]`` on date-time columns, and a value that reads as a literal of the
column's type, which is then written by the dialect's one escaping function
(:meth:`~datajoint.backend.contract.Dialect.string_literal`). Anything else is refused with
:class:`InvalidDefaultError` before any statement is produced.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import DataJointError
from .types import TypeSpec, core_type_args, enum_values, parse_type

_CURRENT_TIMESTAMP = re.compile(r"^current_timestamp(\s*\(\s*[0-6]\s*\))?$", re.I)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")
_TIME = re.compile(r"^-?\d{1,3}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
_BOOLEAN = {"0": "0", "1": "1", "false": "0", "true": "1"}
_INTEGER_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}

_NATIVE_FAMILIES = (
    (re.compile(r"^((tiny|small|medium|big)?int(eger)?|serial)\b", re.I), "integer"),
    (re.compile(r"^(decimal|numeric|dec|fixed)\b", re.I), "decimal"),
    (re.compile(r"^(double|float|real)\b", re.I), "float"),
    (re.compile(r"^timestamp\b", re.I), "datetime"),
    (re.compile(r"^time\b", re.I), "time"),
    (re.compile(r"^year\b", re.I), "integer"),
)


class InvalidDefaultError(DataJointError):
    """A declared default is not a literal of its attribute's type."""


def unquote(default: str) -> str | None:
    """The value of a declared default: the text inside ``"..."`` or ``'...'`` (``\\"``, ``''``
    and ``\\'`` unescaped), the bare text otherwise; None when a quote inside is not escaped."""
    if len(default) >= 2 and default[0] == default[-1] and default[0] in "\"'":
        quote, body = default[0], default[1:-1]
        out, i = [], 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body) and body[i + 1] in (quote, "\\"):
                out.append(body[i + 1])
                i += 2
            elif ch == quote:
                if quote != "'" or body[i + 1 : i + 2] != "'":
                    return None  # the literal ends early: what follows would be SQL
                out.append("'")
                i += 2
            else:
                out.append(ch)
                i += 1
        return "".join(out)
    if default[:1] in "\"'" or default[-1:] in "\"'":
        return None
    return default


def _family(spec: TypeSpec, final: TypeSpec | None) -> tuple[str, str]:
    """(family, type text) of the stored type: a core type name, a native family, or "text"."""
    stored = final or spec
    if stored.kind == "core":
        assert stored.core is not None
        return stored.core, stored.text
    for pattern, family in _NATIVE_FAMILIES:
        if pattern.match(stored.text):
            return family, stored.text
    return "text", stored.text


def _check_value(family: str, type_text: str, value: str) -> str | None:
    """The reason ``value`` is not a literal of the type, or None when it is."""
    if family in _INTEGER_BITS or family == "integer":
        if not _INTEGER.match(value):
            return "it is not an integer"
        bits = _INTEGER_BITS.get(family)
        if bits is not None and not -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1):
            return f"it is out of the range of {family}"
        return None
    if family in ("float32", "float64", "float"):
        return None if _FLOAT.match(value) else "it is not a number"
    if family == "decimal":
        return None if _DECIMAL.match(value) else "it is not a decimal number"
    if family == "bool":
        return None if value.lower() in _BOOLEAN else "a bool default is 0, 1, true or false"
    if family == "date":
        ok = _DATE.match(value) and _parses(datetime.date.fromisoformat, value)
        return None if ok else "it is not a date (YYYY-MM-DD)"
    if family == "datetime":
        ok = _DATETIME.match(value) and _parses(datetime.datetime.fromisoformat, value)
        return None if ok else "it is not a datetime (YYYY-MM-DD HH:MM:SS) or CURRENT_TIMESTAMP"
    if family == "time":
        return None if _TIME.match(value) else "it is not a time (HH:MM:SS)"
    if family == "enum":
        members = enum_values(type_text)
        return None if value in members else f"it is not one of the members {list(members)}"
    if family in ("char", "varchar"):
        length = int(core_type_args(type_text).strip("() "))
        return None if len(value) <= length else f"it is longer than {length} characters"
    if family == "json":
        return None if _parses(json.loads, value) else "it is not valid JSON"
    if family == "uuid":
        return "a uuid attribute takes no default other than null"
    return None


def _parses(parse: Callable[[str], Any], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def default_sql(
    dialect: Any,
    default: str | None,
    type_text: str | None = None,
    *,
    final_type: str | None = None,
) -> str | None:
    """The SQL text of a declared default, or None for no default.

    ``type_text`` is the attribute's declared type and ``final_type`` the type a codec stores
    in; without a type only the form of the literal is checked. Raises
    :class:`InvalidDefaultError` (with the reason only: the caller names the attribute).
    """
    if default is None:
        return None
    text = default.strip()
    if text.lower() == "null":
        return "NULL"
    family, stored = ("text", "")
    if type_text is not None:
        final = parse_type(final_type) if final_type is not None else None
        family, stored = _family(parse_type(type_text), final)
    if _CURRENT_TIMESTAMP.match(text):
        if type_text is not None and family != "datetime":
            raise InvalidDefaultError("CURRENT_TIMESTAMP is a default of datetime attributes only")
        return text
    value = unquote(text)
    if value is None:
        raise InvalidDefaultError(
            "a quote inside the value is not escaped (write it doubled, or use the other quotes)"
        )
    if family == "bool":
        value = value.lower()
    reason = _check_value(family, stored, value)
    if reason is not None:
        raise InvalidDefaultError(reason)
    return dialect.string_literal(_BOOLEAN.get(value, value) if family == "bool" else value)
