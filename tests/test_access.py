"""People and access: every route as every role, ownership, narrow views, tokens, audit, headers."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar.routes import HTTPRoute
from sqlmodel import Session, select

from matching import db
from matching.clock import utcnow
from matching.models import ApiToken, AuditEvent, Match, Mentor, User, UserCreate
from matching.services import records, users
from tests import factories

EVERYONE = {"admin", "manager", "adviser", "mentor", "department"}
R = "{record_id:int}"
# The allowed roles of every JSON route. A route missing here fails test_every_route_has_a_rule.
EXPECTED = {
    ("GET", "/api/v1/departments"): EVERYONE, ("GET", f"/api/v1/departments/{R}"): EVERYONE,
    ("POST", "/api/v1/departments"): {"admin", "manager"}, ("PATCH", f"/api/v1/departments/{R}"): {"admin", "manager"},
    ("POST", f"/api/v1/departments/{R}/close"): {"admin", "manager"},
    ("GET", "/api/v1/mentors"): {"admin", "manager", "adviser", "mentor"},
    ("GET", f"/api/v1/mentors/{R}"): {"admin", "manager", "adviser", "mentor"},
    ("POST", "/api/v1/mentors"): {"admin", "manager"}, ("PATCH", f"/api/v1/mentors/{R}"): {"admin", "manager", "mentor"},
    ("POST", f"/api/v1/mentors/{R}/close"): {"admin", "manager"},
    ("GET", "/api/v1/opportunities"): {"manager", "adviser", "mentor", "department"},
    ("GET", f"/api/v1/opportunities/{R}"): {"manager", "adviser", "mentor", "department"},
    ("POST", "/api/v1/opportunities"): {"manager", "department"},
    ("PATCH", f"/api/v1/opportunities/{R}"): {"manager", "department"},
    ("POST", f"/api/v1/opportunities/{R}/close"): {"manager", "department"},
    ("GET", "/api/v1/care-leavers"): {"manager", "adviser"}, ("GET", f"/api/v1/care-leavers/{R}"): {"manager", "adviser"},
    ("POST", "/api/v1/care-leavers"): {"manager", "adviser"},
    ("PATCH", f"/api/v1/care-leavers/{R}"): {"manager", "adviser"},
    ("GET", "/api/v1/users"): {"admin"}, ("POST", "/api/v1/users"): {"admin"},
    ("GET", "/api/v1/tokens"): {"admin"}, ("POST", "/api/v1/tokens"): {"admin"},
    ("POST", "/api/v1/tokens/{token_id:int}/revoke"): {"admin"},
    ("GET", "/api/v1/audit-events"): {"manager"},
    ("GET", "/api/v1/me"): EVERYONE, ("GET", "/api/v1/me/mentees"): {"mentor"},
    ("GET", "/api/v1/me/referrals"): {"department"},
    ("GET", "/api/v1/matches"): {"manager", "adviser", "department"},
    ("GET", "/api/v1/matches/{match_id:int}"): {"manager", "adviser", "department"},
    ("POST", "/api/v1/matches/{match_id:int}/transitions"): {"manager", "adviser", "department"},
    ("POST", "/api/v1/care-leavers/{care_leaver_id:int}/close"): {"manager", "adviser"},
    ("POST", "/api/v1/care-leavers/{care_leaver_id:int}/reopen"): {"manager", "adviser"},
    ("POST", "/api/v1/care-leavers/{care_leaver_id:int}/contacts"): {"manager", "adviser"},
    ("POST", "/api/v1/care-leavers/{care_leaver_id:int}/support-requests"): {"manager", "adviser"},
    ("POST", "/api/v1/care-leavers/{care_leaver_id:int}/kept-open"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/birthdays"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/unallocated"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/stale-matches"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/lapsed-vetting"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/not-in-touch"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/pathway-reviews"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/waiting"): {"manager", "adviser"},
    ("GET", "/api/v1/attention/entitlements"): {"manager", "adviser"},
    ("GET", "/api/v1/care-leavers/{care_leaver_id:int}/entitlements"): {"manager", "adviser"},
    ("PUT", "/api/v1/care-leavers/{care_leaver_id:int}/entitlements/{code:str}"): {"manager", "adviser"},
    ("GET", "/api/v1/local-offer"): EVERYONE, ("POST", "/api/v1/local-offer"): {"manager"},
    ("GET", "/api/v1/attention/check-ins"): {"manager", "adviser"},
    ("POST", "/api/v1/matches/{match_id:int}/check-ins/{check_in_id:int}/done"): {"manager", "adviser", "department"},
    ("POST", "/api/v1/matches/{match_id:int}/meetings"): {"manager", "adviser"},
    ("POST", "/api/v1/me/mentees/{match_id:int}/meetings"): {"mentor"},
    ("GET", "/api/v1/me/mentees/{match_id:int}/meetings"): {"mentor"},
    ("GET", "/api/v1/attention/no-meetings"): {"manager", "adviser"},
    ("POST", "/api/v1/match-runs"): {"manager"}, ("GET", "/api/v1/match-runs"): {"manager"},
    ("GET", "/api/v1/match-runs/{run_id:int}"): {"manager"},
    ("GET", "/api/v1/care-leavers/{care_leaver_id:int}/alternatives"): {"manager", "adviser"},
    ("GET", "/api/v1/match-models"): {"manager"}, ("POST", "/api/v1/match-models"): {"manager"},
    ("GET", "/api/v1/match-models/fairness"): {"manager"},
    ("GET", "/api/v1/settings/{group:str}"): {"manager"}, ("PUT", "/api/v1/settings/{group:str}"): {"manager"},
}


def api_routes(app) -> set[tuple[str, str]]:
    return {(method, route.path) for route in app.routes if isinstance(route, HTTPRoute)
            and route.path.startswith("/api/") for method in route.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_a_rule(client):
    assert api_routes(client.app) == set(EXPECTED)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("method,path", sorted(EXPECTED))
def test_every_route_as_every_role_and_anonymously(client, people, method, path):
    url = re.sub(r"\{\w+:int\}", "999999", path).replace("{code:str}", "council_tax_exemption")
    url = url.replace("{group:str}", "matching")
    body = {} if method in {"POST", "PATCH", "PUT"} else None
    assert client.request(method, url, json=body, headers={"Authorization": ""}).status_code == 401
    for name in EVERYONE:
        status = client.request(method, url, json=body, headers=people[name].headers).status_code
        if name in EXPECTED[(method, path)]:
            assert status not in {401, 403}, f"{name} refused {method} {path}"
        else:
            assert status == 403, f"{name} got {status} on {method} {path}"


def test_a_bad_or_revoked_token_is_refused(client, people):
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer sb_not-a-token"}).status_code == 401
    issued = client.post("/api/v1/tokens", json={"user_id": people["adviser"].id, "name": "integration"},
                         headers=people["admin"].headers).json()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"}).json()["role"] == "adviser"
    listed = client.get("/api/v1/tokens", headers=people["admin"].headers).text
    assert issued["token"] not in listed and "token_hash" not in listed
    client.post(f"/api/v1/tokens/{issued['id']}/revoke", headers=people["admin"].headers)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"}).status_code == 401


def test_deactivating_a_user_in_this_process_refuses_their_token_at_once(client, people, engine):
    headers = people["adviser"].headers
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # now remembered by the identity cache
    with db.session_scope(db.writer(engine)) as session:
        session.get(User, people["adviser"].id).active = False
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_when_its_cache_entry_expires(client, people, engine):
    """A plain UPDATE stands for another instance: this process's sessions never see it."""
    now = [0.0]
    client.app.state.identities.clock = lambda: now[0]
    headers = people["adviser"].headers
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    tokens = ApiToken.__table__
    with engine.begin() as connection:
        connection.execute(sa.update(tokens).where(tokens.c.user_id == people["adviser"].id).values(revoked_at=utcnow()))
    now[0] += client.app.state.settings.identity_cache_seconds - 0.1
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    now[0] += 0.2
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_advisers_see_and_change_only_their_own_caseload(client, people):
    mine = client.post("/api/v1/care-leavers", json=factories.care_leaver(), headers=people["adviser"].headers)
    assert mine.status_code == 201 and mine.json()["personal_adviser_id"] == people["adviser"].id
    theirs = client.post("/api/v1/care-leavers", json=factories.care_leaver(),
                         headers=people["other_adviser"].headers).json()
    listed = client.get("/api/v1/care-leavers", headers=people["adviser"].headers).json()
    assert [p["id"] for p in listed["items"]] == [mine.json()["id"]]
    url = f"/api/v1/care-leavers/{theirs['id']}"
    assert client.get(url, headers=people["adviser"].headers).status_code == 404
    assert client.patch(url, json={"in_touch": "NO", "version": 1}, headers=people["adviser"].headers).status_code == 404
    steal = client.patch(f"/api/v1/care-leavers/{mine.json()['id']}", headers=people["adviser"].headers,
                         json={"personal_adviser_id": people["other_adviser"].id, "version": 1})
    assert steal.status_code == 422 and steal.json()["errors"][0]["field"] == "personal_adviser_id"
    assert client.get(url).status_code == 200  # a manager sees everyone


def test_mentors_reach_only_their_own_profile(client, people, engine):
    with db.session_scope(db.writer(engine)) as session:
        mine = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id, job_title="Head")
        other_user = users.create_user(session, UserCreate(email="m2@x.gov.uk", full_name="Other Mentor",
                                                                 role="mentor", department_id=mine.department_id))
        theirs = Mentor(user_id=other_user.id, department_id=mine.department_id, job_title="Director")
        session.add_all([mine, theirs])
    headers = people["mentor"].headers
    assert [m["id"] for m in client.get("/api/v1/mentors", headers=headers).json()["items"]] == [mine.id]
    assert client.get(f"/api/v1/mentors/{theirs.id}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/mentors/{theirs.id}", json={"capacity": 0, "version": 1},
                        headers=headers).status_code == 404
    assert client.patch(f"/api/v1/mentors/{mine.id}", json={"capacity": 3, "version": 1},
                        headers=headers).json()["capacity"] == 3


def test_departments_manage_only_their_own_opportunities(client, people):
    own, other = people["department"], people["other_department"]
    created = client.post("/api/v1/opportunities", json=factories.opportunity(own.department_id), headers=own.headers)
    assert created.status_code == 201
    theirs = client.post("/api/v1/opportunities", json=factories.opportunity(other.department_id),
                         headers=other.headers).json()
    forged = client.post("/api/v1/opportunities", json=factories.opportunity(other.department_id), headers=own.headers)
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "department_id"
    assert [o["id"] for o in client.get("/api/v1/opportunities", headers=own.headers).json()["items"]] == [
        created.json()["id"]]
    for method, suffix, body in [("GET", "", None), ("PATCH", "", {"places": 9, "version": 1}),
                                 ("POST", "/close", {"reason": "mine now", "version": 1})]:
        response = client.request(method, f"/api/v1/opportunities/{theirs['id']}{suffix}", json=body,
                                  headers=own.headers)
        assert response.status_code == 404


def _match(engine, person_id: int, **sides) -> None:
    with db.session_scope(db.writer(engine)) as session:
        session.add(Match(care_leaver_id=person_id, score=0.8, **sides))


def test_mentors_see_only_what_they_need_of_their_mentees(client, people, engine):
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        first_name="Amara", preferred_name="Mara", aspirations="Work in parks", support_needs="PRIVATE",
        consent_share_mentors=True)).json()
    stranger = client.post("/api/v1/care-leavers", json=factories.care_leaver(first_name="Zed")).json()
    with db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id, job_title="Head")
        session.add(mentor)
    _match(engine, person["id"], mentor_id=mentor.id, kind="mentoring", state="active",
           contact_arrangements="Fortnightly, Tuesdays at the library")
    _match(engine, stranger["id"], mentor_id=mentor.id, kind="mentoring", state="proposed")
    seen = client.get("/api/v1/me/mentees", headers=people["mentor"].headers).json()
    assert seen == [{"match_id": seen[0]["match_id"], "care_leaver_id": person["id"], "state": "active",
                     "first_name": "Mara", "interests": ["music", "cooking"], "goals": "Work in parks",
                     "contact_arrangements": "Fortnightly, Tuesdays at the library"}]
    assert client.get(f"/api/v1/care-leavers/{person['id']}", headers=people["mentor"].headers).status_code == 403
    with Session(engine) as session:
        audited = session.exec(select(AuditEvent).where(AuditEvent.actor_id == people["mentor"].id)).all()
    assert [(a.action, a.entity_id) for a in audited] == [("list", person["id"])]


def test_departments_see_only_referrals_to_their_own_opportunities(client, people, engine):
    own, other = people["department"], people["other_department"]
    job = client.post("/api/v1/opportunities", json=factories.opportunity(own.department_id), headers=own.headers).json()
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        consent_share_employers=True, skills=["first aid"], accessibility_needs="Step-free access")).json()
    _match(engine, person["id"], opportunity_id=job["id"], kind="opportunity", state="referred")
    seen = client.get("/api/v1/me/referrals", headers=own.headers).json()
    assert len(seen) == 1 and seen[0]["accessibility_needs"] == "Step-free access"
    assert not {"date_of_birth", "support_needs", "ethnicity", "home_area", "in_touch"} & set(seen[0])
    assert client.get("/api/v1/me/referrals", headers=other.headers).json() == []


def test_managers_filter_the_audit_trail_and_closing_records_who(client, people, session):
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(),
                         headers=people["adviser"].headers).json()
    client.get(f"/api/v1/care-leavers/{person['id']}", headers=people["adviser"].headers)
    client.get(f"/api/v1/care-leavers/{person['id']}")
    trail = client.get(f"/api/v1/audit-events?entity_id={person['id']}&actor_id={people['adviser'].id}").json()
    assert [(e["action"], e["actor_id"]) for e in trail["items"]] == [("read", people["adviser"].id),
                                                                      ("create", people["adviser"].id)]
    assert trail["items"][0]["route"] == f"GET /api/v1/care-leavers/{person['id']}"
    job = client.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id)).json()
    closed = client.post(f"/api/v1/opportunities/{job['id']}/close", json={"reason": "Filled", "version": 1}).json()
    assert closed["closed_by_id"] == people["manager"].id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_security_headers_on_every_response(client):
    for url, headers in [("/health", {}), ("/api/v1/me", {}), ("/api/v1/me", {"Authorization": ""}),
                         ("/api/v1/departments/999999", {})]:
        response = client.get(url, headers=headers)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers
    assert client.get("/api/v1/me").headers["cache-control"] == "no-store"
    assert "max-age" in client.get("https://testserver.local/health").headers["strict-transport-security"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_stack_traces_reach_users(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail: /srv/secret.py line 42")

    monkeypatch.setattr(records, "get", broken)
    response = client.get("/api/v1/departments/1")
    assert response.status_code == 500
    assert "internal detail" not in response.text and "Traceback" not in response.text


def test_repeated_wrong_passwords_lock_the_account_for_a_while(engine):
    with db.session_scope(db.writer(engine)) as session:
        users.create_user(session, UserCreate(email="pat@x.gov.uk", full_name="Pat", role="adviser",
                                                    password="correct horse battery"))
    from datetime import UTC, datetime

    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with db.session_scope(db.writer(engine)) as session:
        for minute in range(users.MAX_FAILED_LOGINS):
            assert users.authenticate(session, "pat@x.gov.uk", "wrong", now=start + timedelta(minutes=minute)) is None
        locked = start + timedelta(minutes=users.MAX_FAILED_LOGINS)
        assert users.authenticate(session, "pat@x.gov.uk", "correct horse battery", now=locked) is None
        later = locked + users.LOCKOUT + timedelta(seconds=1)
        assert users.authenticate(session, "PAT@x.gov.uk", "correct horse battery", now=later).email == "pat@x.gov.uk"
