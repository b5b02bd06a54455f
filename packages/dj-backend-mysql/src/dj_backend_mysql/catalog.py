"""Normalisation of catalog values that MySQL 8 and MariaDB report differently.

The results follow the :class:`datajoint.backend.contract.ColumnInfo` conventions: lower-case
types without integer display widths, defaults unquoted and unescaped, ``"null"`` for DEFAULT NULL
and ``CURRENT_TIMESTAMP[(n)]`` for current-time defaults.
"""

from __future__ import annotations

import re

from datajoint.sqltext import segments

_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\s*\(\s*\d+\s*\)")
_CURRENT_TIME = re.compile(
    r"^\s*(current_timestamp|now|localtimestamp|localtime)\s*(\(\s*(\d*)\s*\))?\s*$", re.I
)
_JSON_CHECK = re.compile(r"^\s*json_valid\s*\(\s*`?(?P<col>(?:[^`]|``)+?)`?\s*\)\s*$", re.I)
_UNESCAPES = {
    "0": "\0",
    "b": "\b",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "Z": "\x1a",
}


def normalize_type(column_type: str) -> str:
    """Lower-case a COLUMN_TYPE outside quoted enum values and drop integer display widths."""
    pieces = []
    for segment in segments(column_type, "'", backslash=True):
        piece = column_type[segment.start : segment.end]
        pieces.append(piece if segment.quote and segment.closed else piece.lower())
    text = "".join(pieces).strip()
    text = _INT_WIDTH.sub(r"\1", text)
    return re.sub(r"\s+", " ", text)


def unescape_string(body: str) -> str:
    """The value of a MySQL string literal body (between the quotes): ``''`` and ``\\x`` escapes."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "%_":  # kept with the backslash, as MySQL does
                out.append(ch + nxt)
            else:
                out.append(_UNESCAPES.get(nxt, nxt))
            i += 2
            continue
        if ch == "'" and body[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def current_time_default(text: str) -> str | None:
    """``CURRENT_TIMESTAMP`` or ``CURRENT_TIMESTAMP(n)`` when ``text`` is a current-time default."""
    match = _CURRENT_TIME.match(text)
    if not match:
        return None
    precision = match.group(3)
    return f"CURRENT_TIMESTAMP({int(precision)})" if precision else "CURRENT_TIMESTAMP"


def normalize_default(raw: str | None, *, nullable: bool, extra: str, mariadb: bool) -> str | None:
    """The contract's form of a COLUMN_DEFAULT value.

    MariaDB quotes string literals (``'abc'``), writes DEFAULT NULL as the text ``NULL`` and
    current time as ``current_timestamp()``. MySQL 8 reports literals bare, DEFAULT NULL as SQL
    NULL, and marks expression defaults with ``DEFAULT_GENERATED`` in EXTRA.
    """
    if raw is None:
        # MySQL: a nullable column without a default has the implicit DEFAULT NULL
        return "null" if nullable and not mariadb else None
    current = current_time_default(raw)
    if current is not None:
        return current
    if mariadb:
        if raw == "NULL":
            return "null"
        if len(raw) >= 2 and raw.startswith("'") and raw.endswith("'"):
            return unescape_string(raw[1:-1])
        return raw
    if "default_generated" in extra.lower() and raw.startswith("(") and raw.endswith(")"):
        return raw[1:-1]
    return raw


def json_check_column(check_clause: str) -> str | None:
    """The column a MariaDB ``json_valid(`col`)`` check constraint guards, else None."""
    match = _JSON_CHECK.match(check_clause)
    return match.group("col").replace("``", "`") if match else None
