"""Macros: where they come from, how a name finds one, and ``adapter.dispatch``.

Macros come from three places: the root project (``macro-paths``, and ``tests/generic``), each
installed package, and the built-in ``dbt`` namespace (``resources/dbt_macros``). A bare name found
while rendering a node resolves as dbt resolves it: the node's own package, the root project, a
package's name (``dbt_utils.star``), ``dbt``, then the built-ins. ``adapter.dispatch('x', 'pkg')``
searches the ``dispatch:`` order from ``dbt_project.yml`` for that namespace (default: the root
project, then the namespace) for ``duckdb__x`` and then ``default__x``.

Each macro file is parsed and compiled once; a render gets a ``MacroNamespace`` that makes a file's
module only when one of its macros is first called, with that render's context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from desktop_app.core.errors import ModelError
from desktop_app.core.models.jinja import NAMESPACE_KEY, MacroReturn

BUILTIN = "dbt"
ADAPTER_PREFIXES = ("duckdb", "default")
COMPILED_PREFIX = "dbt_macro__"  # Jinja does not export names starting with "_"; dbt renames macros likewise


@dataclass(frozen=True)
class MacroDef:
    name: str
    package: str
    path: str  # for messages: project-relative, or the built-in file
    line: int
    template: jinja2.Template = field(repr=False, compare=False)


@dataclass
class MacroRegistry:
    root: str
    packages: dict[str, dict[str, MacroDef]] = field(default_factory=dict)  # root and installed packages
    builtins: dict[str, MacroDef] = field(default_factory=dict)  # the dbt namespace
    search_orders: dict[str, list[str]] = field(default_factory=dict)  # dispatch: config, by namespace

    def __post_init__(self) -> None:
        self.packages.setdefault(self.root, {})

    def add_file(self, env: jinja2.Environment, text: str, label: str, package: str) -> list[MacroDef]:
        """Parse a macro file once (per process: the window builds again and again); its macros join
        ``package`` (``dbt`` for the built-ins)."""
        key = (id(env), label, text)
        if key not in _COMPILED:
            _COMPILED[key] = _compile(env, text, label)
        found, template = _COMPILED[key]
        table = self.builtins if package == BUILTIN else self.packages.setdefault(package, {})
        defs = []
        for name, line in found:
            if name in table and package != BUILTIN:
                other = table[name]
                raise ModelError(f"Two macros are named {name!r} in {package}: {other.path} line {other.line} and "
                                 f"{label} line {line}.", "Rename or remove one of them.")
            table[name] = MacroDef(name, package, label, line, template)
            defs.append(table[name])
        return defs

    def defines(self, name: str) -> bool:
        """Whether the project or a package (not the built-ins) defines a macro of this name."""
        return any(name in table for table in self.packages.values())

    def materializations(self) -> dict[str, MacroDef]:
        return {m.name.removeprefix("materialization_"): m for table in self.packages.values()
                for m in table.values() if m.name.startswith("materialization_")}


_COMPILED: dict[tuple, tuple[list[tuple[str, int]], jinja2.Template]] = {}


def _compile(env: jinja2.Environment, text: str, label: str) -> tuple[list[tuple[str, int]], jinja2.Template]:
    try:
        tree = env.parse(text, filename=label)
    except jinja2.TemplateSyntaxError as err:
        raise ModelError(f"Jinja syntax error in {label} line {err.lineno}: {err.message}.",
                         "Fix the template; every {% … %} block needs its end tag.") from None
    found = []
    for node in tree.body:
        if isinstance(node, nodes.Macro):
            found.append((node.name, node.lineno))
            node.name = COMPILED_PREFIX + node.name
    return found, env.template_class.from_code(env, env.compile(tree, filename=label), env.make_globals(None))


class MacroNamespace:
    """The macros as one render sees them: callers bound to that render's context."""

    def __init__(self, registry: MacroRegistry, context: dict[str, Any], package: str) -> None:
        self.registry, self.context, self.package = registry, context, package
        context[NAMESPACE_KEY] = self
        self._modules: dict[int, Any] = {}

    def lookup(self, name: str) -> Any:
        registry = self.registry
        for table in (registry.packages.get(self.package, {}), registry.packages.get(registry.root, {})):
            if name in table:
                return MacroCaller(self, table[name])
        if name in registry.packages:
            return PackageNamespace(self, name)
        if name == BUILTIN:
            return PackageNamespace(self, BUILTIN)
        if name in registry.builtins:
            return MacroCaller(self, registry.builtins[name])
        return None

    def get_from_package(self, package: str | None, name: str) -> MacroCaller | None:
        if package is None:
            found = self.lookup(name)
            return found if isinstance(found, MacroCaller) else None
        if package == BUILTIN:
            macro = self.registry.builtins.get(name)
        elif package in self.registry.packages:
            macro = self.registry.packages[package].get(name)
        else:
            raise ModelError(f"In dispatch: no package named {package!r} is installed.",
                             "Check the dispatch: search order in dbt_project.yml and the installed dbt_packages/.")
        return MacroCaller(self, macro) if macro else None

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> MacroCaller:
        if "." in macro_name:
            namespace, name = macro_name.split(".", 1)
            raise ModelError(f"In adapter.dispatch, {macro_name!r} is not a macro name.",
                             f"Write adapter.dispatch({name!r}, macro_namespace={namespace!r}).")
        searched = []
        for package in self._search_packages(macro_namespace):
            for prefix in ADAPTER_PREFIXES:
                candidate = f"{prefix}__{macro_name}"
                searched.append(candidate if package is None else f"{package}.{candidate}")
                found = self.get_from_package(package, candidate)
                if found is not None:
                    return found
        raise ModelError(f"In dispatch: no macro named {macro_name!r} in namespace {macro_namespace!r} "
                         f"(searched {', '.join(searched)}).", "Define one of them, or install the package.")

    def _search_packages(self, namespace: str | None) -> list[str | None]:
        if namespace is None:
            return [None]
        order = self.registry.search_orders.get(namespace)
        if order:
            return list(order)
        if namespace == BUILTIN or namespace in self.registry.packages:
            return [self.registry.root, namespace]
        return [None]

    def module(self, template: jinja2.Template) -> Any:
        key = id(template)
        if key not in self._modules:
            self._modules[key] = template.make_module(vars=self.context)
        return self._modules[key]


class MacroCaller:
    """A macro bound to a render: calling it runs the macro; ``return(x)`` inside gives ``x``."""

    def __init__(self, namespace: MacroNamespace, macro: MacroDef) -> None:
        self.namespace, self.macro = namespace, macro

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        function = getattr(self.namespace.module(self.macro.template), COMPILED_PREFIX + self.macro.name)
        try:
            return function(*args, **kwargs)
        except MacroReturn as returned:
            return returned.value

    def __repr__(self) -> str:
        return f"<macro {self.macro.package}.{self.macro.name}>"


class PackageNamespace:
    """``dbt_utils.star(…)``: a package's macros by attribute."""

    def __init__(self, namespace: MacroNamespace, package: str) -> None:
        self._namespace, self._package = namespace, package

    def __getattr__(self, name: str) -> MacroCaller:
        if name.startswith("__"):
            raise AttributeError(name)
        found = self._namespace.get_from_package(self._package, name)
        if found is None:
            raise ModelError(f"The package {self._package!r} has no macro named {name!r}.",
                             "Check the name, or whether the package is the version the project expects.")
        return found

    def __contains__(self, name: str) -> bool:
        return self._namespace.get_from_package(self._package, name) is not None


def builtin_macro_files() -> list[Path]:
    from desktop_app.paths import resource

    return sorted(resource("dbt_macros").glob("*.sql"))
