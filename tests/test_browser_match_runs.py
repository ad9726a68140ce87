# ruff: noqa: F811 (the fixtures imported from test_browser are parameters here)
"""A manager starts a matching run from the overview in a real headless Chromium, with JavaScript off, on the
demo borough served as `make run` serves it: the run is queued (the request does not run the engine), its page
shows it queued, then running with its stage and how far it has gone (the run is carried out by the worker's
code in this test's process, paused at a stage, so the page, served by another process, reads the progress
while the run's transaction is open), then its result. axe on each state."""

import re
import threading
from pathlib import Path

from playwright.sync_api import Page, expect

from jobs import runner
from jobs.matching import QUEUED_JOB
from matching import clock, db, match_runs
from matching.settings import Settings
from tests.test_browser import chromium, serious_violations, service, sign_in  # noqa: F401 (fixtures)


def carry_out_queued(service) -> None:
    """What the worker does when a page asks it to (the job, called here rather than in a worker process)."""
    settings = Settings(database_url=service.database_url, data_dir=Path(service.database_url.split("///")[1]).parent,
                        secret_key="test-secret-key-" + "x" * 32)
    assert runner.run_job(QUEUED_JOB, settings).result == "ok"


def _run_id(tab: Page) -> int:
    return int(re.search(r"/match-runs/(\d+)", tab.url).group(1))


def test_a_manager_starts_a_run_and_follows_its_progress_to_the_result(chromium, service):
    tab = chromium.new_context(base_url=service, java_script_enabled=False).new_page()
    sign_in(tab, "manager")
    tab.goto("/overview")
    tab.get_by_role("button", name="Run matching now").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(re.compile(r"Matching run \d+"))
    expect(tab.get_by_role("alert")).to_contain_text(re.compile(r"Matching run \d+ is queued"))
    expect(tab.locator("#run-status")).to_have_text("Queued")
    expect(tab.locator("#run-stage")).to_contain_text("Waiting for the worker")
    assert serious_violations(tab) == []
    run_id = _run_id(tab)

    tab.goto("/overview")  # a second run is refused while this one waits, saying which and when
    tab.get_by_role("button", name="Run matching now").click()
    expect(tab.get_by_role("region", name="Important")).to_contain_text(f"run {run_id} was already queued (asked for at")
    assert _run_id(tab) == run_id and serious_violations(tab) == []

    engine = db.engine_for(service.database_url)
    reached, release = threading.Event(), threading.Event()

    def pause_while_choosing(stage, done, total):
        if stage.startswith("candidates") and not reached.is_set():
            reached.set()
            release.wait(120)

    worker = threading.Thread(target=match_runs.carry_out, args=(engine, run_id, clock.today()),
                              kwargs={"watch": pause_while_choosing})
    worker.start()
    try:
        assert reached.wait(120)
        tab.get_by_role("link", name="Refresh this page").click()  # served while the run holds the writer
        expect(tab.locator("#run-status")).to_have_text("Running")
        expect(tab.locator("#run-stage")).to_contain_text(re.compile(r"Finding (opportunities|mentors) .*: \d+ of \d+ "
                                                                     r"groups of young people looked at"))
        assert serious_violations(tab) == []
    finally:
        release.set()
        worker.join(120)

    tab.get_by_role("link", name="Refresh this page").click()
    expect(tab.locator("#run-status")).to_have_text("Finished")
    expect(tab.locator("#run-result")).to_contain_text(re.compile(
        r"This run made \d+ opportunity proposals? and \d+ mentoring proposals?, for \d+ open cases"))
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="All matching runs").click()
    expect(tab.locator("#match-runs")).to_contain_text(f"Run {run_id}")
    assert serious_violations(tab) == []
    tab.goto("/overview")
    expect(tab.locator("#last-run")).to_contain_text(f"The last run ({run_id}) made")
    assert serious_violations(tab) == []

