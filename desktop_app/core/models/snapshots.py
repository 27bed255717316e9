"""Snapshots (type-2 slowly changing dimensions): keep what the source overwrites.

The first build copies the query with four columns added — ``dbt_scd_id`` (a hash of the key and the
change time), ``dbt_updated_at``, ``dbt_valid_from`` and ``dbt_valid_to`` (NULL while current; or
``dbt_valid_to_current``). Each later build compares the query with the current rows: a row that
changed closes its current version (``dbt_valid_to`` = its new change time) and gets a new one; a
new key gets its first. ``timestamp`` strategy: changed = the query's ``updated_at`` is later than
the current version's ``dbt_valid_from``; ``check``: any of ``check_cols`` differs (and the change
time is the snapshot time). Rows gone from the query are kept (``hard_deletes: ignore``), closed
(``invalidate``) or closed and followed by a deletion record (``new_record``, ``dbt_is_deleted``).
All of it in one transaction, as dbt-duckdb does.
"""

from __future__ import annotations

from typing import Any

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import quote
from desktop_app.core.models.project import Node
from desktop_app.core.models.relation import Relation

SNAPSHOT_TIME = "now()::timestamp"
META = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")


def hard_deletes(config: dict) -> str:
    legacy, mode = config.get("invalidate_hard_deletes"), config.get("hard_deletes")
    if legacy is not None and mode is not None:
        raise ModelError("A snapshot sets both invalidate_hard_deletes and hard_deletes.", "Keep hard_deletes only.")
    if legacy or mode == "invalidate":
        return "invalidate"
    if mode in (None, "ignore", "new_record"):
        return mode or "ignore"
    raise ModelError(f"Invalid hard_deletes: {mode!r}.", "Use ignore, invalidate or new_record.")


class _Strategy:
    def __init__(self, node: Node, cursor, relation: Relation | None, sql: str) -> None:
        config = node.config
        self.name = config.get("strategy")
        key = config.get("unique_key")
        if not key or (self.name == "timestamp" and not config.get("updated_at")):
            raise ModelError(f"The snapshot {node.name} needs unique_key" + (" and updated_at" if
                             self.name == "timestamp" else "") + ".", "Set them in its config.")
        self.keys = [key] if isinstance(key, str) else list(key)
        self.hard_deletes = hard_deletes(config)
        self.valid_to_current = config.get("dbt_valid_to_current")
        self.names = {**{m: m for m in (*META, "dbt_is_deleted")}, **(config.get("snapshot_meta_column_names") or {})}
        if self.name == "timestamp":
            self.updated_at = str(config["updated_at"])
            self.row_changed = f"(snapshotted_data.{self.names['dbt_valid_from']} < source_data.{self.updated_at})"
        else:
            self.updated_at = str(config.get("updated_at") or SNAPSHOT_TIME)
            self.row_changed = self._check_changed(config.get("check_cols"), cursor, relation, sql)
        hashed = " || '|' || ".join(f"coalesce(cast({arg} as varchar), '')" for arg in [*self.keys, self.updated_at])
        self.scd_id = f"md5({hashed})"

    @staticmethod
    def _check_changed(check_cols: Any, cursor, relation: Relation | None, sql: str) -> str:
        if check_cols == "all":
            wanted = [d[0] for d in cursor.execute(f"DESCRIBE SELECT * FROM ({sql})").fetchall()]
        elif isinstance(check_cols, list | tuple) and check_cols:
            wanted = [str(c) for c in check_cols]
        else:
            raise ModelError(f"Invalid value for 'check_cols': {check_cols!r}.", "Use 'all' or a list of columns.")
        if relation is not None:
            existing = {d[0] for d in cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
            if any(c.strip('"') not in existing for c in wanted):
                return "(TRUE)"  # a column was added: every row counts as changed
        tests = [f"(snapshotted_data.{c} is distinct from source_data.{c})" for c in
                 (quote(c.strip('"')) for c in wanted)]
        return "(" + " or ".join(tests) + ")"

    def valid_to_expr(self) -> str:
        return f"coalesce(nullif({self.updated_at}, {self.updated_at}), {self.valid_to_current or 'null'})"

    def current_filter(self, alias: str = "") -> str:
        column = f"{alias}{self.names['dbt_valid_to']}"
        if self.valid_to_current:
            return f"({column} = {self.valid_to_current} or {column} is null)"
        return f"{column} is null"

    def key_fields(self) -> str:
        return ", ".join(f"{k} as dbt_unique_key_{i}" for i, k in enumerate(self.keys, 1))

    def key_join(self, left: str, right: str) -> str:
        return " and ".join(f"{left}.dbt_unique_key_{i} = {right}.dbt_unique_key_{i}"
                            for i in range(1, len(self.keys) + 1))

    def key_null(self, alias: str) -> str:
        return " and ".join(f"{alias}.dbt_unique_key_{i} is null" for i in range(1, len(self.keys) + 1))


def first_build_sql(node: Node, cursor, sql: str) -> str:
    s = _Strategy(node, cursor, None, sql)
    n = s.names
    deleted = f", 'False' as {n['dbt_is_deleted']}" if s.hard_deletes == "new_record" else ""
    return (f"select *, {s.scd_id} as {n['dbt_scd_id']}, {s.updated_at} as {n['dbt_updated_at']}, "
            f"{s.updated_at} as {n['dbt_valid_from']}, {s.valid_to_expr()} as {n['dbt_valid_to']}{deleted}\n"
            f"from (\n{sql}\n) sbq")


def staging_sql(node: Node, cursor, relation: Relation, sql: str) -> str:
    """The changes since the last build: rows to insert, versions to close (update / delete)."""
    s = _Strategy(node, cursor, relation, sql)
    n = s.names
    new_record = s.hard_deletes == "new_record"
    deleted_flag = f", snapshotted_data.{n['dbt_is_deleted']}" if new_record else ""
    was_deleted = f" or snapshotted_data.{n['dbt_is_deleted']} = 'True'" if new_record else ""
    parts = [
        f"with snapshot_query as (\n{sql}\n)",
        f"snapshotted_data as (select *, {s.key_fields()} from {relation} where {s.current_filter()})",
        f"insertions_source_data as (select *, {s.key_fields()}, {s.updated_at} as {n['dbt_updated_at']}, "
        f"{s.updated_at} as {n['dbt_valid_from']}, {s.valid_to_expr()} as {n['dbt_valid_to']}, "
        f"{s.scd_id} as {n['dbt_scd_id']} from snapshot_query)",
        f"updates_source_data as (select *, {s.key_fields()}, {s.updated_at} as {n['dbt_updated_at']}, "
        f"{s.updated_at} as {n['dbt_valid_from']}, {s.updated_at} as {n['dbt_valid_to']} from snapshot_query)",
        f"insertions as (select 'insert' as dbt_change_type, source_data.*"
        f"{', ' + repr('False') + ' as ' + n['dbt_is_deleted'] if new_record else ''} "
        f"from insertions_source_data as source_data left outer join snapshotted_data "
        f"on {s.key_join('snapshotted_data', 'source_data')} where {s.key_null('snapshotted_data')} "
        f"or (not ({s.key_null('snapshotted_data')}) and ({s.row_changed}{was_deleted})))",
        f"updates as (select 'update' as dbt_change_type, source_data.*, snapshotted_data.{n['dbt_scd_id']}"
        f"{deleted_flag} from updates_source_data as source_data join snapshotted_data "
        f"on {s.key_join('snapshotted_data', 'source_data')} where ({s.row_changed}{was_deleted}))",
    ]
    unions = ["select * from insertions", "select * from updates"]
    if s.hard_deletes in ("invalidate", "new_record"):
        not_deleted_yet = (f" and not (snapshotted_data.{n['dbt_is_deleted']} = 'True' and "
                           f"{s.current_filter('snapshotted_data.')})") if new_record else ""
        parts.append(f"deletes_source_data as (select *, {s.key_fields()} from snapshot_query)")
        parts.append(f"deletes as (select 'delete' as dbt_change_type, source_data.*, {SNAPSHOT_TIME} as "
                     f"{n['dbt_valid_from']}, {SNAPSHOT_TIME} as {n['dbt_updated_at']}, {SNAPSHOT_TIME} as "
                     f"{n['dbt_valid_to']}, snapshotted_data.{n['dbt_scd_id']}{deleted_flag} from snapshotted_data "
                     f"left join deletes_source_data as source_data on {s.key_join('snapshotted_data', 'source_data')} "
                     f"where {s.key_null('source_data')}{not_deleted_yet})")
        unions.append("select * from deletes")
    if new_record:
        parts.append(_deletion_records(s, cursor, relation, sql))
        unions.append("select * from deletion_records")
    return ",\n".join(parts) + "\n" + "\nunion all\n".join(unions)


def _deletion_records(s: _Strategy, cursor, relation: Relation, sql: str) -> str:
    n = s.names
    snapshotted = {d[0] for d in cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    columns = [d[0] for d in cursor.execute(f"DESCRIBE SELECT * FROM ({sql})").fetchall()]
    chosen = ", ".join(f"{'snapshotted_data' if c in snapshotted else 'source_data'}.{quote(c)}" for c in columns)
    keys = ", ".join(f"snapshotted_data.dbt_unique_key_{i} as dbt_unique_key_{i}" for i in range(1, len(s.keys) + 1))
    new_id = (f"md5(coalesce(cast({n['dbt_scd_id']} as varchar), '') || '|' || "
              f"coalesce(cast({SNAPSHOT_TIME} as varchar), ''))")
    return (f"deletion_records as (select 'insert' as dbt_change_type, {chosen}, {keys}, {SNAPSHOT_TIME} as "
            f"{n['dbt_valid_from']}, {SNAPSHOT_TIME} as {n['dbt_updated_at']}, snapshotted_data.{n['dbt_valid_to']} "
            f"as {n['dbt_valid_to']}, {new_id} as {n['dbt_scd_id']}, 'True' as {n['dbt_is_deleted']} "
            f"from snapshotted_data left join deletes_source_data as source_data "
            f"on {s.key_join('snapshotted_data', 'source_data')} where {s.key_null('source_data')} "
            f"and not (snapshotted_data.{n['dbt_is_deleted']} = 'True' and {s.current_filter('snapshotted_data.')}))")


def merge_statements(node: Node, cursor, relation: Relation, staging: str) -> list[str]:
    """Add the staging table's new columns to the snapshot, close changed versions, insert new ones."""
    s = _Strategy.__new__(_Strategy)
    s.names = {**{m: m for m in (*META, "dbt_is_deleted")}, **(node.config.get("snapshot_meta_column_names") or {})}
    s.valid_to_current = node.config.get("dbt_valid_to_current")
    n = s.names
    staged = [(d[0], d[1]) for d in cursor.execute(f"DESCRIBE SELECT * FROM {staging}").fetchall()
              if d[0] != "dbt_change_type" and not d[0].startswith("dbt_unique_key")]
    existing = {d[0] for d in cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    statements = [f"ALTER TABLE {relation} ADD COLUMN {quote(c)} {t}" for c, t in staged if c not in existing]
    columns = ", ".join(quote(c) for c, _t in staged)
    statements.append(
        f"UPDATE {relation} AS DBT_INTERNAL_TARGET SET {n['dbt_valid_to']} = DBT_INTERNAL_SOURCE.{n['dbt_valid_to']} "
        f"FROM {staging} AS DBT_INTERNAL_SOURCE WHERE DBT_INTERNAL_SOURCE.{n['dbt_scd_id']}::text = "
        f"DBT_INTERNAL_TARGET.{n['dbt_scd_id']}::text AND DBT_INTERNAL_SOURCE.dbt_change_type::text IN "
        f"('update', 'delete') AND {s.current_filter('DBT_INTERNAL_TARGET.')}")
    statements.append(f"INSERT INTO {relation} ({columns}) SELECT {columns} FROM {staging} "
                      "WHERE dbt_change_type::text = 'insert'")
    return statements
