"""Matching runs queued to the worker (matching/match_runs.py, jobs/matching.py): refused while one is queued or
running, carried out with progress another session and another process can read while the run's transaction is
open, failures recorded, runs whose worker died recovered; the pages and the API that queue and show them; and
the jobs whose last run failed on the manager's overview."""

import json
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from jobs import runner, worker
from jobs.matching import QUEUED_JOB
from matching import clock, db, match_runs
from matching.engine import runs
from matching.errors import Conflict
from matching.models import JobRun, Match, MatchRun
from tests.test_engine_runs import API, _cohort
from tests.test_pages import csrf, sign_in


def _queue(engine, actor_id=None, source="api") -> MatchRun:
    with db.session_scope(db.writer(engine)) as session:
        return match_runs.queue(session, actor_id, source)


def _row(engine, run_id) -> MatchRun:
    with db.session_scope(engine) as session:
        return session.get(MatchRun, run_id)


def _queued_jobs(engine) -> list[str]:
    return [name for name in worker.next_runs(engine) if name.startswith(f"{QUEUED_JOB}:now:")]


@pytest.fixture
def no_queued_jobs(engine):
    """The suite does not empty APScheduler's table; these tests count what they queued in it."""
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.text(f"DELETE FROM {worker.SCHEDULER_TABLE}"))


# --- the domain -----------------------------------------------------------------------------------------------

def test_a_run_is_refused_while_one_is_queued_saying_which_and_when(engine, people):
    first = _queue(engine, people["manager"].id)
    assert first.status == "queued" and first.progress == {"stage": "queued"}
    with pytest.raises(Conflict, match=rf"run {first.id} is already queued \(asked for at 12:\d\dpm on 23 "
                                       r"November 2026\)"):
        _queue(engine)
    with db.session_scope(engine) as session:
        assert match_runs.refusal(session).startswith(f"run {first.id} is already queued")
        assert len(session.exec(select(MatchRun)).all()) == 1


def test_progress_is_readable_from_another_session_and_process_while_the_run_is_open(client, browser, people, engine):
    _cohort(client, people, engine)
    sign_in(browser, "manager")
    token = csrf(browser.get("/overview").text)
    run = _queue(engine, people["manager"].id)
    reached, release, seen = threading.Event(), threading.Event(), []

    def pause_when_choosing(stage, done, total):
        seen.append(stage)
        if stage.startswith("candidates") and not reached.is_set():
            reached.set()
            release.wait(120)  # the run's transaction stays open, holding its locks, until the test lets it go

    carried: dict = {}
    worker_thread = threading.Thread(target=lambda: carried.update(
        run=match_runs.carry_out(engine, run.id, clock.today(), watch=pause_when_choosing)))
    worker_thread.start()
    try:
        assert reached.wait(120)
        with db.session_scope(engine) as session:  # another session, while the run holds the writer
            shown = match_runs.show(session, session.get(MatchRun, run.id))
            assert shown.run.status == "running" and shown.progress["stage"].startswith("candidates (")
            assert shown.progress["total"] >= 1 and shown.stage.startswith("Finding")
            assert match_runs.refusal(session).startswith(f"run {run.id} is already running")
            assert match_runs.recover_stale(session) == []  # its lock is held: not stale, however old
        read = subprocess.run([sys.executable, "-c", "import json, sys; from matching import db, match_runs; "
                               "print(json.dumps(match_runs.live_progress(db.make_engine(sys.argv[1]), int(sys.argv[2]))))",
                               engine.url.render_as_string(hide_password=False), str(run.id)],
                              capture_output=True, text=True, check=True)
        assert json.loads(read.stdout)["stage"] == shown.progress["stage"]  # another process reads it too
        answered = client.get(f"{API}/{run.id}")  # the API keeps answering while the run is open
        assert answered.status_code == 200 and answered.json()["progress"]["stage"].startswith("candidates (")
        refused = client.post(API)  # refused from a read: no wait for the writer the run holds
        assert refused.status_code == 409 and f"run {run.id} is already running" in refused.json()["detail"]
        again = browser.post("/match-runs", data={"_csrf_token": token}, follow_redirects=False)
        assert again.headers["location"] == f"/match-runs/{run.id}?refused=yes"
        shown_page = browser.get(again.headers["location"])  # the page keeps answering too
        assert f"run {run.id} was already running" in shown_page.text and "Finding" in shown_page.text
    finally:
        release.set()
        worker_thread.join(120)
    finished = _row(engine, run.id)
    assert finished.status == "finished" and carried["run"].id == run.id
    assert finished.counts["mentoring"]["proposals"] == 2 and finished.counts["opportunity"]["proposals"] == 3
    assert seen[0] == "starting" and "proposals (mentoring)" in seen
    assert match_runs.live_progress(engine, run.id) is None  # the side channel is cleared with the run


def test_a_failed_run_is_marked_failed_with_its_reason_and_nothing_else_is_kept(client, people, engine, monkeypatch):
    _cohort(client, people, engine)
    run = _queue(engine)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full at /secret/path")

    monkeypatch.setattr(runs, "_write_proposals", broken)
    with pytest.raises(RuntimeError):
        match_runs.carry_out(engine, run.id, clock.today())
    failed = _row(engine, run.id)
    assert failed.status == "failed" and failed.finished_at is not None
    assert "RuntimeError" in failed.error and "secret" not in failed.error
    assert failed.progress["stage"].startswith(("candidates", "proposals"))  # where it stopped
    with db.session_scope(engine) as session:
        assert session.exec(select(Match)).all() == []
    assert _queue(engine).id != run.id  # a failed run does not block the next


def test_a_run_whose_worker_died_is_marked_failed_and_no_longer_blocks(engine):
    long_ago = (clock.utcnow() - match_runs.STALE_AFTER - timedelta(seconds=1)).isoformat()
    with db.session_scope(db.writer(engine)) as session:
        dead = MatchRun(source="api", status="running", progress={"stage": "starting", "began_at": long_ago})
        session.add(dead)
    lock = runs._RUNS_IN_PROCESS.setdefault(str(engine.url), threading.Lock())
    # While some process holds the run lock, it may be that run's: kept.
    with lock, pytest.raises(Conflict, match=f"run {dead.id} is already running"):
        _queue(engine)
    assert _row(engine, dead.id).status == "running"
    new = _queue(engine)  # nobody holds the lock: the worker died
    recovered = _row(engine, dead.id)
    assert recovered.status == "failed" and "stopped before it finished" in recovered.error
    assert new.status == "queued"


def test_a_run_just_claimed_is_not_taken_for_dead(engine):
    with db.session_scope(db.writer(engine)) as session:
        session.add(MatchRun(source="api", status="running",
                             progress={"stage": "starting", "began_at": clock.utcnow().isoformat()}))
    with pytest.raises(Conflict, match="already running"):
        _queue(engine)


def test_the_job_carries_out_queued_runs_and_the_nightly_run_goes_through_the_queue(client, people, engine, settings):
    _cohort(client, people, engine)
    asked = _queue(engine, people["manager"].id)
    done = runner.run_job(QUEUED_JOB, settings)
    assert done.result == "ok" and done.summary == f"run {asked.id}: 5 proposals"
    assert runner.run_job(QUEUED_JOB, settings).summary == "no run was waiting"
    waiting = _queue(engine, people["manager"].id)  # queued in the day, not yet started: the night's run
    assert runner.run_job("nightly_matching", settings).summary.startswith(f"run {waiting.id}: 0 proposals")
    assert _row(engine, waiting.id).status == "finished"
    nightly = runner.run_job("nightly_matching", settings)
    assert nightly.result == "ok", nightly.summary
    with db.session_scope(engine) as session:
        latest = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()
    assert latest.source == "job" and latest.status == "finished" and nightly.summary.startswith(f"run {latest.id}:")


# --- the pages ------------------------------------------------------------------------------------------------

def _start_from_the_overview(browser):
    token = csrf(browser.get("/overview").text)
    return browser.post("/match-runs", data={"_csrf_token": token}, follow_redirects=False)


def test_the_pages_post_queues_without_running_the_engine_then_shows_progress_and_result(
        browser, people, engine, client, no_queued_jobs, monkeypatch):
    _cohort(client, people, engine)
    sign_in(browser, "manager")
    ran = []
    real = runs.run
    monkeypatch.setattr(runs, "run", lambda *a, **k: ran.append(1) or real(*a, **k))
    started = _start_from_the_overview(browser)
    assert started.status_code == 303
    run_id = int(started.headers["location"].rsplit("/", 1)[1])
    assert ran == [] and _row(engine, run_id).status == "queued"  # the request did not run the engine
    assert len(_queued_jobs(engine)) == 1  # it asked the worker instead
    queued = browser.get(f"/match-runs/{run_id}")
    assert queued.status_code == 200 and "refresh" not in queued.headers  # not reloaded unless asked
    assert "Matching run" in queued.text and "is queued" in queued.text and "Waiting for the worker" in queued.text
    assert f'href="/match-runs/{run_id}" id="refresh-link"' in queued.text
    followed = browser.get(f"/match-runs/{run_id}?follow=yes")
    assert followed.headers["refresh"] == "5" and "Stop refreshing it" in followed.text
    again = _start_from_the_overview(browser)  # refused: one is already queued
    assert again.headers["location"] == f"/match-runs/{run_id}?refused=yes"
    assert f"run {run_id} was already queued (asked for at" in browser.get(again.headers["location"]).text

    runner.run_job(QUEUED_JOB, browser.app.state.settings)  # what the worker does when asked
    assert ran == [1]
    finished = browser.get(f"/match-runs/{run_id}?follow=yes")
    assert "refresh" not in finished.headers and "Finished" in finished.text
    assert "3 opportunity proposals and 2 mentoring proposals, for 4 open cases" in finished.text
    assert 'href="/proposals"' in finished.text
    listed = browser.get("/match-runs").text
    assert f'href="/match-runs/{run_id}"' in listed and "Test manager" in listed
    overview = browser.get("/overview").text
    assert f"The last run ({run_id}) made 3 opportunity proposals" in overview
    assert browser.get("/match-runs/999999").status_code == 404


def test_a_failed_run_shows_its_reason_and_failed_jobs_are_on_the_overview(browser, people, engine):
    with db.session_scope(db.writer(engine)) as session:
        session.add(MatchRun(source="api", status="failed", error="A match run is already in progress.",
                             finished_at=clock.utcnow()))
        session.add(JobRun(job="weekly_digest", result="failed", summary="builtins.RuntimeError",
                           finished_at=clock.utcnow()))
        session.add(JobRun(job="purge_expired", result="ok", summary="0 deleted", finished_at=clock.utcnow()))
        session.add(JobRun(job="nightly_matching", result="failed", summary="x", finished_at=clock.utcnow()))
    sign_in(browser, "manager")
    with db.session_scope(engine) as session:
        run_id = session.exec(select(MatchRun.id)).first()
    page = browser.get(f"/match-runs/{run_id}").text
    assert "Why it failed" in page and "A match run is already in progress." in page
    overview = browser.get("/overview").text
    assert "Scheduled jobs that failed" in overview
    assert "Weekly digest" in overview and "Nightly matching" in overview and "Purge expired" not in overview
    assert "Failed on 23 November 2026" in overview and 'href="/match-runs"' in overview


def test_no_failed_jobs_no_warning(browser, people):
    sign_in(browser, "manager")
    assert "Scheduled jobs that failed" not in browser.get("/overview").text


# --- the API --------------------------------------------------------------------------------------------------

def test_the_api_queues_with_202_and_a_location_and_refuses_a_second(client, people, engine, no_queued_jobs):
    _cohort(client, people, engine)
    queued = client.post(API)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    assert queued.headers["location"] == f"{API}/{queued.json()['id']}"
    refused = client.post(API)
    assert refused.status_code == 409 and f"run {queued.json()['id']} is already queued" in refused.json()["detail"]
    runner.run_job(QUEUED_JOB, client.app.state.settings)
    finished = client.get(queued.headers["location"]).json()
    assert finished["status"] == "finished" and finished["counts"]["mentoring"]["proposals"] == 2
    described = client.get("/schema/openapi.json").json()["paths"][API]["post"]
    assert "202" in described["responses"] and "Location" in json.dumps(described)
