"""Generic tests: from YAML entries to test nodes, named, configured and judged as dbt does.

A generic test is a macro (``test_<name>``: built in, the project's own ``{% test %}`` blocks, or a
package's ``pkg.name``) called with the tested relation — ``get_where_subquery(ref(…))``, which
applies the test's ``where`` — the column (for column tests) and the entry's arguments. Tests attach
to model, seed, snapshot and source columns, and to models, seeds, snapshots and source tables as a
whole. Names follow dbt's rule (``<test>_<target>_<args…>``, hashed past 63 characters), and the
failure count is judged by ``fail_calc``, ``warn_if``/``error_if`` and ``severity``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.errors import ModelError
from desktop_app.core.models.project import (
    TEST_DEFAULTS,
    Node,
    Project,
    Render,
    folder_config,
    merge_configs,
    render_config,
    short_hash,
)

KWARGS_NAME = "_dbt_generic_test_kwargs"
CONFIG_ARGS = ("severity", "tags", "enabled", "where", "limit", "warn_if", "error_if", "fail_calc",
               "store_failures", "store_failures_as", "meta", "database", "schema", "alias")
LOOKS_LIKE_FUNCTION = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")


@dataclass(frozen=True)
class _Target:
    """What a test is attached to: a model, seed or snapshot (``ref``), or a source table (``source``)."""

    unique_id: str
    name: str  # as it appears in test names (a source table's is source_table)
    relation_call: str  # ref('x') / source('s', 't')
    is_source: bool
    path: Path


def attach_generic_tests(project: Project, render: Render) -> None:
    """Create a test node for every generic test declared in the project's YAML."""
    for target, columns, entries in _targets(project):
        for column in columns:
            for entry in (column.get("data_tests") or []) + (column.get("tests") or []):
                _add_test(project, render, target, entry, column["name"])
        for entry in entries:
            _add_test(project, render, target, entry, None)


def _targets(project: Project):
    for node in list(project.nodes.values()):
        if node.resource_type in ("model", "seed", "snapshot"):
            props = project.properties.get(node.resource_type + "s", {}).get(node.name, {})
            entries = list(props.get("data_tests") or []) + list(props.get("tests") or [])
            yield (_Target(node.unique_id, node.name, f"ref('{node.name}')", False, props.get("_file", node.path)),
                   list(node.columns.values()), entries)
    for source in project.sources.values():
        yield (_Target(source.unique_id, f"{source.source_name}_{source.name}",
                       f"source('{source.source_name}', '{source.name}')", True, source.path),
               list(source.columns.values()), source.tests)


def _add_test(project: Project, render: Render, target: _Target, entry: Any, column: str | None) -> None:
    namespace, test, args, config = _parse_entry(entry, target, column)
    if column is not None:
        args = {"column_name": column, **args}
    prefix = ("source_" if target.is_source else "") + test
    prefix = f"{namespace}_{prefix}" if namespace else prefix
    given = config.pop("name", None)
    short_name, full_name = (str(given), str(given)) if given else test_names(prefix, target.name, args)
    name = full_name  # dbt's node name; a long one is hashed for the file and relation (alias)
    if short_name != full_name and "alias" not in config:
        config["alias"] = short_name
    macro = f"{namespace}.test_{test}" if namespace else f"test_{test}"
    unique_id = f"test.{project.name}.{full_name}.{short_hash(target.unique_id + full_name)}"
    node = Node(unique_id, "test", name, target.path, "{{ " + macro + "(**" + KWARGS_NAME + ") }}",
                fqn=[project.name, *target.path.parent.parts[1:], full_name], package_name=project.name,
                test_metadata={"name": test, "namespace": namespace,
                               "kwargs": {**args, "model": "{{ get_where_subquery(" + target.relation_call + ") }}"}},
                attached_node=target.unique_id, column_name=column)
    node.config = merge_configs(TEST_DEFAULTS, render_config(render, folder_config(project, "data_tests", node.fqn)),
                                render_config(render, config))
    node.depends_on = [target.unique_id]
    node.description = str(config.get("description", ""))
    if node.unique_id in project.nodes:
        raise ModelError(f"Two tests would be named {full_name!r} ({target.path}).",
                         "Give one of them a `name:` in its YAML entry.")
    project.nodes[unique_id] = node


def _parse_entry(entry: Any, target: _Target, column: str | None) -> tuple[str | None, str, dict, dict]:
    """(namespace, test name, arguments, config) of a YAML test entry: ``unique``, ``{accepted_values: …}``."""
    if isinstance(entry, str):
        kind, body = entry, {}
    elif isinstance(entry, dict) and len(entry) == 1:
        kind, body = next(iter(entry.items()))
        body = dict(body or {})
    elif isinstance(entry, dict) and "test_name" in entry:
        kind, body = entry["test_name"], {k: v for k, v in entry.items() if k != "test_name"}
    else:
        where = f"{target.path} ({target.name}{'.' + column if column else ''})"
        raise ModelError(f"Cannot read the test definition {entry!r} in {where}.")
    namespace, _, test = str(kind).rpartition(".")
    config = dict(body.pop("config", None) or {})
    for key in CONFIG_ARGS:
        if key in body:
            config[key] = body.pop(key)
    args = dict(body.pop("arguments", None) or {})
    for key in ("name", "description"):
        if key in body:
            config[key] = body.pop(key)
    args.update(body)
    return namespace or None, test, args, config


def test_names(test_type: str, target_name: str, args: dict) -> tuple[str, str]:
    """dbt's (short, full) names: ``not_null_orders_id``; past 63 characters the short one is hashed."""
    flat: list[str] = []
    for key in sorted(args):
        if key == "model":
            continue
        value = args[key]
        parts = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list | tuple) \
            else [value]
        flat.extend(str(part) for part in parts)
    unique = "__".join(re.sub("[^0-9a-zA-Z_]+", "_", part) for part in flat)
    identifier = f"{test_type}_{target_name}"
    full = f"{identifier}_{unique}"
    if len(full) >= 64:
        return f"{identifier[:30]}_{hashlib.md5(full.encode(), usedforsecurity=False).hexdigest()}", full
    return full, full


def render_kwargs(kwargs: dict, render_native) -> dict:
    """The test's arguments as its macro receives them: Jinja rendered natively, ``ref(…)`` called, the
    column name kept as text (dbt's special case)."""

    def convert(value: Any, key: str | None) -> Any:
        if isinstance(value, dict):
            return {k: convert(v, None) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, None) for v in value]
        if not isinstance(value, str) or key == "column_name":
            return value
        if LOOKS_LIKE_FUNCTION.match(value):
            value = "{{ " + value + " }}"
        return render_native(value)

    return {key: convert(value, key) for key, value in kwargs.items()}


def judge(failures: int, config: dict, evaluate) -> tuple[str, str]:
    """(status, message) for a test's failure count: dbt checks ``error_if`` under severity error, then
    ``warn_if``. ``evaluate(sql)`` runs a boolean SQL expression (the thresholds are SQL: ``> 10``)."""
    severity = str(config.get("severity", "error")).lower()
    error_if, warn_if = str(config.get("error_if", "!= 0")), str(config.get("warn_if", "!= 0"))
    got = f"Got {failures} result{'s' * (failures != 1)}"
    if severity == "error" and evaluate(f"{failures} {error_if}"):
        return "fail", f"{got}, configured to fail if {error_if}"
    if evaluate(f"{failures} {warn_if}"):
        return "warn", f"{got}, configured to warn if {warn_if}"
    return "pass", "PASS"
