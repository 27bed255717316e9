"""Unit tests (``unit_tests:`` in YAML): a model's SQL run on fixture rows, compared with expected rows.

Each ``given`` input (``ref(…)``, ``source(…)`` or ``this``) becomes a CTE of its fixture rows — typed
by the columns the real relation has in the warehouse, missing columns NULL — and the model's SQL is
compiled against those CTEs. The result, on the expected columns, must equal ``expect`` as a
multiset. Rows come inline as dicts, as CSV text, as SQL, from a fixture file
(``tests/fixtures/<name>.csv|.sql``) or, for a seed input with no rows, from the seed itself.
In ``build`` a model's unit tests run before it; a failing one skips the model and what follows.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import quote
from desktop_app.core.models.project import Node, Project, merge_configs, render_config
from desktop_app.core.models.relation import Relation

INPUT = re.compile(r"""^\s*(?:(ref)\(\s*['"]([^'"]+)['"]\s*\)"""
                   r"""|(source)\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)|(this))\s*$""")


def attach_unit_tests(project: Project, compiler) -> None:
    """A ``unit_test`` node per entry, depending on the tested model's parents (not on the model)."""
    for entry in project.unit_tests:
        name, model_name, path = entry.get("name"), entry.get("model"), Path(entry["_file"])
        model = project.node_by_name(str(model_name), ("model",)) if model_name else None
        if not name or model is None:
            raise ModelError(f"The unit test {name or '(unnamed)'} in {path} tests {model_name!r}, which is not "
                             "a model.", "Give each unit test a name and the model it tests.")
        for given in entry.get("given") or []:
            if not isinstance(given, dict) or not INPUT.match(str(given.get("input", ""))):
                raise ModelError(f"Unit test {name} ({path}): cannot read the input {given!r}.",
                                 "Write input: ref('model'), source('source', 'table') or this.")
        unique_id = f"unit_test.{project.name}.{model.name}.{name}"
        node = Node(unique_id, "unit_test", str(name), path, model.raw_code, fqn=[project.name, model.name, str(name)],
                    package_name=project.name, refs=list(model.refs), sources=list(model.sources),
                    description=str(entry.get("description", "")), attached_node=model.unique_id,
                    extra={"given": list(entry.get("given") or []), "expect": dict(entry.get("expect") or {}),
                           "overrides": dict(entry.get("overrides") or {})})
        node.config = merge_configs(render_config(compiler.render_yaml, dict(entry.get("config") or {})))
        project.nodes[unique_id] = node


def unit_test_sql(project: Project, compiler, node: Node, cursor: duckdb.DuckDBPyConnection) -> tuple[str, str, list]:
    """(actual SQL, expected SQL, expected columns quoted) of a unit test, fixtures typed from the warehouse."""
    model = project.nodes[node.attached_node]
    fixtures, names = [], {}
    for given in node.extra["given"]:
        cte, relation, source_node = _input(project, compiler, model, str(given["input"]))
        rows, fmt = _rows(project, given, source_node)
        fixtures.append((cte.identifier, rows if fmt == "sql" else _fixture_sql(cursor, relation, rows, node)))
        names[_input_key(given["input"])] = cte
    overrides = node.extra["overrides"]
    extra = _overridden(compiler, model, names, overrides)
    sql = compiler.render(model, parsing=False, extra=extra).strip()
    ephemeral = [(name, body) for name, body in compiler.ephemeral_ctes(model) if name not in dict(fixtures)]
    from desktop_app.core.models.compile import inject_ctes

    actual = inject_ctes(sql, fixtures + ephemeral)
    return actual, *_expected(cursor, actual, node)


def _input_key(text: str) -> tuple:
    match = INPUT.match(text)
    return ("ref", match.group(2)) if match.group(1) else ("source", match.group(4), match.group(5)) \
        if match.group(3) else ("this",)


def _input(project: Project, compiler, model: Node, text: str) -> tuple[Relation, Relation, Node | None]:
    """(the CTE standing in for the input, the real relation it stands for, the input's node if any)."""
    key = _input_key(text)
    if key[0] == "this":
        return Relation(None, None, f"__dbt__cte__{model.name}", "cte"), compiler.relation(model), model
    if key[0] == "source":
        return (Relation(None, None, f"__dbt__cte__{key[1]}__{key[2]}", "cte"),
                compiler.source_relation(key[1], key[2]), None)
    target = project.node_by_name(key[1])
    if target is None:
        raise ModelError(f"Unit test input {text} is not a model, seed or snapshot of the project.")
    return Relation(None, None, f"__dbt__cte__{target.name}", "cte"), compiler.relation(target), target


def _rows(project: Project, given: dict, node: Node | None) -> tuple[Any, str]:
    fmt = str(given.get("format") or "dict")
    rows = given.get("rows")
    fixture = given.get("fixture")
    if fixture:
        for folder in project.path_of("test-paths", "tests"):
            for suffix in (".csv", ".sql"):
                path = folder / "fixtures" / f"{fixture}{suffix}"
                if path.is_file():
                    text = path.read_text(encoding="utf-8")
                    return (text, "sql") if suffix == ".sql" else (_csv_rows(text), "csv")
        raise ModelError(f"No fixture file {fixture}.csv or .sql in tests/fixtures.")
    if rows is None and node is not None and node.resource_type == "seed":
        return _csv_rows((project.root / node.path).read_text(encoding="utf-8")), "csv"
    if fmt == "csv":
        return _csv_rows(str(rows or "")), "csv"
    if fmt == "sql":
        return str(rows), "sql"
    return list(rows or []), "dict"


def _csv_rows(text: str) -> list[dict]:
    return [dict(row) for row in csv.DictReader(io.StringIO(text.strip()))]


def _columns(cursor, relation: Any, what: str) -> dict[str, tuple[str, str]]:
    """lower-case name -> (quoted name, type) of a relation or query in the warehouse."""
    try:
        rows = cursor.execute(f"DESCRIBE {relation}").fetchall()
    except duckdb.Error:
        raise ModelError(f"Not able to get columns for {what} because the relation doesn't exist.",
                         "Build the unit test's inputs first (dbt build runs them in order).") from None
    return {name.lower(): (quote(name), kind) for name, kind, *_ in rows}


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _select_rows(rows: list[dict], columns: dict[str, tuple[str, str]], what: str,
                 defaults: bool) -> list[str]:
    selects = []
    for row in rows:
        values = {name: f"cast(null as {kind})" for name, (_q, kind) in columns.items()} if defaults else {}
        for name, value in row.items():
            key = str(name).lower()
            if key not in columns:
                raise ModelError(f"Invalid column name: {str(name)!r} in unit test fixture for {what}.",
                                 f"Accepted columns for {what} are: {list(columns)}.")
            values[key] = f"cast({_literal(value)} as {columns[key][1]})"
        selects.append("select " + ", ".join(f"{v} as {columns[k][0]}" for k, v in values.items()))
    return selects


def _fixture_sql(cursor, relation: Relation, rows: list[dict], node: Node) -> str:
    columns = _columns(cursor, f"SELECT * FROM {relation}", f"unit test {node.name!r} from relation {relation}")
    selects = _select_rows(rows, columns, f"{relation}", defaults=True)
    if not selects:
        return "select " + ", ".join(f"cast(null as {k}) as {q}" for q, k in columns.values()) + " limit 0"
    return "\nunion all\n".join(selects)


def _expected(cursor, actual: str, node: Node) -> tuple[str, list[str]]:
    expect = node.extra["expect"]
    columns = _columns(cursor, f"({actual})", f"unit test {node.name!r}")
    fmt = str(expect.get("format") or "dict")
    if fmt == "sql":
        return str(expect.get("rows")), [q for q, _k in columns.values()]
    rows = _csv_rows(str(expect.get("rows") or "")) if fmt == "csv" else list(expect.get("rows") or [])
    names = [str(n).lower() for n in rows[0]] if rows else list(columns)
    selects = _select_rows(rows, columns, "expected output", defaults=False)
    quoted = [columns[n][0] for n in names]
    if not selects:
        return f"select {', '.join(quoted)} from ({actual}) limit 0", quoted
    return "\nunion all\n".join(selects), quoted


def _overridden(compiler, model: Node, names: dict, overrides: dict) -> dict:
    """The render context's replacements: inputs as CTEs, and the test's overridden vars and macros."""
    variables, macros = dict(overrides.get("vars") or {}), dict(overrides.get("macros") or {})

    def ref(*args, **kwargs):
        name = args[-1] if args else kwargs.get("name")
        if ("ref", name) in names:
            return names[("ref", name)]
        target = compiler.project.node_by_name(name)
        if target is not None and target.is_ephemeral:
            return Relation(None, None, f"__dbt__cte__{name}", "cte")
        raise ModelError(f"The unit test of {model.name} gives no input for ref({name!r}).",
                         f"Add `- input: ref('{name}')` with its rows to given:.")

    def source(source_name, table):
        if ("source", source_name, table) in names:
            return names[("source", source_name, table)]
        raise ModelError(f"The unit test of {model.name} gives no input for source({source_name!r}, {table!r}).",
                         "Add it with its rows to given:.")

    extra: dict[str, Any] = {"ref": ref, "source": source, "is_incremental": lambda: bool(macros.get("is_incremental"))}
    if ("this",) in names:
        extra["this"] = names[("this",)]
    if variables:
        extra["var"] = lambda name, default=None: variables[name] if name in variables else \
            compiler.var(name, default) if default is not None else compiler.var(name)
    for name, value in macros.items():
        if name != "is_incremental":
            extra[name] = lambda *a, _value=value, **k: _value
    return extra


def compare(cursor, actual: str, expected: str, columns: list[str]) -> tuple[int, int, list[tuple]]:
    """(rows only in actual, rows only in expected, a few of them) — the results as multisets."""
    chosen = ", ".join(columns)
    left = f"select {chosen} from ({actual}) dbt_internal_unit_test_actual"
    right = f"select {chosen} from ({expected}) dbt_internal_unit_test_expected"
    extra = cursor.execute(f"select * from ({left} except all {right})").fetchall()
    missing = cursor.execute(f"select * from ({right} except all {left})").fetchall()
    examples = [("actual", *r) for r in extra[:3]] + [("expected", *r) for r in missing[:3]]
    return len(extra), len(missing), examples
