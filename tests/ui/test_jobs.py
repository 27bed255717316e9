from desktop_app.services.jobs import Job, JobRunner


def test_a_shut_down_runner_starts_nothing_new(qtbot):
    runner = JobRunner()
    ran = []
    before = runner.submit(Job(lambda report, cancel: ran.append("before"), title="before"))
    qtbot.waitUntil(lambda: before.done.is_set(), timeout=10_000)
    runner.shutdown()
    late = runner.submit(Job(lambda report, cancel: ran.append("late"), title="late"))
    qtbot.wait(200)
    assert ran == ["before"]
    assert late not in runner.live_jobs and not late.done.is_set()
