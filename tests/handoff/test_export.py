"""The hand-off to BI: every exported file is read back and compared with its relation, row for row
(EXCEPT ALL both ways) and type for type; the Tableau data source is checked against its extract."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import duckdb
import pytest

from desktop_app.cli import main
from desktop_app.core.errors import ExportError
from desktop_app.core.handoff.export import choose_relations, export
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.paths import sql_project_dir

MARTS = {"fct_orders", "fct_order_items", "dim_customers", "dim_products", "daily_revenue",
         "monthly_revenue_by_category", "customer_lifetime_value", "product_performance", "product_price_history",
         "order_status_durations"}


def run_export(warehouse, folder, fmt, **kwargs):
    with Warehouse.for_reading(warehouse) as wh:
        return export(wh, sql_project_dir(), folder, fmt, **kwargs)


def same_rows(con, left: str, right: str) -> None:
    for a, b in ((left, right), (right, left)):
        extra = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchall()[0][0]
        assert extra == 0, f"{a} has {extra} rows not in {b}"


def relation_types(con, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def test_parquet_keeps_every_row_and_type(warehouse, tmp_path):
    result = run_export(warehouse, tmp_path / "out", "parquet")
    assert {f.relation for f in result.files} == MARTS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for f in result.files:
            relation = f"main_marts.{f.relation}"
            parquet = f"read_parquet('{f.path}')"
            # DECIMAL, DATE and TIMESTAMP kept; a HUGEINT (SUM of BIGINT) narrowed to the BIGINT it fits in
            expected = [(c, "BIGINT" if t == "HUGEINT" else t) for c, t in relation_types(con, relation)]
            assert relation_types(con, parquet) == expected
            same_rows(con, relation, parquet)
            assert f.rows == con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0] and f.bytes > 0
        codec = con.execute(f"SELECT DISTINCT compression FROM parquet_metadata('{result.files[0].path}')").fetchall()
    assert codec == [("ZSTD",)]
    manifest = json.loads((tmp_path / "out" / "export.json").read_text())
    assert manifest["format"] == "parquet" and len(manifest["files"]) == len(MARTS)


def test_csv_is_exact_iso_quoted_and_formula_safe(warehouse, tmp_path):
    result = run_export(warehouse, tmp_path / "out", "csv")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for f in result.files:
            relation = f"main_marts.{f.relation}"
            types = relation_types(con, relation)
            columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in types) + "}"
            csv = (f"read_csv('{f.path}', header = true, auto_detect = false, columns = {columns}, "
                   "quote = '\"', escape = '\"')")
            # The same neutralisation on the warehouse side: every other value must be as it is.
            neutral = ", ".join(f"CASE WHEN regexp_matches(\"{c}\", '^[=+\\-@]') THEN '''' || \"{c}\" ELSE \"{c}\" "
                                f"END AS \"{c}\"" if t == "VARCHAR" else f'"{c}"' for c, t in types)
            same_rows(con, f"(SELECT {neutral} FROM {relation})", csv)
    text = (tmp_path / "out" / "dim_customers.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # formula-like text neutralised
    daily = (tmp_path / "out" / "daily_revenue.csv").read_text().splitlines()
    assert daily[0].startswith("order_date,") and daily[1][:4].isdigit() and daily[1][4] == "-"  # ISO dates


def test_the_portable_file_opens_in_duckdb_1(warehouse, tmp_path, old_duckdb_python):
    """The warehouse is in DuckDB 2.x storage, which DuckDB 1.x refuses ('version number 999')."""
    result = run_export(warehouse, tmp_path / "out", "duckdb")
    path = tmp_path / "out" / "marts.duckdb"
    assert {f.relation for f in result.files} == MARTS and any("storage v0.10.0" in n for n in result.notes)
    script = ("import duckdb, json, sys\n"
              "con = duckdb.connect(sys.argv[1], read_only=True)\n"
              "print(json.dumps({'version': duckdb.__version__, 'counts': {t: con.execute(f'select count(*) from "
              "\"{t}\"').fetchall()[0][0] for (t,) in con.execute('select table_name from information_schema.tables"
              "').fetchall()}}))")
    opened = subprocess.run([old_duckdb_python, "-c", script, str(path)], capture_output=True, text=True)
    assert opened.returncode == 0, opened.stderr
    answer = json.loads(opened.stdout)
    assert answer["version"].startswith("1.") and set(answer["counts"]) == MARTS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"ATTACH '{path}' AS exported (READ_ONLY)")
        for relation in MARTS:
            assert relation_types(con, f"exported.main.{relation}") == relation_types(con, f"main_marts.{relation}")
            same_rows(con, f"main_marts.{relation}", f"exported.main.{relation}")




def hyper_rows_to_parquet(hyper_file, parquet):
    from tableauhyperapi import Connection, HyperProcess, Telemetry, escape_string_literal

    with HyperProcess(telemetry=Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_config": ""}) as hp, \
            Connection(hp.endpoint, str(hyper_file)) as connection:
        connection.execute_command(f'COPY "Extract"."Extract" TO {escape_string_literal(str(parquet))} '
                                   "WITH (FORMAT PARQUET)")
        return [(c.name.unescaped, str(c.type)) for c in connection.catalog.get_table_definition(
            connection.catalog.get_table_names("Extract")[0]).columns]


def test_tableau_extracts_hold_every_row_and_their_data_sources_match(warehouse, tmp_path):
    result = run_export(warehouse, tmp_path / "out", "hyper")
    assert {f.relation for f in result.files} == MARTS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for f in result.files:
            relation = f"main_marts.{f.relation}"
            back = tmp_path / f"{f.relation}.back.parquet"
            hyper_columns = hyper_rows_to_parquet(f.path, back)
            types = dict(relation_types(con, relation))
            assert [name for name, _ in hyper_columns] == list(types)
            for name, kind in hyper_columns:  # exact types, never DOUBLE for a DECIMAL
                if types[name].startswith("DECIMAL"):
                    assert kind.startswith("NUMERIC(") and "DOUBLE" not in kind, (f.relation, name, kind)
            casts = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in types.items())
            same_rows(con, relation, f"(SELECT {casts} FROM read_parquet('{back}'))")
            tds = ET.parse(tmp_path / "out" / f"{f.relation}.tds").getroot()  # well-formed XML
            connection = tds.find("./connection/named-connections/named-connection/connection")
            assert connection.get("class") == "hyper" and connection.get("dbname") == f"{f.relation}.hyper"
            fields = {c.get("name"): c for c in tds.findall("./column")}
            records = [r.findtext("remote-name") for r in tds.findall(".//metadata-record")]
            assert records == list(types) and set(fields) == {f"[{c}]" for c in types}
    tds = ET.parse(tmp_path / "out" / "monthly_revenue_by_category.tds").getroot()
    fields = {c.get("name"): c for c in tds.findall("./column")}
    revenue, month, orders = fields["[revenue]"], fields["[order_month]"], fields["[orders]"]
    assert revenue.get("caption") == "Revenue" and revenue.get("role") == "measure"
    assert revenue.get("aggregation") == "Sum" and "€" in revenue.get("default-format")  # money as currency
    assert orders.get("default-format").startswith("n#,##0") and orders.get("datatype") == "integer"
    assert month.get("role") == "dimension" and month.get("datatype") == "date" and month.get("caption") == \
        "Order Month"
    assert "in euros" in revenue.findtext("./desc/formatted-text/run")  # the model's YAML description
    assert fields["[department]"].get("role") == "dimension"


def test_decimals_are_narrowed_exactly_and_wide_ones_named(tmp_path):
    """DuckDB's DECIMAL(38, s) from a SUM is refused by Hyper's oldest format: narrowed, never DOUBLE."""
    from desktop_app.core.handoff.exact_types import exact_columns

    con = duckdb.connect()
    con.execute("create table t as select 12.5::decimal(38,2) small, 12345678901234567890123.45::decimal(38,2) "
                "big, 7::hugeint h, 1.5::float f, [1, 2] l")
    plan = exact_columns(con, "t", [(r[0], r[1]) for r in con.execute("describe t").fetchall()], for_hyper=True)
    assert plan.types == {"small": "DECIMAL(4,2)", "big": "DECIMAL(38,2)", "h": "BIGINT", "f": "DOUBLE",
                          "l": "VARCHAR"}
    assert plan.needs_128_bit and any("big needs 25 digits" in n for n in plan.notes)


@pytest.mark.parametrize("selection, words", [
    (["no_such_model"], "matched nothing to export"),
    (["int_order_lines"], "ephemeral, not a relation"),
])
def test_a_selection_that_cannot_be_exported_is_one_line(warehouse, tmp_path, selection, words):
    with pytest.raises(ExportError, match=words):
        run_export(warehouse, tmp_path / "out", "parquet", selection=selection)


def test_a_relation_not_built_yet_says_build_first(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table main_marts.daily_revenue")
    with pytest.raises(ExportError, match="Not built yet: daily_revenue") as raised:
        run_export(warehouse, tmp_path / "out", "csv")
    assert "Build the models first" in raised.value.hint and not (tmp_path / "out" / "fct_orders.csv").exists()


def test_a_failed_export_leaves_the_previous_files_intact(warehouse, tmp_path):
    out = tmp_path / "out"
    run_export(warehouse, out, "parquet")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "fct_orders.parquet").unlink()
    (out / "fct_orders.parquet").mkdir()  # something in the way of one file: nothing may be replaced
    with pytest.raises(ExportError, match="a folder of that name is in the way"):
        run_export(warehouse, out, "parquet")
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == {k: v for k, v in before.items() if k != "fct_orders.parquet"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_the_hyper_format_without_the_extra_says_how_to_get_it(warehouse, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tableauhyperapi", None)  # as if it were not installed
    with pytest.raises(ExportError, match="need Tableau's Hyper API") as raised:
        run_export(warehouse, tmp_path / "out", "hyper")
    assert "uv sync --extra tableau" in raised.value.hint and not (tmp_path / "out" / "export.json").exists()


def test_the_cli_reports_files_rows_and_bytes(warehouse, tmp_path, capsys):
    assert main(["export", "--warehouse", str(warehouse), "--out", str(tmp_path / "new" / "folder"), "--format", "csv",
                 "--select", "daily_revenue", "fct_orders", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {f["relation"] for f in report["files"]} == {"daily_revenue", "fct_orders"}
    assert all(f["rows"] > 0 and f["bytes"] > 0 for f in report["files"])
    assert main(["export", "--warehouse", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path)]) == 1
    assert "No warehouse at" in capsys.readouterr().err
    file = tmp_path / "a_file"
    file.write_text("x")
    assert main(["export", "--warehouse", str(warehouse), "--out", str(file)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_the_pipeline_exports_last(pristine_shop, tmp_path, capsys):
    shop = tmp_path / "shop.sqlite"
    shutil.copy(pristine_shop, shop)
    code = main(["pipeline", "--oltp", str(shop), "--warehouse", str(tmp_path / "w.duckdb"), "--out",
                 str(tmp_path / "out"), "--mode", "full", "--export", str(tmp_path / "bi"), "--format", "duckdb"])
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "bi" / "marts.duckdb").exists()
    assert f"export: {len(MARTS)} duckdb file(s)" in capsys.readouterr().out


def test_relations_are_chosen_as_build_chooses(warehouse):
    with Warehouse.for_reading(warehouse) as wh:
        chosen = [r.name for r in choose_relations(wh, sql_project_dir(), ["+daily_revenue"])]
    assert "daily_revenue" in chosen and "stg_orders" in chosen and "int_order_lines" not in chosen


def test_an_unwritable_folder_is_refused_before_any_work(warehouse, tmp_path):
    from tests.hardening.test_cli_hardening import read_only_copy

    folder = tmp_path / "bi"
    folder.mkdir()
    (tmp_path / "ro").mkdir()
    locked = read_only_copy(folder, tmp_path / "ro")
    try:
        with pytest.raises(ExportError, match="read-only"):
            run_export(warehouse, locked, "parquet")
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "ro" / "read-only-mount")], capture_output=True)
