"""A layered drawing of a DAG computed with networkx alone (no Graphviz).

The classic Sugiyama steps, kept small:

1. **Layers**: each node's layer is its longest path from a source (networkx's topological
   generations); a source is then moved down to just above its nearest child, so a lookup table
   used deep in a pipeline does not stretch every edge from the top.
2. **Virtual nodes**: an edge spanning several layers passes through one virtual node per layer
   crossed, so crossing reduction and routing see it and it bends around boxes.
3. **Ordering**: a few down and up sweeps place each node at the barycentre of its neighbours in
   the previous layer; the ordering with the fewest crossings seen is kept.
4. **Coordinates**: nodes are packed along each layer, then pulled towards the mean position of
   their neighbours while keeping their order and spacing (the average of a left-packed and a
   right-packed placement, both of which respect the spacing, respects it too).

Everything is computed in (layer axis, order axis) coordinates and mapped to (x, y) at the end, so
top-to-bottom and left-to-right drawings share the code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from ..errors import DataJointError

SWEEPS = 8  # ordering sweeps (each one down and one up)
PULLS = 12  # coordinate relaxation rounds


@dataclass(frozen=True)
class Box:
    """A node's centre and size in the final drawing."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Layout:
    boxes: dict[Hashable, Box]
    routes: dict[tuple[Hashable, Hashable], list[tuple[float, float]]]  # virtual-node points
    width: float
    height: float


def layered_layout(
    graph: nx.DiGraph,
    sizes: Mapping[Hashable, tuple[float, float]],
    direction: str = "LR",
    layer_gap: float = 56.0,
    node_gap: float = 18.0,
    margin: float = 16.0,
) -> Layout:
    """Place the nodes of the DAG ``graph`` (sizes: node -> (width, height)) in layers along
    ``direction`` ("TB": layers are rows, "LR": layers are columns). ``routes`` gives, for every
    edge (u, v), the points its line passes between the two nodes (empty for adjacent layers)."""
    if not nx.is_directed_acyclic_graph(graph):
        raise DataJointError("DataJoint can only work with acyclic dependencies")
    vertical = direction == "TB"

    # extent along the layer axis ("depth") and along the order axis ("breadth")
    def depth(node: Hashable) -> float:
        w, h = sizes.get(node, (0.0, 0.0))
        return h if vertical else w

    def breadth(node: Hashable) -> float:
        w, h = sizes.get(node, (0.0, 0.0))
        return w if vertical else h

    rank = _ranks(graph)
    work, chains = _with_virtual_nodes(graph, rank)
    layers = _order(work, rank)
    across = _coordinates(work, layers, breadth, node_gap)

    along: dict[Hashable, float] = {}
    position = margin
    for layer in layers:
        thickness = max((depth(n) for n in layer), default=0.0)
        for n in layer:
            along[n] = position + thickness / 2
        position += thickness + layer_gap
    low = min((across[n] - breadth(n) / 2 for n in across), default=0.0)
    shift = margin - low
    extent_across = max((across[n] + shift + breadth(n) / 2 for n in across), default=0.0)
    extent_along = position - layer_gap + margin if layers else 2 * margin

    def point(n: Hashable) -> tuple[float, float]:
        a, b = along[n], across[n] + shift
        return (b, a) if vertical else (a, b)

    boxes = {}
    for n in graph:
        x, y = point(n)
        boxes[n] = Box(x, y, *sizes.get(n, (0.0, 0.0)))
    routes = {edge: [point(v) for v in chain] for edge, chain in chains.items()}
    width, height = (
        (extent_across + margin, extent_along)
        if vertical
        else (extent_along, extent_across + margin)
    )
    return Layout(boxes, routes, width, height)


def _ranks(graph: nx.DiGraph) -> dict[Hashable, int]:
    rank = {n: i for i, layer in enumerate(nx.topological_generations(graph)) for n in layer}
    for n in graph:
        children = list(graph.successors(n))
        if graph.in_degree(n) == 0 and children:
            rank[n] = min(rank[c] for c in children) - 1
    return rank


def _with_virtual_nodes(
    graph: nx.DiGraph, rank: dict[Hashable, int]
) -> tuple[nx.DiGraph, dict[tuple[Hashable, Hashable], list[Hashable]]]:
    """The graph with long edges split through virtual nodes (added to ``rank``), and for each
    original edge the chain of virtual nodes it passes."""
    work: nx.DiGraph[Hashable] = nx.DiGraph()
    work.add_nodes_from(graph)
    chains: dict[tuple[Hashable, Hashable], list[Hashable]] = {}
    for u, v in graph.edges():
        chain: list[Hashable] = []
        previous = u
        for r in range(rank[u] + 1, rank[v]):
            virtual = ("~virtual", u, v, r)
            rank[virtual] = r
            chain.append(virtual)
            work.add_edge(previous, virtual)
            previous = virtual
        work.add_edge(previous, v)
        chains[(u, v)] = chain
    return work, chains


def _order(work: nx.DiGraph, rank: dict[Hashable, int]) -> list[list[Hashable]]:
    count = max(rank.values(), default=-1) + 1
    layers: list[list[Hashable]] = [[] for _ in range(count)]
    # initial order: depth-first from the sources keeps families together
    for n in nx.dfs_preorder_nodes(work, source=None):
        layers[rank[n]].append(n)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(work, best)
    for _ in range(SWEEPS):
        for i in range(1, count):
            _sort_by_barycentre(layers[i], layers[i - 1], work.predecessors)
        for i in range(count - 2, -1, -1):
            _sort_by_barycentre(layers[i], layers[i + 1], work.successors)
        crossings = _crossings(work, layers)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
        if best_crossings == 0:
            break
    return best


def _sort_by_barycentre(
    layer: list[Hashable],
    fixed: Sequence[Hashable],
    neighbours: Callable[[Hashable], Iterable[Hashable]],
) -> None:
    index = {n: i for i, n in enumerate(fixed)}
    keys = {}
    for i, n in enumerate(layer):
        positions = [index[m] for m in neighbours(n) if m in index]
        keys[n] = sum(positions) / len(positions) if positions else float(i)
    layer.sort(key=lambda n: keys[n])  # stable: ties keep their order


def _crossings(work: nx.DiGraph, layers: list[list[Hashable]]) -> int:
    total = 0
    for upper, lower in itertools.pairwise(layers):
        ui = {n: i for i, n in enumerate(upper)}
        li = {n: i for i, n in enumerate(lower)}
        pairs = [(ui[u], li[v]) for u in upper for v in work.successors(u) if v in li]
        total += sum(
            1 for k, (a, b) in enumerate(pairs) for c, d in pairs[k + 1 :] if (a - c) * (b - d) < 0
        )
    return total


def _coordinates(
    work: nx.DiGraph,
    layers: list[list[Hashable]],
    breadth: Callable[[Hashable], float],
    gap: float,
) -> dict[Hashable, float]:
    """Centre of each node along the order axis."""

    def separation(a: Hashable, b: Hashable) -> float:
        return (breadth(a) + breadth(b)) / 2 + gap

    pos: dict[Hashable, float] = {}
    for layer in layers:
        cursor = 0.0
        for n in layer:
            pos[n] = cursor + breadth(n) / 2
            cursor += breadth(n) + gap
    # centre the layers on each other before relaxing
    widest = max((pos[lay[-1]] + breadth(lay[-1]) / 2 for lay in layers if lay), default=0.0)
    for layer in layers:
        if layer:
            offset = (widest - (pos[layer[-1]] + breadth(layer[-1]) / 2)) / 2
            for n in layer:
                pos[n] += offset
    for round_ in range(PULLS):
        downward = round_ % 2 == 0
        sequence = layers[1:] if downward else layers[-2::-1]
        for layer in sequence:
            desired = []
            for n in layer:
                linked = list(work.predecessors(n) if downward else work.successors(n))
                desired.append(sum(pos[m] for m in linked) / len(linked) if linked else pos[n])
            left = list(desired)
            for i in range(1, len(layer)):
                left[i] = max(left[i], left[i - 1] + separation(layer[i - 1], layer[i]))
            right = list(desired)
            for i in range(len(layer) - 2, -1, -1):
                right[i] = min(right[i], right[i + 1] - separation(layer[i], layer[i + 1]))
            for n, a, b in zip(layer, left, right, strict=True):
                pos[n] = (a + b) / 2
    return pos
