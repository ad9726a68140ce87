"""The pages: password sign-in with sessions in the database, CSRF on every form, rate limits, role rules."""

import re
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from api.app import create_app
from matching import clock, db, lifecycle
from matching.clock import utcnow
from matching.models import AuditEvent, CareLeaver, Match, Meeting, Mentor, StoredValue, User
from matching.services.users import MAX_FAILED_LOGINS
from tests import factories, page_rules
from tests.conftest import PASSWORD


def csrf(page_text: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page_text).group(1)


def sign_in(client, who: str, password: str = PASSWORD):
    token = csrf(client.get("/sign-in").text)
    return client.post("/sign-in", data={"email": f"{who}@test.example.gov.uk", "password": password,
                                         "_csrf_token": token}, follow_redirects=False)


def test_sign_in_lands_on_the_role_home_and_sign_out_ends_the_session(browser):
    assert browser.get("/caseload", follow_redirects=False).headers["location"].startswith("/sign-in")
    signed = sign_in(browser, "adviser")
    assert signed.status_code == 303 and signed.headers["location"] == "/caseload"
    page = browser.get("/caseload")
    assert page.status_code == 200 and "My caseload" in page.text
    browser.post("/sign-out", data={"_csrf_token": csrf(page.text)})
    assert browser.get("/caseload", follow_redirects=False).headers["location"].startswith("/sign-in")


def test_signing_in_issues_a_new_session_id(browser, settings):
    planted = "0" * 64  # as if someone had set it in this browser before its owner signs in
    browser.cookies.set("springboard_session", planted, domain="testserver.local")
    assert browser.get("/sign-in").status_code == 200
    sign_in(browser, "adviser")
    assert browser.cookies.get("springboard_session") not in {None, planted}
    with TestClient(app=create_app(settings)) as attacker:
        attacker.cookies.set("springboard_session", planted)
        assert attacker.get("/caseload", follow_redirects=False).headers["location"].startswith("/sign-in")


def test_a_wrong_password_says_so_without_saying_which_part(browser):
    refused = sign_in(browser, "adviser", "not the password")
    assert refused.status_code == 200 and "The email address or password is not right" in refused.text
    assert 'class="govuk-error-summary"' in refused.text and "Error: Sign in" in refused.text
    assert sign_in(browser, "nobody").status_code == 200


def test_repeated_failures_lock_the_account_even_with_the_right_password(browser, engine):
    for _ in range(MAX_FAILED_LOGINS):
        sign_in(browser, "manager", "wrong password!")
    assert sign_in(browser, "manager").status_code == 200  # locked, though the password is right
    with db.session_scope(engine) as session:
        user = session.exec(select(User).where(User.email == "manager@test.example.gov.uk")).one()
        assert user.locked_until > utcnow() + timedelta(minutes=14)


def test_sign_in_attempts_are_rate_limited_per_client(browser):
    statuses = [sign_in(browser, "nobody", "x" * 12).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_every_form_needs_its_csrf_token(browser, people):
    sign_in(browser, "adviser")
    refused = browser.post("/proposals/1", data={"decision": "approve", "version": "1"})
    assert refused.status_code == 403
    forged = browser.post("/proposals/1", data={"decision": "approve", "version": "1", "_csrf_token": "forged"})
    assert forged.status_code == 403
    assert browser.post("/sign-in", data={"email": "x@y.z", "password": "p"}).status_code == 403


def test_sessions_live_in_the_database_and_are_shared_by_instances(browser, settings):
    sign_in(browser, "mentor")
    cookie = browser.cookies.get("springboard_session")
    with db.session_scope(db.engine_for(settings.db_url)) as session:
        assert session.exec(select(StoredValue).where(StoredValue.key == f"session:{cookie}")).first() is not None
    with TestClient(app=create_app(settings)) as other_instance:
        other_instance.cookies.set("springboard_session", cookie)
        assert other_instance.get("/mentees").status_code == 200


@pytest.mark.parametrize("role,allowed", [("adviser", {"/caseload", "/proposals"}), ("mentor", {"/mentees"}),
                                          ("department", {"/referrals"}),
                                          ("manager", {"/overview", "/proposals", "/settings", "/models/fairness"}),
                                          ("admin", {"/people"})])
def test_each_role_reaches_only_its_own_pages(browser, role, allowed):
    sign_in(browser, role)
    for path in ("/caseload", "/proposals", "/mentees", "/referrals", "/overview", "/people", "/settings",
                 "/models/fairness"):
        status = browser.get(path, follow_redirects=False).status_code
        assert status == (200 if path in allowed else 403), (role, path, status)


def _proposal(client, people, engine, adviser="adviser"):
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people[adviser].id), headers=people["manager"].headers).json()
    with db.session_scope(db.writer(engine)) as session:
        vetted = clock.today() - timedelta(days=300)  # approval re-checks every rule, vetting included
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=1, office_area="E8", dbs_checked_on=vetted,
                        safeguarding_trained_on=vetted)
        session.add(mentor)
        session.flush()
        match = lifecycle.propose(session, care_leaver_id=person["id"], mentor_id=mentor.id, score=0.8,
                                  reasons=["both interested in music"])
        return person["id"], match.id


def test_an_adviser_approves_a_proposal_from_the_page_and_the_view_is_audited(browser, people, engine):
    person_id, match_id = _proposal(browser, people, engine)
    sign_in(browser, "adviser")
    page = browser.get("/proposals")
    assert "both interested in music" in page.text and "80 out of 100" in page.text
    done = browser.post(f"/proposals/{match_id}", data={"_csrf_token": csrf(page.text), "version": "1",
                                                        "decision": "approve"})
    assert '<p class="govuk-notification-banner__heading">Proposal approved' in done.text  # a heading, not text
    assert "&lt;p" not in done.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "approved"
        audited = session.exec(select(AuditEvent).where(AuditEvent.entity_id == person_id,
                                                        AuditEvent.actor_id == people["adviser"].id)).all()
        assert {a.action for a in audited} == {"list", "update"} and {a.route for a in audited} >= {"GET /proposals"}


def test_another_advisers_proposal_cannot_be_decided_by_changing_the_id(browser, people, engine):
    _, match_id = _proposal(browser, people, engine, adviser="other_adviser")
    sign_in(browser, "adviser")
    page = browser.get("/proposals")
    assert str(match_id) not in re.findall(r'action="/proposals/(\d+)"', page.text)
    refused = browser.post(f"/proposals/{match_id}", data={"_csrf_token": csrf(page.text), "version": "1",
                                                           "decision": "approve"})
    assert refused.status_code == 404
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "proposed"


def test_a_mentor_logs_a_meeting_and_sees_only_first_name_and_goals(browser, people, engine):
    person_id, match_id = _proposal(browser, people, engine)
    with db.session_scope(db.writer(engine)) as session:
        lifecycle.transition(session, match_id, lifecycle.Change("approved", 1), actor_id=None)
        person = session.get(CareLeaver, person_id)
        family, born = person.family_name, person.date_of_birth.isoformat()
    sign_in(browser, "mentor")
    page = browser.get("/mentees")
    assert "Test" in page.text and family not in page.text and born not in page.text
    day = clock.today()
    logged = browser.post(f"/mentees/{match_id}/meetings", data={
        "_csrf_token": csrf(page.text), "met_on-day": str(day.day), "met_on-month": str(day.month),
        "met_on-year": str(day.year), "kind": "in_person", "note": "Coffee"})
    assert logged.status_code == 200 and "logged" in logged.text
    bad = browser.post(f"/mentees/{match_id}/meetings", data={"_csrf_token": csrf(page.text), "met_on-day": "31",
                                                              "met_on-month": "2", "met_on-year": "2026",
                                                              "kind": "in_person"})
    assert bad.status_code == 400 and "The date you met must be a real date" in bad.text
    with db.session_scope(engine) as session:
        assert [m.note for m in session.exec(select(Meeting).where(Meeting.match_id == match_id))] == ["Coffee"]


# Who may use each page, one module per area (tests/page_rules/). A page missing there fails
# test_every_page_has_a_rule; the matrix below tries every page as every role and signed out.
PUBLIC, PAGES, EVERY_ROLE = page_rules.PUBLIC, page_rules.PAGES, page_rules.EVERY_ROLE


def page_routes(app) -> set[tuple[str, str]]:
    from litestar.routes import HTTPRoute
    return {(method, route.path) for route in app.routes if isinstance(route, HTTPRoute)
            and not route.path.startswith(("/api/", "/schema", "/static", "/health"))
            for method in route.methods - {"HEAD", "OPTIONS"}}


def test_every_page_has_a_rule(browser):
    assert page_routes(browser.app) == set(PAGES) | PUBLIC


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_as_every_role_and_anonymously(browser):
    token = csrf(browser.get("/sign-in").text)
    for method, path in sorted(PAGES):
        url = page_rules.example(path)
        anonymous = browser.request(method, url, data={"_csrf_token": token}, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in"), (method, path)
    for role in sorted(EVERY_ROLE):
        browser.cookies.clear()
        sign_in(browser, role)
        token = csrf(browser.get("/sign-in").text)
        for method, path in sorted(set(PAGES) - {("POST", "/sign-out")}):
            url = page_rules.example(path)
            status = browser.request(method, url, data={"_csrf_token": token}, follow_redirects=False).status_code
            if role in PAGES[(method, path)]:
                assert status != 403, (role, method, path)
            else:
                assert status == 403, (role, method, path, status)


def test_mentors_and_departments_cannot_reach_others_records_by_changing_an_id(browser, people, engine):
    _, match_id = _proposal(browser, people, engine)  # the test mentor's own match, still only proposed
    with db.session_scope(db.writer(engine)) as session:
        lifecycle.transition(session, match_id, lifecycle.Change("approved", 1), actor_id=None)
    sign_in(browser, "department")
    page = browser.get("/referrals")
    refused = browser.post(f"/referrals/{match_id}", data={"_csrf_token": csrf(page.text), "version": "2",
                                                           "to": "interviewed"})
    assert refused.status_code == 404  # a mentoring match, not a referral to this department
    browser.cookies.clear()
    sign_in(browser, "mentor")
    page = browser.get("/mentees")
    assert browser.post(f"/mentees/{match_id + 1000}/meetings", data={
        "_csrf_token": csrf(page.text), "met_on": utcnow().date().isoformat(), "kind": "call"}).status_code == 404
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "approved"


def test_a_manager_changes_settings_on_the_page_with_errors_named(browser):
    sign_in(browser, "manager")
    form = browser.get("/settings")
    assert 'value="0.3"' in form.text and 'name="must-sector"' in form.text
    fields = {name: value for name, value in re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', form.text)}
    fields.pop("must-sector", None)
    bad = browser.post("/settings", data={**fields, "weight-distance": "far", "no_meeting_days": "3"})
    assert bad.status_code == 400 and 'href="#weight-distance"' in bad.text and 'href="#no_meeting_days"' in bad.text
    good = browser.post("/settings", data={**fields, "weight-distance": "2", "must-languages": "yes",
                                          "no_meeting_days": "60"})
    assert "Settings saved" in good.text
    assert browser.get("/api/v1/settings/follow_up").status_code in {401, 403}  # pages' session is not an API token
    stale = browser.post("/settings", data={**fields, "weight-distance": "3"})  # the versions the first form had
    assert "Nothing was saved" in stale.text
    saved = browser.get("/settings").text
    assert 'id="weight-distance" name="weight-distance" inputmode="decimal"\n                   value="2.0"' in saved
    assert 'id="no_meeting_days" name="no_meeting_days" inputmode="numeric" value="60"' in saved


def test_the_fairness_page_shows_every_grouping_and_its_old_address_leads_there(browser):
    sign_in(browser, "manager")
    assert browser.get("/fairness", follow_redirects=False).headers["location"] == "/models/fairness"
    page = browser.get("/fairness")
    for caption in ("By sex", "By ethnic group", "By disability", "By whether a former unaccompanied asylum-seeking"):
        assert caption in page.text


def test_every_page_that_shows_young_people_audits_the_read(browser, people, engine):
    person_id, match_id = _proposal(browser, people, engine)

    def audited(who: str, path: str) -> None:
        browser.cookies.clear()
        sign_in(browser, who)
        assert browser.get(path).status_code == 200
        with db.session_scope(engine) as session:
            rows = session.exec(select(AuditEvent).where(AuditEvent.route == f"GET {path}",
                                                         AuditEvent.actor_id == people[who].id)).all()
        assert [(row.entity, row.entity_id) for row in rows] == [("care_leaver", person_id)], (who, path)

    audited("adviser", "/caseload")
    audited("adviser", "/proposals")  # while the mentor is still only proposed
    job = browser.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id),
                       headers=people["manager"].headers).json()
    with db.session_scope(db.writer(engine)) as session:
        lifecycle.transition(session, match_id, lifecycle.Change("approved", 1), actor_id=None)
        lifecycle.propose(session, care_leaver_id=person_id, opportunity_id=job["id"]).state = "referred"
        session.get(CareLeaver, person_id).consent_share_employers = True  # employers see only with consent
    audited("mentor", "/mentees")
    audited("department", "/referrals")
