"""Previews of query results: the text of ``repr(Q)``/``Q.preview()`` and the notebook HTML table.

A preview reads at most ``display.limit`` rows (ordered by the primary key) and never the values of
blob, codec or JSON attributes, which are shown as placeholders. Settings come from the query's
own connection (``connection.config``), so thread-safe instances use their own display settings.
"""

from __future__ import annotations

import html
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from .reader import apply_order, column_decoders, dict_maker, key_names, row_batches


@dataclass
class Preview:
    """The first rows of a result as display text, and what is needed to caption them."""

    names: list[str]
    key: list[str]
    rows: list[list[str]]
    more: bool
    total: int | None


def _placeholder(attr: Any) -> str | None:
    """What a preview shows instead of a value it does not fetch."""
    if attr.codec_name or attr.is_blob:
        return "=BLOB="
    if attr.is_json:
        return "=JSON="
    return None


def display_settings(query: Any) -> Any:
    """The ``display`` settings of the configuration the query's connection uses."""
    return query.connection.config.display


def collect(query: Any, limit: int | None = None) -> Preview:
    """Read the first ``limit`` rows (default ``display.limit``) as text, and the row count when
    ``display.show_tuple_count`` is set."""
    display = display_settings(query)
    limit = display.limit if limit is None else limit
    heading = query.heading
    names = heading.names
    fetched = [n for n in names if _placeholder(heading[n]) is None] or key_names(query)
    window = apply_order(query, limit=limit + 1)
    make = dict_maker(fetched, column_decoders(window, fetched))
    rows: list[dict[str, Any]] = []
    if fetched:
        with closing(row_batches(window, fetched, streaming=False)) as batches:
            for batch in batches:
                rows.extend(make(batch))
    more = len(rows) > limit
    text_rows = []
    for row in rows[:limit]:
        text_rows.append(
            [str(row[n]) if n in row else (_placeholder(heading[n]) or "") for n in names]
        )
    total = len(query) if display.show_tuple_count else None
    return Preview(names, key_names(query), text_rows, more, total)


def as_text(query: Any, limit: int | None = None, width: int | None = None) -> str:
    """The text preview: key attributes marked ``*``, values cut to ``width`` characters."""
    width = display_settings(query).width if width is None else width
    view = collect(query, limit)
    headers = [("*" if n in view.key else "") + n for n in view.names]
    widths = [
        min(width, max([len(h), *(len(r[i]) for r in view.rows)])) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(h[:w].ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in view.rows
    ]
    if view.more:
        lines.append(" ...")
    if view.total is not None:
        lines.append(f" (Total: {view.total})")
    return "\n".join(lines)


def as_html(query: Any, limit: int | None = None) -> str:
    """An HTML table of the preview rows for notebooks (key attributes in bold headers)."""
    view = collect(query, limit)
    head = "".join(
        f"<th{' class=dj-key' if n in view.key else ''}>{html.escape(n)}</th>" for n in view.names
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in view.rows
    )
    if view.more:
        body += f"<tr><td colspan={len(view.names)}>...</td></tr>"
    caption = "" if view.total is None else f"<p>Total: {view.total}</p>"
    style = (
        "<style>.dj-preview th.dj-key{font-weight:bold;text-decoration:underline}"
        ".dj-preview td,.dj-preview th{padding:2px 8px;text-align:left}</style>"
    )
    return (
        f'<div class="dj-preview">{style}<table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{caption}</div>"
    )
