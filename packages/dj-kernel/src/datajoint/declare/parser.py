"""Parses table definitions (SPEC §3.2) into lines; resolving and compiling happen elsewhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import DataJointError

_ATTRIBUTE = re.compile(
    r"""^(?P<name>[A-Za-z_]\w*)\s*
    (?:=\s*(?P<default>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^:]*?)\s*)?
    :\s*(?P<type>(?:"[^"]*"|'[^']*'|[^#"'])+?)\s*
    (?:\#\s*(?P<comment>.*))?$""",
    re.X | re.S,
)
_INDEX = re.compile(r"^(?P<unique>unique\s+)?index\s*\((?P<items>.*)\)\s*(#.*)?$", re.I)
_FK = re.compile(r"^->\s*(?:\[(?P<options>[^\]]*)\])?\s*(?P<ref>.+?)\s*(?:#.*)?$", re.S)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FK_OPTIONS = ("nullable", "unique")


@dataclass(frozen=True)
class AttributeLine:
    name: str
    type: str
    default: str | None
    comment: str
    in_key: bool
    line: str


@dataclass(frozen=True)
class ForeignKeyLine:
    ref: str
    nullable: bool
    unique: bool
    in_key: bool
    line: str


@dataclass(frozen=True)
class IndexLine:
    items: tuple[str, ...]
    unique: bool
    line: str


@dataclass(frozen=True)
class Definition:
    table_comment: str
    lines: tuple[AttributeLine | ForeignKeyLine | IndexLine, ...]


def is_foreign_key(line: str) -> bool:
    """A line is a foreign key if ``->`` occurs before any quote or ``#``."""
    arrow = line.find("->")
    if arrow < 0:
        return False
    return all(not (0 <= line.find(ch) < arrow) for ch in "\"'#")


def _split_items(text: str) -> tuple[str, ...]:
    return tuple(item.strip().strip('`"') for item in text.split(",") if item.strip())


def parse_attribute(line: str, in_key: bool) -> AttributeLine:
    """Parse one ``name [= default] : type [# comment]`` line."""
    match = _ATTRIBUTE.match(line)
    if not match:
        raise DataJointError(
            f'Declaration error in position 0 in line "{line}": expected '
            '"name [= default] : type [# comment]".'
        )
    name = match.group("name")
    if name.startswith("_"):
        raise DataJointError(
            f'Attribute name in line "{line}" starts with an underscore. '
            "Names starting with _ are reserved for hidden platform attributes."
        )
    if not _NAME.match(name):
        raise DataJointError(
            f'Declaration error in position 0 in line "{line}": attribute names must be '
            "lower case, start with a letter and use only letters, digits and underscores."
        )
    comment = (match.group("comment") or "").strip()
    if comment.startswith(":"):
        raise DataJointError(
            f'An attribute comment must not start with a colon in comment "{comment}"'
        )
    default = match.group("default")
    return AttributeLine(
        name=name,
        type=match.group("type").strip(),
        default=default.strip() if default is not None else None,
        comment=comment,
        in_key=in_key,
        line=line,
    )


def parse_foreign_key(line: str, in_key: bool) -> ForeignKeyLine:
    """Parse ``-> [options] Reference`` (the reference is resolved later)."""
    match = _FK.match(line)
    if not match or not match.group("ref"):
        raise DataJointError(
            f'Declaration error in position 0 in line "{line}": incomplete foreign key.'
        )
    options = [o.strip().lower() for o in (match.group("options") or "").split(",") if o.strip()]
    for option in options:
        if option not in FK_OPTIONS:
            raise DataJointError(f'Invalid foreign key option "{option}"')
    nullable = "nullable" in options
    if nullable and in_key:
        raise DataJointError(f'Primary dependencies cannot be nullable in line "{line}"')
    return ForeignKeyLine(match.group("ref"), nullable, "unique" in options, in_key, line)


def parse_definition(definition: str) -> Definition:
    """Split a definition into its table comment and its attribute, foreign-key and index lines."""
    lines = [line.strip() for line in definition.strip().split("\n")]
    table_comment = ""
    if lines and lines[0].startswith("#"):
        table_comment = lines.pop(0)[1:].strip()
        if table_comment.startswith(":"):
            raise DataJointError('Table comment must not start with a colon ":"')
    in_key = True
    parsed: list[AttributeLine | ForeignKeyLine | IndexLine] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.startswith("---") or line.startswith("___"):
            in_key = False
        elif is_foreign_key(line):
            parsed.append(parse_foreign_key(line, in_key))
        elif _INDEX.match(line):
            match = _INDEX.match(line)
            assert match is not None
            parsed.append(
                IndexLine(_split_items(match.group("items")), bool(match.group("unique")), line)
            )
        else:
            parsed.append(parse_attribute(line, in_key))
    return Definition(table_comment, tuple(parsed))
