"""Portable string aggregation in user SQL: ``GROUP_CONCAT`` <-> ``STRING_AGG`` (SPEC §13).

Users write either spelling in computed attributes; each dialect rewrites the calls it does not
support into its own. Only the function call is rewritten; the rest of the text is untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..sqltext import closing_bracket, split_top_level

_CALL = re.compile(r"\b(group_concat|string_agg)\s*\(", re.I)
_SEPARATOR = re.compile(r"\s+SEPARATOR\s+('(?:[^']|'')*')\s*$", re.I | re.S)
_ORDER = re.compile(r"\s+ORDER\s+BY\s+", re.I)


@dataclass
class _Aggregate:
    distinct: bool
    expression: str
    order_by: str | None
    separator: str


def _parse(name: str, inner: str) -> _Aggregate:
    body = inner.strip()
    distinct = bool(re.match(r"DISTINCT\s", body, re.I))
    if distinct:
        body = body[len("DISTINCT") :].strip()
    separator = "','"
    if name == "group_concat":
        match = _SEPARATOR.search(body)
        if match:
            separator, body = match.group(1), body[: match.start()]
        else:
            args = split_top_level(body)
            if len(args) == 2:  # SQLite's group_concat(x, sep)
                body, separator = args[0], args[1].strip()
    else:
        args = split_top_level(body)
        body = args[0]
        if len(args) > 1:
            separator = ",".join(args[1:]).strip()
    order_by = None
    for holder in ("body", "separator"):
        value = body if holder == "body" else separator
        match = _ORDER.search(value)
        if match:
            order_by = value[match.end() :].strip()
            if holder == "body":
                body = value[: match.start()]
            else:
                separator = value[: match.start()].strip()
    return _Aggregate(distinct, body.strip(), order_by, separator)


def _render(agg: _Aggregate, target: str) -> str:
    distinct = "DISTINCT " if agg.distinct else ""
    order = f" ORDER BY {agg.order_by}" if agg.order_by else ""
    if target == "postgresql":
        return f"STRING_AGG({distinct}({agg.expression})::text, {agg.separator}{order})"
    if target == "mysql":
        return f"GROUP_CONCAT({distinct}{agg.expression}{order} SEPARATOR {agg.separator})"
    if agg.distinct and agg.separator == "','":
        return f"group_concat(DISTINCT {agg.expression}{order})"
    return f"group_concat({distinct}{agg.expression}, {agg.separator}{order})"


def translate_string_aggregation(text: str, target: str) -> str:
    """Rewrite GROUP_CONCAT/STRING_AGG calls in ``text`` for ``target`` (mysql, postgresql, sqlite)."""
    out, position = [], 0
    native = {"mysql": "group_concat", "postgresql": "string_agg"}.get(target)
    for match in _CALL.finditer(text):
        if match.start() < position:
            continue
        name = match.group(1).lower()
        if name == native:
            continue
        end = closing_bracket(text, match.end() - 1)
        if end < 0:  # unbalanced: leave the text to the server to reject
            return text
        inner = translate_string_aggregation(text[match.end() : end], target)
        out.append(text[position : match.start()])
        out.append(_render(_parse(name, inner), target))
        position = end + 1
    out.append(text[position:])
    return "".join(out)
