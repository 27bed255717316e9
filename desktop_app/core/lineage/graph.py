"""The column lineage graph: columns of every layer, the edges between them, and walks along them.

A column's id says where it lives: ``oltp:orders.status``, ``raw.orders.status``,
``fct_order_items.line_revenue`` (a model, seed or snapshot), ``excel:02_intermediate.order_lines.line_revenue``
or ``export:parquet/daily_revenue.revenue``. Edges point downstream (from an input to what it feeds);
``copy``/``transform``/``aggregate`` carry the value, ``filter``/``join`` only decide which rows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

LAYERS = ("oltp", "raw", "model", "seed", "excel", "export")
DIRECT = ("copy", "transform", "aggregate")


@dataclass(frozen=True)
class ColumnNode:
    id: str
    layer: str  # one of LAYERS
    relation: str  # what holds the column: a table, model, sheet or file, as the user knows it
    column: str
    line: int | None = None  # where the column's expression starts in the compiled SQL, when known


@dataclass(frozen=True)
class Edge:
    source: str  # node id upstream
    target: str  # node id downstream
    kind: str  # copy | transform | aggregate | filter | join
    expression: str | None = None

    @property
    def direct(self) -> bool:
        return self.kind in DIRECT

    def as_dict(self) -> dict:
        out = {"from": self.source, "to": self.target, "kind": self.kind}
        if self.expression:
            out["expression"] = self.expression
        return out


@dataclass
class RelationInfo:
    """What the graph knows about one relation: its compiled SQL and, if it could not be analysed, why."""

    name: str
    layer: str
    sql: str | None = None
    note: str | None = None  # "not analysed: …"
    warehouse_name: str | None = None  # database.schema.table, for a relation the warehouse holds


@dataclass
class LineageGraph:
    nodes: dict[str, ColumnNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    relations: dict[str, RelationInfo] = field(default_factory=dict)
    _up: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    _down: dict[str, list[Edge]] = field(default_factory=dict, repr=False)

    def add_node(self, node: ColumnNode) -> ColumnNode:
        return self.nodes.setdefault(node.id, node)

    def add_edge(self, edge: Edge) -> None:
        if edge.source == edge.target or edge in self._up.get(edge.target, ()):
            return
        self.edges.append(edge)
        self._up.setdefault(edge.target, []).append(edge)
        self._down.setdefault(edge.source, []).append(edge)

    def merge(self, other: LineageGraph) -> None:
        for node in other.nodes.values():
            self.add_node(node)
        for edge in other.edges:
            self.add_edge(edge)
        self.relations.update(other.relations)

    def inputs(self, node_id: str) -> list[Edge]:
        return list(self._up.get(node_id, ()))

    def outputs(self, node_id: str) -> list[Edge]:
        return list(self._down.get(node_id, ()))

    def columns_of(self, relation: str) -> list[ColumnNode]:
        return [n for n in self.nodes.values() if n.relation == relation]

    def reachable(self, node_id: str, direction: str, hops: int | None = None) -> tuple[set[str], list[Edge]]:
        """Node ids and edges met walking ``upstream`` or ``downstream`` from ``node_id`` (breadth-first,
        at most ``hops`` edges away when given)."""
        step = self.inputs if direction == "upstream" else self.outputs
        seen, edges, queue = {node_id}, [], deque([(node_id, 0)])
        while queue:
            current, depth = queue.popleft()
            if hops is not None and depth >= hops:
                continue
            for edge in step(current):
                edges.append(edge)
                nxt = edge.source if direction == "upstream" else edge.target
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, depth + 1))
        return seen, edges

    def subgraph(self, node_id: str, directions: tuple[str, ...] = ("upstream",)) -> dict:
        """The ``--json`` shape: ``{"target", "nodes", "edges"}`` for the walk(s) from ``node_id``."""
        ids, edges = {node_id}, []
        for direction in directions:
            found, walked = self.reachable(node_id, direction)
            ids |= found
            edges += walked
        return {"target": node_id,
                "nodes": [_node_dict(self.nodes[i]) for i in sorted(ids) if i in self.nodes],
                "edges": [e.as_dict() for e in edges]}

    def as_dict(self) -> dict:
        return {"nodes": [_node_dict(n) for n in self.nodes.values()],
                "edges": [e.as_dict() for e in self.edges],
                "relations": {name: {k: v for k, v in asdict(info).items() if v is not None}
                              for name, info in self.relations.items()}}


def _node_dict(node: ColumnNode) -> dict:
    return {"id": node.id, "layer": node.layer, "relation": node.relation, "column": node.column}
