"""Every read that returns anything about a young person writes its audit rows, proved from the route table:
each GET under /api/v1 is called as every role its policy admits, against a database holding one young person,
and every answer that contains their id or case reference must have left an audit row for them by that caller.
A new route that forgets to audit fails here without anyone writing a test for it; so does a route with a path
parameter this test cannot fill (it says which)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.routes import HTTPRoute
from sqlmodel import select

from matching import council_settings, db, lifecycle
from matching.models import AuditEvent, CareLeaver, CheckIn, Match, MatchRun, Mentor
from tests import factories
from tests.engine_world import TODAY

API = "/api/v1"
# The audit trail itself: its rows are the ids of those read, and reading them is not reading about anyone.
# Auditing it would add a row for every row it shows, each read of the trail growing the next.
NOT_AUDITED = {f"{API}/audit-events": "the audit trail of who read whom"}
ROLE_OF = {role: role for role in ("admin", "manager", "adviser", "mentor", "department")}
VETTED = {"dbs_checked_on": TODAY - timedelta(days=200), "safeguarding_trained_on": TODAY - timedelta(days=200)}


def _world(client, people, engine) -> dict[str, Any]:
    """One young person on the adviser's caseload, with a live mentoring match (an overdue check-in, no
    meeting) and a referral to the department's opportunity; never contacted, no pathway review yet."""
    person = client.post(f"{API}/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people["adviser"].id, case_reference="ZQ900001")).json()
    job = client.post(f"{API}/opportunities", json=factories.opportunity(people["department"].department_id)).json()
    with db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=3, **VETTED)
        session.add(mentor)
        session.flush()
        mentoring = lifecycle.propose(session, care_leaver_id=person["id"], mentor_id=mentor.id)
        referral = lifecycle.propose(session, care_leaver_id=person["id"], opportunity_id=job["id"])
        mentoring.state, referral.state = "active", "referred"
        session.flush()
        session.add(CheckIn(match_id=mentoring.id, due_on=TODAY - timedelta(days=20), label="First month"))
        run = MatchRun(source="cli")
        session.add(run)
        # Known for half a year: long enough to be waiting, once no match holds a place or slot.
        session.execute(sa.update(CareLeaver).where(CareLeaver.id == person["id"])
                        .values(created_at=datetime.combine(TODAY - timedelta(days=180), datetime.min.time(), UTC)))
        session.flush()
        return {"person": person, "department": people["department"].department_id, "mentor": mentor.id,
                "job": job["id"], "matches": [mentoring.id, referral.id], "mentee_match": mentoring.id,
                "run": run.id}


def _values(path: str, name: str, world: dict[str, Any]) -> list[Any]:
    resource = path.removeprefix(API + "/").split("/")[0]
    by_resource = {"care-leavers": world["person"]["id"], "departments": world["department"],
                   "mentors": world["mentor"], "opportunities": world["job"]}
    if name == "record_id":
        return [by_resource[resource]]
    if name == "match_id":
        return [world["mentee_match"]] if resource == "me" else world["matches"]
    known = {"care_leaver_id": [world["person"]["id"]], "run_id": [world["run"]],
             "group": list(council_settings.GROUPS)}
    assert name in known, f"{path}: give this test a value for the path parameter {name!r}"
    return known[name]


def _calls(app, world: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(route template, address, role) for every GET under /api/v1, every role its policy admits."""
    calls = []
    for route in app.routes:
        if not (isinstance(route, HTTPRoute) and route.path.startswith(API)):
            continue
        for handler in route.route_handlers:
            if "GET" not in handler.http_methods:
                continue
            addresses = [route.path]
            for name in route.path_parameters:
                addresses = [address.replace(f"{{{name}:{kind}}}", str(value))
                             for address in addresses for kind in ("int", "str") if f"{{{name}:{kind}}}" in address
                             for value in _values(route.path, name, world)]
            policy = handler.opt.get("policy") or {}
            calls += [(route.path, address, role) for address in addresses for role in policy if role in ROLE_OF]
    return calls


def _mentions(body: Any, person_id: int, reference: str) -> bool:
    """Whether an answer names the young person: their id under any care_leaver_id (or an audit row's
    entity_id), or their case reference anywhere."""
    stack = [body]
    while stack:
        value = stack.pop()
        if value == reference:
            return True
        if isinstance(value, dict):
            if value.get("care_leaver_id") == person_id:
                return True
            if value.get("entity") == "care_leaver" and value.get("entity_id") == person_id:
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _audit_rows(engine, person_id: int, actor_id: int, after: int) -> int:
    with db.session_scope(engine) as session:
        return len(session.exec(select(AuditEvent.id).where(
            AuditEvent.entity == "care_leaver", AuditEvent.entity_id == person_id,
            AuditEvent.actor_id == actor_id, AuditEvent.id > after)).all())


def _last_audit_id(engine) -> int:
    with db.session_scope(engine) as session:
        return session.exec(select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0))).one()


def _sweep(client, people, engine, world) -> tuple[set[str], list[str]]:
    """Every call; the route templates whose answers named the young person, and those that did not audit."""
    person = world["person"]
    named, forgot = set(), []
    for template, address, role in _calls(client.app, world):
        before = _last_audit_id(engine)
        response = client.get(address, headers=people[ROLE_OF[role]].headers)
        assert response.status_code < 500, (address, role, response.text)
        if response.status_code != 200 or not _mentions(response.json(), person["id"], person["case_reference"]):
            continue
        named.add(template)
        if template not in NOT_AUDITED and not _audit_rows(engine, person["id"], people[ROLE_OF[role]].id, before):
            forgot.append(f"{role} GET {address}")
    return named, forgot


def test_every_get_route_that_names_a_young_person_audits_the_read(client, people, engine):
    world = _world(client, people, engine)
    named, forgot = _sweep(client, people, engine, world)
    # Once the matches have ended, nothing holds a slot or place for them: they are waiting again.
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(Match).values(state="completed"))
    named_after, forgot_after = _sweep(client, people, engine, world)
    assert forgot + forgot_after == []
    # The sweep reached every kind of read that shows a young person (so it cannot pass by seeing none).
    assert {f"{API}/matches", f"{API}/matches/{{match_id:int}}", f"{API}/attention/not-in-touch",
            f"{API}/attention/pathway-reviews", f"{API}/attention/check-ins", f"{API}/attention/entitlements",
            f"{API}/attention/waiting", f"{API}/attention/no-meetings", f"{API}/care-leavers",
            f"{API}/care-leavers/{{record_id:int}}", f"{API}/care-leavers/{{care_leaver_id:int}}/alternatives",
            f"{API}/me/mentees",
            f"{API}/me/referrals", *NOT_AUDITED} <= named | named_after


@pytest.mark.parametrize("address", ["/matches", "/attention/not-in-touch"])
def test_a_list_audits_each_young_person_once_as_listed(client, people, engine, address):
    world = _world(client, people, engine)
    before = _last_audit_id(engine)
    assert client.get(API + address).status_code == 200
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert [(r.entity, r.entity_id, r.action, r.actor_id, r.route) for r in rows] == [
        ("care_leaver", world["person"]["id"], "list", people["manager"].id, f"GET {API}{address}")]
