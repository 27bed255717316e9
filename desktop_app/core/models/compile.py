"""Render nodes with Jinja the way dbt does: a parse pass that records, a compile pass that resolves.

The parse pass gives every node its ``refs``, ``sources`` and ``config`` (``execute`` is false, so no
macro touches the warehouse); the compile pass turns ``ref``/``source``/``this`` into fully quoted
relation names, inlines ephemeral models as ``__dbt__cte__<name>`` CTEs, and lets macros query the
warehouse. Relation names come from the ``generate_*_name`` macros when the project or a package
overrides them, else from dbt's defaults computed directly. The context — ``var``, ``target``,
``adapter``, ``run_query``, ``config``, ``model``, ``graph`` … — is dbt's documented one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import jinja2

from desktop_app.core.errors import ModelError
from desktop_app.core.models import adapter as db
from desktop_app.core.models.generic_tests import KWARGS_NAME, render_kwargs
from desktop_app.core.models.jinja import (
    NAMESPACE_KEY,
    base_functions,
    make_environment,
    make_native_environment,
    now_utc,
)
from desktop_app.core.models.macros import BUILTIN, MacroNamespace, MacroRegistry, builtin_macro_files
from desktop_app.core.models.packages import Package
from desktop_app.core.models.project import Node, Project, env_var, merge_configs, template_error
from desktop_app.core.models.relation import Relation

_MISSING = object()
_TEMPLATES: dict = {}  # compiled once per process, by text
NAME_MACROS = ("generate_database_name", "generate_schema_name", "generate_alias_name")


@dataclass(frozen=True)
class Target:
    name: str
    schema: str
    database: str
    type: str = "duckdb"
    threads: int = 2
    profile_name: str = "oltp_olap"

    def get(self, key: str, default: Any = None) -> Any:  # target['schema'] and target.get('schema') also work
        return getattr(self, key, default)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class _Flags:
    """dbt's ``flags``: the command's switches; any other flag reads as unset."""

    def __init__(self, full_refresh: bool, command: str) -> None:
        self.FULL_REFRESH, self.WHICH = full_refresh, command

    def __getattr__(self, name: str) -> Any:
        return None


class _Config:
    """``config`` in Jinja: ``config(…)`` records (parse) or does nothing (compile); ``config.get``."""

    def __init__(self, compiler: Compiler, node: Node, parsing: bool) -> None:
        self._compiler, self._node, self._parsing = compiler, node, parsing

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if self._parsing:
            if args and isinstance(args[0], dict):
                kwargs = {**args[0], **kwargs}
            self._node.file_config = merge_configs(self._node.file_config, kwargs)
        return ""

    def _current(self) -> dict:
        return merge_configs(self._node.config, self._node.file_config) if self._parsing else self._node.config

    def get(self, key: str, default: Any = None, validator: Any = None) -> Any:
        value = self._current().get(key.replace("-", "_"), _MISSING)
        return default if value is _MISSING or value is None else value

    def require(self, key: str, validator: Any = None) -> Any:
        value = self._current().get(key, _MISSING)
        if value is _MISSING:
            raise ModelError(f"{self._node.path}: the config {key!r} is required.", f"Set {key} in its config().")
        return value

    def set(self, key: str, value: Any) -> str:
        self._node.config[key] = value
        return ""

    def persist_relation_docs(self) -> bool:
        return False

    def persist_column_docs(self) -> bool:
        return False


class Compiler:
    def __init__(self, project: Project, target: Target, cli_vars: dict | None = None, full_refresh: bool = False,
                 packages: list[Package] | None = None, command: str = "build") -> None:
        self.project, self.target = project, target
        self.cli_vars, self.full_refresh, self.command = cli_vars or {}, full_refresh, command
        self.packages = {p.name: p for p in packages or []}
        self.env, self.native_env = make_environment(), make_native_environment()
        self.run_started_at, self.invocation_id = now_utc(), str(uuid.uuid4())
        self.registry = MacroRegistry(project.name)
        self._yaml_context: dict | None = None
        project.config = self._render_project_config(project.config)
        self._load_macros()
        self.existing: dict[str, str] = {}  # relation str -> 'table' | 'view' (filled by the runner)
        self.warehouse = db.Warehouse(None)  # set by the runner before compiling: macros may then query
        self.graph: dict = {"nodes": {}, "sources": {}, "macros": {}, "exposures": {}, "metrics": {},
                            "semantic_models": {}, "saved_queries": {}, "groups": {}, "unit_tests": {}}
        self.selected: list[str] = []
        self._relations: dict[str, Relation] = {}
        self.frozen = False  # after parsing, names no longer change: cached

    # -- macros -----------------------------------------------------------------------------------
    def _load_macros(self) -> None:
        for path in builtin_macro_files():
            self.registry.add_file(self.env, path.read_text(encoding="utf-8"), f"(built-in) {path.name}", BUILTIN)
        for package in self.packages.values():
            self.registry.packages.setdefault(package.name, {})
            folders = package.paths("macro-paths", "macros") + [p / "generic" for p in package.paths("test-paths",
                                                                                                      "tests")]
            for path in _sql_files(folders):
                label = f"{package.name}: {path.relative_to(package.root)}"
                self.registry.add_file(self.env, path.read_text(encoding="utf-8"), label, package.name)
        for path in self.project.macro_files:
            self.registry.add_file(self.env, path.read_text(encoding="utf-8"), str(path.relative_to(self.project.root)),
                                   self.project.name)
        self.registry.search_orders = {str(d.get("macro_namespace")): list(d.get("search_order") or [])
                                       for d in self.project.config.get("dispatch") or [] if isinstance(d, dict)}

    def _render_project_config(self, config: dict) -> dict:
        """dbt_project.yml with its Jinja rendered, except what dbt renders later: vars, run hooks, the query
        comment, and model hooks (they render in each node's context when they run)."""
        later = {"vars", "on-run-start", "on-run-end", "query-comment"}
        rendered = {}
        for key, value in config.items():
            if key in later:
                rendered[key] = value
            elif key in ("models", "seeds", "snapshots", "tests", "data_tests") and isinstance(value, dict):
                rendered[key] = self._render_tree(value)
            else:
                rendered[key] = self.render_yaml(value)
        return rendered

    def _render_tree(self, tree: dict) -> dict:
        out = {}
        for key, value in tree.items():
            if str(key).lstrip("+ ").replace("-", "_") in ("pre_hook", "post_hook"):
                out[key] = value
            else:
                out[key] = self._render_tree(value) if isinstance(value, dict) else self.render_yaml(value)
        return out

    # -- names ------------------------------------------------------------------------------------
    def relation(self, node: Node) -> Relation:
        cached = self._relations.get(node.unique_id) if self.frozen else None
        if cached is not None:
            return cached
        custom = {"generate_database_name": node.config.get("database"),
                  "generate_schema_name": node.config.get("schema"),
                  "generate_alias_name": node.config.get("alias")}
        database, schema, alias = (self._name(macro, custom[macro], node) for macro in NAME_MACROS)
        if node.resource_type == "snapshot" and node.config.get("target_schema"):  # before dbt 1.9: taken as is
            schema = str(node.config["target_schema"])
            database = str(node.config.get("target_database") or self.target.database)
        relation = Relation(database, schema, alias, "view" if node.materialized == "view" else "table")
        if self.frozen:
            self._relations[node.unique_id] = relation
        return relation

    def _name(self, macro: str, custom: Any, node: Node) -> str:
        if self.registry.defines(macro):  # the project (or a package) decides
            context = self.context(node, parsing=True, with_this=False)
            return str(context[NAMESPACE_KEY].lookup(macro)(custom, node)).strip()
        if macro == "generate_database_name":
            return str(custom).strip() if custom else self.target.database
        if macro == "generate_schema_name":
            return self.target.schema if custom is None else f"{self.target.schema}_{str(custom).strip()}"
        return str(custom).strip() if custom else node.name

    def source_relation(self, source_name: str, table: str) -> Relation:
        for source in self.project.sources.values():
            if source.source_name == source_name and source.name == table:
                return Relation(source.database or self.target.database, source.schema, source.identifier, "table")
        raise ModelError(f"Unknown source {source_name!r}.{table!r}.",
                         "Declare it under `sources:` in a .yml file of the project.")

    def is_incremental(self, node: Node) -> bool:
        return (node.materialized == "incremental" and not self.full_refresh
                and self.existing.get(str(self.relation(node))) == "table")

    # -- contexts ---------------------------------------------------------------------------------
    def var(self, name: str, default: Any = _MISSING, package: str | None = None) -> Any:
        if name in self.cli_vars:
            return self.cli_vars[name]
        scoped = self.project.vars.get(package) if package and package != self.project.name else None
        if isinstance(scoped, dict) and name in scoped:
            return scoped[name]
        if name in self.project.vars:
            return self.project.vars[name]
        own = self.packages[package].config.get("vars") or {} if package in self.packages else {}
        if name in own:
            return own[name]
        if default is not _MISSING:
            return default
        raise ModelError(f"Required var {name!r} not found in config.",
                         f"Define it under `vars:` in dbt_project.yml or pass --vars '{{{name}: …}}'.")

    def yaml_context(self) -> dict:
        """What Jinja in YAML may use (dbt_project.yml, properties files): vars, the target, env vars."""
        if self._yaml_context is not None:
            return self._yaml_context
        context = self._yaml_context = base_functions(self.invocation_id, self.run_started_at)
        context.update(var=self.var, env_var=env_var, target=self.target, project_name=self.project.name,
                       flags=_Flags(self.full_refresh, self.command))
        MacroNamespace(self.registry, context, self.project.name)
        return context

    def render_yaml(self, value: Any) -> Any:
        from desktop_app.core.models.jinja import render_native

        try:
            return render_native(self.native_env, value, self.yaml_context())
        except jinja2.TemplateError as err:
            raise ModelError(f"Could not render {value!r}: {err}.", "Fix the Jinja in that YAML value.") from None

    def context(self, node: Node, *, parsing: bool, statements: db.Statements | None = None,
                with_this: bool = True) -> dict:
        context = base_functions(self.invocation_id, self.run_started_at)
        warehouse = self.warehouse if not parsing else db.Warehouse(None)
        statements = statements or db.Statements(warehouse, execute=not parsing)
        namespace = MacroNamespace(self.registry, context, node.package_name)
        adapter = db.Adapter(warehouse, lambda d, s, i, t=None: Relation(d, s, i, t), namespace.dispatch)
        package = node.package_name
        context.update(
            var=lambda name, default=_MISSING: self.var(name, default, package), env_var=env_var,
            target=self.target, flags=_Flags(self.full_refresh, self.command), project_name=self.project.name,
            execute=not parsing, adapter=adapter, api={"Relation": Relation, "Column": db.Column},
            statement=statements.statement, load_result=statements.load_result, store_result=statements.store_result,
            run_query=statements.run_query, load_relation=adapter.load_relation,
            config=_Config(self, node, parsing), model=node.as_dict(), graph=self.graph,
            selected_resources=list(self.selected), doc=lambda *args: "",
            is_incremental=(lambda: False) if parsing else (lambda: self.is_incremental(node)),
            should_full_refresh=lambda: bool(self.full_refresh or node.config.get("full_refresh")),
            should_store_failures=lambda: bool(node.config.get("store_failures")),
            database=self.target.database, schema=self.target.schema,
        )
        if parsing:
            context.update(ref=lambda *a, **k: self._record_ref(node, a, k),
                           source=lambda s, t: self._record_source(node, s, t))
        else:
            context.update(ref=lambda *a, **k: self._resolve_ref(node, a, k),
                           source=lambda s, t: self.source_relation(s, t))
        if with_this:
            context["this"] = self.relation(node)
        context["builtins"] = {"ref": context["ref"], "source": context["source"], "config": context["config"]}
        return context

    def render(self, node: Node, *, parsing: bool, extra: dict | None = None, text: str | None = None) -> str:
        """Render ``node.raw_code`` (or ``text`` in the node's context); parsing, ``ref``/``config`` only record."""
        context = self.context(node, parsing=parsing)
        if extra:
            context.update(extra)
        try:
            if node.test_metadata is not None:
                context[KWARGS_NAME] = render_kwargs(node.test_metadata["kwargs"],
                                                     lambda value: self._native(value).render(context))
            return self.template(node.raw_code if text is None else text).render(context)
        except jinja2.TemplateSyntaxError as err:
            raise template_error(err, self.project, node.path) from None
        except jinja2.UndefinedError as err:
            raise ModelError(f"In {node.path}: {err.message}.", "Check the spelling of the variable or macro.") \
                from None
        except ModelError as err:
            if str(node.path) in err.user_message:
                raise
            raise ModelError(f"In {node.path}: {err.user_message}", err.hint) from None
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as err:
            # Jinja evaluates Python: a var of the wrong kind (--vars '{revenue_statuses: 5}') fails here.
            given = f" The --vars given were {self.cli_vars}." if self.cli_vars else ""
            raise ModelError(f"In {node.path}: rendering failed: {type(err).__name__}: {err}.",
                             f"Check the vars and macros it uses.{given}") from None

    def _native(self, text: str) -> jinja2.Template:
        key = ("native", text)
        found = _TEMPLATES.get(key)
        if found is None:
            found = _TEMPLATES[key] = self.native_env.from_string(text)
        return found

    def template(self, text: str) -> jinja2.Template:
        """A compiled template per distinct text: a node is rendered to parse and again to compile."""
        found = _TEMPLATES.get(text)
        if found is None:
            found = _TEMPLATES[text] = self.env.from_string(text)
        return found

    # -- ref and source ---------------------------------------------------------------------------
    def _ref_name(self, node: Node, args: tuple, kwargs: dict) -> str:
        if "version" in kwargs or "v" in kwargs:
            raise ModelError(f"not supported: a versioned ref() in {node.location('ref(')}.",
                             "Refer to the model without a version.")
        name = args[-1] if args else kwargs.get("name")
        if not isinstance(name, str):
            raise ModelError(f"In {node.path}: ref() needs a model name.")
        return name

    def _record_ref(self, node: Node, args: tuple, kwargs: dict) -> Relation:
        name = self._ref_name(node, args, kwargs)
        if name not in node.refs:
            node.refs.append(name)
        return Relation(self.target.database, self.target.schema, name)

    def _record_source(self, node: Node, source_name: str, table: str) -> Relation:
        if (source_name, table) not in node.sources:
            node.sources.append((source_name, table))
        return Relation(self.target.database, source_name, table)

    def _resolve_ref(self, node: Node, args: tuple, kwargs: dict) -> Relation:
        name = self._ref_name(node, args, kwargs)
        target = self.project.node_by_name(name)
        if target is None:
            raise ModelError(f"{node.path} refers to {name!r}, which is not a model, seed or snapshot.",
                             "Check the name in ref(), or add the model.")
        if target.is_ephemeral:
            return Relation(None, None, f"__dbt__cte__{target.name}", "cte")
        return self.relation(target)

    # -- compiled SQL -----------------------------------------------------------------------------
    def compile_node(self, node: Node) -> str:
        """The SELECT dbt would run for ``node``, with ephemeral ancestors injected as CTEs."""
        sql = self.render(node, parsing=False).strip()
        if sql.endswith(";"):
            raise ModelError(f"{node.path} ends with a semicolon.",
                             "A model is one SELECT that dbt wraps in parentheses: remove the trailing ';'.")
        ctes = self.ephemeral_ctes(node)
        return inject_ctes(sql, ctes) if ctes else sql

    def ephemeral_ctes(self, node: Node) -> list[tuple[str, str]]:
        ordered: list[tuple[str, str]] = []
        seen: set[str] = set()

        def visit(current: Node) -> None:
            for name in current.refs:
                parent = self.project.node_by_name(name)
                if parent is None or not parent.is_ephemeral or parent.name in seen:
                    continue
                visit(parent)
                seen.add(parent.name)
                ordered.append((f"__dbt__cte__{parent.name}", self.render(parent, parsing=False).strip()))

        visit(node)
        return ordered


def inject_ctes(sql: str, ctes: list[tuple[str, str]]) -> str:
    """Put ``ctes`` in front of ``sql``, merged into its own WITH list when it has one (as dbt does)."""
    rendered = ",\n".join(f"{name} as (\n{body}\n)" for name, body in ctes)
    match = re.match(r"^(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)with\b", sql, flags=re.IGNORECASE | re.DOTALL)
    if match:
        head = sql[: match.end()]
        return f"{head} {rendered},\n{sql[match.end():].lstrip()}"
    return f"with {rendered}\n{sql}"


def _sql_files(folders) -> list:
    return sorted(p for folder in folders if folder.exists() for p in folder.rglob("*.sql"))
