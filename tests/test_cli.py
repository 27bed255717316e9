"""The headless command line: exit codes, messages, no tracebacks."""

import json
import subprocess
import sys

from desktop_app.cli import main


def test_help_lists_the_headless_commands():
    done = subprocess.run([sys.executable, "-m", "desktop_app", "--help"], capture_output=True, text=True,
                          check=True)
    for command in ("seed", "simulate", "inspect"):
        assert command in done.stdout


def test_seed_simulate_inspect_round_trip(tmp_path, capsys):
    path = tmp_path / "shop.sqlite"
    assert main(["seed", "--oltp", str(path), "--scale", "0.002", "--seed", "3"]) == 0
    assert "order_items" in capsys.readouterr().out
    assert main(["seed", "--oltp", str(path)]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert main(["simulate", "--oltp", str(path), "--orders", "5", "--updates", "5", "--deletes", "1",
                 "--seed", "1"]) == 0
    assert "inserted: " in capsys.readouterr().out
    assert main(["inspect", "--oltp", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    order_count = {t["name"]: t["row_count"] for t in info["tables"]}["orders"]
    assert 800 <= order_count <= 805  # 800 seeded + 5 placed − at most 1 purged
    orders = next(t for t in info["tables"] if t["name"] == "orders")
    assert orders["primary_key"] == ["order_id"]


def test_errors_exit_1_and_usage_exits_2(tmp_path, capsys):
    assert main(["inspect", "--oltp", str(tmp_path / "missing.db")]) == 1
    assert "No such file" in capsys.readouterr().err
    done = subprocess.run([sys.executable, "-m", "desktop_app", "seed"], capture_output=True, text=True)
    assert done.returncode == 2 and "--oltp" in done.stderr
    done = subprocess.run([sys.executable, "-m", "desktop_app", "inspect", "--oltp",
                           "postgresql://u:topsecret@127.0.0.1:9/x?connect_timeout=2"], capture_output=True, text=True)
    assert done.returncode == 1 and "topsecret" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_the_ingest_summary_keeps_every_figure_whole_on_an_80_column_terminal(tmp_path, monkeypatch):
    """rich squeezes a wide table into the terminal; no count may lose digits to an ellipsis."""
    import io

    from rich.console import Console

    from desktop_app import console

    shop = tmp_path / "shop.sqlite"
    assert main(["seed", "--oltp", str(shop), "--scale", "0.05", "--seed", "3"]) == 0
    screen = io.StringIO()
    monkeypatch.setattr(console, "stdout", Console(file=screen, width=80, highlight=False, color_system=None))
    assert main(["ingest", "--oltp", str(shop), "--warehouse", str(tmp_path / "w.duckdb")]) == 0
    text = screen.getvalue()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    for figure in ("read", "inserted", "rows/s", "reconciled"):
        assert figure in text
    report = json.loads(subprocess.run(
        [sys.executable, "-m", "desktop_app", "ingest", "--oltp", str(shop), "--warehouse", str(tmp_path / "j.duckdb"),
         "--json"], capture_output=True, text=True, check=True).stdout)
    for table in report["tables"]:
        assert f"{table['rows_read']:,}" in text and table["table"] in text


def test_commands_that_read_a_warehouse_refuse_a_missing_one_and_create_nothing(tmp_path, capsys):
    missing = tmp_path / "typo.duckdb"
    shop = tmp_path / "shop.sqlite"
    assert main(["seed", "--oltp", str(shop), "--scale", "0.002", "--seed", "3"]) == 0
    for command in (["excel", "--warehouse", str(missing), "--out", str(tmp_path)],
                    ["build", "--warehouse", str(missing)],
                    ["reconcile", "--oltp", str(shop), "--warehouse", str(missing)]):
        assert main(command) == 1, command
        err = capsys.readouterr().err
        # build may start a warehouse (as dbt-duckdb does), but refuses this one: the sources are not in it
        expected = "has no raw.addresses" if command[0] == "build" else f"No warehouse at {missing}"
        assert expected in err and "Traceback" not in err
        assert not missing.exists(), command
