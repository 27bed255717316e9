"""How text columns become DATE/TIMESTAMP on the SQLite fast path, checked against DuckDB itself."""

from __future__ import annotations

import random

import duckdb
import pytest

from desktop_app.core.ingest.temporal import DATE, ISO, TemporalSql, check_for, decide, widen_temporal


@pytest.mark.parametrize(("values", "kind"), [
    (["2024-01-01", "2024-12-31"], "DATE"),
    (["2024-01-01T10:00:00", "2024-01-01"], "TIMESTAMP"),
    (["2024-01-01 10:00", "2024-01-01 10:00:00.5"], "TIMESTAMP"),
    (["2024-01-01 10:00:00+02:00"], None),           # a zone: TIMESTAMP cannot hold it
    (["2024-01-01 10:00:00.1234567"], None),         # beyond microseconds
    (["2024-02-30"], None),                          # not a real day
    (["01/02/2024"], None),
    ([], None),
])
def test_a_column_is_temporal_only_when_every_value_is_iso(values, kind):
    assert decide(values) == kind


def test_one_shared_shape_gives_a_strptime_format_else_the_iso_pattern():
    assert check_for("TIMESTAMP", ["2024-01-01T10:00:00", "2025-06-30T23:59:59"]) == "%Y-%m-%dT%H:%M:%S"
    assert check_for("TIMESTAMP", ["2024-01-01 10:00:00.250000"]) == "%Y-%m-%d %H:%M:%S.%f"
    assert check_for("TIMESTAMP", ["2024-01-01 10:00:00", "2024-01-01 10:00:00.250000"]) == ISO
    assert check_for("TIMESTAMP", []) == ISO
    assert check_for("DATE", ["2024-01-01"]) == DATE


def test_a_failed_check_widens_only_as_far_as_needed():
    assert widen_temporal("TIMESTAMP", "%Y-%m-%dT%H:%M:%S", "2024-01-01 10:00:00") == ("TIMESTAMP", ISO)
    assert widen_temporal("DATE", DATE, "2024-01-01 10:30") == ("TIMESTAMP", ISO)
    assert widen_temporal("TIMESTAMP", ISO, "2024-01-01T10:00:00Z") == ("VARCHAR", ISO)


@pytest.mark.parametrize("check", ["%Y-%m-%d %H:%M:%S", ISO])
def test_the_checks_refuse_what_duckdbs_lenient_parser_would_bend(check):
    """Each value DuckDB's own cast or strptime accepts but changes must fail the check, in DuckDB itself."""
    sql = TemporalSql({"t": "TIMESTAMP"}, {"t": check})
    bent = ["2024-01-01 10:00:00+02", "2024-01-01 10:00:00.1234567", "2024-01-01 10:00:00 +0200",
            "infinity", "-infinity", "epoch", " 2024-01-01 10:00:00", "2024-01-01 10:00:00 ", "2024-1-01 10:00:00",
            "2024-01-01  10:00:00", "2024-01-01 10:0:00", "2024-01-01\t10:00:00", "2024-01-01 10:00:0\n",
            "2024-01-01 24:00:00"]
    with duckdb.connect() as con:
        for value in bent:
            assert con.execute(f"SELECT {sql.fits('t')} FROM (SELECT ? AS t)", [value]).fetchall() == [(False,)], value
        for value in ["2024-01-01 10:00:00", "0999-12-31 23:59:59", None]:
            assert con.execute(f"SELECT {sql.fits('t')} FROM (SELECT ?::VARCHAR AS t)", [value]).fetchall() == [
                (True,)], value
    date_sql = TemporalSql({"d": "DATE"}, {"d": DATE})
    with duckdb.connect() as con:
        assert con.execute(f"SELECT {date_sql.fits('d')} FROM (SELECT '2024-01-01 10:00' AS d)").fetchall() == [
            (False,)]


@pytest.mark.parametrize(("check", "canonical"), [
    ("%Y-%m-%dT%H:%M:%S", "2024-11-25T13:45:56"),
    ("%Y-%m-%d %H:%M:%S", "2024-11-25 13:45:56"),
    ("%Y-%m-%dT%H:%M:%S.%f", "2024-11-25T13:45:56.123456"),
    ("%Y-%m-%d %H:%M", "2024-11-25 13:45"),
])
def test_the_format_check_accepts_exactly_what_writes_back_as_the_same_text(check, canonical):
    """The cheap form test against the obvious one (parse, write back, compare) on mutated values."""
    rng = random.Random(7)
    values = {canonical, "epoch", "infinity", "-infinity", canonical.replace("13:", "24:")}
    while len(values) < 20_000:
        chars = list(canonical)
        for _ in range(rng.choice((1, 1, 2, 3))):
            chars[rng.randrange(len(chars))] = rng.choice("0123456789-:T .+\t\n\r\x0bZe/")
        values.add("".join(chars))
    sql = TemporalSql({"t": "TIMESTAMP"}, {"t": check})
    with duckdb.connect() as con:
        disagree = con.execute(
            f"SELECT t FROM unnest(?) AS v(t) WHERE {sql.fits('t')} IS DISTINCT FROM "
            f"coalesce(strftime(try_strptime(t, ?), ?) = t AND isfinite(try_strptime(t, ?)), false)",
            [sorted(values), check, check, check]).fetchall()
        accepted = con.execute(f"SELECT count(*) FROM unnest(?) AS v(t) WHERE {sql.fits('t')}",
                               [sorted(values)]).fetchall()[0][0]
    assert disagree == []
    assert accepted > 100  # the mutations include many other exact values (a digit for a digit)
