"""Render models with Jinja2 the way dbt does: a parse pass that records, a compile pass that resolves.

The parse pass gives every node its ``refs``, ``sources`` and ``config``; the compile pass turns
``ref``/``source``/``this`` into fully quoted three-part relation names, inlines ephemeral models as
``__dbt__cte__<name>`` CTEs, and builds generic tests' queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import qualified
from desktop_app.core.models.project import Node, Project, env_var, merge_configs, short_hash, template_error

_MISSING = object()


@dataclass(frozen=True)
class Relation:
    database: str
    schema: str
    identifier: str

    def __str__(self) -> str:
        return qualified(self.database, self.schema, self.identifier)

    @property
    def name(self) -> str:
        return self.identifier

    def render(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Target:
    name: str
    schema: str
    database: str
    type: str = "duckdb"
    threads: int = 2
    profile_name: str = "oltp_olap"


class Compiler:
    def __init__(self, project: Project, target: Target, cli_vars: dict | None = None,
                 full_refresh: bool = False) -> None:
        self.project = project
        self.target = target
        self.cli_vars = cli_vars or {}
        self.full_refresh = full_refresh
        self.env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"],
                                      keep_trailing_newline=True)
        self.env.filters["as_bool"] = lambda v: str(v).lower() in ("true", "1")
        self.env.filters["as_number"] = lambda v: float(v) if "." in str(v) else int(v)
        self.env.filters["as_text"] = str
        self._macro_templates = []
        for path in project.macro_files:
            try:
                self._macro_templates.append(self.env.from_string(path.read_text(encoding="utf-8")))
            except jinja2.TemplateSyntaxError as err:
                raise template_error(err, project, path.relative_to(project.root)) from None
        self.existing: dict[str, str] = {}  # relation str -> 'table' | 'view' (filled by the runner)

    # -- naming -----------------------------------------------------------------------------------
    def relation(self, node: Node) -> Relation:
        custom = node.config.get("schema")
        schema = self._schema_name(custom, node)
        database = node.config.get("database") or self.target.database
        return Relation(database, schema, node.config.get("alias") or node.name)

    def _schema_name(self, custom: str | None, node: Node) -> str:
        if self.project.has_custom_schema_macro:
            context = self._base_context(node)
            for module in self._modules(context):
                macro = getattr(module, "generate_schema_name", None)
                if macro is not None:
                    return str(macro(custom, {"name": node.name, "resource_type": node.resource_type,
                                              "fqn": node.fqn, "config": node.config})).strip()
        if not custom:
            return self.target.schema
        return f"{self.target.schema}_{str(custom).strip()}"

    def source_relation(self, source_name: str, table: str) -> Relation:
        for source in self.project.sources.values():
            if source.source_name == source_name and source.name == table:
                return Relation(source.database or self.target.database, source.schema, source.identifier)
        raise ModelError(f"Unknown source {source_name!r}.{table!r}.",
                         "Declare it under `sources:` in a .yml file of the project.")

    # -- contexts ---------------------------------------------------------------------------------
    def var(self, name: str, default: Any = _MISSING) -> Any:
        if name in self.cli_vars:
            return self.cli_vars[name]
        if name in self.project.vars:
            return self.project.vars[name]
        if default is not _MISSING:
            return default
        raise ModelError(f"Required var {name!r} not found in config.",
                         f"Define it under `vars:` in dbt_project.yml or pass --vars '{{{name}: …}}'.")

    def _base_context(self, node: Node | None) -> dict:
        return {
            "var": self.var,
            "env_var": env_var,
            "target": self.target,
            "run_started_at": datetime.now(UTC),
            "log": lambda *args, **kwargs: "",
            "flags": {"FULL_REFRESH": self.full_refresh},
            "project_name": self.project.name,
            "exceptions": _Exceptions(),
            "return": _return,
            "modules": {"datetime": __import__("datetime"), "re": re},
        }

    def _modules(self, context: dict):
        return [template.make_module(vars=context) for template in self._macro_templates]

    def _with_macros(self, context: dict) -> dict:
        for module in self._modules(context):
            for name in dir(module):
                if not name.startswith("_"):
                    context.setdefault(name, getattr(module, name))
        return context

    def render(self, node: Node, *, parsing: bool, extra: dict | None = None) -> str:
        """Render ``node.raw_code``; in the parse pass ``ref``/``source``/``config`` only record."""
        context = self._base_context(node)
        if parsing:
            context.update(ref=lambda *a, **k: self._record_ref(node, a, k),
                           source=lambda s, t: self._record_source(node, s, t),
                           config=lambda *a, **k: self._record_config(node, a, k),
                           is_incremental=lambda: False,
                           this=Relation(self.target.database, self.target.schema, node.name))
        else:
            context.update(ref=lambda *a, **k: self._resolve_ref(node, a, k),
                           source=lambda s, t: str(self.source_relation(s, t)),
                           config=lambda *a, **k: "",
                           is_incremental=lambda: self.is_incremental(node),
                           this=self.relation(node))
        if extra:
            context.update(extra)
        self._with_macros(context)
        try:
            template = self.env.from_string(node.raw_code)
            return template.render(context)
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

    # -- parse pass -------------------------------------------------------------------------------
    def _record_ref(self, node: Node, args: tuple, kwargs: dict) -> str:
        name = args[-1] if args else kwargs.get("name")
        if name not in node.refs:
            node.refs.append(name)
        return str(Relation(self.target.database, self.target.schema, name))

    def _record_source(self, node: Node, source_name: str, table: str) -> str:
        if (source_name, table) not in node.sources:
            node.sources.append((source_name, table))
        return str(Relation(self.target.database, source_name, table))

    def _record_config(self, node: Node, args: tuple, kwargs: dict) -> str:
        if args and isinstance(args[0], dict):
            kwargs = {**args[0], **kwargs}
        node.file_config = merge_configs(node.file_config, kwargs)
        return ""

    # -- compile pass -----------------------------------------------------------------------------
    def _resolve_ref(self, node: Node, args: tuple, kwargs: dict) -> str:
        name = args[-1] if args else kwargs.get("name")
        target = self.project.node_by_name(name)
        if target is None:
            raise ModelError(f"{node.path} refers to {name!r}, which is not a model or seed.",
                             "Check the name in ref(), or add the model.")
        if target.is_ephemeral:
            return f"__dbt__cte__{target.name}"
        return str(self.relation(target))

    def is_incremental(self, node: Node) -> bool:
        return (node.materialized == "incremental" and not self.full_refresh
                and self.existing.get(str(self.relation(node))) == "table")

    def compile_node(self, node: Node) -> str:
        """The SELECT dbt would run for ``node``, with ephemeral ancestors injected as CTEs."""
        sql = self.render(node, parsing=False).strip()
        if sql.endswith(";"):
            raise ModelError(f"{node.path} ends with a semicolon.",
                             "A model is one SELECT that dbt wraps in parentheses: remove the trailing ';'.")
        ctes = self._ephemeral_ctes(node)
        return inject_ctes(sql, ctes) if ctes else sql

    def _ephemeral_ctes(self, node: Node) -> list[tuple[str, str]]:
        ordered: list[tuple[str, str]] = []
        seen: set[str] = set()

        def visit(current: Node) -> None:
            for name in current.refs:
                parent = self.project.node_by_name(name)
                if parent is None or not parent.is_ephemeral or parent.name in seen:
                    continue
                visit(parent)
                seen.add(parent.name)
                body = self.render(parent, parsing=False).strip()
                ordered.append((f"__dbt__cte__{parent.name}", body))

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


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise ModelError(f"Compilation error: {message}")

    @staticmethod
    def warn(message: str) -> str:
        return ""


def _return(value: Any) -> Any:
    return value


# -- generic tests ------------------------------------------------------------------------------
GENERIC_TESTS = ("not_null", "unique", "accepted_values", "relationships")


def _quote_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def generic_test_sql(kind: str, relation: str, column: str, args: dict, compiler: Compiler, owner: Node) -> str:
    col = column
    if kind == "not_null":
        return f"select {col}\nfrom {relation}\nwhere {col} is null"
    if kind == "unique":
        return (f"select\n    {col} as unique_field,\n    count(*) as n_records\nfrom {relation}\n"
                f"where {col} is not null\ngroup by {col}\nhaving count(*) > 1")
    if kind == "accepted_values":
        values = ", ".join(_quote_value(v) for v in args.get("values", []))
        return (f"with all_values as (\n    select\n        {col} as value_field,\n        count(*) as n_records\n"
                f"    from {relation}\n    group by {col}\n)\nselect *\nfrom all_values\n"
                f"where value_field not in (\n    {values}\n)")
    if kind == "relationships":
        to = compiler.render(Node(owner.unique_id, "test", owner.name, owner.path, "{{ " + args["to"] + " }}"),
                             parsing=False).strip()
        field_ = args.get("field")
        return (f"with child as (\n    select {col} as from_field\n    from {relation}\n    where {col} is not null\n"
                f"),\nparent as (\n    select {field_} as to_field\n    from {to}\n)\nselect\n    from_field\n"
                f"from child\nleft join parent\n    on child.from_field = parent.to_field\n"
                f"where parent.to_field is null")
    raise ModelError(f"Unknown generic test {kind!r} on {owner.name}.{column}.",
                     f"Supported: {', '.join(GENERIC_TESTS)}.")


def generic_test_name(kind: str, owner: str, column: str, args: dict) -> str:
    name = f"{kind}_{owner}_{column}"
    parts = []
    if kind == "accepted_values":
        parts = [str(v) for v in args.get("values", [])]
    elif kind == "relationships":
        parts = [str(args.get("field", "")), str(args.get("to", ""))]
    if parts:
        # dbt drops quotes, then turns anything else that is not a word character into "_":
        # ref('dim_customers') → ref_dim_customers_
        name += "__" + "__".join(re.sub(r"[^0-9A-Za-z_]", "_", re.sub(r"['\"]", "", p)) for p in parts)
    return name


def attach_generic_tests(project: Project, compiler: Compiler) -> None:
    """Create a test node for every generic test declared on model, seed and source columns."""
    owners: list[tuple[str, str, dict, str]] = []  # (owner unique_id, display name, columns, kind)
    for node in list(project.nodes.values()):
        if node.resource_type in ("model", "seed"):
            owners.append((node.unique_id, node.name, node.columns, node.resource_type))
    for source in project.sources.values():
        owners.append((source.unique_id, f"{source.source_name}_{source.name}", source.columns, "source"))
    for owner_id, owner_name, columns, kind in owners:
        for column in columns.values():
            for entry in (column.get("data_tests") or []) + (column.get("tests") or []):
                test_kind, args, config = _parse_test_entry(entry)
                base = generic_test_name(test_kind, owner_name, column["name"], args)
                name = f"source_{base}" if kind == "source" else base
                unique_id = f"test.{project.name}.{name}.{short_hash(owner_id + name)}"
                test = Node(unique_id, "test", name, _owner_path(project, owner_id), fqn=[project.name, name],
                            test_metadata={"name": test_kind, "kwargs": {"column_name": column["name"], **args}},
                            attached_node=owner_id, column_name=column["name"])
                test.config = merge_configs({"severity": "error"}, config)
                test.depends_on = [owner_id]
                if test_kind == "relationships":
                    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", str(args.get("to", "")))
                    if match:
                        parent = project.node_by_name(match.group(1))
                        if parent is None:
                            raise ModelError(f"Test {name} refers to {match.group(1)!r}, which does not exist.")
                        test.depends_on.append(parent.unique_id)
                project.nodes[unique_id] = test


def _owner_path(project: Project, owner_id: str) -> Path:
    """The file a generic test belongs to: its model's or seed's, or the models folder for a source."""
    node = project.nodes.get(owner_id)
    return node.path if node else Path("models")


def _parse_test_entry(entry: Any) -> tuple[str, dict, dict]:
    if isinstance(entry, str):
        return entry, {}, {}
    if isinstance(entry, dict) and len(entry) == 1:
        kind, body = next(iter(entry.items()))
        body = body or {}
        config = dict(body.get("config") or {})
        for key in ("severity", "where", "warn_if", "error_if", "tags", "enabled"):
            if key in body:
                config[key] = body[key]
        args = dict(body.get("arguments") or {})
        for key, value in body.items():
            if key not in ("config", "arguments", "severity", "where", "warn_if", "error_if", "tags", "enabled",
                           "name", "description"):
                args[key] = value
        if kind not in GENERIC_TESTS:
            raise ModelError(f"Unknown generic test {kind!r}.", f"Supported: {', '.join(GENERIC_TESTS)}.")
        return kind, args, config
    raise ModelError(f"Cannot read the test definition {entry!r}.")
