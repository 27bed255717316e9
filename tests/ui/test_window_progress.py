"""Every long job shows what it does while it runs, can be cancelled, and leaves a clear end state."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from desktop_app.core.oltp.demo_shop import create_shop
from desktop_app.core.progress import Progress
from desktop_app.services.jobs import Job, JobRunner, JobSlot
from tests.ui.conftest import start_window, wait_idle


def started(window, qtbot):
    return start_window(qtbot, window)


def test_ingestion_progress_counts_rows_while_it_runs(window, qtbot):
    """The overall line said '0 % · 0 of 0 rows · Inspecting the source' for a whole load, and ended at
    '5,608 of 722,071 rows' beside a full bar, with tables still 'loading'."""
    create_shop(window.workspace.demo_shop, scale=0.1, seed=3)
    started(window, qtbot)
    seen = []
    job = window.ingest_tab.start_ingest()
    job.on_progress(lambda _p: seen.append((window.ingest_tab.progress.text(), window.ingest_tab.progress.bar.value())))
    qtbot.waitUntil(lambda: window.ingest_tab.job is None, timeout=60_000)
    total = sum(t.row_count for t in window.source_tab.view.info.tables)
    counted = [text for text, _ in seen if " of " in text and " rows" in text]
    assert counted, seen
    middle = [text for text in counted if not text.startswith(f"{total:,} of") and not text.startswith("0 of")]
    assert middle, counted  # figures while it ran, not only at the ends
    assert all("%p" not in text for text, _ in seen)
    assert window.ingest_tab.progress.state == "done" and "every table reconciled" in window.ingest_tab.progress.text()
    assert {window.ingest_tab._item(t).text(4) for t in window.ingest_tab.bars} == {"success"}
    assert {bar.value() for bar in window.ingest_tab.bars.values()} == {100}


def test_throttled_progress_keeps_the_latest_of_every_target(qtbot):
    """Throttling dropped the overall figure whenever a table reported in the same tenth of a second."""
    runner = JobRunner()
    seen: list[Progress] = []

    def work(*, report, cancel):
        for i in range(1, 401):
            report(Progress("ingest", i * 10, 4000, "overall", ""))
            report(Progress("ingest", i, 400, "", "orders"))  # a table reports right after the overall figure
            time.sleep(0.002)
        return "ok"

    job = Job(work)
    job.on_progress(seen.append)
    with qtbot.waitSignal(job.signals.finished, timeout=10_000):
        runner.submit(job)
    last = {p.target: p for p in seen}
    assert last[""].done == 4000 and last["orders"].done == 400
    assert len([p for p in seen if p.target == ""]) > 3  # the overall figure also arrived while it ran
    runner.shutdown()


def test_a_new_job_in_a_slot_cancels_the_old_and_its_late_answer_never_lands(qtbot):
    runner = JobRunner()
    slot = JobSlot(runner)
    landed = []

    def slow(*, report, cancel):
        for _ in range(200):
            if cancel.cancelled:
                return "late answer of the first job"
            time.sleep(0.01)
        return "first"

    first = slot.start(Job(slow), on_success=landed.append)
    second = slot.start(Job(lambda *, report, cancel: "second"), on_success=landed.append)
    qtbot.waitUntil(lambda: not runner.live_jobs, timeout=10_000)
    assert first.cancel_token.cancelled and landed == ["second"] and second.done.is_set()
    runner.shutdown()


def test_a_failure_no_handler_takes_is_shown_and_logged(window, qtbot, monkeypatch, caplog):
    shown = []
    monkeypatch.setattr("desktop_app.ui.error_dialog.show_dialog", lambda parent, error, details: shown.append(error))

    def broken(*, report, cancel):
        raise RuntimeError("nobody listens to me")

    window.runner.submit(Job(broken, title="Close preview"))
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert "nobody listens to me" in str(shown[0])
    assert "failed with no handler" in caplog.text


@pytest.mark.parametrize("which", ["excel", "build", "recreate", "simulate", "everything"])
def test_each_long_job_reports_progress_and_ends_done(used_workspace, qtbot, which):
    from tests.ui.conftest import close_window, open_window

    window = started(open_window(qtbot, used_workspace), qtbot)
    progress, job = start_job(window, which)
    fractions = []
    job.on_progress(lambda p: fractions.append(p.fraction))
    qtbot.waitUntil(lambda: progress.state != "running", timeout=120_000)
    assert progress.state == "done", progress.text()
    assert any(f is not None and 0 < f < 1 for f in fractions), fractions  # countable work: a determinate bar
    assert progress.bar.value() == 1000 and not progress.cancel_button.isVisible()
    assert progress.elapsed.text().count(":") == 1
    wait_idle(qtbot, window)
    close_window(window)


@pytest.mark.parametrize("which", ["excel", "build", "recreate", "simulate", "everything"])
def test_each_long_job_can_be_cancelled_and_keeps_what_was_there(used_workspace, qtbot, which):
    from tests.ui.conftest import close_window, open_window

    window = started(open_window(qtbot, used_workspace), qtbot)
    before = {p.name: p.read_bytes() for p in (used_workspace / "excel").iterdir()}
    shop = window.workspace.demo_shop.read_bytes()
    progress, job = start_job(window, which)
    qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)  # at once: before any work is done
    qtbot.waitUntil(lambda: progress.state != "running", timeout=60_000)
    assert progress.state == "cancelled" and "cancelled" in progress.text()
    assert not progress.cancel_button.isVisible()
    assert {p.name: p.read_bytes() for p in (used_workspace / "excel").iterdir()} == before
    if which in ("recreate", "everything"):
        assert window.workspace.demo_shop.read_bytes() == shop
    wait_idle(qtbot, window)
    close_window(window)


def start_job(window, which):
    if which == "excel":
        return window.excel_tab.progress, window.excel_tab.run("all")
    if which == "build":
        return window.models_tab.progress, window.models_tab.build()
    if which == "recreate":
        window.source_tab.scale.setValue(0.01)
        return window.source_tab.progress, window.source_tab._on_recreate_clicked()
    if which == "simulate":  # enough traffic to take longer than a tenth of a second
        return window.source_tab.progress, window.source_tab.simulate(3000, 3000, 100)
    return window.overview_tab.progress, window.run_everything()


def test_the_simulate_confirmation_stays_and_the_scale_is_the_shops(window, qtbot, pristine_shop):
    """The Simulate and Re-create confirmations vanished at once; the Scale box always said 0.020."""
    create_shop(window.workspace.demo_shop, scale=0.013, seed=3)
    started(window, qtbot)
    assert window.source_tab.scale.value() == pytest.approx(0.013)
    window.source_tab._on_simulate_clicked()
    qtbot.waitUntil(lambda: window.source_tab.progress.state == "done", timeout=30_000)
    wait_idle(qtbot, window)
    qtbot.wait(200)
    assert window.source_tab.progress.text().startswith("Simulated: ")
    orders = window.source_tab.view.info.table("orders")
    assert orders.row_count > 5200  # the tables were read again after the simulation
    item = window.source_tab.tables.topLevelItem(0)
    assert item.textAlignment(1) & Qt.AlignmentFlag.AlignRight
    window.source_tab.tables.setCurrentItem(window.source_tab.tables.findItems("orders", Qt.MatchFlag.MatchExactly)[0])
    columns = window.source_tab.columns
    key = next(columns.topLevelItem(i) for i in range(columns.topLevelItemCount())
               if columns.topLevelItem(i).text(4).startswith("PK"))
    assert key.text(2) == "no"  # a primary key column holds no NULL
    wait_idle(qtbot, window)
