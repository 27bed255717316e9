"""The Jinja environment dbt projects are written for: dbt's block tags, ``return()``, native rendering.

dbt adds to Jinja: ``{% test %}`` blocks (generic tests, which are macros named ``test_<name>``),
``{% materialization %}`` and ``{% docs %}`` blocks, ``return(value)`` to leave a macro with a
Python value, and names that resolve at call time against the macros of the project, its installed
packages and the built-in ``dbt`` namespace (``DbtContext``: a name not in the render context is
looked up in the ``__dbt_macros__`` namespace the context carries). YAML values are rendered
*natively*: ``"{{ var('x') }}"`` with ``x: false`` is ``False``, not the text ``'False'``.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import re
from datetime import UTC, datetime
from typing import Any

import jinja2
import yaml
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.nativetypes import NativeEnvironment
from jinja2.runtime import Context, missing

from desktop_app.core.errors import ModelError

NAMESPACE_KEY = "__dbt_macros__"


class MacroReturn(Exception):  # noqa: N818 - dbt's return(): control flow out of a macro, not an error
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def macro_return(value: Any = None) -> None:
    raise MacroReturn(value)


class DbtContext(Context):
    """A render context whose unknown names are macros (or package namespaces), found at call time."""

    def resolve_or_missing(self, key: str) -> Any:
        found = super().resolve_or_missing(key)
        if found is missing:
            namespace = super().resolve_or_missing(NAMESPACE_KEY)
            if namespace is not missing and namespace is not None:
                value = namespace.lookup(key)
                if value is not None:
                    return value
        return found


class _MacroLikeBlock(Extension):
    """``{% <tag> name(args) %} … {% end<tag> %}`` compiled as a macro named ``<prefix><name>``."""

    prefix = ""

    def parse(self, parser):
        tag = next(parser.stream)
        node = nodes.Macro(lineno=tag.lineno)
        node.name = self.prefix + parser.parse_assign_target(name_only=True).name
        parser.parse_signature(node)
        node.body = parser.parse_statements((f"name:end{tag.value}",), drop_needle=True)
        return node


class TestBlock(_MacroLikeBlock):
    """``{% test not_negative(model, column_name) %}``: a generic test, the macro ``test_not_negative``."""

    tags = {"test"}
    prefix = "test_"


class MaterializationBlock(Extension):
    """``{% materialization name, adapter %}``: parsed so the file loads, kept as ``materialization_<name>``.

    The runner builds its own materializations; a model that names a custom one is refused at parse time.
    """

    tags = {"materialization"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        name = parser.parse_assign_target(name_only=True).name
        while parser.stream.current.type != "block_end":  # ", default" / ", adapter='duckdb'" / supported_languages
            next(parser.stream)
        node = nodes.Macro(lineno=lineno)
        node.name = f"materialization_{name}"
        node.args, node.defaults = [], []
        node.body = parser.parse_statements(("name:endmaterialization",), drop_needle=True)
        return node


class DocsBlock(Extension):
    """``{% docs name %} … {% enddocs %}``: documentation, which builds nothing; its text is dropped."""

    tags = {"docs"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        parser.parse_assign_target(name_only=True)
        parser.parse_statements(("name:enddocs",), drop_needle=True)
        return nodes.Output([], lineno=lineno)


EXTENSIONS = ["jinja2.ext.do", "jinja2.ext.loopcontrols", TestBlock, MaterializationBlock, DocsBlock]


_SHARED: dict[str, jinja2.Environment] = {}


def make_environment() -> jinja2.Environment:
    """The one environment (per process) templates are compiled in; rendering it is thread-safe."""
    if "text" not in _SHARED:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=EXTENSIONS, keep_trailing_newline=True,
                                 cache_size=4000)
        env.context_class = DbtContext
        _add_filters(env)
        _SHARED["text"] = env
    return _SHARED["text"]


def make_native_environment() -> NativeEnvironment:
    if "native" not in _SHARED:
        env = NativeEnvironment(undefined=jinja2.StrictUndefined, extensions=EXTENSIONS, cache_size=4000)
        env.context_class = DbtContext
        _add_filters(env)
        _SHARED["native"] = env
    return _SHARED["native"]


def _add_filters(env: jinja2.Environment) -> None:
    env.filters["as_bool"] = lambda v: _native(str(v)) if isinstance(v, str) else bool(v)
    env.filters["as_number"] = lambda v: _native(str(v)) if isinstance(v, str) else v
    env.filters["as_text"] = str
    env.filters["as_native"] = lambda v: _native(v) if isinstance(v, str) else v


def _native(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def render_native(env: NativeEnvironment, value: Any, context: dict) -> Any:
    """A YAML value rendered as dbt does: strings with Jinja become native values; others pass through."""
    if isinstance(value, dict):
        return {k: render_native(env, v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_native(env, v, context) for v in value]
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    return env.from_string(value).render(context)


class Exceptions:
    """dbt's ``exceptions`` object."""

    @staticmethod
    def raise_compiler_error(message: str, node: Any = None) -> None:
        raise ModelError(f"Compilation error: {message}")

    @staticmethod
    def raise_not_implemented(message: str) -> None:
        raise ModelError(f"not supported: {message}")

    @staticmethod
    def warn(message: str, node: Any = None) -> str:
        return ""

    @staticmethod
    def raise_database_error(message: str) -> None:
        raise ModelError(f"Database error: {message}")

    @staticmethod
    def raise_fail_fast_error(message: str, node: Any = None) -> None:
        raise ModelError(message)


class Modules:
    datetime = __import__("datetime")
    re = re
    itertools = itertools

    def __getattr__(self, name: str) -> Any:
        raise ModelError(f"not supported: modules.{name} (the runner offers datetime, re and itertools)")


def _try_or_compiler_error(message_if_exception: str, func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except Exception:  # dbt's helper: any failure becomes the given message
        raise ModelError(f"Compilation error: {message_if_exception}") from None


def base_functions(invocation_id: str, run_started_at: datetime) -> dict[str, Any]:
    """The context every render has, whatever the node: dbt's documented Jinja functions."""
    return {
        "return": macro_return,
        "exceptions": Exceptions(),
        "modules": Modules(),
        "log": lambda msg="", info=False: "",
        "print": lambda msg="": "",
        "tojson": lambda value, sort_keys=False: json.dumps(value, sort_keys=sort_keys, default=str),
        "fromjson": lambda text, default=None: _or_default(json.loads, text, default),
        "toyaml": lambda value, default_flow_style=False, sort_keys=False: yaml.safe_dump(
            value, default_flow_style=default_flow_style, sort_keys=sort_keys),
        "fromyaml": lambda text, default=None: _or_default(yaml.safe_load, text, default),
        "zip": lambda *args, default=None: _or_default(lambda: list(zip(*args, strict=False)), None, default),
        "zip_strict": lambda *args: list(zip(*args, strict=True)),
        "set": lambda value, default=None: _or_default(set, value, default),
        "set_strict": set,
        "local_md5": lambda text: hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "diff_of_two_dicts": lambda a, b: {k: [v for v in a[k] if v not in b.get(k, [])] for k in a
                                           if set(a[k]) - set(b.get(k, []))},
        "try_or_compiler_error": _try_or_compiler_error,
        "dbt_version": "1.11.0",
        "invocation_id": invocation_id,
        "run_started_at": run_started_at,
    }


def _or_default(fn, value, default):
    try:
        return fn(value) if value is not None else fn()
    except Exception:  # dbt returns the default when the conversion fails
        return default


def now_utc() -> datetime:
    return datetime.now(UTC)
