"""The shared SQL-text scanner: examples, the docstring's doctests, and Hypothesis properties."""

from __future__ import annotations

import doctest
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datajoint import sqltext
from datajoint.sqltext import (
    Segment,
    closing_bracket,
    find_top_level,
    segments,
    split_top_level,
    top_level_text,
    walk,
)


def test_doctests() -> None:
    assert doctest.testmod(sqltext).failed == 0


def pieces(text: str, **options) -> list[tuple[str, str]]:
    return [(s.quote, text[s.start : s.end]) for s in segments(text, **options)]


def test_segments_split_quoted_parts_from_the_rest() -> None:
    text = "a = 'it''s' and `we``ird` = \"x\""
    assert pieces(text) == [
        ("", "a = "),
        ("'", "'it''s'"),
        ("", " and "),
        ("`", "`we``ird`"),
        ("", " = "),
        ('"', '"x"'),
    ]


def test_backslash_escapes_only_when_asked() -> None:
    text = r"'a\'b' c"
    assert pieces(text) == [("'", r"'a\'"), ("", "b"), ("'", "' c")]
    assert pieces(text, backslash=True) == [("'", r"'a\'b'"), ("", " c")]


def test_an_unterminated_quote_runs_to_the_end() -> None:
    assert list(segments("x 'abc")) == [Segment(0, 2, "", True), Segment(2, 6, "'", False)]
    assert list(segments(r"'a\'", backslash=True)) == [Segment(0, 4, "'", False)]


def test_only_the_given_quotes_count() -> None:
    assert pieces("`a` 'b'", quotes="'") == [("", "`a` "), ("'", "'b'")]
    assert pieces("`a` 'b'", quotes="") == [("", "`a` 'b'")]


def test_segments_from_a_start() -> None:
    assert pieces("E'x\\'y'", quotes="'", backslash=True, start=1) == [("'", "'x\\'y'")]


def test_walk_reports_depth_outside_each_bracket() -> None:
    assert [(ch, depth) for _i, ch, depth in walk("f(a)")] == [
        ("f", 0),
        ("(", 0),
        ("a", 1),
        (")", 0),
    ]
    assert [ch for _i, ch, _d in walk("a'(b)'c")] == ["a", "c"]


def test_find_top_level() -> None:
    assert find_top_level("enum('a:b'):c", ":") == 11
    assert find_top_level("<blob@s:x>:c", ":", brackets="()<>") == 10
    assert find_top_level("f(a,b)", ",") == -1
    assert find_top_level("'a'::text::varchar", "::", last=True) == 9
    assert find_top_level("a:::b", "::", last=True) == 1  # occurrences do not overlap
    assert find_top_level(":a:b", ":", start=1) == 2


def test_split_top_level() -> None:
    assert split_top_level("a, f(b, c), 'd, e'") == ["a", " f(b, c)", " 'd, e'"]
    assert split_top_level("") == [""]
    assert split_top_level("a || b", "||") == ["a ", " b"]


def test_closing_bracket() -> None:
    assert closing_bracket("(a(b)')')c", 0) == 8
    assert closing_bracket("f(a(b)", 1) == -1
    assert closing_bracket("<a<b>>", 0, brackets="<>") == 5


def test_top_level_text() -> None:
    assert top_level_text("f(a+b) || 'x-y'") == "f || "
    assert top_level_text("a) + b") == "a"  # a stray closing bracket ends the top level


# ---- properties ----------------------------------------------------------------------------
QUOTE = st.sampled_from("'\"`")
PLAIN = st.text(alphabet="ab ,:()\\", max_size=8)


@st.composite
def quoted(draw, backslash: bool = False) -> str:
    """A closed quoted part whose body may hold any character, escaped as needed."""
    quote = draw(QUOTE)
    body = draw(st.text(alphabet="ab,:()'\"`\\", max_size=8))
    if backslash:
        body = body.replace("\\", "\\\\")
    return quote + body.replace(quote, quote * 2) + quote


@st.composite
def expression(draw, depth: int = 0) -> str:
    """SQL-like text with closed quotes and balanced parentheses."""
    parts = draw(
        st.lists(
            st.one_of(
                st.text(alphabet="ab ,:+", max_size=4),
                quoted(),
                *([expression(depth + 1).map(lambda e: f"({e})")] if depth < 3 else []),
            ),
            max_size=4,
        )
    )
    return "".join(parts)


@given(st.text(alphabet="ab'\"`\\(),", max_size=30), st.booleans())
def test_segments_partition_any_text(text: str, backslash: bool) -> None:
    found = list(segments(text, backslash=backslash))
    assert "".join(text[s.start : s.end] for s in found) == text
    assert all(a.end == b.start for a, b in itertools.pairwise(found))
    assert all(s.start < s.end for s in found)
    assert all(s.closed for s in found[:-1])  # only the last part can be left open
    for plain in (s for s in found if not s.quote):
        assert not set(text[plain.start : plain.end]) & set(sqltext.QUOTES)


@given(st.booleans(), st.data())
def test_quoted_parts_are_found_whole(backslash: bool, data: st.DataObject) -> None:
    """A body with its quote doubled (and, with backslash escapes, its backslashes doubled)
    is one segment, whatever it holds."""
    parts = data.draw(st.lists(st.one_of(PLAIN, quoted(backslash=backslash)), max_size=6))
    text = " ".join(parts)
    found = [text[s.start : s.end] for s in segments(text, backslash=backslash) if s.quote]
    assert found == [p for p in parts if p and p[0] in sqltext.QUOTES]


@given(expression())
def test_split_and_join_are_inverse(text: str) -> None:
    parts = split_top_level(text)
    assert ",".join(parts) == text
    for part in parts:  # no part is cut inside a quote or a bracket
        assert all(s.closed for s in segments(part))
        assert sum(1 for _i, ch, _d in walk(part) if ch == "(") == sum(
            1 for _i, ch, _d in walk(part) if ch == ")"
        )


@given(expression())
def test_every_opening_bracket_has_its_closing_one(text: str) -> None:
    depth_at = {i: d for i, _ch, d in walk(text)}
    for i, ch, depth in walk(text):
        if ch == "(":
            end = closing_bracket(text, i)
            assert text[end] == ")" and depth_at[end] == depth
            inner = [d for j, d in depth_at.items() if i < j < end]
            assert all(d > depth for d in inner)


@given(expression())
def test_top_level_text_holds_no_quotes_or_brackets(text: str) -> None:
    reduced = top_level_text(text)
    assert not set(reduced) & set("()'\"`")
    assert len(reduced) <= len(text)


@pytest.mark.parametrize("text", ["", "abc", "'", "(", ")"])
def test_small_inputs_do_not_fail(text: str) -> None:
    assert "".join(text[s.start : s.end] for s in segments(text)) == text
    assert split_top_level(text) == [text]
    assert find_top_level(text, ",") == -1
