"""The node graph and dbt's selection syntax.

Edges come from ``depends_on`` (refs, sources, test attachments). ``graphlib`` orders the nodes; a
cycle is reported as the path ``a → b → a``. Selection supports ``m``, ``+m``, ``m+``, ``n+m``,
``m+n``, ``@m``, ``tag:``, ``path:``, ``config.materialized:``, ``resource_type:``, ``source:``,
wildcards, space-separated unions, comma intersections and ``--exclude``; with ``build`` and
``test``, tests come along eagerly when any node they touch is selected.
"""

from __future__ import annotations

import fnmatch
import graphlib
import re
from collections import defaultdict

from desktop_app.core.errors import ModelError
from desktop_app.core.models.project import Project


class Graph:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.parents: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        for uid, node in project.nodes.items():
            self.parents[uid] = list(dict.fromkeys(node.depends_on))
            for parent in self.parents[uid]:
                self.children[parent].append(uid)
        for uid in project.sources:
            self.parents.setdefault(uid, [])
        self._check_cycles()

    def _check_cycles(self) -> None:
        sorter = graphlib.TopologicalSorter({u: [p for p in ps if p in self.parents] for u, ps in self.parents.items()})
        try:
            sorter.prepare()
        except graphlib.CycleError as err:
            cycle = err.args[1]
            names = [self.project.nodes[u].name if u in self.project.nodes else u for u in reversed(cycle)]
            raise ModelError(f"Found a cycle: {' → '.join(names)}.", "Break it by removing one of these refs.") \
                from None

    def ancestors(self, uid: str, depth: int | None = None) -> set[str]:
        return self._walk(uid, self.parents, depth)

    def descendants(self, uid: str, depth: int | None = None) -> set[str]:
        return self._walk(uid, self.children, depth)

    @staticmethod
    def _walk(start: str, edges, depth: int | None) -> set[str]:
        seen: set[str] = set()
        frontier = [start]
        level = 0
        while frontier and (depth is None or level < depth):
            level += 1
            following = []
            for uid in frontier:
                for nxt in edges.get(uid, ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        following.append(nxt)
            frontier = following
        return seen

    def order(self, selected: set[str]) -> list[str]:
        sorter = graphlib.TopologicalSorter({u: [p for p in self.parents.get(u, []) if p in selected]
                                             for u in selected})
        return list(sorter.static_order())


SELECTOR = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<body>[^+]+?)(?:\+(?P<down>\d*))?$")


def _matches(project: Project, uid: str, method: str, value: str) -> bool:
    if uid in project.sources:
        source = project.sources[uid]
        if method == "source":
            wanted = value.split(".")
            return fnmatch.fnmatch(source.source_name, wanted[0]) and (
                len(wanted) == 1 or fnmatch.fnmatch(source.name, wanted[1]))
        return False
    node = project.nodes[uid]
    if method == "name":
        return fnmatch.fnmatch(node.name, value) or ".".join(node.fqn) == value
    if method == "tag":
        return any(fnmatch.fnmatch(tag, value) for tag in node.tags)
    if method == "path":
        path = str(node.path)
        return path == value or path.startswith(value.rstrip("/") + "/") or fnmatch.fnmatch(path, value)
    if method == "resource_type":
        return node.resource_type == value
    if method.startswith("config."):
        return str(node.config.get(method.split(".", 1)[1])) == value
    if method == "fqn":
        return fnmatch.fnmatch(".".join(node.fqn), value)
    if method == "test_type":
        if value == "unit":
            return node.resource_type == "unit_test"
        if node.resource_type != "test":
            return False
        return value == "data" or (node.test_metadata is not None) == (value == "generic")
    return False


def _select_one(graph: Graph, expression: str) -> set[str]:
    match = SELECTOR.match(expression)
    if not match:
        raise ModelError(f"Cannot read the selector {expression!r}.")
    body = match.group("body")
    method, value = ("name", body)
    if ":" in body:
        method, value = body.split(":", 1)
    project = graph.project
    roots = {uid for uid in [*project.nodes, *project.sources] if _matches(project, uid, method, value)}
    result = set(roots)
    for uid in roots:
        if match.group("at"):
            down = graph.descendants(uid)
            result |= down
            for d in down | {uid}:
                result |= graph.ancestors(d)
            continue
        if match.group("up") is not None:
            result |= graph.ancestors(uid, int(match.group("up")) if match.group("up") else None)
        if match.group("down") is not None:
            result |= graph.descendants(uid, int(match.group("down")) if match.group("down") else None)
    return result


def select(graph: Graph, select: list[str] | None, exclude: list[str] | None, resource_types: set[str],
           eager_tests: bool) -> set[str]:
    """The unique ids of the nodes a command runs."""
    project = graph.project
    if select:
        chosen: set[str] = set()
        for union in select:
            for part in union.split():
                pieces = [_select_one(graph, p) for p in part.split(",")]
                chosen |= set.intersection(*pieces) if pieces else set()
    else:
        chosen = set(project.nodes)
    if exclude:
        for union in exclude:
            for part in union.split():
                pieces = [_select_one(graph, p) for p in part.split(",")]
                chosen -= set.intersection(*pieces)
    if eager_tests:
        for uid, node in project.nodes.items():
            touches = node.attached_node in chosen if node.resource_type == "unit_test" else \
                node.resource_type == "test" and any(p in chosen for p in node.depends_on)
            if touches and (not exclude or uid in chosen or not _excluded(graph, uid, exclude)):
                chosen.add(uid)
    return {uid for uid in chosen if uid in project.nodes and project.nodes[uid].resource_type in resource_types}


def _excluded(graph: Graph, uid: str, exclude: list[str]) -> bool:
    for union in exclude:
        for part in union.split():
            pieces = [_select_one(graph, p) for p in part.split(",")]
            if uid in set.intersection(*pieces):
                return True
    return False
