"""The dependency graph's ordering rules (no database needed)."""

from __future__ import annotations

from datajoint.dependencies import Dependencies


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
