"""Small, pure helpers for PostgreSQL SQL text: names, enum types, literals, user SQL, JSON paths.

Nothing here talks to a server; every function is deterministic and unit-testable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from datajoint.sqltext import segments

#: PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes
MAX_IDENTIFIER_BYTES = 63


def quote_identifier(identifier: str) -> str:
    """Double-quote an identifier, doubling embedded double quotes."""
    return '"' + identifier.replace('"', '""') + '"'


def string_literal(value: str) -> str:
    """A standard-conforming SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def enum_type_name(values: Sequence[str]) -> str:
    """``enum_<first 8 hex of md5 of the sorted values joined by _>`` (unqualified, unquoted)."""
    digest = hashlib.md5("_".join(sorted(values)).encode("utf-8")).hexdigest()
    return "enum_" + digest[:8]


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def index_name(table: str, columns: Sequence[str], unique: bool) -> str:
    """A deterministic index name, unique per schema and at most 63 bytes.

    The readable part (``ix_``/``uq_``, the table name without tier prefix characters and the
    column names) is truncated as needed and always followed by 8 hex digits of an md5 over the
    exact table and column names, so different tables or column lists never share a name.
    """
    prefix = "uq_" if unique else "ix_"
    digest = hashlib.md5("\x00".join([table, *columns]).encode("utf-8")).hexdigest()[:8]
    readable = "_".join([table.strip("#_~"), *columns])
    room = MAX_IDENTIFIER_BYTES - len(prefix) - len(digest) - 1
    return f"{prefix}{truncate_bytes(readable, room)}_{digest}"


def dollar_quote(body: str) -> str:
    """``body`` wrapped in a dollar quote whose tag does not occur in it."""
    tag, n = "$dj$", 0
    while tag in body:
        n += 1
        tag = f"$dj{n}$"
    return f"{tag}{body}{tag}"


def translate_user_sql(text: str) -> str:
    """User SQL with MySQL backtick identifiers turned into double-quoted ones.

    Single-quoted string literals and double-quoted identifiers are copied unchanged; a backtick
    cannot be valid PostgreSQL anywhere else, so the translation never breaks a valid statement.
    """
    if "`" not in text:
        return text
    out: list[str] = []
    for segment in segments(text):
        piece = text[segment.start : segment.end]
        if segment.quote == "`":
            name = piece[1:-1] if segment.closed else piece[1:]
            out.append(quote_identifier(name.replace("``", "`")))
        else:
            out.append(piece)
    return "".join(out)


_PATH_PART = re.compile(r"[^.\[\]]+|\[\s*(\d+)\s*\]")

#: JSON path return types that differ on PostgreSQL
_JSON_RETURN_TYPES = {
    "unsigned": "integer",
    "signed": "integer",
    "int": "integer",
    "double": "double precision",
    "float": "real",
    "datetime": "timestamp",
}


def json_path_elements(path: str | Sequence[str | int]) -> list[str]:
    """``"a.b[0].c"`` -> ``["a", "b", "0", "c"]`` (array indices become path elements)."""
    if not isinstance(path, str):
        return [str(p) for p in path]
    parts = []
    for match in _PATH_PART.finditer(path.lstrip("$").lstrip(".")):
        parts.append(match.group(1) if match.group(1) is not None else match.group(0).strip())
    return [p for p in parts if p]


def json_return_type(return_type: str) -> str:
    """The PostgreSQL cast target for a JSON path return type (``unsigned`` -> ``integer``)."""
    text = return_type.strip().lower()
    base = re.sub(r"\s*\(.*$", "", text)
    if base in ("decimal", "datetime"):
        args = text[len(base) :].replace(" ", "")
        return ("numeric" if base == "decimal" else "timestamp") + args
    return _JSON_RETURN_TYPES.get(text, _JSON_RETURN_TYPES.get(base, text))
