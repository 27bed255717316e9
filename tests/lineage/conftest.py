from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.lineage.graph import LineageGraph
from desktop_app.core.lineage.whole_path import lineage_of_project
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.paths import sql_project_dir
from tests.conftest import private_copy


@pytest.fixture(scope="session")
def shop_built(ingested_warehouse, tmp_path_factory) -> Path:
    """The small shop, ingested and built with sql/ (snapshots included)."""
    path = private_copy(ingested_warehouse, tmp_path_factory.mktemp("lineage"))
    with Warehouse(path) as wh:
        assert run_command("build", sql_project_dir(), wh, target_dir=path.parent / "target").ok
    return path


@pytest.fixture(scope="session")
def shop_lineage(shop_built) -> LineageGraph:
    with Warehouse(shop_built, ensure_metadata=False) as wh:
        return lineage_of_project(sql_project_dir(), wh)


def direct_origins(graph: LineageGraph, node_id: str) -> set[str]:
    """The OLTP and seed columns whose values reach ``node_id`` (copy/transform/aggregate edges only)."""
    found, stack, seen = set(), [node_id], {node_id}
    while stack:
        for edge in graph.inputs(stack.pop()):
            if not edge.direct or edge.source in seen:
                continue
            seen.add(edge.source)
            layer = graph.nodes[edge.source].layer
            if layer in ("oltp", "seed"):
                found.add(edge.source)
            stack.append(edge.source)
    return found


def all_origins(graph: LineageGraph, node_id: str) -> set[str]:
    """The OLTP columns reaching ``node_id`` by any edge (value, filter or join)."""
    ids, _ = graph.reachable(node_id, "upstream")
    return {i for i in ids if i.startswith("oltp:")}
