"""A diagram as Mermaid flowchart text, for Markdown pages and Jupyter (``text/vnd.mermaid``).

Tables become nodes with the tier's shape and class (Manual a box, Imported and Computed rounded
"stadium" shapes, Lookup and Part unframed text); a primary-key dependency is a solid link, a
secondary one a dotted link, and a renamed foreign key passes through a small orange circle
node, as DataJoint draws it.
"""

from __future__ import annotations

import re
from typing import Any

from .style import PALETTES, Direction, NodeView, scene

_SHAPES = {  # tier -> (opening, closing) of the Mermaid node shape
    "Manual": ("[", "]"),
    "Lookup": ("[", "]"),
    "Imported": ("([", "])"),
    "Computed": ("([", "])"),
    "Part": ("[", "]"),
    "Collapsed": ("[[", "]]"),
}


def _class_definitions() -> list[str]:
    p = PALETTES["light"]
    return [
        f"classDef manual fill:{p.manual_fill},stroke:{p.manual_stroke},color:{p.text}",
        f"classDef lookup fill:none,stroke:none,color:{p.lookup_text}",
        f"classDef imported fill:{p.imported_fill},stroke:{p.imported_stroke},color:{p.text}",
        f"classDef computed fill:{p.computed_fill},stroke:{p.computed_stroke},color:{p.text}",
        f"classDef part fill:none,stroke:none,color:{p.part_text},font-size:11px",
        f"classDef collapsed fill:{p.collapsed_fill},stroke:{p.collapsed_stroke},"
        f"stroke-dasharray:4 2,color:{p.text}",
        f"classDef alias fill:{p.alias},stroke:{p.alias}",
    ]


def mermaid_ids(nodes: list[NodeView]) -> dict[str, str]:
    """A Mermaid-safe, unique id for each node name (``schema.#table`` -> ``schema___table``)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for node in nodes:
        base = re.sub(r"\W", "_", node.name)
        ident, n = base, 1
        while ident in taken:
            n += 1
            ident = f"{base}_{n}"
        taken.add(ident)
        ids[node.name] = ident
    return ids


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def render_mermaid(diagram: Any, direction: Direction) -> str:
    """Mermaid ``flowchart`` text of the diagram."""
    nodes, edges = scene(diagram)
    ids = mermaid_ids(nodes)
    lines = [f"flowchart {direction}"]
    lines += ["    " + c for c in _class_definitions()]
    for node in nodes:
        opening, closing = _SHAPES[node.tier]
        label = _label(node.label)
        lines.append(f"    {ids[node.name]}{opening}{label}{closing}:::{node.tier.lower()}")
    for i, edge in enumerate(edges):
        link = "---" if edge.primary else "-.-"
        source, target = ids[edge.source], ids[edge.target]
        if edge.aliased:
            # the renamed key: parent, a small orange dot, child
            dot = f"alias_{i}"
            lines.append(f'    {source} {link} {dot}((" ")):::alias {link} {target}')
        else:
            lines.append(f"    {source} {link} {target}")
    return "\n".join(lines) + "\n"
