"""Column lineage of one SELECT, on sqlglot's qualifier and scopes (no SQL parsing of our own).

``analyse_select`` qualifies the statement against a schema (so ``*`` expands to the real columns),
then walks sqlglot's scopes from each output column down to base-table columns, through CTEs,
derived tables, subqueries and set operations. Each input gets the strongest kind met on its way:
``copy`` (the same value, maybe renamed) < ``transform`` (an expression) < ``aggregate``. Columns
read only by WHERE/HAVING/QUALIFY are ``filter`` inputs, by JOIN conditions ``join`` inputs. A CTE
whose name starts with a boundary prefix (dbt's ``__dbt__cte__`` for ephemeral models) is treated as
a table of that name, so an ephemeral model is a hop of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

DATA_KINDS = ("copy", "transform", "aggregate")  # weakest to strongest
INDIRECT_KINDS = ("join", "filter")
EPHEMERAL_PREFIX = "__dbt__cte__"


class LineageUnavailable(Exception):
    """The statement cannot be analysed: the reason, in one line, for the user."""


@dataclass(frozen=True)
class Input:
    """One input of an output column: a base relation's column and how it reaches the output."""

    relation: tuple[str, ...]  # normalised (catalog, schema, name), or (name,) for an ephemeral CTE
    column: str
    kind: str
    expression: str | None = None


@dataclass
class SelectLineage:
    columns: dict[str, list[Input]] = field(default_factory=dict)  # output column -> inputs, in output order
    lines: dict[str, int] = field(default_factory=dict)  # output column -> line of its projection in the SQL


def analyse_select(sql: str, schema: dict, dialect: str = "duckdb",
                   boundary_prefix: str = EPHEMERAL_PREFIX) -> SelectLineage:
    """The lineage of every output column of ``sql`` (one SELECT, maybe with CTEs or set operations)."""
    try:
        parsed = sqlglot.parse_one(sql, dialect=dialect)
    except sqlglot.errors.ParseError as err:
        raise LineageUnavailable(f"sqlglot cannot parse it: {_first_line(err)}") from None
    if not isinstance(parsed, exp.Query):
        raise LineageUnavailable(f"it is not a SELECT (it is {parsed.key.upper()})")
    lines = _projection_lines(parsed)
    try:
        qualified = qualify(parsed, dialect=dialect, schema=schema, validate_qualify_columns=False,
                            identify=False, quote_identifiers=False)
        root = build_scope(qualified)
    except (sqlglot.errors.SqlglotError, KeyError, ValueError) as err:
        raise LineageUnavailable(f"sqlglot cannot resolve its columns: {_first_line(err)}") from None
    if root is None:
        raise LineageUnavailable("sqlglot found no SELECT scope in it")
    for scope in root.traverse():
        if isinstance(scope.expression, exp.Select) and any(
                isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in scope.expression.selects):
            tables = ", ".join(sorted(t.sql(dialect=dialect) for t in scope.tables)) or "a subquery"
            raise LineageUnavailable(f"`*` over {tables} cannot be expanded: its columns are not known")
    walker = _Walker(boundary_prefix)
    result = SelectLineage()
    for index, name in enumerate(_output_names(root)):
        direct = walker.output(root, index)
        indirect = walker.indirect(root, index)
        result.columns[name] = _merge(direct, indirect)
        if name in lines:
            result.lines[name] = lines[name]
    return result


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__


def _projection_lines(parsed: exp.Query) -> dict[str, int]:
    """Where each output column's projection starts in the SQL, for the window's side panel."""
    select = parsed
    while isinstance(select, exp.SetOperation):
        select = select.this
    lines: dict[str, int] = {}
    for projection in getattr(select, "selects", []):
        node = projection.args.get("alias") or projection
        line = getattr(node, "meta", {}).get("line") or next(
            (n.meta["line"] for n in projection.walk() if "line" in getattr(n, "meta", {})), None)
        if line and projection.alias_or_name:
            lines.setdefault(projection.alias_or_name.lower(), int(line))
    return lines


def _output_names(scope: Scope) -> list[str]:
    return [name.lower() for name in scope.expression.named_selects]


def _merge(direct: list[Input], indirect: list[Input]) -> list[Input]:
    """One input per base column: its strongest data kind, else its indirect kind (join before filter)."""
    best: dict[tuple, Input] = {}
    for item in direct:
        key = (item.relation, item.column)
        if key not in best or DATA_KINDS.index(item.kind) > DATA_KINDS.index(best[key].kind):
            best[key] = item
    for item in indirect:
        key = (item.relation, item.column)
        if key not in best:
            best[key] = item
    return list(best.values())


class _Walker:
    """Resolves output positions of scopes to base columns; memoised per (scope, position)."""

    def __init__(self, boundary_prefix: str) -> None:
        self.boundary_prefix = boundary_prefix
        self._outputs: dict[tuple[int, int], list[Input]] = {}
        self._indirect: dict[int, list[Input]] = {}

    # -- the data path ------------------------------------------------------------------------------
    def output(self, scope: Scope, index: int) -> list[Input]:
        key = (id(scope), index)
        if key not in self._outputs:
            self._outputs[key] = []  # a recursive CTE refers to itself: stop there
            self._outputs[key] = self._resolve_output(scope, index)
        return self._outputs[key]

    def _resolve_output(self, scope: Scope, index: int) -> list[Input]:
        if isinstance(scope.expression, exp.SetOperation):
            return [item for branch in self._branches(scope) for item in self.output(branch, index)]
        selects = scope.expression.selects
        if index >= len(selects):
            return []
        projection = selects[index]
        value = projection.this if isinstance(projection, exp.Alias) else projection
        kind = _kind(value)
        expression = None if kind == "copy" else value.sql(dialect="duckdb")
        found: list[Input] = []
        for column in _own_columns(value, scope):
            if _in_aggregate_filter(column, value):  # count(*) filter (where x): x only picks rows
                found += [Input(i.relation, i.column, "filter") for i in self.column(scope, column)]
                continue
            for item in self.column(scope, column):
                stronger = max(kind, item.kind, key=DATA_KINDS.index) if item.kind in DATA_KINDS else item.kind
                found.append(Input(item.relation, item.column, stronger,
                                   expression if kind != "copy" else item.expression))
        for sub in self._subquery_scopes(scope, value):  # a scalar subquery in the projection
            for position in range(len(sub.expression.named_selects)):
                found += [Input(i.relation, i.column, "transform", expression) for i in self.output(sub, position)
                          if i.kind in DATA_KINDS]
        return found

    def _branches(self, scope: Scope) -> list[Scope]:
        return list(scope.set_operation_scopes) or [scope]

    def column(self, scope: Scope, column: exp.Column) -> list[Input]:
        """A column reference in ``scope`` resolved to base columns."""
        source = scope.sources.get(column.table)
        name = column.name.lower()
        if isinstance(source, exp.Table):
            return [Input(_relation_key(source), name, "copy")]
        if isinstance(source, Scope):
            alias = column.table
            if source.is_cte and self._is_boundary(source, alias):
                return [Input((_cte_name(source, alias)[len(self.boundary_prefix):].lower(),), name, "copy")]
            names = [n.lower() for n in source.expression.named_selects]
            if name in names:
                return self.output(source, names.index(name))
        return []  # a correlated or unresolvable reference: no invented edge

    def _is_boundary(self, source: Scope, alias: str) -> bool:
        return bool(self.boundary_prefix) and _cte_name(source, alias).lower().startswith(self.boundary_prefix)

    # -- what filters or joins -------------------------------------------------------------------------
    def indirect(self, scope: Scope, index: int) -> list[Input]:
        """Filter and join inputs of output ``index``: those of this scope and of every scope its value
        passes through."""
        found = list(self._scope_indirect(scope))
        for child in self._data_scopes(scope, index):
            found += self._scope_indirect(child)
        return found

    def _data_scopes(self, scope: Scope, index: int, seen: set[int] | None = None) -> list[Scope]:
        """The derived scopes an output's value is read through."""
        seen = seen if seen is not None else set()
        out: list[Scope] = []
        if isinstance(scope.expression, exp.SetOperation):
            for branch in self._branches(scope):
                if id(branch) not in seen:
                    seen.add(id(branch))
                    out += [branch, *self._data_scopes(branch, index, seen)]
            return out
        selects = scope.expression.selects
        if index >= len(selects):
            return out
        for column in _own_columns(selects[index], scope):
            source = scope.sources.get(column.table)
            if isinstance(source, Scope) and not (source.is_cte and self._is_boundary(source, column.table)):
                names = [n.lower() for n in source.expression.named_selects]
                if id(source) not in seen and column.name.lower() in names:
                    seen.add(id(source))
                    out += [source, *self._data_scopes(source, names.index(column.name.lower()), seen)]
        return out

    def _scope_indirect(self, scope: Scope) -> list[Input]:
        if id(scope) in self._indirect:
            return self._indirect[id(scope)]
        self._indirect[id(scope)] = []
        found: list[Input] = []
        select = scope.expression
        if isinstance(select, exp.Select):
            for clause, kind in (("where", "filter"), ("having", "filter"), ("qualify", "filter")):
                found += self._clause(scope, select.args.get(clause), kind)
            for join in select.args.get("joins") or []:
                found += self._clause(scope, join.args.get("on"), "join")
                for using in join.args.get("using") or []:
                    found += self._clause(scope, using, "join")
        self._indirect[id(scope)] = found
        return found

    def _clause(self, scope: Scope, clause: exp.Expression | None, kind: str) -> list[Input]:
        if clause is None:
            return []
        found: list[Input] = []
        for column in _own_columns(clause, scope):
            found += [Input(i.relation, i.column, kind) for i in self.column(scope, column)]
        for sub in self._subquery_scopes(scope, clause):  # `x in (select …)`: what it reads filters too
            for position in range(len(sub.expression.named_selects)):
                found += [Input(i.relation, i.column, kind) for i in self.output(sub, position)]
            found += [Input(i.relation, i.column, kind) for i in self._scope_indirect(sub)]
        return found

    def _subquery_scopes(self, scope: Scope, within: exp.Expression) -> list[Scope]:
        inner = {id(q) for q in within.find_all(exp.Query)}
        return [s for s in scope.subquery_scopes if id(s.expression) in inner]


def _kind(value: exp.Expression) -> str:
    if isinstance(value, exp.Column):
        return "copy"
    for node in value.walk():
        if isinstance(node, exp.AggFunc) and not isinstance(node.find_ancestor(exp.Window, exp.Select), exp.Window):
            return "aggregate"
    return "transform"


def _in_aggregate_filter(column: exp.Column, value: exp.Expression) -> bool:
    node = column
    while node is not None and node is not value:
        if isinstance(node.parent, exp.Filter) and node.arg_key == "expression":
            return True
        node = node.parent
    return False


def _own_columns(value: exp.Expression, scope: Scope) -> list[exp.Column]:
    """Column references of ``scope`` in ``value`` (those inside a nested query belong to its scope)."""
    return [c for c in value.find_all(exp.Column) if c.find_ancestor(exp.Select) is scope.expression]


def _cte_name(source: Scope, alias: str) -> str:
    cte = source.expression.parent
    return cte.alias if isinstance(cte, exp.CTE) and cte.alias else alias


def _relation_key(table: exp.Table) -> tuple[str, ...]:
    return tuple(part.lower() for part in (table.catalog, table.db, table.name) if part)


__all__ = ["DATA_KINDS", "EPHEMERAL_PREFIX", "INDIRECT_KINDS", "Input", "LineageUnavailable", "SelectLineage",
           "analyse_select"]
