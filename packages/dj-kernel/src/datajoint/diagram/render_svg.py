"""The built-in SVG renderer: a diagram drawn with no system Graphviz.

The layout comes from :mod:`.layout`; this module sizes the nodes, draws them in the tier shapes
of :mod:`.style` and routes one line per foreign key. Colours live in one ``<style>`` element
scoped to the picture's id, so several diagrams on one notebook page do not restyle each other,
and the theme "auto" is the light palette plus a ``prefers-color-scheme: dark`` media query.

Every node is a ``<g class="dj-node …">`` with ``data-table`` (the node name), ``data-tier`` and
``data-box`` ("x y width height" of its box); every foreign key is a ``<g class="dj-edge …">`` with
``data-source`` and ``data-target``, so tools and tests can read the picture back.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Hashable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from .layout import Box, layered_layout
from .style import PALETTES, Direction, EdgeView, NodeView, Palette, Theme, scene

FONT = "Helvetica, Arial, sans-serif"
FONT_SIZE = 12.0
PART_FONT_SIZE = 10.0
CHAR_WIDTH = 0.62  # average glyph width of the font, in font sizes (no font metrics at hand)
PARALLEL_SPREAD = 9.0  # distance between parallel foreign keys of one pair of tables


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def node_size(node: NodeView) -> tuple[float, float]:
    """Width and height of a node's box, by tier."""
    if node.tier == "Part":
        return text_width(node.label, PART_FONT_SIZE) + 6, 16.0
    width = text_width(node.label, FONT_SIZE)
    if node.tier in ("Imported", "Computed"):
        return width * 1.2 + 24, 32.0  # an ellipse holding the text
    if node.tier == "Lookup":
        return width + 8, 20.0
    return width + 20, 26.0


def render_svg(diagram: Any, direction: Direction, theme: Theme) -> str:
    """The diagram as a standalone SVG document (text)."""
    nodes, edges = scene(diagram)
    graph: nx.DiGraph[Hashable] = nx.DiGraph()
    graph.add_nodes_from(n.name for n in nodes)
    graph.add_edges_from((e.source, e.target) for e in edges)
    sizes: dict[Hashable, tuple[float, float]] = {n.name: node_size(n) for n in nodes}
    layout = layered_layout(graph, sizes, direction)
    ident = (
        "dj-diagram-"
        + hashlib.sha1(
            repr((direction, theme, [(n.name, n.label) for n in nodes])).encode()
        ).hexdigest()[:10]
    )
    width, height = max(layout.width, 40.0), max(layout.height, 40.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{ident}" class="dj-diagram" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.1f} {height:.1f}" '
        f'data-direction="{direction}" data-theme="{theme}">',
        f"<style>{_css(ident, theme)}</style>",
        f'<rect class="dj-bg" x="0" y="0" width="{width:.1f}" height="{height:.1f}"/>',
        '<g class="dj-edges">',
    ]
    parallel: dict[tuple[str, str], list[EdgeView]] = defaultdict(list)
    for edge in edges:
        parallel[(edge.source, edge.target)].append(edge)
    for (source, target), group in parallel.items():
        route = layout.routes[(source, target)]
        for k, edge in enumerate(group):
            offset = (k - (len(group) - 1) / 2) * PARALLEL_SPREAD
            out.append(
                _edge(edge, layout.boxes[source], layout.boxes[target], route, offset, direction)
            )
    out.append("</g>")
    out.append('<g class="dj-nodes">')
    out.extend(_node(n, layout.boxes[n.name]) for n in nodes)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _node(node: NodeView, box: Box) -> str:
    tier = node.tier.lower()
    left, top = box.x - box.width / 2, box.y - box.height / 2
    attrs = (
        f'class="dj-node dj-{tier}" data-table={quoteattr(node.name)} data-tier="{node.tier}" '
        f'data-box="{left:.1f} {top:.1f} {box.width:.1f} {box.height:.1f}"'
    )
    if node.tier in ("Imported", "Computed"):
        shape = (
            f'<ellipse class="dj-shape" cx="{box.x:.1f}" cy="{box.y:.1f}" '
            f'rx="{box.width / 2:.1f}" ry="{box.height / 2:.1f}"/>'
        )
    elif node.tier in ("Manual", "Collapsed"):
        shape = (
            f'<rect class="dj-shape" x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" '
            f'height="{box.height:.1f}" rx="2"/>'
        )
    else:  # Lookup and Part are plain text
        shape = ""
    return (
        f"<g {attrs}><title>{escape(node.name)}</title>{shape}"
        f'<text x="{box.x:.1f}" y="{box.y:.1f}" dy="0.35em" text-anchor="middle">'
        f"{escape(node.label)}</text></g>"
    )


def _edge(
    edge: EdgeView,
    source: Box,
    target: Box,
    route: list[tuple[float, float]],
    offset: float,
    direction: Direction,
) -> str:
    """A foreign key as a smooth path leaving the parent's far side and entering the child's near
    side, through the route's points; parallel keys are spread by ``offset``."""
    vertical = direction == "TB"
    if vertical:
        start = (source.x + offset, source.y + source.height / 2)
        end = (target.x + offset, target.y - target.height / 2)
        middle = [(x + offset, y) for x, y in route]
    else:
        start = (source.x + source.width / 2, source.y + offset)
        end = (target.x - target.width / 2, target.y + offset)
        middle = [(x, y + offset) for x, y in route]
    points = [start, *middle, end]
    segments = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if vertical:
            c0, c1 = (x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2)
        else:
            c0, c1 = ((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)
        segments.append(((x0, y0), c0, c1, (x1, y1)))
    d = f"M{start[0]:.1f},{start[1]:.1f} " + " ".join(
        f"C{c0[0]:.1f},{c0[1]:.1f} {c1[0]:.1f},{c1[1]:.1f} {p[0]:.1f},{p[1]:.1f}"
        for _, c0, c1, p in segments
    )
    classes = ["dj-edge", "dj-primary" if edge.primary else "dj-secondary"]
    if edge.multi:
        classes.append("dj-multi")
    if edge.part_link:
        classes.append("dj-part-link")
    title = f"{edge.source} → {edge.target}"
    dot = ""
    if edge.aliased:
        classes.append("dj-aliased")
        title += " (renamed: " + ", ".join(f"{c} ← {p}" for c, p in edge.renames) + ")"
        # halfway along the line: a route point, or the middle segment at t = 1/2
        if len(segments) % 2 == 0:
            mx, my = segments[len(segments) // 2][0]
        else:
            p0, c0, c1, p1 = segments[len(segments) // 2]
            mx = (p0[0] + 3 * c0[0] + 3 * c1[0] + p1[0]) / 8
            my = (p0[1] + 3 * c0[1] + 3 * c1[1] + p1[1]) / 8
        dot = f'<circle class="dj-alias" cx="{mx:.1f}" cy="{my:.1f}" r="3.5"/>'
    return (
        f'<g class="{" ".join(classes)}" data-source={quoteattr(edge.source)} '
        f"data-target={quoteattr(edge.target)}><title>{escape(title)}</title>"
        f'<path d="{d}"/>{dot}</g>'
    )


def _colours(ident: str, p: Palette) -> str:
    s = f"#{ident}"
    return (
        f"{s} .dj-bg{{fill:{p.background or 'none'}}}"
        f"{s} text{{fill:{p.text}}}"
        f"{s} .dj-manual .dj-shape{{fill:{p.manual_fill};stroke:{p.manual_stroke}}}"
        f"{s} .dj-lookup text{{fill:{p.lookup_text}}}"
        f"{s} .dj-imported .dj-shape{{fill:{p.imported_fill};stroke:{p.imported_stroke}}}"
        f"{s} .dj-computed .dj-shape{{fill:{p.computed_fill};stroke:{p.computed_stroke}}}"
        f"{s} .dj-part text{{fill:{p.part_text}}}"
        f"{s} .dj-collapsed .dj-shape{{fill:{p.collapsed_fill};stroke:{p.collapsed_stroke}}}"
        f"{s} .dj-edge path{{stroke:{p.edge}}}"
        f"{s} .dj-alias{{fill:{p.alias}}}"
    )


def _css(ident: str, theme: Theme) -> str:
    s = f"#{ident}"
    shape = (
        f"{s}{{font-family:{FONT};font-size:{FONT_SIZE:g}px}}"
        f"{s} .dj-shape{{stroke-width:1.2}}"
        f"{s} .dj-part text{{font-size:{PART_FONT_SIZE:g}px}}"
        f"{s} .dj-collapsed .dj-shape{{stroke-dasharray:4 2}}"
        f"{s} .dj-edge path{{fill:none;stroke-width:1.6}}"
        f"{s} .dj-edge.dj-multi path{{stroke-width:1}}"
        f"{s} .dj-edge.dj-secondary path{{stroke-dasharray:5 4}}"
        f"{s} .dj-edge.dj-part-link path{{stroke-width:0.8;opacity:0.7}}"
    )
    if theme == "auto":
        return (
            shape
            + _colours(ident, PALETTES["light"])
            + "@media (prefers-color-scheme: dark){"
            + _colours(ident, PALETTES["dark"])
            + "}"
        )
    return shape + _colours(ident, PALETTES[theme])
