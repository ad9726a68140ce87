"""Match runs, alternatives, learning and settings against the real databases, through the API and CLI."""

import hashlib
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from api.cli import main
from jobs import runner
from jobs.matching import QUEUED_JOB
from matching import db, engine, lifecycle
from matching.clock import CLOCK
from matching.engine import learning, runs
from matching.errors import Conflict
from matching.models import (
    AuditEvent,
    CareLeaver,
    Match,
    MatchEvent,
    MatchRun,
    Mentor,
    Opportunity,
    Outcome,
    ScoringModel,
)
from tests import factories

TODAY = date(2026, 11, 23)
API = "/api/v1/match-runs"


def run_through_api(client):
    """A run as a client of the API has it: queued (202), carried out by the worker's job (called here rather
    than a worker process), then read at its Location. Returns the final GET (or the refused POST)."""
    queued = client.post(API)
    if queued.status_code != 202:
        return queued
    runner.run_job(QUEUED_JOB, client.app.state.settings)
    return client.get(queued.headers["location"])


@pytest.fixture
def on(client):
    CLOCK.fix(TODAY)


def _cohort(client, people, engine, *, young=4, places=1):
    """Young people in E8 on the adviser's caseload, one mentor with room for two, one job with `places`."""
    ids = [client.post("/api/v1/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people["adviser"].id, consent_share_employers=True, right_to_work_confirmed=True,
        qualification_level=2, interests=["parks", "gardening"], sector_preferences=["parks and environment"],
        date_of_birth=(TODAY - timedelta(days=20 * 365)).isoformat())).json()["id"] for _ in range(young)]
    job = client.post("/api/v1/opportunities", json=factories.opportunity(
        people["department"].department_id, places=places, closes_on=(TODAY + timedelta(days=5)).isoformat(),
        starts_on=(TODAY + timedelta(days=30)).isoformat())).json()
    with db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=2, office_area="E9", expertise=["parks"],
                        dbs_checked_on=TODAY - timedelta(days=100), safeguarding_trained_on=TODAY - timedelta(days=50))
        session.add(mentor)
    return ids, job["id"], mentor.id


def test_a_run_through_the_api_writes_explained_proposals_within_capacity(client, people, engine, on):
    ids, job_id, mentor_id = _cohort(client, people, engine, places=1)
    run = run_through_api(client)
    assert run.status_code == 200 and run.json()["status"] == "finished", run.text
    body = run.json()
    assert body["source"] == "api" and body["actor_id"] == people["manager"].id
    assert body["counts"]["mentoring"]["proposals"] == 2  # the mentor's capacity
    assert body["counts"]["opportunity"]["proposals"] == 3  # one place, three referrals per place
    assert set(body["counts"]["seconds"]) >= {"read_state", "solve_mentoring", "write_opportunity"}
    with db.session_scope(engine) as session:
        proposals = session.exec(select(Match).where(Match.run_id == body["id"])).all()
        assert {m.care_leaver_id for m in proposals} <= set(ids)
        assert all(m.state == "proposed" and m.model_version == body["model_version"] and 0 <= m.score <= 1
                   and m.reasons for m in proposals)
        assert any("km away" in reason or "same postcode district" in reason
                   for m in proposals for reason in m.reasons)
        events = session.exec(select(MatchEvent).where(MatchEvent.match_id.in_([m.id for m in proposals]))).all()
        assert len(events) == len(proposals) and {e.to_state for e in events} == {"proposed"}
    # A second run proposes nothing new: the mentor's slots and the job's referrals are spoken for.
    again = run_through_api(client).json()
    assert again["counts"]["mentoring"]["proposals"] == 0 and again["counts"]["opportunity"]["proposals"] == 0
    assert [r["id"] for r in client.get("/api/v1/match-runs").json()] == [again["id"], body["id"]]


def test_rejected_pairs_are_not_proposed_again(client, people, engine, on):
    ids, job_id, mentor_id = _cohort(client, people, engine, young=1, places=1)
    first = run_through_api(client).json()
    with db.session_scope(db.writer(engine)) as session:
        proposal = session.exec(select(Match).where(Match.run_id == first["id"], Match.kind == "mentoring")).one()
        lifecycle.transition(session, proposal.id, lifecycle.Change("rejected", proposal.version, "not for them",
                                                                    "poor_fit"), actor_id=people["adviser"].id)
    second = run_through_api(client).json()
    assert second["counts"]["mentoring"]["proposals"] == 0
    explained = client.get(f"/api/v1/care-leavers/{ids[0]}/alternatives").json()
    assert {"rule": "not_rejected_before", "says": "an adviser rejected this pair before", "count": 1} in \
        explained["mentoring"]["excluded"]


def test_a_failed_run_leaves_no_partial_proposals(client, people, engine, on, monkeypatch):
    _cohort(client, people, engine)
    real = runs._write_proposals

    def fail_after_mentoring(session, state, kind, *args):
        written = real(session, state, kind, *args)
        if kind == "opportunity":
            raise RuntimeError("disk full")
        return written

    monkeypatch.setattr(runs, "_write_proposals", fail_after_mentoring)
    with pytest.raises(RuntimeError):
        engine_run(engine)
    with db.session_scope(engine) as session:
        assert session.exec(select(Match)).all() == [] and session.exec(select(MatchRun)).all() == []
        assert session.exec(select(MatchEvent)).all() == []


def engine_run(sa_engine):
    return engine.run(sa_engine, today=TODAY, actor_id=None, source="cli")


def test_two_runs_at_once_cannot_both_write(client, people, engine, on):
    _cohort(client, people, engine)
    lock = runs._RUNS_IN_PROCESS.setdefault(str(engine.url), threading.Lock())
    with lock:  # a run is under way in this process
        refused = run_through_api(client).json()  # queued, then refused by the engine when carried out
    assert refused["status"] == "failed" and "already in progress" in refused["error"]
    if engine.dialect.name == "postgresql":  # another instance holds the advisory lock
        with engine.connect() as other, other.begin():
            other.exec_driver_sql(f"SELECT pg_advisory_xact_lock({runs.RUN_LOCK_KEY})")
            with pytest.raises(Conflict, match="another instance"):
                engine_run(engine)
    with db.session_scope(engine) as session:
        assert session.exec(select(Match)).all() == []
    assert run_through_api(client).json()["status"] == "finished"


def test_alternatives_are_ranked_explained_scoped_and_audited(client, people, engine, on):
    ids, job_id, mentor_id = _cohort(client, people, engine, young=1)
    adviser = people["adviser"].headers
    found = client.get(f"/api/v1/care-leavers/{ids[0]}/alternatives?limit=3", headers=adviser)
    assert found.status_code == 200, found.text
    body = found.json()
    assert [item["id"] for item in body["mentoring"]["ranked"]] == [mentor_id]
    assert body["opportunity"]["ranked"][0]["id"] == job_id
    assert "both interested in parks" in body["mentoring"]["ranked"][0]["reasons"]
    other = client.get(f"/api/v1/care-leavers/{ids[0]}/alternatives", headers=people["other_adviser"].headers)
    assert other.status_code == 404
    with db.session_scope(engine) as session:
        audited = session.exec(select(AuditEvent).where(AuditEvent.entity_id == ids[0],
                                                        AuditEvent.actor_id == people["adviser"].id)).all()
        assert [a.action for a in audited][-1] == "read" and "alternatives" in audited[-1].route
    assert client.get(f"/api/v1/care-leavers/{ids[0]}/alternatives?limit=0").status_code == 400


def test_explain_on_the_command_line(client, people, engine, on, database_url, monkeypatch, tmp_path):
    ids, _, _ = _cohort(client, people, engine, young=1)
    with db.session_scope(db.writer(engine)) as session:
        session.get(CareLeaver, ids[0]).consent_share_mentors = False
        reference = session.get(CareLeaver, ids[0]).case_reference
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    from matching.settings import get_settings
    get_settings.cache_clear()
    CLOCK.fix(TODAY + timedelta(days=400))  # the opportunity has closed by then: the option must win
    try:
        result = CliRunner().invoke(main, ["--today", TODAY.isoformat(), "match", "explain", reference])
        missing = CliRunner().invoke(main, ["match", "explain", "NOPE"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Opportunity: 1 eligible" in result.output and "1. OPP-" in result.output
    assert "excluded 1: the young person has not agreed to share their profile [consent_to_share]" in result.output
    assert missing.exit_code != 0 and "no care leaver has the case reference NOPE" in missing.output


def test_settings_are_validated_versioned_and_used(client, people, engine, on):
    _cohort(client, people, engine, young=1)
    current = client.get("/api/v1/settings/matching").json()
    assert current["version"] == 0 and current["value"]["weights"]["interests"] == 0.3
    bad = client.put("/api/v1/settings/matching", json={"version": 0, "value": {"weights": {"charm": 1}}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "value.weights", bad.json()
    assert current["value"]["coverage_bonus"] == 0.1
    too_much = client.put("/api/v1/settings/matching", json={"version": 0, "value": {"coverage_bonus": 1.5}})
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "value.coverage_bonus"
    changed = client.put("/api/v1/settings/matching", json={"version": 0, "value": {
        "weights": {"distance": 1.0}, "must_have": ["languages"], "coverage_bonus": 0.25}})
    assert changed.status_code == 200 and changed.json()["version"] == 1
    stale = client.put("/api/v1/settings/matching", json={"version": 0, "value": {}})
    assert stale.status_code == 409
    assert client.get("/api/v1/settings/unknown").status_code == 404
    run = run_through_api(client).json()
    assert run["model_version"] != current_weights_version(client) and run["parameters"]["must_have"] == ["languages"]
    assert run["parameters"]["coverage_bonus"] == 0.25  # the run records the trade it was made with
    assert run["counts"]["opportunity"]["proposals"] == 0  # nobody shares a language with a job
    assert run["counts"]["mentoring"]["proposals"] == 0  # the mentor speaks only English


def current_weights_version(client) -> str:
    from matching.council_settings import MatchingSettings
    from matching.engine.scoring import weights_scorer
    return weights_scorer(MatchingSettings()).version


def _labelled_history(engine, people, count=240):
    """Outcomes where success is exactly the jobs without a guaranteed interview: the default weights
    (which favour guaranteed interviews) rank them backwards, so a learned model must do better."""
    with db.session_scope(db.writer(engine)) as session:
        for n in range(count):
            person = CareLeaver(case_reference=f"H{n:04d}", first_name="H", date_of_birth=date(2004, 1, 1),
                                leaving_care_category="former_relevant", home_area="E8", consent_share_employers=True)
            job = Opportunity(reference=f"H-{n}", department_id=people["department"].department_id, kind="job",
                              title="Clerk", area="E8", guaranteed_interview=n % 2 == 0)
            session.add_all([person, job])
            session.flush()
            match = lifecycle.propose(session, care_leaver_id=person.id, opportunity_id=job.id)
            match.state = "not_successful" if job.guaranteed_interview else "completed"
            session.add(Outcome(match_id=match.id, recorded_on=TODAY,
                                kind="not_successful" if job.guaranteed_interview else "placement_completed"))


def test_learning_keeps_a_model_only_when_it_beats_the_current_one(client, people, engine, on, settings):
    refused = client.post("/api/v1/match-models").json()
    assert refused["trained"] is False and "needs at least 200" in refused["reason"]
    _labelled_history(engine, people)
    first = client.post("/api/v1/match-models").json()
    assert first["status"] == "current", first
    assert first["metrics"]["held_out"]["roc_auc"] > first["metrics"]["current_on_same_rows"]["roc_auc"]
    assert first["metrics"]["current_on_same_rows"]["version"].startswith("weights-")
    again = client.post("/api/v1/match-models").json()
    assert again["status"] == "declined"  # no better than the model now current
    listed = client.get("/api/v1/match-models").json()
    assert [(m["version"], m["status"]) for m in listed if m["status"] == "current"] == [(first["version"], "current")]
    assert all("path" not in m and "sha256" not in m for m in listed)
    run = run_through_api(client).json()
    assert run["model_version"] == first["version"]


def test_a_swapped_model_file_is_refused(client, people, engine, on, settings):
    """A run scores with the numbers stored on the model's row; a model stored before they were (0018) is read
    from its file, and a swapped file is refused then."""
    _labelled_history(engine, people)
    version = client.post("/api/v1/match-models").json()["version"]
    with db.session_scope(db.writer(engine)) as session:
        row = session.get(ScoringModel, version)
        row.parameters = {}  # as a model trained before its numbers were stored
    learning.load_model.cache_clear()
    path = Path(row.path)
    path.write_bytes(path.read_bytes() + b"tampered")
    assert hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256
    refused = run_through_api(client).json()
    assert refused["status"] == "failed" and "does not match its recorded digest" in refused["error"]


def test_the_fairness_report_covers_every_open_case_in_each_grouping(client, people, engine, on):
    _cohort(client, people, engine, places=2)  # six referrals for four people
    run_through_api(client)
    report = client.get("/api/v1/match-models/fairness").json()
    assert set(report["groups"]) == {"sex", "ethnicity", "disability", "former_uasc"}
    for groups in report["groups"].values():
        assert sum(g["open_cases"] for g in groups.values()) == 4
    assert report["groups"]["ethnicity"]["Black"]["exposure"] == 1.0  # all four were proposed something
