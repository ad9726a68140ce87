"""The targets one person's alternatives reuse (engine.state's snapshot): after a match changes only capacity is
read again, after a profile changes everything is, and either way the alternatives equal a fresh read's."""

from datetime import timedelta

import pytest
from sqlmodel import select

from matching import db, lifecycle
from matching.clock import CLOCK
from matching.engine import runs, state
from matching.models import Match, Opportunity
from tests import factories
from tests.test_engine_runs import TODAY, _cohort


@pytest.fixture
def on(client):
    CLOCK.fix(TODAY)


def _alternatives(engine, person_id):
    with db.session_scope(engine) as session:
        return runs.alternatives(session, person_id, today=TODAY, limit=5)


def _fresh_remaining(engine) -> dict[str, dict[int, int]]:
    """What remains of each target's capacity, from a whole read that reuses nothing."""
    with db.session_scope(engine) as session:
        read = state.read_targets(session.connection(), TODAY, 3)
    return {kind: dict(zip(side.ids.tolist(), side.remaining.tolist(), strict=True)) for kind, side in read.items()}


def _held_remaining() -> dict[str, dict[int, int]]:
    held = state._SNAPSHOT["targets"]
    return {kind: dict(zip(side.ids.tolist(), side.remaining.tolist(), strict=True)) for kind, side in held.items()}


def _propose_and_approve(engine, person_id, mentor_id):
    with db.session_scope(db.writer(engine)) as session:
        match = lifecycle.propose(session, care_leaver_id=person_id, mentor_id=mentor_id)
        lifecycle.transition(session, match.id, lifecycle.Change(to="approved", version=match.version),
                             actor_id=None, today=TODAY)


def test_a_match_change_reads_only_capacity_and_a_profile_change_reads_everything(client, people, engine, on):
    ids, job_id, mentor_id = _cohort(client, people, engine, young=3)
    state._SNAPSHOT.clear()
    first = _alternatives(engine, ids[0])
    shared, targets = state._SNAPSHOT["shared"], state._SNAPSHOT["targets"]
    assert _held_remaining() == _fresh_remaining(engine)

    _propose_and_approve(engine, ids[1], mentor_id)  # takes one of the mentor's two slots: no profile changes
    after_match = _alternatives(engine, ids[0])
    assert state._SNAPSHOT["targets"] is not targets and state._SNAPSHOT["shared"] is shared  # text model kept
    assert _held_remaining() == _fresh_remaining(engine)
    assert _held_remaining()["mentoring"][mentor_id] == 1
    state._SNAPSHOT.clear()
    assert after_match == _alternatives(engine, ids[0])  # the same as with nothing reused
    assert first["mentoring"]["ranked"] == after_match["mentoring"]["ranked"]  # a slot is left: still proposed

    _propose_and_approve(engine, ids[2], mentor_id)  # the last slot: the mentor drops out of the ranking
    full = _alternatives(engine, ids[0])
    assert full["mentoring"]["ranked"] == [] and _held_remaining() == _fresh_remaining(engine)

    shared = state._SNAPSHOT["shared"]
    with db.session_scope(db.writer(engine)) as session:  # a profile edit bumps the version: a whole read
        session.get(Opportunity, job_id).title = "Park ranger apprentice"
    edited = _alternatives(engine, ids[0])
    assert state._SNAPSHOT["shared"] is not shared
    assert edited["opportunity"]["ranked"][0]["label"].endswith("Park ranger apprentice")
    state._SNAPSHOT.clear()
    assert edited == _alternatives(engine, ids[0])


def test_a_new_target_is_a_whole_read(client, people, engine, on):
    ids, job_id, _ = _cohort(client, people, engine, young=1)
    state._SNAPSHOT.clear()
    _alternatives(engine, ids[0])
    posted = client.post("/api/v1/opportunities", json=factories.opportunity(
        people["department"].department_id, title="Tree surgeon trainee", places=1,
        closes_on=(TODAY + timedelta(days=5)).isoformat(), starts_on=(TODAY + timedelta(days=30)).isoformat()))
    assert posted.status_code == 201, posted.text
    found = _alternatives(engine, ids[0])
    assert {item["id"] for item in found["opportunity"]["ranked"]} == {job_id, posted.json()["id"]}
    assert _held_remaining() == _fresh_remaining(engine)
    with db.session_scope(engine) as session:
        assert session.exec(select(Match)).all() == []
