"""Discover a dbt project: its files, its nodes, their configuration, and what its YAML declares.

Configuration follows dbt's precedence: ``{{ config() }}`` in the file beats a properties ``.yml``,
which beats ``dbt_project.yml`` (where the most specific folder wins); ``tags`` add up, ``meta``
merges. Jinja in YAML is rendered (by the caller's ``render``) the way dbt renders it. What builds
nothing — docs, exposures, metrics, semantic models, saved queries, groups, analyses — is accepted
and left alone; what would build something the runner cannot is collected as ``unsupported``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from desktop_app.core.errors import ModelError

ADDITIVE = {"tags"}
MERGED = {"meta"}
KNOWN_CONFIG = {"materialized", "schema", "alias", "tags", "unique_key", "enabled", "meta", "severity",
                "incremental_strategy", "post_hook", "pre_hook", "post-hook", "pre-hook", "database",
                "column_types", "quote_columns", "on_schema_change", "full_refresh", "docs", "persist_docs",
                "where", "warn_if", "error_if", "store_failures", "store_failures_as", "limit", "fail_calc",
                "delimiter", "contract", "grants", "fast", "strategy", "updated_at", "check_cols", "target_schema",
                "target_database", "hard_deletes", "invalidate_hard_deletes", "dbt_valid_to_current",
                "snapshot_meta_column_names", "group", "access", "sql_header", "packages", "event_time"}
SNAPSHOT_BLOCK = re.compile(r"{%-?\s*snapshot\s+(\w+)\s*-?%}(.*?){%-?\s*endsnapshot\s*-?%}", re.DOTALL)


@dataclass
class Node:
    """A model, seed, snapshot, singular or generic test, or unit test, as dbt's manifest describes it."""

    unique_id: str
    resource_type: str  # model | seed | snapshot | test | unit_test
    name: str
    path: Path  # relative to the project (a generic test's: the YAML file declaring it)
    raw_code: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    description: str = ""
    columns: dict[str, dict] = field(default_factory=dict)
    fqn: list[str] = field(default_factory=list)
    package_name: str = ""
    # tests only
    test_metadata: dict | None = None
    attached_node: str | None = None
    column_name: str | None = None
    file_config: dict[str, Any] = field(default_factory=dict)  # {{ config() }} calls, recorded while parsing
    extra: dict[str, Any] = field(default_factory=dict)  # unit tests: given/expect; snapshots: their YAML

    @property
    def materialized(self) -> str:
        if self.resource_type in ("seed", "test", "snapshot", "unit_test"):
            return self.resource_type
        return self.config.get("materialized", "view")

    @property
    def is_ephemeral(self) -> bool:
        """Inlined into its children as a CTE: no relation of its own in the warehouse."""
        return self.materialized == "ephemeral"

    @property
    def enabled(self) -> bool:
        return self.config.get("enabled", True) is not False

    @property
    def tags(self) -> list[str]:
        return list(self.config.get("tags", []))

    @property
    def original_file_path(self) -> str:
        return str(self.path)

    @property
    def version(self) -> None:
        return None

    def location(self, needle: str = "") -> str:
        """``path:line`` of the first line of the node's code that mentions ``needle`` (else the path)."""
        for number, line in enumerate(self.raw_code.splitlines(), start=1):
            if needle and needle in line:
                return f"{self.path}:{number}"
        return str(self.path)

    def as_dict(self) -> dict[str, Any]:
        """The node as Jinja's ``model`` sees it (a subset of dbt's manifest entry)."""
        return {"unique_id": self.unique_id, "name": self.name, "resource_type": self.resource_type,
                "package_name": self.package_name, "path": str(self.path), "original_file_path": str(self.path),
                "fqn": self.fqn, "config": self.config, "tags": self.tags,
                "alias": self.config.get("alias") or self.name, "columns": self.columns,
                "refs": [{"name": r} for r in self.refs], "description": self.description,
                "depends_on": {"nodes": self.depends_on}, "raw_code": self.raw_code,
                "meta": self.config.get("meta", {})}


@dataclass
class Source:
    unique_id: str
    source_name: str
    name: str
    schema: str
    identifier: str
    database: str | None = None
    description: str = ""
    columns: dict[str, dict] = field(default_factory=dict)
    path: Path = Path("models")
    tests: list = field(default_factory=list)  # table-level data tests


@dataclass
class Unsupported:
    """A feature the project uses that the runner cannot build: named with its place."""

    what: str
    where: str
    nodes: tuple[str, ...] = ()  # the nodes it concerns (disabled when the user skips it knowingly)

    def __str__(self) -> str:
        return f"not supported: {self.what} in {self.where}"


@dataclass
class Project:
    root: Path
    name: str
    profile: str
    config: dict
    vars: dict
    nodes: dict[str, Node] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    macro_files: list[Path] = field(default_factory=list)
    properties: dict[str, dict[str, dict]] = field(default_factory=dict)  # kind -> name -> YAML entry
    unit_tests: list[dict] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)

    def path_of(self, key: str, default: str) -> list[Path]:
        return [self.root / p for p in self.config.get(key, [default])]

    def node_by_name(self, name: str, resource_types=("model", "seed", "snapshot")) -> Node | None:
        for node in self.nodes.values():
            if node.name == name and node.resource_type in resource_types:
                return node
        return None


def load_project(root: str | Path) -> Project:
    root = Path(root).expanduser().resolve()
    project_file = root / "dbt_project.yml"
    if not project_file.exists():
        raise ModelError(f"No dbt_project.yml in {root}.", "Point --project at the folder that holds dbt_project.yml.")
    config = read_yaml(project_file) or {}
    name = config.get("name")
    if not name:
        raise ModelError(f"{project_file} has no project name.", "Add `name: my_project`.")
    project = Project(root, name, config.get("profile", name), config, dict(config.get("vars") or {}))
    folders = project.path_of("macro-paths", "macros") + [p / "generic" for p in project.path_of("test-paths", "tests")]
    project.macro_files = sorted(p for d in folders if d.exists() for p in d.rglob("*.sql"))
    return project


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ModelError(f"Invalid YAML in {path}{where}: {getattr(err, 'problem', err)}.") from None


def folder_config(project: Project, resource_key: str, fqn: list[str]) -> dict:
    """Config from ``dbt_project.yml`` for a node at ``fqn`` (project, folders…, name)."""
    section = project.config.get(resource_key) or {}
    tree = section.get(fqn[0]) or {}
    merged: dict[str, Any] = {}
    _merge(merged, _configs_at(section))  # configs for every project's nodes (e.g. +materialized at the top)
    level = tree
    _merge(merged, _configs_at(level))
    for part in fqn[1:]:
        if not isinstance(level, dict) or part not in level:
            break
        level = level[part]
        _merge(merged, _configs_at(level))
    return merged


def _configs_at(level: Any) -> dict:
    if not isinstance(level, dict):
        return {}
    out = {}
    for key, value in level.items():
        if key.startswith("+"):
            out[key[1:]] = value
        elif key in KNOWN_CONFIG and not isinstance(value, dict) or key in ("meta", "contract", "docs") \
                and isinstance(value, dict):
            out[key] = value
    return out


def _merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        key = key.replace("-", "_")
        if key in ADDITIVE:
            values = [value] if isinstance(value, str) else list(value or [])
            into[key] = list(dict.fromkeys([*into.get(key, []), *values]))
        elif key in MERGED and isinstance(value, dict):
            into[key] = {**into.get(key, {}), **value}
        else:
            into[key] = value


def merge_configs(*layers: dict) -> dict:
    merged: dict[str, Any] = {}
    for layer in layers:
        _merge(merged, layer or {})
    return merged


Render = Callable[[Any], Any]
HOOK_KEYS = {"pre_hook", "post_hook", "pre-hook", "post-hook", "+pre-hook", "+post-hook", "+pre_hook", "+post_hook"}


def render_config(render: Render, config: dict) -> dict:
    """A config with its Jinja rendered, except hooks: they render when they run, in the node's context."""
    return {k: (v if k in HOOK_KEYS else render(v)) for k, v in config.items()}


def discover(project: Project, render: Render) -> None:
    """Find models, seeds, snapshots, singular tests, properties and sources; fill ``project.nodes``.

    ``render`` renders Jinja in a YAML value (configs; never tests or descriptions, as in dbt).
    """
    _load_properties(project, render)
    for folder in project.path_of("model-paths", "models"):
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            if path.suffix == ".sql":
                _add_model(project, folder, path, render)
            elif path.suffix == ".py":
                project.unsupported.append(Unsupported("a Python model", str(path.relative_to(project.root)),
                                                       (f"model.{project.name}.{path.stem}",)))
    for folder in project.path_of("seed-paths", "seeds"):
        for path in sorted(folder.rglob("*.csv")) if folder.exists() else []:
            fqn = [project.name, *path.relative_to(folder).parent.parts, path.stem]
            props = project.properties["seeds"].get(path.stem, {})
            node = Node(f"seed.{project.name}.{path.stem}", "seed", path.stem, path.relative_to(project.root),
                        fqn=fqn, package_name=project.name, description=props.get("description", ""),
                        columns=_columns(props))
            node.config = merge_configs(render_config(render, folder_config(project, "seeds", fqn)),
                                        props.get("config") or {})
            project.nodes[node.unique_id] = node
    for folder in project.path_of("snapshot-paths", "snapshots"):
        for path in sorted(folder.rglob("*.sql")) if folder.exists() else []:
            _add_snapshots(project, folder, path, render)
    _add_yaml_snapshots(project, render)
    for folder in project.path_of("test-paths", "tests"):
        for path in sorted(folder.rglob("*.sql")) if folder.exists() else []:
            if (folder / "generic") in path.parents:
                continue  # generic test definitions: macros
            rel = path.relative_to(project.root)
            node = Node(f"test.{project.name}.{path.stem}", "test", path.stem, rel, path.read_text(encoding="utf-8"),
                        fqn=[project.name, *path.relative_to(folder).parent.parts, path.stem],
                        package_name=project.name)
            node.config = merge_configs(TEST_DEFAULTS,
                                        render_config(render, folder_config(project, "data_tests", node.fqn)),
                                        render_config(render, folder_config(project, "tests", node.fqn)))
            project.nodes[node.unique_id] = node
    for path in _function_files(project):
        project.unsupported.append(Unsupported("a user-defined function (functions/)", str(path)))


TEST_DEFAULTS = {"severity": "error", "warn_if": "!= 0", "error_if": "!= 0", "fail_calc": "count(*)",
                 "schema": "dbt_test__audit"}


def _add_model(project: Project, folder: Path, path: Path, render: Render) -> None:
    rel = path.relative_to(project.root)
    name = path.stem
    fqn = [project.name, *path.relative_to(folder).parent.parts, name]
    node = Node(f"model.{project.name}.{name}", "model", name, rel, path.read_text(encoding="utf-8"), fqn=fqn,
                package_name=project.name)
    props = project.properties["models"].get(name, {})
    node.description = props.get("description", "")
    node.columns = _columns(props)
    node.config = merge_configs(render_config(render, folder_config(project, "models", fqn)), props.get("config") or {})
    if props.get("versions"):
        project.unsupported.append(Unsupported("model versions (versions:)", str(props["_file"]), (node.unique_id,)))
    if node.unique_id in project.nodes:
        raise ModelError(f"Two models are named {name!r}.", "Model names must be unique in a project.")
    project.nodes[node.unique_id] = node


def _add_snapshots(project: Project, folder: Path, path: Path, render: Render) -> None:
    """``{% snapshot name %} … {% endsnapshot %}`` blocks: each block's body is the snapshot's query."""
    text = path.read_text(encoding="utf-8")
    for match in SNAPSHOT_BLOCK.finditer(text):
        name = match.group(1)
        fqn = [project.name, *path.relative_to(folder).parent.parts, path.stem, name]
        props = project.properties["snapshots"].get(name, {})
        node = Node(f"snapshot.{project.name}.{name}", "snapshot", name, path.relative_to(project.root),
                    match.group(2), fqn=fqn, package_name=project.name, description=props.get("description", ""),
                    columns=_columns(props))
        node.config = merge_configs(render_config(render, folder_config(project, "snapshots", fqn)),
                                    props.get("config") or {})
        project.nodes[node.unique_id] = node


def _add_yaml_snapshots(project: Project, render: Render) -> None:
    """dbt 1.9's snapshots defined in YAML: ``relation: ref('x')`` (or a source) is the query."""
    for name, props in project.properties["snapshots"].items():
        unique_id = f"snapshot.{project.name}.{name}"
        if unique_id in project.nodes or not props.get("relation"):
            continue
        path = Path(props["_file"])
        node = Node(unique_id, "snapshot", name, path, "select * from {{ " + str(props["relation"]) + " }}",
                    fqn=[project.name, *path.parent.parts[1:], name], package_name=project.name,
                    description=props.get("description", ""), columns=_columns(props))
        node.config = merge_configs(render_config(render, folder_config(project, "snapshots", node.fqn)),
                                    props.get("config") or {})
        project.nodes[unique_id] = node


def _columns(props: dict) -> dict[str, dict]:
    return {c["name"]: c for c in props.get("columns", []) or [] if isinstance(c, dict) and "name" in c}


def _function_files(project: Project) -> list[Path]:
    return [p.relative_to(project.root) for d in project.path_of("function-paths", "functions") if d.exists()
            for p in sorted(d.rglob("*")) if p.suffix in (".sql", ".py")]


def _load_properties(project: Project, render: Render) -> None:
    found: dict[str, dict[str, dict]] = {"models": {}, "seeds": {}, "snapshots": {}}
    folders = (project.path_of("model-paths", "models") + project.path_of("seed-paths", "seeds")
               + project.path_of("snapshot-paths", "snapshots"))
    for folder in folders:
        for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]) if folder.exists() else []:
            data = read_yaml(path) or {}
            rel = path.relative_to(project.root)
            for kind in ("models", "seeds", "snapshots"):
                for entry in data.get(kind) or []:
                    if isinstance(entry, dict) and entry.get("name"):
                        found[kind][entry["name"]] = {**_rendered_entry(entry, render), "_file": rel}
            for entry in data.get("sources") or []:
                _add_source(project, entry, rel, render)
            project.unit_tests += [{**t, "_file": rel} for t in data.get("unit_tests") or [] if isinstance(t, dict)]
    project.properties = found


def _rendered_entry(entry: dict, render: Render) -> dict:
    """dbt renders a properties entry's configs, but not its tests and descriptions (those come later)."""
    out = dict(entry)
    if isinstance(entry.get("config"), dict):
        out["config"] = render_config(render, entry["config"])
    return out


def _add_source(project: Project, entry: dict, rel: Path, render: Render) -> None:
    source_name = entry.get("name")
    schema = render(entry.get("schema")) or source_name
    database = render(entry.get("database"))
    for table in entry.get("tables") or []:
        name = table.get("name")
        unique_id = f"source.{project.name}.{source_name}.{name}"
        project.sources[unique_id] = Source(
            unique_id, source_name, name, schema, render(table.get("identifier")) or name, database,
            table.get("description", ""), _columns(table), rel,
            list(table.get("data_tests") or []) + list(table.get("tests") or []))


def seed_rows(project: Project, node: Node) -> tuple[list[str], list[list[str]]]:
    path = project.root / node.path
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=node.config.get("delimiter", ","))
        try:
            header = next(reader)
        except StopIteration:
            raise ModelError(f"Seed {path} is empty.") from None
        return header, list(reader)


def short_hash(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:10]


def env_var(name: str, default: str | None = None) -> str:
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise ModelError(f"Env var required but not provided: {name!r}.", f"Set {name} or give env_var() a default.")


def template_error(err: jinja2.TemplateSyntaxError, project: Project, path: Path) -> ModelError:
    return ModelError(f"Jinja syntax error in {path} line {err.lineno}: {err.message}.",
                      "Fix the template; every {% … %} block needs its end tag.")
