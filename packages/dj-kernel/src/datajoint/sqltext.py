"""Scanning SQL text for quotes and brackets: the one scanner the kernel and the backends share.

SQL text (restrictions, computed attributes, catalog column types and defaults, the types kept in
column comments) is read piece by piece: quoted parts are skipped as a whole and brackets nest.
Every function here is pure and takes the same options:

- ``quotes``: the characters that open a quoted part, which ends at the same character. A doubled
  quote character inside (``'it''s'``, ```a``b```) is part of the text, as in standard SQL.
- ``backslash``: whether a backslash escapes the next character inside quotes (MySQL string
  literals, PostgreSQL ``E'...'`` strings); off by default, as in standard SQL.
- ``brackets``: opening and closing characters in pairs, ``"()"`` by default (``"()<>"`` also
  nests the angle brackets of codec types).

An unterminated quoted part runs to the end of the text; a closing bracket without its opening
one makes the depth negative, so nothing after it is at the top level.

>>> split_top_level("f(a, b), 'x, y', z")
['f(a, b)', " 'x, y'", ' z']
>>> find_top_level("enum('a:b'):comment", ":")
11
>>> closing_bracket("max(f(x), ')') + 1", 3)
13
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

#: the quote characters of SQL text: strings, double-quoted and backquoted identifiers
QUOTES = "'\"`"


class Segment(NamedTuple):
    """A piece ``text[start:end]`` of scanned text: a quoted part (its quotes included) when
    ``quote`` is set, else a run of text outside quotes. ``closed`` is False for a quoted part
    that the text ends before closing."""

    start: int
    end: int
    quote: str
    closed: bool


@functools.cache
def _next_quote(quotes: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(quotes) + "]")


def _quote_end(text: str, start: int, backslash: bool) -> int:
    """The index just after the quote that closes the one at ``start``; -1 when none does."""
    quote, i, n = text[start], start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and backslash:
            i += 2
        elif ch != quote:
            i += 1
        elif i + 1 < n and text[i + 1] == quote:  # a doubled quote stands for itself
            i += 2
        else:
            return i + 1
    return -1


def segments(
    text: str, quotes: str = QUOTES, *, backslash: bool = False, start: int = 0
) -> Iterator[Segment]:
    """The pieces of ``text[start:]`` in order: runs outside quotes and quoted parts."""
    n = len(text)
    if not quotes:
        if start < n:
            yield Segment(start, n, "", True)
        return
    find = _next_quote(quotes).search
    position = start
    while position < n:
        match = find(text, position)
        if match is None:
            yield Segment(position, n, "", True)
            return
        opening = match.start()
        if opening > position:
            yield Segment(position, opening, "", True)
        end = _quote_end(text, opening, backslash)
        yield Segment(opening, end if end > 0 else n, text[opening], end > 0)
        position = end if end > 0 else n


def walk(
    text: str,
    quotes: str = QUOTES,
    *,
    backslash: bool = False,
    brackets: str = "()",
    start: int = 0,
) -> Iterator[tuple[int, str, int]]:
    """``(index, character, depth)`` of every character of ``text[start:]`` outside quotes.

    ``depth`` counts the brackets open around the character; a bracket reports the depth outside
    it, so the brackets of a top-level group are at depth 0 and its contents at depth 1.
    """
    opening, closing = brackets[0::2], brackets[1::2]
    depth = 0
    for segment in segments(text, quotes, backslash=backslash, start=start):
        if segment.quote:
            continue
        for i in range(segment.start, segment.end):
            ch = text[i]
            if ch in opening:
                yield i, ch, depth
                depth += 1
            elif ch in closing:
                depth -= 1
                yield i, ch, depth
            else:
                yield i, ch, depth


def _top_level_matches(
    text: str, needle: str, quotes: str, backslash: bool, brackets: str, start: int
) -> Iterator[int]:
    """Start indices of the non-overlapping occurrences of ``needle`` at the top level."""
    resume = start
    for i, _ch, depth in walk(text, quotes, backslash=backslash, brackets=brackets, start=start):
        if depth == 0 and i >= resume and text.startswith(needle, i):
            yield i
            resume = i + len(needle)


def find_top_level(
    text: str,
    needle: str,
    quotes: str = QUOTES,
    *,
    backslash: bool = False,
    brackets: str = "()",
    start: int = 0,
    last: bool = False,
) -> int:
    """The index of the first (``last=True``: the last) ``needle`` outside quotes and brackets
    in ``text[start:]``, or -1. Occurrences are counted from the left without overlapping."""
    found = -1
    for i in _top_level_matches(text, needle, quotes, backslash, brackets, start):
        if not last:
            return i
        found = i
    return found


def split_top_level(
    text: str,
    separator: str = ",",
    quotes: str = QUOTES,
    *,
    backslash: bool = False,
    brackets: str = "()",
) -> list[str]:
    """``text`` split at every ``separator`` outside quotes and brackets (parts not stripped)."""
    parts, position = [], 0
    for i in _top_level_matches(text, separator, quotes, backslash, brackets, 0):
        parts.append(text[position:i])
        position = i + len(separator)
    parts.append(text[position:])
    return parts


def closing_bracket(
    text: str,
    opening: int,
    quotes: str = QUOTES,
    *,
    backslash: bool = False,
    brackets: str = "()",
) -> int:
    """The index of the bracket that closes the one at ``text[opening]``, or -1 when the text
    ends first."""
    for i, _ch, depth in walk(text, quotes, backslash=backslash, brackets=brackets, start=opening):
        if depth == 0 and i > opening:
            return i if text[i] in brackets[1::2] else -1
    return -1


def top_level_text(
    text: str, quotes: str = QUOTES, *, backslash: bool = False, brackets: str = "()"
) -> str:
    """``text`` without its quoted parts and bracketed groups (brackets included), e.g. to look
    for the operators of an expression: ``"f(a+b) || 'x-y'"`` gives ``"f || "``."""
    return "".join(
        ch
        for _i, ch, depth in walk(text, quotes, backslash=backslash, brackets=brackets)
        if depth == 0 and ch not in brackets
    )
