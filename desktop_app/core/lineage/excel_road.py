"""Column lineage of the Excel road: raw tables → raw-export sheets → the steps → the report's figures.

The road is SQL all the way (stage 2's steps and stage 3's figure queries), so it is analysed the
same way as the models, from the very statements that run: the steps are replayed against a
recorder that keeps each ``CREATE … AS SELECT`` instead of running it. Also maps a figure as the
two-roads reconciliation names it (``revenue 2024-03 Electronics``) to its node on each road.
"""

from __future__ import annotations

import functools
import re

import sqlglot
from sqlglot import exp

from desktop_app.core.excel.report import FIGURE_SQL, lines_sql
from desktop_app.core.excel.stages import FINAL_REPORT, INTERMEDIATE, RAW_EXPORT
from desktop_app.core.excel.transform import REQUIRED, STEPS
from desktop_app.core.lineage.graph import ColumnNode, Edge, LineageGraph, RelationInfo
from desktop_app.core.lineage.select_lineage import analyse_select
from desktop_app.core.olap.warehouse import RAW_SCHEMA

RAW_BOOK, STEPS_BOOK, REPORT_BOOK = (name.removesuffix(".xlsx") for name in (RAW_EXPORT, INTERMEDIATE, FINAL_REPORT))
SHEET_LINES = "order_lines"  # the one sheet stage 2 writes and stage 3 reads

# Two-roads figure name (as ``reconcile_roads`` names it) → (report figure column, mart column).
_FIGURES = (
    (re.compile(r"revenue \d{4}-\d{2} .+"), "Monthly revenue.revenue_cents", "monthly_revenue_by_category.revenue"),
    (re.compile(r"total revenue"), "Summary.revenue_cents", "daily_revenue.revenue"),
    (re.compile(r"revenue orders"), "Summary.orders", "fct_orders.order_id"),
    (re.compile(r"active customers"), "Summary.active_customers", "customer_lifetime_value.customer_id"),
    (re.compile(r"top customer #\d+ id"), "Top customers.customer_id", "customer_lifetime_value.customer_id"),
    (re.compile(r"top customer #\d+ revenue"), "Top customers.revenue_cents",
     "customer_lifetime_value.lifetime_revenue"),
    (re.compile(r"top product #\d+ id"), "Top products.product_id", "product_performance.product_id"),
    (re.compile(r"top product #\d+ revenue"), "Top products.revenue_cents", "product_performance.revenue"),
    # a sheet of the report, by its name: its revenue figures
    (re.compile(r"monthly revenue"), "Monthly revenue.revenue_cents", "monthly_revenue_by_category.revenue"),
    (re.compile(r"summary"), "Summary.revenue_cents", "daily_revenue.revenue"),
    (re.compile(r"top customers"), "Top customers.revenue_cents", "customer_lifetime_value.lifetime_revenue"),
    (re.compile(r"top products"), "Top products.revenue_cents", "product_performance.revenue"),
)


def figure_nodes(figure: str) -> tuple[str, str] | None:
    """(Excel road node id, model road node id) of a two-roads figure name, or None."""
    for pattern, report_column, mart_column in _FIGURES:
        if pattern.fullmatch(figure.strip().lower()):
            return f"excel:{REPORT_BOOK}/{report_column}", mart_column
    return None


class _Recorder:
    """Stands in for a DuckDB connection while the steps run: keeps what they would create."""

    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []  # (table, SELECT)

    def execute(self, sql: str) -> None:
        create = sqlglot.parse_one(sql, dialect="duckdb")
        if not isinstance(create, exp.Create) or create.expression is None:
            raise ValueError(f"a step ran something other than CREATE … AS SELECT: {sql[:80]}")
        self.created.append((create.this.name, create.expression.sql(dialect="duckdb")))


def excel_road_lineage(raw_columns: dict[str, list[str]] | None = None) -> LineageGraph:
    """The Excel road's lineage. ``raw_columns``: the raw tables' columns as the warehouse holds them
    (the raw export writes every column). Without it, the columns the steps read, each taken to be
    the OLTP column of the same name (what the ingestion copies), for the report's Provenance sheet."""
    graph = LineageGraph()
    schema: dict[str, dict[str, str]] = {}
    where: dict[tuple[str, ...], str] = {}  # temp table → the relation the user knows
    for sheet, required in REQUIRED.items():
        columns = (raw_columns or {}).get(sheet) or list(required)
        relation = f"{RAW_BOOK}/{sheet}"
        graph.relations[relation] = RelationInfo(relation, "excel")
        for column in columns:
            raw_table = f"{RAW_SCHEMA}.{sheet}"
            source = graph.add_node(ColumnNode(f"{raw_table}.{column}", "raw", raw_table, column))
            target = graph.add_node(ColumnNode(f"excel:{relation}.{column}", "excel", relation, column))
            graph.add_edge(Edge(source.id, target.id, "copy"))
            if raw_columns is None:
                oltp = graph.add_node(ColumnNode(f"oltp:{sheet}.{column}", "oltp", f"oltp:{sheet}", column))
                graph.add_edge(Edge(oltp.id, source.id, "copy"))
        schema[f"read_{sheet}"] = dict.fromkeys(columns, "VARCHAR")
        where[(f"read_{sheet}",)] = relation
    recorder, tables = _Recorder(), {sheet: f"read_{sheet}" for sheet in REQUIRED}
    for step in STEPS:
        before = len(recorder.created)
        tables = step.run(recorder, tables)
        for table, sql in recorder.created[before:]:
            _add(graph, schema, where, table, f"{STEPS_BOOK}/{table}", f"-- step {step.name}\n{sql}")
    where[("sheet_lines",)] = f"{STEPS_BOOK}/{SHEET_LINES}"
    schema["sheet_lines"] = schema[SHEET_LINES]
    _add(graph, schema, where, "lines", f"{REPORT_BOOK}/lines", lines_sql("sheet_lines"))
    for figure, sql in FIGURE_SQL.items():
        _add(graph, schema, where, figure, f"{REPORT_BOOK}/{figure}", sql)
    return graph


def _add(graph: LineageGraph, schema: dict, where: dict, table: str, relation: str, sql: str) -> None:
    found = analyse_select(sql, schema)
    graph.relations[relation] = RelationInfo(relation, "excel", sql=sql)
    for column, inputs in found.columns.items():
        target = graph.add_node(ColumnNode(f"excel:{relation}.{column}", "excel", relation, column,
                                           found.lines.get(column)))
        for item in inputs:
            source_relation = where.get(item.relation, ".".join(item.relation))
            graph.add_edge(Edge(f"excel:{source_relation}.{item.column}", target.id, item.kind, item.expression))
    schema[table.lower()] = dict.fromkeys(found.columns, "VARCHAR")
    where[(table.lower(),)] = relation


@functools.cache
def report_origins() -> dict[str, tuple[list[str], list[str]]]:
    """Per figure group of the final report, the OLTP columns (``table.column``) whose values its figures
    are computed from, and those that only choose the rows (filters and joins). Static: the road's SQL."""
    graph = excel_road_lineage()
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for figure in FIGURE_SQL:
        values: set[str] = set()
        every: set[str] = set()
        for node in graph.columns_of(f"{REPORT_BOOK}/{figure}"):
            values |= _origins(graph, node.id, direct_only=True)
            every |= _origins(graph, node.id, direct_only=False)
        groups[figure] = (sorted(values), sorted(every - values))
    return groups


def _origins(graph: LineageGraph, node_id: str, direct_only: bool) -> set[str]:
    found, stack, seen = set(), [node_id], {node_id}
    while stack:
        for edge in graph.inputs(stack.pop()):
            if (direct_only and not edge.direct) or edge.source in seen:
                continue
            seen.add(edge.source)
            stack.append(edge.source)
            if edge.source.startswith("oltp:"):
                found.add(edge.source.removeprefix("oltp:"))
    return found
