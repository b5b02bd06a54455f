"""The dependency graph's ordering rules (no database needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from datajoint import dependencies
from datajoint.backend.contract import ForeignKeyInfo
from datajoint.dependencies import Dependencies, master_node, node_tier
from datajoint.errors import DataJointError
from datajoint.write.cascade import path_attr_map


def graph(edges: list[tuple[str, str]], nodes: list[str]) -> Dependencies:
    deps = Dependencies()
    for node in nodes:
        deps.add_node(node, primary_key=set())
    for parent, child in edges:
        deps.add_edge(
            parent, child, key=(child,), primary=True, attr_map={}, aliased=False, multi=False
        )
    return deps


def test_parts_follow_their_master():
    deps = graph([("s.a", "s.a__p"), ("s.a", "s.b")], ["s.a", "s.a__p", "s.b"])
    order = deps.topo_sort()
    assert order.index("s.a__p") == order.index("s.a") + 1


def test_a_part_waits_for_its_other_parents():
    # the part also depends on s.z, which sorts after its master
    deps = graph([("s.a", "s.a__p"), ("s.z", "s.a__p")], ["s.a", "s.a__p", "s.z"])
    order = deps.topo_sort()
    assert order.index("s.z") < order.index("s.a__p")
    assert sorted(order) == ["s.a", "s.a__p", "s.z"]


def test_descendants_and_ancestors():
    deps = graph([("s.a", "s.b"), ("s.b", "s.c")], ["s.a", "s.b", "s.c"])
    assert deps.descendants("s.a") == ["s.a", "s.b", "s.c"]
    assert deps.ancestors("s.c") == ["s.a", "s.b", "s.c"]


def catalog(monkeypatch, foreign_keys: list[ForeignKeyInfo]) -> Dependencies:
    """A graph whose catalog (read by ``read_catalog``) holds tables a and b of schema s."""

    def read(conn: object, schemas: list[str]):
        return {"s.a": {"id"}, "s.b": {"id"}}, foreign_keys

    monkeypatch.setattr(dependencies, "read_catalog", read)
    return Dependencies(SimpleNamespace(schemas={"s": None}))


def fk(child: str, parent: str) -> ForeignKeyInfo:
    return ForeignKeyInfo(f"{child}_fk", "s", child, ("id",), "s", parent, ("id",))


def test_load_builds_one_edge_per_foreign_key(monkeypatch):
    deps = catalog(monkeypatch, [fk("b", "a")])
    deps.load()
    assert sorted(deps.nodes) == ["s.a", "s.b"]
    assert deps.get_edge_data("s.a", "s.b") == {
        ("id",): {"primary": True, "attr_map": {"id": "id"}, "aliased": False, "multi": False}
    }


def test_a_cycle_is_refused(monkeypatch):
    deps = catalog(monkeypatch, [fk("b", "a"), fk("a", "b")])
    with pytest.raises(DataJointError, match="DataJoint can only work with acyclic dependencies"):
        deps.load()


@pytest.mark.parametrize(
    ("table", "tier"),
    [
        ("subject", "Manual"),
        ("#method", "Lookup"),
        ("_scan", "Imported"),
        ("__analysis", "Computed"),
        ("session__trial", "Part"),
        ("#method__param", "Part"),
        ("_scan__field", "Part"),
        ("__analysis__unit", "Part"),
    ],
)
def test_tiers_come_from_table_names(table, tier):
    assert node_tier(table) == tier


def test_master_of_a_part():
    assert master_node("s.session__trial") == "s.session"
    assert master_node("s.__analysis__unit") == "s.__analysis"
    assert master_node("s._scan__field") == "s._scan"
    assert master_node("s.#method__param") == "s.#method"
    assert master_node("s.__analysis") is None
    assert master_node("s.session") is None


def test_path_attr_map_follows_a_part_of_a_part():
    deps = graph([], ["s.m", "s.m__a", "s.m__b"])
    edge = {"primary": True, "aliased": False, "multi": True}
    deps.add_edge("s.m", "s.m__a", key=("m_id",), attr_map={"m_id": "m_id"}, **edge)
    deps.add_edge(
        "s.m__a", "s.m__b", key=("mm", "a_id"), attr_map={"mm": "m_id", "a_id": "a_id"}, **edge
    )
    assert path_attr_map(deps, "s.m", "s.m__b") == {"mm": "m_id"}
