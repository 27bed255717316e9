"""The headless commands under hostile conditions: one line and exit 1, never a traceback; nothing lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """A real 512 KiB file system (tmpfs): writing more fails with ENOSPC, as a full disk does."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the disk-full test: {done.stderr.decode()}")
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_app", *argv], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "120"})


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def modelled(pristine_shop, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    warehouse = folder / "w.duckdb"
    assert run_cli("pipeline", "--oltp", str(pristine_shop), "--warehouse", str(warehouse), "--out",
                   str(folder / "out"), "--mode", "full").returncode == 0
    return warehouse, folder / "out"


def test_a_full_disk_is_one_line_and_keeps_the_old_workbook(modelled, small_disk):
    """`excel` printed an OSError traceback when the disk was full; `reconcile` a TransactionException."""
    warehouse, out = modelled
    old = small_disk / "01_raw_export.xlsx"
    old.write_bytes(b"the previous workbook")
    err = one_line_error(run_cli("excel", "--warehouse", str(warehouse), "--out", str(small_disk), "--stage", "raw"))
    assert "No space left on the device" in err
    assert old.read_bytes() == b"the previous workbook" and sorted(p.name for p in small_disk.iterdir()) == [
        "01_raw_export.xlsx"]


def test_a_warehouse_on_a_full_disk_fails_in_words(modelled, pristine_shop, small_disk):
    """A warehouse write that meets a full disk failed with DuckDB's TransactionException."""
    warehouse = small_disk / "w.duckdb"
    done = run_cli("ingest", "--oltp", str(pristine_shop), "--warehouse", str(warehouse))
    text = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in text, text
    assert "No space left" in text


@pytest.mark.parametrize("argv, words", [
    (["seed", "--oltp", "{tmp}/shop.sqlite", "--scale", "inf"], "Scale must be"),
    (["seed", "--oltp", "{tmp}/shop.sqlite", "--scale", "1e6"], "Scale must be"),
    (["seed", "--oltp", "{tmp}/shop.sqlite", "--scale", "nan"], "Scale must be"),
    (["seed", "--oltp", "{tmp}/" + "n" * 300 + ".sqlite"], "File name too long"),
    (["build", "--warehouse", "{warehouse}", "--vars", "{{revenue_statuses: 5}}", "--target-path", "{tmp}/t"],
     "revenue_statuses"),
    (["build", "--warehouse", "{warehouse}", "--target-path", "{tmp}/a_file"], "is a file"),
    (["build", "--warehouse", "{warehouse}", "--select", "no_such_model", "--target-path", "{tmp}/t"],
     "matched nothing"),
    (["excel", "--warehouse", "{warehouse}", "--out", "{tmp}/a_file"], "is a file, not a folder"),
    (["ingest", "--oltp", "{shop}", "--warehouse", "{shop}"], "is a SQLite file, not a DuckDB warehouse"),
    (["excel", "--warehouse", "{shop}", "--out", "{tmp}"], "is a SQLite file, not a DuckDB warehouse"),
])
def test_bad_input_is_one_line(modelled, pristine_shop, tmp_path, argv, words):
    warehouse, _ = modelled
    (tmp_path / "a_file").write_text("not a folder")
    args = [a.format(tmp=tmp_path, warehouse=warehouse, shop=pristine_shop) for a in argv]
    err = one_line_error(run_cli(*args))
    assert words in err, err
    assert not (tmp_path / "shop.sqlite").exists()


def read_only_copy(folder: Path, where: Path) -> Path:
    """A copy of ``folder`` nobody can write: by permissions, or (root ignores them) on a read-only mount."""
    copy = where / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("target", "logs"))
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if not os.access(copy, os.W_OK):
        return copy
    mount = where / "read-only-mount"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.fail("cannot make a read-only folder here (not root, yet permissions are ignored)")
    shutil.copytree(folder, mount / folder.name, ignore=shutil.ignore_patterns("target", "logs"))
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    return mount / folder.name


def test_a_read_only_project_says_where_its_target_can_go(modelled, tmp_path):
    from desktop_app.paths import sql_project_dir

    warehouse, _ = modelled
    project = read_only_copy(sql_project_dir(), tmp_path)
    try:
        err = one_line_error(run_cli("build", "--warehouse", str(warehouse), "--project", str(project)))
        assert "read-only" in err and "--target-path" in err
        done = run_cli("build", "--warehouse", str(warehouse), "--project", str(project), "--target-path",
                       str(tmp_path / "target"))
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "read-only-mount")], capture_output=True)


def test_a_read_only_warehouse_is_read(modelled, tmp_path):
    """A read-only warehouse refused even the commands that only read it."""
    warehouse, out = modelled
    folder = tmp_path / "store"
    folder.mkdir()
    shutil.copy(warehouse, folder / "w.duckdb")
    shutil.copy(out / "03_final_report.xlsx", folder / "report.xlsx")
    (tmp_path / "ro").mkdir()
    store = read_only_copy(folder, tmp_path / "ro")
    try:
        for argv in (["reconcile-roads", "--warehouse", str(store / "w.duckdb"), "--report",
                      str(store / "report.xlsx")],
                     ["excel", "--warehouse", str(store / "w.duckdb"), "--out", str(tmp_path), "--stage", "raw"]):
            done = run_cli(*argv)
            assert done.returncode == 0, (argv, done.stdout + done.stderr)
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "ro" / "read-only-mount")], capture_output=True)


def test_every_command_prints_hostile_names_as_text(modelled, pristine_shop, tmp_path):
    """Rich markup in names and paths ([/], [red]) crashed messages or silently ate [word]."""
    folder = tmp_path / "[red]odd [/] [bold]name"
    folder.mkdir(parents=True)
    shop = folder / "[shop].sqlite"
    shutil.copy(pristine_shop, shop)
    warehouse = folder / "[w].duckdb"
    long = "x" * 200
    commands = [  # each with the hostile text the output must show as it is
        (["inspect", "--oltp", str(shop)], "[shop].sqlite"),
        (["ingest", "--oltp", str(shop), "--warehouse", str(warehouse), "--tables", f"[red]{long}"], f"[red]{long}"),
        (["ingest", "--oltp", str(shop), "--warehouse", str(warehouse), "--tables", "categories,products"], "[w]"),
        (["reconcile", "--oltp", str(shop), "--warehouse", str(warehouse), "--tables", "categories"], "categories"),
        (["simulate", "--oltp", str(folder / "[missing].sqlite")], "[missing].sqlite"),
        (["build", "--warehouse", str(warehouse), "--select", "[red]", "--target-path", str(folder / "t")],
         "--select [red] matched nothing"),
        (["excel", "--warehouse", str(warehouse), "--out", str(folder)], "raw.orders"),
        (["reconcile-roads", "--warehouse", str(warehouse), "--report", str(folder / "[no] report.xlsx")],
         "[no] report.xlsx"),
        (["seed", "--oltp", str(folder / f"[{long}].sqlite"), "--scale", "0.001"], f"[{long}].sqlite"),
        (["pipeline", "--oltp", str(folder / "[nope]"), "--warehouse", str(warehouse), "--out", str(folder)],
         "[nope]"),
    ]
    for argv, shown in commands:
        done = run_cli(*argv)
        text = done.stdout + done.stderr
        assert "Traceback" not in text, (argv, text)
        assert done.returncode in (0, 1), (argv, done.returncode, text)
        assert shown in text.replace("\n", "").replace("  ", ""), (argv, shown, text)
