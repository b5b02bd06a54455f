"""Pictures of a diagram (SPEC §10 Output): Mermaid text, Graphviz through pydot, and SVG that
always works.

``make_svg`` uses Graphviz's ``dot`` program through pydot when both are installed
(``pip install "dj-kernel[diagram]"`` plus the system Graphviz package) and otherwise the built-in
renderer of :mod:`.render_svg`, which needs nothing beyond networkx, so a notebook always shows a
diagram. Every function takes a ``dj.Diagram`` (or any MultiDiGraph carrying the attributes that
:func:`.style.scene` reads); ``direction`` and ``theme`` default to ``display.diagram_direction``
and ``display.diagram_theme``.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import DataJointError
from .mermaid import mermaid_ids, render_mermaid
from .render_svg import FONT, render_svg
from .style import (
    PALETTES,
    Direction,
    EdgeView,
    NodeView,
    Palette,
    Theme,
    check_direction,
    check_theme,
    display_settings,
    scene,
)

if TYPE_CHECKING:
    import pydot

__all__ = [
    "graphviz_available",
    "make_dot",
    "make_mermaid",
    "make_png",
    "make_svg",
    "repr_mimebundle",
    "repr_svg",
    "save",
]

PYDOT_MISSING = (
    "Install pygraphviz and pydot libraries to enable diagram visualization. "
    '(pip install "dj-kernel[diagram]" installs pydot; the dot program comes with Graphviz.)'
)
DOT_MISSING = (
    "Drawing a diagram as {what} needs Graphviz's dot program, which is not on PATH: install "
    "Graphviz (e.g. apt-get install graphviz, brew install graphviz or conda install graphviz), "
    "or use SVG (make_svg(), save('diagram.svg')) or Mermaid, which need no Graphviz."
)
FORMATS = {"svg": "svg", "png": "png", "mmd": "mermaid", "mermaid": "mermaid", "dot": "dot"}


def _options(diagram: Any, direction: str | None, theme: str | None) -> tuple[Direction, Theme]:
    default_direction, default_theme = display_settings(diagram)
    return check_direction(direction or default_direction), check_theme(theme or default_theme)


def _pydot() -> Any:
    try:
        import pydot
    except ImportError as error:
        raise DataJointError(PYDOT_MISSING) from error
    return pydot


def graphviz_available() -> bool:
    """Whether pydot is importable and Graphviz's ``dot`` program is on PATH."""
    try:
        _pydot()
    except DataJointError:
        return False
    return shutil.which("dot") is not None


def make_mermaid(diagram: Any, direction: str | None = None) -> str:
    """The diagram as Mermaid flowchart text."""
    return render_mermaid(diagram, _options(diagram, direction, None)[0])


def make_svg(
    diagram: Any, theme: str | None = None, direction: str | None = None, engine: str = "auto"
) -> str:
    """The diagram as SVG text: drawn by Graphviz when it is installed, else by the built-in
    renderer (``engine`` "graphviz" or "builtin" chooses one; "graphviz" without it is a DJE)."""
    if engine not in ("auto", "graphviz", "builtin"):
        raise DataJointError(
            f"Unknown diagram engine {engine!r}: use 'auto', 'graphviz' or 'builtin'."
        )
    direction_, theme_ = _options(diagram, direction, theme)
    if engine == "builtin" or (engine == "auto" and not graphviz_available()):
        return render_svg(diagram, direction_, theme_)
    svg = _create(diagram, theme_, direction_, "svg").decode()
    return _adapt_to_dark(svg) if theme_ == "auto" else svg


def make_png(diagram: Any, theme: str | None = None, direction: str | None = None) -> bytes:
    """The diagram as PNG bytes (needs pydot and Graphviz; theme "auto" draws the light one)."""
    direction_, theme_ = _options(diagram, direction, theme)
    return _create(diagram, theme_, direction_, "png")


def _matplotlib() -> Any:
    try:
        import matplotlib.image
        import matplotlib.pyplot
    except ImportError as error:
        raise DataJointError(
            "Drawing a diagram as an image needs matplotlib: pip install matplotlib "
            "(or use make_svg(), make_mermaid() or save())."
        ) from error
    return matplotlib


def make_image(diagram: Any, theme: str | None = None, direction: str | None = None) -> Any:
    """The diagram as an image array (height x width x channels), drawn by Graphviz and read by
    matplotlib (needs pydot, Graphviz and matplotlib)."""
    matplotlib = _matplotlib()
    png = make_png(diagram, theme=theme, direction=direction)
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def draw(diagram: Any, theme: str | None = None, direction: str | None = None) -> None:
    """Show the diagram in a matplotlib window (or inline in a notebook)."""
    matplotlib = _matplotlib()
    image = make_image(diagram, theme=theme, direction=direction)
    pyplot = matplotlib.pyplot
    pyplot.imshow(image)
    pyplot.axis("off")
    pyplot.show()


def _create(diagram: Any, theme: Theme, direction: Direction, fmt: str) -> bytes:
    """Graphviz's drawing of the diagram in format ``fmt``."""
    if shutil.which("dot") is None:
        raise DataJointError(DOT_MISSING.format(what=fmt.upper()))
    # pydot annotates create() as str, but it returns the bytes the dot program wrote
    return cast(bytes, make_dot(diagram, theme, direction).create(format=fmt))


# ---- Graphviz ------------------------------------------------------------------------------
def make_dot(diagram: Any, theme: str | None = None, direction: str | None = None) -> pydot.Dot:
    """The diagram as a ``pydot.Dot`` graph in DataJoint's tier styles (building it needs pydot,
    not Graphviz). Each node and edge carries a ``class`` ("dj-node dj-manual", "dj-edge …") that
    Graphviz copies into its SVG; theme "auto" is drawn light and :func:`make_svg` adds the dark
    colours as a CSS media query."""
    pydot = _pydot()
    direction_, theme_ = _options(diagram, direction, theme)
    palette = PALETTES["dark" if theme_ == "dark" else "light"]
    nodes, edges = scene(diagram)
    ids = mermaid_ids(nodes)
    graph = pydot.Dot(
        graph_type="digraph",
        rankdir=direction_,
        bgcolor=palette.background,
        nodesep="0.25",
        ranksep="0.45",
        fontname=FONT,
    )
    for node in nodes:
        graph.add_node(pydot.Node(ids[node.name], **_dot_node(node, palette)))
    for i, edge in enumerate(edges):
        source, target = ids[edge.source], ids[edge.target]
        attrs = _dot_edge(edge, palette)
        if edge.aliased:  # the renamed key passes through a small orange dot
            dot = f"alias_{i}"
            graph.add_node(
                pydot.Node(
                    dot,
                    label="",
                    shape="circle",
                    width="0.09",
                    height="0.09",
                    fixedsize="true",
                    style="filled",
                    fillcolor=palette.alias,
                    color=palette.alias,
                    tooltip=_renames(edge),
                    **{"class": "dj-alias"},
                )
            )
            graph.add_edge(pydot.Edge(source, dot, **attrs))
            graph.add_edge(pydot.Edge(dot, target, **attrs))
        else:
            graph.add_edge(pydot.Edge(source, target, **attrs))
    return graph


def _dot_node(node: NodeView, p: Palette) -> dict[str, str]:
    common = {
        "label": _dot_quote(node.label),
        "tooltip": _dot_quote(node.name),
        "fontname": FONT,
        "fontsize": "10",
        "fontcolor": p.text,
        "class": f"dj-node dj-{node.tier.lower()}",
    }
    filled = {"style": "filled", "penwidth": "1.2"}
    by_tier = {
        "Manual": {**filled, "shape": "box", "fillcolor": p.manual_fill, "color": p.manual_stroke},
        "Lookup": {"shape": "plaintext", "fontcolor": p.lookup_text},
        "Imported": {
            **filled,
            "shape": "ellipse",
            "fillcolor": p.imported_fill,
            "color": p.imported_stroke,
        },
        "Computed": {
            **filled,
            "shape": "ellipse",
            "fillcolor": p.computed_fill,
            "color": p.computed_stroke,
        },
        "Part": {"shape": "plaintext", "fontsize": "8", "fontcolor": p.part_text},
        "Collapsed": {
            "shape": "box",
            "style": "filled,dashed",
            "fillcolor": p.collapsed_fill,
            "color": p.collapsed_stroke,
        },
    }
    return {**common, "height": "0.25", **by_tier[node.tier]}


def _dot_edge(edge: EdgeView, p: Palette) -> dict[str, str]:
    width = "0.6" if edge.part_link else "0.9" if edge.multi else "1.5"
    classes = ["dj-edge", "dj-primary" if edge.primary else "dj-secondary"]
    return {
        "style": "solid" if edge.primary else "dashed",
        "arrowhead": "none",
        "penwidth": width,
        "color": p.edge,
        "weight": "3" if edge.part_link else "1",  # keep parts close to their master
        "tooltip": _dot_quote(_renames(edge) or f"{edge.source} → {edge.target}"),
        "class": " ".join(classes),
    }


def _renames(edge: EdgeView) -> str:
    return ", ".join(f"{c} ← {p}" for c, p in edge.renames)


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _adapt_to_dark(svg: str) -> str:
    """Graphviz's SVG of the light palette plus a CSS media query that recolours it for a dark
    scheme (CSS rules override SVG presentation attributes)."""
    ident = "dj-graphviz-" + hashlib.sha1(svg.encode()).hexdigest()[:10]
    p = PALETTES["dark"]
    s = f"#{ident}"
    css = (
        "@media (prefers-color-scheme: dark){"
        f"{s} .graph>polygon{{fill:{p.background}}}"
        f"{s} .dj-node text{{fill:{p.text}}}"
        f"{s} .dj-manual polygon{{fill:{p.manual_fill};stroke:{p.manual_stroke}}}"
        f"{s} .dj-lookup text{{fill:{p.lookup_text}}}"
        f"{s} .dj-imported ellipse{{fill:{p.imported_fill};stroke:{p.imported_stroke}}}"
        f"{s} .dj-computed ellipse{{fill:{p.computed_fill};stroke:{p.computed_stroke}}}"
        f"{s} .dj-part text{{fill:{p.part_text}}}"
        f"{s} .dj-collapsed polygon{{fill:{p.collapsed_fill};stroke:{p.collapsed_stroke}}}"
        f"{s} .dj-edge path{{stroke:{p.edge}}}"
        f"{s} .dj-alias ellipse{{fill:{p.alias};stroke:{p.alias}}}"
        "}"
    )
    start = svg.index("<svg")
    end = svg.index(">", start)
    return f'{svg[:end]} id="{ident}"><style>{css}</style>{svg[end + 1 :]}'


# ---- files and Jupyter ---------------------------------------------------------------------
def save(diagram: Any, filename: str | os.PathLike[str], format: str | None = None) -> None:
    """Write the diagram to ``filename`` as svg, png, mermaid (.mmd/.mermaid) or dot text; the
    format comes from the extension unless ``format`` names it."""
    if format is None:
        suffix = Path(filename).suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            raise DataJointError(
                "Could not infer format from filename. Specify format explicitly. "
                f"({os.fspath(filename)!r}: use a .svg, .png, .mmd, .mermaid or .dot name, or "
                "format='svg'|'png'|'mermaid'|'dot'.)"
            )
        kind = FORMATS[suffix]
    else:
        if format.lower() not in FORMATS:
            raise DataJointError(
                f"Unsupported file format {format!r}: use 'svg', 'png', 'mermaid' or 'dot'."
            )
        kind = FORMATS[format.lower()]
    path = Path(filename)
    if kind == "png":
        path.write_bytes(make_png(diagram))
    elif kind == "svg":
        path.write_text(make_svg(diagram), encoding="utf-8")
    elif kind == "mermaid":
        path.write_text(make_mermaid(diagram), encoding="utf-8")
    else:
        path.write_text(make_dot(diagram).to_string(), encoding="utf-8")


def repr_svg(diagram: Any) -> str:
    """What Jupyter shows for ``_repr_svg_``."""
    return make_svg(diagram)


def repr_mimebundle(diagram: Any, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """Jupyter's ``_repr_mimebundle_``: the SVG picture, the Mermaid text and a plain repr; only
    the types ``include`` asks for (all by default) and ``exclude`` does not refuse are drawn."""
    makers: dict[str, Callable[[Any], str]] = {
        "image/svg+xml": make_svg,
        "text/vnd.mermaid": make_mermaid,
        "text/plain": repr,
    }
    return {
        mime: make(diagram)
        for mime, make in makers.items()
        if (include is None or mime in include) and (exclude is None or mime not in exclude)
    }
