"""Walk the chosen nodes in dependency order on a small thread pool, as dbt's graph queue does.

A node starts once every chosen parent has a result. A model that errors, or (in ``build``) an
error-severity test that fails, skips exactly the nodes downstream of it; in ``build`` a test also
runs before the children of what it tests. Chosen ancestors reachable only through unselected
nodes still order the run.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from desktop_app.core.errors import ModelError
from desktop_app.core.models.project import Project
from desktop_app.core.models.results import NodeResult
from desktop_app.core.progress import CancelToken, Progress, Report


class Scheduler:
    def __init__(self, project: Project, graph, command: str, chosen: set[str], threads: int,
                 report: Report, cancel: CancelToken) -> None:
        self.project, self.graph, self.command, self.chosen = project, graph, command, chosen
        self.threads, self.report, self.cancel = max(1, threads), report, cancel
        self.edges = self._execution_edges()

    def _execution_edges(self) -> dict[str, set[str]]:
        """Parents of each chosen node within the run, plus dbt build's test → child edges."""
        edges = {u: {p for p in self.graph.parents.get(u, []) if p in self.chosen} | self._indirect(u)
                 for u in self.chosen}
        if self.command == "build":
            for uid in self.chosen:
                node = self.project.nodes[uid]
                if node.resource_type == "test":
                    for child in self._children_after_test(uid):
                        edges[child].add(uid)
                elif node.resource_type == "unit_test" and node.attached_node in self.chosen:
                    edges[node.attached_node].add(uid)  # a model's unit tests run before it
        return edges

    def _children_after_test(self, test_id: str) -> list[str]:
        """The chosen non-test children of what a test tests, when everything it tests is upstream of them."""
        parents = set(self.project.nodes[test_id].depends_on)
        found = []
        for parent in parents:
            for child in self.graph.children.get(parent, []):
                if child in self.chosen and self.project.nodes[child].resource_type != "test" and \
                        parents <= (self.graph.ancestors(child) | {child}) and child not in parents:
                    found.append(child)
        return found

    def _indirect(self, uid: str) -> set[str]:
        found, frontier = set(), list(self.graph.parents.get(uid, []))
        seen = set()
        while frontier:
            parent = frontier.pop()
            if parent in seen:
                continue
            seen.add(parent)
            if parent in self.chosen:
                found.add(parent)
            else:
                frontier.extend(self.graph.parents.get(parent, []))
        return found

    def run(self, execute: Callable[[str], NodeResult]) -> list[NodeResult]:
        """Results in the graph's order; ephemeral models only when they failed (like dbt)."""
        results: dict[str, NodeResult] = {}
        pending = dict(self.edges)
        skipped: set[str] = set()
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="models") as pool:
            running: dict[Future, str] = {}
            while pending or running:
                ready = [u for u, ps in pending.items() if not (ps - results.keys())]
                for uid in sorted(ready, key=self._order_key):
                    del pending[uid]
                    if uid in skipped:
                        results[uid] = self._skipped(uid)
                    elif not self.cancel.cancelled:
                        running[pool.submit(execute, uid)] = uid
                if not running:
                    if pending and self.cancel.cancelled:
                        break
                    if pending and not ready:
                        raise ModelError("Internal error: the run could not be ordered.")
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = results[running.pop(future)] = future.result()
                    if outcome.status == "error" or (outcome.status == "fail" and self.command == "build"):
                        skipped |= self._downstream(outcome.unique_id)
                    self.report(Progress(self.command, len(results), len(self.edges),
                                         f"{outcome.status.upper()} {outcome.name}", outcome.name))
        self.cancel.raise_if_cancelled()
        order = {u: i for i, u in enumerate(graphlib.TopologicalSorter(self.edges).static_order())}
        shown = [r for r in results.values() if r.materialized != "ephemeral" or r.status == "error"]
        return sorted(shown, key=lambda r: order.get(r.unique_id, 0))

    def _skipped(self, uid: str) -> NodeResult:
        node = self.project.nodes[uid]
        return NodeResult(uid, node.name, node.resource_type, "skipped", "skipped: an upstream node failed",
                          materialized=node.materialized)

    def _order_key(self, uid: str):
        node = self.project.nodes[uid]
        return (node.resource_type in ("test", "unit_test"), node.name)

    def _downstream(self, uid: str) -> set[str]:
        children: dict[str, set[str]] = {}
        for child, parents in self.edges.items():
            for parent in parents:
                children.setdefault(parent, set()).add(child)
        found, frontier = set(), [uid]
        while frontier:
            for child in children.get(frontier.pop(), ()):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
        return found
