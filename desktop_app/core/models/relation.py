"""A relation in the warehouse as dbt's Jinja sees one: ``"db"."schema"."name"``, with dbt's helpers.

``ref()``, ``source()`` and ``this`` render as the fully quoted three-part name; macros may also ask
for its parts, leave parts out (``include(database=False)``), or make a new one
(``api.Relation.create``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from desktop_app.core.identifiers import quote


@dataclass(frozen=True)
class Relation:
    database: str | None
    schema: str | None
    identifier: str | None
    type: str | None = field(default=None, compare=False)  # table | view | cte | None (unknown)
    parts: tuple[bool, bool, bool] = field(default=(True, True, True), compare=False)

    def __str__(self) -> str:
        if self.type == "cte":  # an ephemeral model, inlined as a CTE of this name: dbt writes it bare
            return str(self.identifier)
        named = [p for p, shown in zip((self.database, self.schema, self.identifier), self.parts, strict=True)
                 if shown and p]
        return ".".join(quote(p) for p in named)

    @property
    def name(self) -> str | None:
        return self.identifier

    @property
    def table(self) -> str | None:
        return self.identifier

    def render(self) -> str:
        return str(self)

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    @property
    def is_cte(self) -> bool:
        return self.type == "cte"

    def include(self, database: bool = True, schema: bool = True, identifier: bool = True) -> Relation:
        return replace(self, parts=(database, schema, identifier))

    def quote(self, database: bool = True, schema: bool = True, identifier: bool = True) -> Relation:
        return self  # always quoted, as dbt-duckdb renders every part

    def incorporate(self, path: dict | None = None, type: str | None = None) -> Relation:
        path = path or {}
        return replace(self, database=path.get("database", self.database), schema=path.get("schema", self.schema),
                       identifier=path.get("identifier", self.identifier), type=type or self.type)

    def without_identifier(self) -> Relation:
        return self.include(identifier=False)

    @classmethod
    def create(cls, database: str | None = None, schema: str | None = None, identifier: str | None = None,
               type: str | None = None, **_ignored) -> Relation:
        return cls(database, schema, identifier, type)
