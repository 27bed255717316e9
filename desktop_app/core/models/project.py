"""Discover and parse a dbt project: its files, its nodes, their configuration and dependencies.

Parsing renders every model once with *recording* ``ref``/``source``/``config`` functions, the way
dbt does, so dependencies and config are known before anything runs. Configuration follows
dbt's precedence: ``{{ config() }}`` in the file beats a properties ``.yml``, which beats
``dbt_project.yml`` (where the most specific folder wins); ``tags`` add up, ``meta`` merges.
"""

from __future__ import annotations

import csv
import hashlib
import os
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
                "where", "warn_if", "error_if", "store_failures", "delimiter", "contract", "grants", "fast"}


@dataclass
class Node:
    """A model, seed, singular test or generic test, as dbt's manifest describes it."""

    unique_id: str
    resource_type: str  # model | seed | test
    name: str
    path: Path  # relative to the project
    raw_code: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    description: str = ""
    columns: dict[str, dict] = field(default_factory=dict)
    fqn: list[str] = field(default_factory=list)
    # tests only
    test_metadata: dict | None = None
    attached_node: str | None = None
    column_name: str | None = None
    file_config: dict[str, Any] = field(default_factory=dict)  # {{ config() }} calls, recorded while parsing

    @property
    def materialized(self) -> str:
        if self.resource_type == "seed":
            return "seed"
        if self.resource_type == "test":
            return "test"
        return self.config.get("materialized", "view")

    @property
    def is_ephemeral(self) -> bool:
        """Inlined into its children as a CTE: no relation of its own in the warehouse."""
        return self.materialized == "ephemeral"

    @property
    def tags(self) -> list[str]:
        return list(self.config.get("tags", []))

    def location(self, needle: str = "") -> str:
        """``path:line`` of the first line of the node's code that mentions ``needle`` (else the path)."""
        for number, line in enumerate(self.raw_code.splitlines(), start=1):
            if needle and needle in line:
                return f"{self.path}:{number}"
        return str(self.path)


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


@dataclass
class Project:
    root: Path
    name: str
    profile: str
    config: dict
    vars: dict
    nodes: dict[str, Node] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)  # name -> file path (for errors)
    macro_files: list[Path] = field(default_factory=list)
    has_custom_schema_macro: bool = False

    def path_of(self, key: str, default: str) -> list[Path]:
        return [self.root / p for p in self.config.get(key, [default])]

    def node_by_name(self, name: str, resource_types=("model", "seed")) -> Node | None:
        for node in self.nodes.values():
            if node.name == name and node.resource_type in resource_types:
                return node
        return None


def load_project(root: str | Path) -> Project:
    root = Path(root).expanduser().resolve()
    project_file = root / "dbt_project.yml"
    if not project_file.exists():
        raise ModelError(f"No dbt_project.yml in {root}.", "Point --project at the folder that holds dbt_project.yml.")
    config = _read_yaml(project_file) or {}
    name = config.get("name")
    if not name:
        raise ModelError(f"{project_file} has no project name.", "Add `name: my_project`.")
    project = Project(root, name, config.get("profile", name), config, dict(config.get("vars") or {}))
    project.macro_files = sorted(p for d in project.path_of("macro-paths", "macros") if d.exists()
                                 for p in d.rglob("*.sql"))
    for macro_file in project.macro_files:
        text = macro_file.read_text(encoding="utf-8")
        if "generate_schema_name" in text:
            project.has_custom_schema_macro = True
    return project


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ModelError(f"Invalid YAML in {path}{where}: {getattr(err, 'problem', err)}.") from None


def folder_config(project: Project, resource_key: str, fqn: list[str]) -> dict:
    """Config from ``dbt_project.yml`` for a node at ``fqn`` (project, folders…, name)."""
    tree = (project.config.get(resource_key) or {}).get(project.name) or {}
    merged: dict[str, Any] = {}
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
        elif key in KNOWN_CONFIG and not isinstance(value, dict) or key in ("meta",) and isinstance(value, dict):
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


def discover(project: Project) -> None:
    """Find models, seeds, singular tests, properties files and sources; fill ``project.nodes``."""
    properties = _load_properties(project)
    for folder in project.path_of("model-paths", "models"):
        for path in sorted(folder.rglob("*.sql")) if folder.exists() else []:
            rel = path.relative_to(project.root)
            name = path.stem
            fqn = [project.name, *path.relative_to(folder).parent.parts, name]
            node = Node(f"model.{project.name}.{name}", "model", name, rel, path.read_text(encoding="utf-8"),
                        fqn=fqn)
            props = properties["models"].get(name, {})
            node.description = props.get("description", "")
            node.columns = {c["name"]: c for c in props.get("columns", []) if "name" in c}
            node.config = merge_configs(folder_config(project, "models", fqn), props.get("config") or {})
            if node.unique_id in project.nodes:
                raise ModelError(f"Two models are named {name!r}.", "Model names must be unique in a project.")
            project.nodes[node.unique_id] = node
    for folder in project.path_of("seed-paths", "seeds"):
        for path in sorted(folder.rglob("*.csv")) if folder.exists() else []:
            rel = path.relative_to(project.root)
            fqn = [project.name, *path.relative_to(folder).parent.parts, path.stem]
            props = properties["seeds"].get(path.stem, {})
            node = Node(f"seed.{project.name}.{path.stem}", "seed", path.stem, rel, fqn=fqn,
                        description=props.get("description", ""),
                        columns={c["name"]: c for c in props.get("columns", []) if "name" in c})
            node.config = merge_configs(folder_config(project, "seeds", fqn), props.get("config") or {})
            project.nodes[node.unique_id] = node
    for folder in project.path_of("test-paths", "tests"):
        for path in sorted(folder.rglob("*.sql")) if folder.exists() else []:
            rel = path.relative_to(project.root)
            node = Node(f"test.{project.name}.{path.stem}", "test", path.stem, rel, path.read_text(encoding="utf-8"),
                        fqn=[project.name, *path.relative_to(folder).parent.parts, path.stem])
            node.config = merge_configs(folder_config(project, "data_tests", node.fqn),
                                        folder_config(project, "tests", node.fqn))
            project.nodes[node.unique_id] = node
    for source in properties["sources"]:
        project.sources[source.unique_id] = source


def _load_properties(project: Project) -> dict:
    found: dict[str, Any] = {"models": {}, "seeds": {}, "sources": [], "tests": []}
    folders = (project.path_of("model-paths", "models") + project.path_of("seed-paths", "seeds")
               + project.path_of("snapshot-paths", "snapshots"))
    for folder in folders:
        for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]) if folder.exists() else []:
            data = _read_yaml(path) or {}
            rel = path.relative_to(project.root)
            for kind in ("models", "seeds"):
                for entry in data.get(kind) or []:
                    if isinstance(entry, dict) and entry.get("name"):
                        found[kind][entry["name"]] = {**entry, "_file": rel}
            for entry in data.get("sources") or []:
                source_name = entry.get("name")
                for table in entry.get("tables") or []:
                    name = table.get("name")
                    unique_id = f"source.{project.name}.{source_name}.{name}"
                    found["sources"].append(Source(
                        unique_id, source_name, name, entry.get("schema") or source_name,
                        table.get("identifier") or name, entry.get("database"),
                        table.get("description", ""),
                        {c["name"]: c for c in table.get("columns", []) or [] if "name" in c}))
    return found


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
