"""A column's lineage as an indented tree of text, for the CLI and the window's side panel.

Each line is an edge kind and a column; a transformation shows its expression beside it; a column
already expanded higher up says so instead of repeating its whole subtree.
"""

from __future__ import annotations

from desktop_app.core.lineage.graph import LineageGraph

MAX_EXPRESSION = 90


def tree_lines(graph: LineageGraph, node_id: str, direction: str = "upstream") -> list[str]:
    node = graph.nodes[node_id]
    lines = [f"{node_id}  ({node.layer})"]
    expanded: set[str] = {node_id}

    def walk(current: str, prefix: str) -> None:
        edges = graph.inputs(current) if direction == "upstream" else graph.outputs(current)
        edges = sorted(edges, key=lambda e: (not e.direct, e.kind, e.source if direction == "upstream" else e.target))
        for index, edge in enumerate(edges):
            last = index == len(edges) - 1
            other = edge.source if direction == "upstream" else edge.target
            branch = ("└" if last else "├") + ("─ " if edge.direct else "┄ ")
            expression = f"   by {_short(edge.expression)}" if edge.expression else ""
            repeated = other in expanded and (graph.inputs(other) if direction == "upstream" else graph.outputs(other))
            lines.append(f"{prefix}{branch}{edge.kind:<9} {other}{expression}{'   (see above)' if repeated else ''}")
            if not repeated:
                expanded.add(other)
                walk(other, prefix + ("   " if last else "│  "))

    walk(node_id, "")
    return lines


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXPRESSION else text[:MAX_EXPRESSION - 1] + "…"
