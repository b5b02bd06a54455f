"""Attribute types of the definition grammar: core types, native SQL types and codec references.

Core types are DataJoint's portable types (SPEC §3.3); each backend maps them to a native type.
Native SQL types are accepted with a warning; codecs are written ``<name>`` or ``<name@store>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import DataJointError

#: core type name -> regular expression matching the whole (lower-cased) type text
CORE_TYPE_PATTERNS: dict[str, str] = {
    "int8": r"int8",
    "int16": r"int16",
    "int32": r"int32",
    "int64": r"int64",
    "float32": r"float32",
    "float64": r"float64",
    "bool": r"bool(ean)?",
    "uuid": r"uuid",
    "bytes": r"bytes",
    "json": r"jsonb?",
    "date": r"date",
    "datetime": r"datetime(\s*\(\s*\d+\s*\))?",
    "char": r"char\s*\(\s*\d+\s*\)",
    "varchar": r"varchar\s*\(\s*\d+\s*\)",
    "decimal": r"decimal\s*\(\s*\d+\s*(,\s*\d+\s*)?\)",
    "enum": r"enum\s*\(.+\)",
}

_CORE = {
    name: re.compile(rf"^{pattern}$", re.I | re.S) for name, pattern in CORE_TYPE_PATTERNS.items()
}

#: native SQL types accepted with a warning (SPEC §3.2)
_NATIVE = re.compile(
    r"^("
    r"(tiny|small|medium|big)?int(eger)?(\s*\(\s*\d+\s*\))?(\s+unsigned)?(\s+auto_increment)?"
    r"|serial"
    r"|(decimal|numeric|dec|fixed)(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?(\s+unsigned)?(\s+zerofill)?"
    r"|(double|float|real)(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?(\s+unsigned)?"
    r"|(time|timestamp|year)(\s*\(\s*\d+\s*\))?"
    r"|(tiny|small|medium|long)?text"
    r"|(tiny|small|medium|long)?blob"
    r")$",
    re.I,
)
_NATIVE_BLOB = re.compile(r"^(tiny|small|medium|long)?blob$", re.I)
_CODEC = re.compile(r"^<\s*(?P<name>[A-Za-z_][\w.-]*)\s*(?P<at>@\s*(?P<store>[\w.-]*))?\s*>$")
_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class TypeSpec:
    """A parsed attribute type.

    ``kind`` is "core", "native" or "codec". For core types ``core`` is the core type name
    (int32, varchar, enum, ...). For codecs ``codec`` is the codec name and ``store`` the store
    (None: in-table; "": the default store).
    """

    text: str
    kind: str
    core: str | None = None
    codec: str | None = None
    store: str | None = None

    @property
    def is_blob_like(self) -> bool:
        return bool(
            self.core == "bytes" or (self.kind == "native" and _NATIVE_BLOB.match(self.text))
        )


def core_type_name(type_text: str) -> str | None:
    """The core type name of ``type_text`` (e.g. ``"varchar"`` for ``"varchar(30)"``), or None."""
    text = type_text.strip()
    for name, pattern in _CORE.items():
        if pattern.match(text):
            return name
    return None


def core_type_args(type_text: str) -> str:
    """The parenthesised arguments of a type, e.g. ``"(30)"`` for ``varchar(30)``; "" if none."""
    start = type_text.find("(")
    return "" if start < 0 else type_text[start:].strip()


def enum_values(type_text: str) -> tuple[str, ...]:
    """The values of an ``enum('a','b')`` type, unescaped, in declared order."""
    return tuple(v.replace("''", "'") for v in _ENUM_VALUE.findall(core_type_args(type_text)))


def normalize_core_type(type_text: str) -> str:
    """A core type text with the canonical spelling (``boolean`` -> ``bool``, no inner spaces)."""
    name = core_type_name(type_text)
    if name is None:
        return type_text
    if name in ("bool", "json", "int8", "int16", "int32", "int64", "float32", "float64"):
        return name if name != "json" else type_text.strip().lower()
    if name == "enum":
        return (
            "enum("
            + ",".join("'" + v.replace("'", "''") + "'" for v in enum_values(type_text))
            + ")"
        )
    args = core_type_args(type_text)
    return name + re.sub(r"\s+", "", args)


def parse_type(type_text: str) -> TypeSpec:
    """Classify the type text of an attribute line; unknown types raise DataJointError."""
    text = type_text.strip()
    match = _CODEC.match(text)
    if match:
        store = match.group("store") if match.group("at") else None
        return TypeSpec(text=text, kind="codec", codec=match.group("name"), store=store)
    core = core_type_name(text)
    if core is not None:
        return TypeSpec(text=text, kind="core", core=core)
    if _NATIVE.match(text):
        return TypeSpec(text=text, kind="native")
    raise DataJointError(f"Unsupported attribute type {text}")
