"""Normalisation of PostgreSQL catalog text into the contract's ColumnInfo conventions.

``format_type()`` spellings become the short native names ("varchar(255)", "char(4)",
"timestamp(3)") and ``pg_get_expr()`` defaults become plain values ("abc", "-1", "null",
"CURRENT_TIMESTAMP(3)").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from datajoint.sqltext import closing_bracket, find_top_level, segments, top_level_text

_TYPE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^character varying(\(\d+\))?", r"varchar\1"),
        (r"^character(\(\d+\))?", r"char\1"),
        (r"^bit varying(\(\d+\))?", r"varbit\1"),
        (r"^timestamp(\(\d+\))? without time zone", r"timestamp\1"),
        (r"^timestamp(\(\d+\))? with time zone", r"timestamptz\1"),
        (r"^time(\(\d+\))? without time zone", r"time\1"),
        (r"^time(\(\d+\))? with time zone", r"timetz\1"),
    )
)

_CURRENT_TIME = re.compile(
    r"^(current_timestamp|localtimestamp|now\(\)|transaction_timestamp\(\)|statement_timestamp\(\))"
    r"(?:\s*\(\s*(\d+)\s*\))?$",
    re.I,
)


def normalize_type(formatted: str) -> str:
    """A ``format_type()`` result in the contract's spelling (lower case, short names)."""
    text = formatted.strip().lower()
    for pattern, replacement in _TYPE_RULES:
        new, count = pattern.subn(replacement, text, count=1)
        if count:
            return new
    return text


def enum_sql_type(labels: Sequence[str]) -> str:
    """``enum('a','b')`` from enum labels in sort order (quotes doubled)."""
    return "enum(" + ",".join("'" + v.replace("'", "''") + "'" for v in labels) + ")"


_E_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_E_ESCAPE = re.compile(r"''|\\(.)", re.S)
_PG_QUOTES = "'\""


def _leading_literal(expr: str) -> tuple[str, str] | None:
    """Split ``'it''s'::type`` into (unescaped value, rest); None if no literal starts ``expr``."""
    escaped = expr[:2].upper() == "E'"
    if not (expr.startswith("'") or escaped):
        return None
    opening = 1 if escaped else 0
    literal = next(segments(expr, "'", backslash=escaped, start=opening))
    if not literal.closed:
        return None
    body = expr[opening + 1 : literal.end - 1]
    if escaped:
        value = _E_ESCAPE.sub(
            lambda m: "'" if m.group(1) is None else _E_ESCAPES.get(m.group(1), m.group(1)), body
        )
    else:
        value = body.replace("''", "'")
    return value, expr[literal.end :].strip()


def _strip_parentheses(expr: str) -> str:
    """Remove parentheses that enclose the whole expression."""
    while expr.startswith("(") and closing_bracket(expr, 0, _PG_QUOTES) == len(expr) - 1:
        expr = expr[1:-1].strip()
    return expr


_OPERATOR = re.compile(r"\|\||[-+*/%<>=,^&|!~]|\b(and|or|not|is|in|like)\b", re.I)


def _has_operator(expr: str) -> bool:
    """Whether ``expr`` has an operator outside quotes and parentheses."""
    return bool(_OPERATOR.search(top_level_text(expr, _PG_QUOTES)))


def _only_casts(rest: str) -> bool:
    """True when ``rest`` is empty or only ``::type`` casts (no further operators)."""
    return not rest or (rest.startswith("::") and not _has_operator(rest))


def normalize_default(expr: str | None, nullable: bool) -> tuple[str | None, bool]:
    """(default, autoincrement) per the ColumnInfo conventions from a ``pg_get_expr`` text.

    ``nextval(...)`` marks an auto-increment column (default None); ``NULL`` and a missing default
    of a nullable column give "null"; current-time functions give ``CURRENT_TIMESTAMP[(n)]``;
    literals lose their casts, quotes and escapes. Other expressions are returned as written.
    """
    if expr is None:
        return ("null" if nullable else None), False
    text = expr.strip()
    if text.lower().startswith("nextval("):
        return None, True
    while True:
        literal = _leading_literal(text)
        if literal is not None and _only_casts(literal[1]):
            return literal[0], False
        cast = find_top_level(text, "::", _PG_QUOTES, last=True)
        if cast > 0 and _has_operator(text[:cast]):
            cast = -1  # the cast binds to the last operand only: keep the expression
        stripped = _strip_parentheses(text[:cast].strip() if cast > 0 else text)
        if stripped == text:
            break
        text = stripped
    if text.upper() == "NULL":
        return "null", False
    match = _CURRENT_TIME.match(text)
    if match:
        precision = match.group(2)
        return ("CURRENT_TIMESTAMP" + (f"({precision})" if precision else "")), False
    return text, False
