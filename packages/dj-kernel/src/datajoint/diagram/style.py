"""What every renderer draws and how it looks: the scene read from a diagram and the tier palettes.

The renderers (built-in SVG, Graphviz through pydot, Mermaid) read a diagram only through
:func:`scene`, so they agree on which nodes and edges exist and what each one means, and they take
their colours from :data:`PALETTES`, so the three pictures use DataJoint's tier conventions alike:
Manual a green box, Lookup gray plain text, Imported a blue ellipse, Computed a red ellipse, Part a
small label; primary-key dependencies solid, secondary ones dashed, renamed foreign keys marked
with a small orange dot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from ..errors import DataJointError

Direction = Literal["TB", "LR"]
Theme = Literal["light", "dark", "auto"]
TIERS = ("Manual", "Lookup", "Imported", "Computed", "Part", "Collapsed")


@dataclass(frozen=True)
class NodeView:
    """One table (or one collapsed schema) as the renderers see it."""

    name: str  # the node name in the graph: ``schema.table``
    label: str  # the display name: class name, ``Master.Part``, ``schema.Class``
    tier: str  # one of TIERS
    master: str | None  # a part's master node


@dataclass(frozen=True)
class EdgeView:
    """One foreign key, parent -> child."""

    source: str
    target: str
    primary: bool  # FK attributes within the child's primary key: solid, else dashed
    aliased: bool  # some attribute renamed: drawn with an orange dot
    multi: bool  # FK attributes differ from the child's primary key: a thinner line
    part_link: bool  # master -> its part: a light line
    renames: tuple[tuple[str, str], ...]  # (child_attr, parent_attr) pairs that differ


@dataclass(frozen=True)
class Palette:
    """Colours of one theme. ``None`` background means transparent."""

    background: str | None
    text: str
    edge: str
    alias: str
    manual_fill: str
    manual_stroke: str
    lookup_text: str
    imported_fill: str
    imported_stroke: str
    computed_fill: str
    computed_stroke: str
    part_text: str
    collapsed_fill: str
    collapsed_stroke: str


PALETTES: dict[str, Palette] = {
    "light": Palette(
        background="#ffffff",
        text="#1f2328",
        edge="#57606a",
        alias="#f08c00",
        manual_fill="#d8f5d8",
        manual_stroke="#2da44e",
        lookup_text="#6e7781",
        imported_fill="#dbe6fb",
        imported_stroke="#3465c4",
        computed_fill="#fbdcdc",
        computed_stroke="#cf3a3a",
        part_text="#424a53",
        collapsed_fill="#eaeef2",
        collapsed_stroke="#8c959f",
    ),
    "dark": Palette(
        background="#0d1117",
        text="#e6edf3",
        edge="#8b949e",
        alias="#ffa94d",
        manual_fill="#173d22",
        manual_stroke="#3fb950",
        lookup_text="#9ea7b3",
        imported_fill="#16294d",
        imported_stroke="#6ca4ff",
        computed_fill="#4a1c1c",
        computed_stroke="#ff7b72",
        part_text="#c9d1d9",
        collapsed_fill="#21262d",
        collapsed_stroke="#8b949e",
    ),
}


def scene(diagram: Any) -> tuple[list[NodeView], list[EdgeView]]:
    """The nodes and edges of ``diagram`` (a ``dj.Diagram`` or any MultiDiGraph whose nodes carry
    ``tier``/``label``/``master`` and whose edges carry ``primary``/``aliased``/``attr_map``).
    Both come sorted, so a picture does not depend on the order the graph was built in."""
    nodes = sorted(
        (
            NodeView(
                name=str(name),
                label=str(data.get("label") or name),
                tier=data.get("tier") if data.get("tier") in TIERS else "Manual",
                master=data.get("master"),
            )
            for name, data in diagram.nodes(data=True)
        ),
        key=lambda n: n.name,
    )
    by_name = {n.name: n for n in nodes}
    edges = []
    for source, target, data in diagram.edges(data=True):
        attr_map = data.get("attr_map") or {}
        renames = tuple(sorted((c, p) for c, p in attr_map.items() if c != p))
        edges.append(
            EdgeView(
                source=str(source),
                target=str(target),
                primary=bool(data.get("primary", True)),
                aliased=bool(data.get("aliased", bool(renames))),
                multi=bool(data.get("multi", False)),
                part_link=by_name[str(target)].master == source,
                renames=renames,
            )
        )
    edges.sort(key=lambda e: (e.source, e.target, e.renames))
    return nodes, edges


def display_settings(diagram: Any) -> tuple[Direction, Theme]:
    """``display.diagram_direction`` and ``display.diagram_theme`` of the diagram's connection
    (its own ``dj.Instance`` config), else of the global ``dj.config``."""
    from ..settings import config as global_config

    conn = getattr(diagram, "_connection", None)
    display = getattr(getattr(conn, "config", None), "display", None) or global_config.display
    return display.diagram_direction, display.diagram_theme


def check_theme(theme: str) -> Theme:
    if theme not in ("light", "dark", "auto"):
        raise DataJointError(
            f"Unknown diagram theme {theme!r}: use 'light', 'dark' or 'auto' "
            "(display.diagram_theme)."
        )
    return cast(Theme, theme)


def check_direction(direction: str) -> Direction:
    if direction not in ("TB", "LR"):
        raise DataJointError(
            f"Unknown diagram direction {direction!r}: use 'TB' or 'LR' "
            "(display.diagram_direction)."
        )
    return cast(Direction, direction)
