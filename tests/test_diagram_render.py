"""Diagram pictures (SPEC §10 Output): the built-in SVG renderer, Mermaid, Graphviz through pydot,
``save`` and the Jupyter hooks. Most tests draw a 30-table, two-schema pipeline built directly as a
graph; the last ones draw ``dj.Diagram`` of declared tables on every backend."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import combinations
from pathlib import Path

import networkx as nx
import pytest

import datajoint as dj
from datajoint.diagram import render
from datajoint.errors import DataJointError
from datajoint.testing.fixtures import throwaway_schema

SVG = "{http://www.w3.org/2000/svg}"
TIER_BY_PREFIX = (("__", "Computed"), ("_", "Imported"), ("#", "Lookup"))


def add_table(graph: nx.MultiDiGraph, name: str, master: str | None = None) -> None:
    schema, _, table = name.partition(".")
    tier = (
        "Part" if master else next((t for p, t in TIER_BY_PREFIX if table.startswith(p)), "Manual")
    )
    label = table.lstrip("#_").title().replace("_", "")
    if master:
        label = graph.nodes[master]["label"] + "." + table.rpartition("__")[2].title()
    graph.add_node(
        name, tier=tier, label=f"{schema}.{label}" if not master else label, master=master
    )


def add_fk(graph, parent, child, primary=True, renames=None, multi=False):
    attr_map = dict(renames or {"id": "id"})
    graph.add_edge(
        parent,
        child,
        key=tuple(attr_map),
        primary=primary,
        attr_map=attr_map,
        aliased=any(c != p for c, p in attr_map.items()),
        multi=multi,
    )


def pipeline() -> nx.MultiDiGraph:
    """30 tables in two schemas with lookups, parts, renamed and parallel foreign keys."""
    g = nx.MultiDiGraph()
    masters = {
        "lab.session__note": "lab.session",
        "lab.surgery__implant": "lab.surgery",
        "ephys.probe__electrode": "ephys.probe",
        "ephys._recording__channel": "ephys._recording",
        "ephys.__spike_sort__unit": "ephys.__spike_sort",
        "ephys.__spike_sort__waveform": "ephys.__spike_sort",
        "ephys._behavior__trial": "ephys._behavior",
        "ephys.__tuning__curve": "ephys.__tuning",
    }
    tables = [
        "lab.#species", "lab.#strain", "lab.cage", "lab.subject", "lab.experimenter", "lab.#rig",
        "lab.session", "lab.session__note", "lab.surgery", "lab.surgery__implant",
        "lab.#protocol", "lab.subject_protocol", "ephys.#probe_type", "ephys.probe",
        "ephys.probe__electrode", "ephys._recording", "ephys._recording__channel",
        "ephys.#sort_method", "ephys.__spike_sort", "ephys.__spike_sort__unit",
        "ephys.__spike_sort__waveform", "ephys.__unit_quality", "ephys._behavior",
        "ephys._behavior__trial", "ephys.__tuning", "ephys.__tuning__curve",
        "ephys.__comparison", "ephys.curation", "ephys.__curated_units", "ephys.__summary",
    ]  # fmt: skip
    for name in tables:
        add_table(g, name, masters.get(name))
    for part, master in masters.items():
        add_fk(g, master, part, multi=True)
    fks = [
        ("lab.#species", "lab.#strain", True),
        ("lab.#strain", "lab.subject", False),
        ("lab.cage", "lab.subject", False),
        ("lab.subject", "lab.session", True),
        ("lab.experimenter", "lab.session", False),
        ("lab.#rig", "lab.session", False),
        ("lab.subject", "lab.surgery", True),
        ("lab.subject", "lab.subject_protocol", True),
        ("lab.#protocol", "lab.subject_protocol", True),
        ("ephys.#probe_type", "ephys.probe", False),
        ("lab.session", "ephys._recording", True),
        ("ephys.probe", "ephys._recording", False),
        ("ephys.probe__electrode", "ephys._recording__channel", True),
        ("ephys._recording", "ephys.__spike_sort", True),
        ("ephys.#sort_method", "ephys.__spike_sort", True),
        ("ephys.__spike_sort__unit", "ephys.__spike_sort__waveform", True),
        ("ephys.__spike_sort__unit", "ephys.__unit_quality", True),
        ("lab.session", "ephys._behavior", True),
        ("ephys.__spike_sort__unit", "ephys.__tuning", True),
        ("ephys._behavior__trial", "ephys.__tuning", True),
        ("ephys.__spike_sort", "ephys.curation", True),
        ("ephys.curation", "ephys.__curated_units", True),
        ("lab.subject", "ephys.__summary", True),
        ("ephys.__unit_quality", "ephys.__summary", False),
    ]
    for parent, child, primary in fks:
        add_fk(g, parent, child, primary=primary)
    # renamed foreign keys: a surgeon, a curator, and two parallel keys to the same parent
    add_fk(g, "lab.experimenter", "lab.surgery", False, {"surgeon": "experimenter"})
    add_fk(g, "lab.experimenter", "ephys.curation", False, {"curator": "experimenter"})
    add_fk(g, "ephys.__spike_sort", "ephys.__comparison", True, {"ref_sort": "sort_id"})
    add_fk(g, "ephys.__spike_sort", "ephys.__comparison", True, {"test_sort": "sort_id"})
    assert g.number_of_nodes() == 30
    return g


def classes(element) -> list[str]:
    return (element.get("class") or "").split()


def groups(root, cls: str) -> list:
    """The <g> elements of class ``cls``."""
    return [g for g in root.iter(f"{SVG}g") if cls in classes(g)]


def fk_pairs(graph: nx.MultiDiGraph) -> Counter:
    return Counter((u, v) for u, v in graph.edges())


# ---- the built-in SVG renderer ---------------------------------------------------------------
def parse_box(text: str) -> tuple[float, float, float, float]:
    x, y, w, h = map(float, text.split())
    return x, y, x + w, y + h


def path_ends(d: str) -> tuple[tuple[float, float], tuple[float, float]]:
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return (numbers[0], numbers[1]), (numbers[-2], numbers[-1])


def on_border(point, box, tolerance=0.11) -> bool:
    (x, y), (left, top, right, bottom) = point, box
    inside = (
        left - tolerance <= x <= right + tolerance and top - tolerance <= y <= bottom + tolerance
    )
    border = min(abs(x - left), abs(x - right), abs(y - top), abs(y - bottom))
    return inside and border <= tolerance


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_builtin_svg_of_a_30_table_pipeline(direction, theme):
    graph = pipeline()
    svg = render.make_svg(graph, theme=theme, direction=direction, engine="builtin")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("data-direction") == direction
    _, _, width, height = map(float, root.get("viewBox").split())

    nodes = {g.get("data-table"): g for g in groups(root, "dj-node")}
    assert len(groups(root, "dj-node")) == 30
    assert set(nodes) == set(graph.nodes)
    boxes = {name: parse_box(g.get("data-box")) for name, g in nodes.items()}
    for (a, (al, at, ar, ab)), (b, (bl, bt, br, bb)) in combinations(boxes.items(), 2):
        assert ar <= bl or br <= al or ab <= bt or bb <= at, f"{a} overlaps {b}"
    for name, (left, top, right, bottom) in boxes.items():
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, name
        node, g = graph.nodes[name], nodes[name]
        assert g.get("data-tier") == node["tier"]
        assert g.find(f"{SVG}text").text == node["label"]
        shapes = {"Manual": "rect", "Imported": "ellipse", "Computed": "ellipse"}
        drawn = [c.tag.removeprefix(SVG) for c in g if c.tag in (f"{SVG}rect", f"{SVG}ellipse")]
        assert drawn == ([shapes[node["tier"]]] if node["tier"] in shapes else []), name
        if node["tier"] in ("Imported", "Computed"):  # the ellipse fills the node's box
            e = g.find(f"{SVG}ellipse")
            cx, rx = float(e.get("cx")), float(e.get("rx"))
            assert cx - rx == pytest.approx(left, abs=0.2) and cx + rx == pytest.approx(
                right, abs=0.2
            )

    edges = groups(root, "dj-edge")
    assert Counter((g.get("data-source"), g.get("data-target")) for g in edges) == fk_pairs(graph)
    for g in edges:
        source, target = g.get("data-source"), g.get("data-target")
        start, end = path_ends(g.find(f"{SVG}path").get("d"))
        assert on_border(start, boxes[source]), (source, target, start)
        assert on_border(end, boxes[target]), (source, target, end)
        axis = 0 if direction == "LR" else 1  # leaves the parent's far side, goes forward
        assert start[axis] == pytest.approx(boxes[source][axis + 2], abs=0.11)
        assert end[axis] == pytest.approx(boxes[target][axis], abs=0.11)
        assert start[axis] < end[axis]
    # primary solid / secondary dashed; renamed keys carry an orange dot
    by_pair: dict = {}
    for u, v, props in graph.edges(data=True):
        by_pair.setdefault((u, v), []).append(props)
    for g in edges:
        props = by_pair[(g.get("data-source"), g.get("data-target"))].pop(0)
        assert ("dj-primary" if props["primary"] else "dj-secondary") in classes(g)
        assert ("dj-aliased" in classes(g)) == props["aliased"]
        assert (g.find(f"{SVG}circle") is not None) == props["aliased"]
    assert sum(1 for _ in root.iter(f"{SVG}circle")) == 4

    css = root.find(f"{SVG}style").text
    assert ("prefers-color-scheme: dark" in css) == (theme == "auto")
    background = {"light": "#ffffff", "dark": "#0d1117", "auto": "#ffffff"}[theme]
    assert f".dj-bg{{fill:{background}}}" in css


def test_layers_follow_the_dependencies():
    graph = pipeline()
    for direction, axis in (("LR", 0), ("TB", 1)):
        root = ET.fromstring(render.make_svg(graph, direction=direction, engine="builtin"))
        boxes = {g.get("data-table"): parse_box(g.get("data-box")) for g in groups(root, "dj-node")}
        for parent, child in graph.edges():  # every child lies beyond its parent
            assert boxes[parent][axis + 2] < boxes[child][axis], (parent, child)


def test_parallel_renamed_keys_are_drawn_apart():
    root = ET.fromstring(render.make_svg(pipeline(), engine="builtin"))
    dots = [
        (g.find(f"{SVG}circle").get("cx"), g.find(f"{SVG}circle").get("cy"))
        for g in root.iter(f"{SVG}g")
        if g.get("data-target") == "ephys.__comparison"
    ]
    assert len(dots) == 2 and dots[0] != dots[1]


def test_an_empty_diagram_and_a_single_table():
    assert ET.fromstring(render.make_svg(nx.MultiDiGraph(), engine="builtin")).tag == f"{SVG}svg"
    g = nx.MultiDiGraph()
    add_table(g, "s.only")
    svg = render.make_svg(g, engine="builtin")
    assert 'data-table="s.only"' in svg and "s.Only</text>" in svg


def test_labels_are_escaped():
    g = nx.MultiDiGraph()
    g.add_node("s.a", tier="Manual", label='A<&>"', master=None)
    root = ET.fromstring(render.make_svg(g, engine="builtin"))
    assert next(root.iter(f"{SVG}text")).text == 'A<&>"'
    assert '"A<&>#quot;"' in render.make_mermaid(g)


# ---- settings --------------------------------------------------------------------------------
def test_direction_and_theme_come_from_the_display_settings():
    graph = pipeline()
    with dj.config.override(display__diagram_direction="TB", display__diagram_theme="dark"):
        assert render.make_mermaid(graph).startswith("flowchart TB\n")
        root = ET.fromstring(render.make_svg(graph, engine="builtin"))
        assert (root.get("data-direction"), root.get("data-theme")) == ("TB", "dark")
    with dj.config.override(display__diagram_direction="LR", display__diagram_theme="auto"):
        assert render.make_mermaid(graph).startswith("flowchart LR\n")
        root = ET.fromstring(render.make_svg(graph, engine="builtin"))
        assert (root.get("data-direction"), root.get("data-theme")) == ("LR", "auto")


def test_bad_options_are_named():
    with pytest.raises(DataJointError, match="Unknown diagram theme 'sepia'"):
        render.make_svg(pipeline(), theme="sepia")
    with pytest.raises(DataJointError, match="Unknown diagram direction 'BT'"):
        render.make_mermaid(pipeline(), direction="BT")
    with pytest.raises(DataJointError, match="Unknown diagram engine 'cairo'"):
        render.make_svg(pipeline(), engine="cairo")


# ---- Mermaid ---------------------------------------------------------------------------------
def test_mermaid_has_every_node_and_edge():
    graph = pipeline()
    text = render.make_mermaid(graph, direction="LR")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    labels, classes = {}, {}
    for line in lines:
        m = re.fullmatch(r'    (\w+)[\[(]+"(.*)"[\])]+:::(\w+)', line)
        if m and m.group(3) != "alias":
            labels[m.group(1)] = m.group(2)
            classes[m.group(1)] = m.group(3)
    by_label = {data["label"]: name for name, data in graph.nodes(data=True)}
    assert sorted(labels.values()) == sorted(by_label)
    for ident, label in labels.items():
        assert classes[ident] == graph.nodes[by_label[label]]["tier"].lower()
    links = []
    edge = re.compile(
        r"    (\w+) (---|-\.-) (?:(alias_\d+)\(\(\" \"\)\):::alias (---|-\.-) )?(\w+)"
    )
    for line in lines:
        m = edge.fullmatch(line)
        if m:
            source, target = by_label[labels[m.group(1)]], by_label[labels[m.group(5)]]
            links.append((source, target, m.group(2) == "---", m.group(3) is not None))
    expected = [(u, v, p["primary"], p["aliased"]) for u, v, p in graph.edges(data=True)]
    assert Counter(links) == Counter(expected)
    assert "classDef manual" in text and "classDef alias" in text


# ---- Graphviz through pydot ------------------------------------------------------------------
def test_graphviz_path_or_its_clear_fallback():
    """With Graphviz's dot program (always on CI, which installs it), the same pipeline is drawn
    by Graphviz; without it, asking for Graphviz says what to install and SVG falls back."""
    graph = pipeline()
    if shutil.which("dot") is None:
        assert os.environ.get("CI") != "true", "CI installs Graphviz (.ci/run): dot must exist"
        with pytest.raises(DataJointError, match="dot program, which is not on PATH"):
            render.make_svg(graph, engine="graphviz")
        with pytest.raises(DataJointError, match="install Graphviz"):
            render.make_png(graph)
        assert 'class="dj-diagram"' in render.make_svg(graph)
        return
    assert render.graphviz_available()
    svg = render.make_svg(graph, theme="light")
    root = ET.fromstring(svg)
    nodes = groups(root, "dj-node")
    ids = render.mermaid_ids(render.scene(graph)[0])
    assert sorted(g.find(f"{SVG}title").text for g in nodes) == sorted(ids.values())
    aliases, edges = groups(root, "dj-alias"), groups(root, "dj-edge")
    aliased = sum(1 for *_, p in graph.edges(data=True) if p["aliased"])
    assert len(aliases) == aliased == 4
    assert len(edges) == graph.number_of_edges() + aliased  # a renamed key passes a dot
    assert "prefers-color-scheme" not in svg
    auto = render.make_svg(graph, theme="auto")
    assert "prefers-color-scheme: dark" in auto and ET.fromstring(auto).tag == f"{SVG}svg"
    assert render.make_png(graph).startswith(b"\x89PNG\r\n\x1a\n")
    assert render.make_dot(graph, direction="TB").get_rankdir() == "TB"


def test_image_and_draw_through_matplotlib(monkeypatch):
    graph = pipeline()
    if shutil.which("dot") is None:
        assert os.environ.get("CI") != "true", "CI installs Graphviz (.ci/run): dot must exist"
        with pytest.raises(DataJointError, match="install Graphviz"):
            render.make_image(graph)
        return
    monkeypatch.setenv("MPLBACKEND", "Agg")  # no window: show() returns at once
    image = render.make_image(graph, theme="light")
    assert image.ndim == 3 and image.shape[2] in (3, 4) and image.shape[0] > 50
    render.draw(graph)
    import matplotlib.pyplot

    assert matplotlib.pyplot.gca().images  # the picture was drawn on the current axes
    matplotlib.pyplot.close("all")


def test_image_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(DataJointError, match="needs matplotlib: pip install matplotlib"):
        render.make_image(pipeline())


def test_without_pydot(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)  # import pydot raises ImportError
    graph = pipeline()
    with pytest.raises(DataJointError, match=r"^Install pygraphviz and pydot libraries to enable"):
        render.make_dot(graph)
    assert not render.graphviz_available()
    assert 'class="dj-diagram"' in render.make_svg(graph)  # the built-in renderer


def test_without_the_dot_program(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    graph = pipeline()
    svg = render.make_svg(graph)
    assert 'class="dj-diagram"' in svg and len(ET.fromstring(svg)) > 0
    with pytest.raises(DataJointError, match="PNG needs Graphviz's dot program"):
        render.make_png(graph)


# ---- save and Jupyter ------------------------------------------------------------------------
def test_save_by_extension(tmp_path):
    graph = pipeline()
    render.save(graph, tmp_path / "d.svg")
    assert ET.parse(tmp_path / "d.svg").getroot().tag == f"{SVG}svg"
    for name in ("d.mmd", "d.mermaid"):
        render.save(graph, str(tmp_path / name))
        assert (tmp_path / name).read_text() == render.make_mermaid(graph)
    render.save(graph, tmp_path / "diagram.txt", format="mermaid")
    assert (tmp_path / "diagram.txt").read_text().startswith("flowchart")
    if render.graphviz_available():
        render.save(graph, tmp_path / "d.png")
        assert (tmp_path / "d.png").read_bytes().startswith(b"\x89PNG")
        render.save(graph, tmp_path / "d.dot")
        assert (tmp_path / "d.dot").read_text().startswith("digraph")
    else:
        with pytest.raises(DataJointError):
            render.save(graph, tmp_path / "d.png")
        assert not (tmp_path / "d.png").exists()


def test_save_errors(tmp_path):
    graph = pipeline()
    with pytest.raises(
        DataJointError, match=r"^Could not infer format from filename\. Specify format explicitly\."
    ):
        render.save(graph, tmp_path / "diagram.pdf")
    with pytest.raises(DataJointError, match=r"^Could not infer format"):
        render.save(graph, tmp_path / "diagram")
    with pytest.raises(DataJointError, match=r"^Unsupported file format 'pdf'"):
        render.save(graph, tmp_path / "diagram.svg", format="pdf")
    assert list(tmp_path.iterdir()) == []


def test_jupyter_hooks():
    graph = pipeline()
    bundle = render.repr_mimebundle(graph)
    assert set(bundle) == {"image/svg+xml", "text/vnd.mermaid", "text/plain"}
    assert ET.fromstring(bundle["image/svg+xml"]).tag == f"{SVG}svg"
    assert bundle["text/vnd.mermaid"] == render.make_mermaid(graph)
    assert set(render.repr_mimebundle(graph, include={"text/vnd.mermaid"})) == {"text/vnd.mermaid"}
    assert "image/svg+xml" not in render.repr_mimebundle(graph, exclude={"image/svg+xml"})
    assert ET.fromstring(render.repr_svg(graph)).tag == f"{SVG}svg"


# ---- dj.Diagram of declared tables, on every backend -----------------------------------------
def declare_two_schemas(upper, lower):
    """upper: Species (Lookup) -> Animal (Manual); lower: Session (Manual, part Note) ->
    Scan (Imported, part Frame) -> Result (Computed), Comparison with two renamed keys to Animal."""

    @upper
    class Species(dj.Lookup):
        definition = """
        species : varchar(16)
        """
        contents = [("mouse",)]

    @upper
    class Animal(dj.Manual):
        definition = """
        animal : int32
        ---
        -> Species
        """

    @lower
    class Session(dj.Manual):
        definition = """
        -> Animal
        session : int16
        """

        class Note(dj.Part):
            definition = """
            -> master
            note : int16
            """

    @lower
    class Scan(dj.Imported):
        definition = """
        -> Session
        """

        class Frame(dj.Part):
            definition = """
            -> master
            frame : int32
            """

        def make(self, key):
            self.insert1(key)

    @lower
    class Result(dj.Computed):
        definition = """
        -> Scan
        """

        def make(self, key):
            self.insert1(key)

    @lower
    class Comparison(dj.Manual):
        definition = """
        -> Animal.proj(first="animal")
        -> Animal.proj(second="animal")
        """

    return [Species, Animal, Session, Session.Note, Scan, Scan.Frame, Result, Comparison]


def test_diagram_of_declared_tables(dj_connection, tmp_path):
    with throwaway_schema(dj_connection) as upper, throwaway_schema(dj_connection) as lower:
        tables = declare_two_schemas(upper, lower)
        diagram = dj.Diagram(upper) + dj.Diagram(lower)
        names = {f"{t.database}.{t().table_name}" for t in tables}
        assert set(diagram.nodes) == names

        root = ET.fromstring(diagram.make_svg())  # Graphviz when installed, else built in
        drawn = groups(root, "dj-node")
        assert len(drawn) == len(names)
        builtin = ET.fromstring(render.make_svg(diagram, engine="builtin"))
        tiers = {g.get("data-table"): g.get("data-tier") for g in groups(builtin, "dj-node")}
        assert tiers == {n: diagram.nodes[n]["tier"] for n in names}
        assert sorted(tiers.values()) == sorted(
            ["Lookup", "Manual", "Manual", "Part", "Imported", "Part", "Computed", "Manual"]
        )
        edges = groups(builtin, "dj-edge")
        assert Counter((g.get("data-source"), g.get("data-target")) for g in edges) == fk_pairs(
            diagram
        )
        assert len([g for g in edges if "dj-aliased" in classes(g)]) == 2
        assert len([g for g in edges if "dj-secondary" in classes(g)]) == 1  # Animal -> Species

        text = diagram.make_mermaid()
        for n in names:
            assert f'"{diagram.nodes[n]["label"]}"' in text
        diagram.save(str(tmp_path / "pipeline.svg"))
        diagram.save(str(tmp_path / "pipeline.mmd"))
        assert ET.parse(tmp_path / "pipeline.svg").getroot().tag == f"{SVG}svg"
        assert (tmp_path / "pipeline.mmd").read_text() == text
        assert ET.fromstring(diagram._repr_svg_()).tag == f"{SVG}svg"
        bundle = diagram._repr_mimebundle_()
        assert bundle["text/vnd.mermaid"] == text and "<svg" in bundle["image/svg+xml"]

        # the connection's own display settings steer the picture
        with diagram._connection.config.override(display__diagram_direction="TB"):
            assert diagram.make_mermaid().startswith("flowchart TB")
            svg = render.make_svg(diagram, engine="builtin")
            assert ET.fromstring(svg).get("data-direction") == "TB"

        # a collapsed schema is one dashed box
        collapsed = dj.Diagram(lower) + dj.Diagram(upper).collapse()
        svg = ET.fromstring(render.make_svg(collapsed, engine="builtin"))
        boxes = [g for g in groups(svg, "dj-node") if g.get("data-tier") == "Collapsed"]
        assert [g.get("data-table") for g in boxes] == [upper.database]
        assert boxes[0].find(f"{SVG}rect") is not None


def test_the_readme_picture_is_current():
    """docs/diagram.svg is what examples/diagram.py draws (re-run it after changing the renderer)."""
    example = Path(__file__).resolve().parents[1] / "examples" / "diagram.py"
    spec = importlib.util.spec_from_file_location("diagram_example", example)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.PICTURE.read_text(encoding="utf-8") == module.draw(), (
        "docs/diagram.svg is out of date: run .venv/bin/python examples/diagram.py"
    )
