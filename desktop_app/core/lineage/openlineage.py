"""The graph in OpenLineage's shape: one dataset per relation with a ``columnLineage`` facet.

The facet (spec ``ColumnLineageDatasetFacet`` 1-2-0) lists, per output field, its input fields
with transformations typed ``DIRECT`` (``IDENTITY``, ``TRANSFORMATION``, ``AGGREGATION``) or
``INDIRECT`` (``FILTER``, ``JOIN``) — the same five kinds the graph's edges carry, so nothing is
lost or invented. Datasets are named as lineage servers name DuckDB tables (``db.schema.table``).
"""

from __future__ import annotations

from desktop_app import __version__
from desktop_app.core.lineage.graph import LineageGraph

SCHEMA_URL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
PRODUCER = f"urn:oltp-olap-studio:{__version__}"
TRANSFORMATIONS = {"copy": ("DIRECT", "IDENTITY"), "transform": ("DIRECT", "TRANSFORMATION"),
                   "aggregate": ("DIRECT", "AGGREGATION"), "filter": ("INDIRECT", "FILTER"),
                   "join": ("INDIRECT", "JOIN")}


def openlineage_datasets(graph: LineageGraph, namespace: str) -> list[dict]:
    """Every warehouse relation with inputs, as an OpenLineage output dataset."""
    datasets: dict[str, dict] = {}
    for node in graph.nodes.values():
        info = graph.relations.get(node.relation)
        name = info.warehouse_name if info else None
        if node.layer not in ("model", "raw") or not name:
            continue
        inputs = []
        for edge in graph.inputs(node.id):
            source = graph.nodes[edge.source]
            source_info = graph.relations.get(source.relation)
            kind, subtype = TRANSFORMATIONS[edge.kind]
            transformation = {"type": kind, "subtype": subtype, "masking": False}
            if edge.expression:
                transformation["description"] = edge.expression
            source_name = source_info.warehouse_name if source_info and source_info.warehouse_name else \
                source.relation
            inputs.append({"namespace": "oltp" if source.layer == "oltp" else namespace,
                           "name": source_name.removeprefix("oltp:"), "field": source.column,
                           "transformations": [transformation]})
        if not inputs:
            continue
        dataset = datasets.setdefault(name, {"namespace": namespace, "name": name, "facets": {"columnLineage": {
            "_producer": PRODUCER, "_schemaURL": SCHEMA_URL, "fields": {}}}})
        dataset["facets"]["columnLineage"]["fields"][node.column] = {"inputFields": inputs}
    return list(datasets.values())
