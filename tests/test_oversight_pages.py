"""A manager's oversight pages over HTTP: the audit log and its filters, scoring models (train, compare,
promote), fairness over a chosen period, and importing an uploaded file (all rows or none)."""

import re
from datetime import date, datetime, timedelta

from sqlmodel import func, select

from matching import db, lifecycle, oversight
from matching.clock import CLOCK, ZONE
from matching.models import AuditEvent, CareLeaver, Match, Opportunity, Outcome, ScoringModel
from matching.services import audit
from tests.conftest import TEST_TODAY
from tests.test_engine_runs import _labelled_history
from tests.test_pages import csrf, sign_in


def _count(page) -> int:
    found = re.search(r"of (\d+) entr(?:y|ies)", page.text)
    return int(found.group(1)) if found else 0


def _young_person(session, n: int, **values) -> CareLeaver:
    person = CareLeaver(case_reference=f"OV{n:04d}", first_name="Ovi", family_name=f"Person{n}",
                        date_of_birth=date(2005, 1, 1), leaving_care_category="former_relevant", home_area="E8",
                        **values)
    session.add(person)
    session.flush()
    return person


# The audit log ------------------------------------------------------------------------------------------------

def _audit_rows(engine, people) -> list[dict]:
    """Audit rows on three days by two advisers and the service, as the test knows them."""
    made = []
    with db.session_scope(db.writer(engine)) as session:
        young = [_young_person(session, n) for n in range(3)]
    plan = [(TEST_TODAY - timedelta(days=10), "adviser", "read", "care_leaver"),
            (TEST_TODAY - timedelta(days=10), "other_adviser", "update", "care_leaver"),
            (TEST_TODAY - timedelta(days=5), "adviser", "update", "care_leaver"),
            (TEST_TODAY - timedelta(days=5), "other_adviser", "read", "care_leaver"),
            (TEST_TODAY - timedelta(days=5), "other_adviser", "activate", "mentor"),
            (TEST_TODAY - timedelta(days=4), "admin", "deactivate", "user"),
            (TEST_TODAY - timedelta(days=1), None, "read", "care_leaver"),
            (TEST_TODAY - timedelta(days=1), "adviser", "update", "care_leaver")]
    for n, (day, who, action, entity) in enumerate(plan):
        CLOCK.fix(day)
        actor = people[who].id if who else None
        target = {"care_leaver": young[n % 3].id, "user": people["mentor"].id}.get(entity, 77)
        with db.session_scope(db.writer(engine)) as session:
            audit.record_access(session, actor_id=actor, action=action, entity=entity, ids=[target],
                                route="GET /somewhere")
        made.append({"day": day, "who": who, "action": action, "entity": entity, "id": target})
    CLOCK.fix(TEST_TODAY)
    return made


def test_the_audit_log_filters_narrow_it_newest_first_by_name(browser, people, engine):
    made = _audit_rows(engine, people)
    sign_in(browser, "manager")
    everything = browser.get("/audit-log")
    assert everything.status_code == 200 and _count(everything) == len(made) + 1  # and the manager's sign-in
    # Newest first, actors by name, records in words.
    text = everything.text
    assert text.index("Test adviser") < text.index("The service itself")  # the newest (day -1) rows come first
    assert "Young person Ovi Person" in text and "(OV000" in text and "Activated" in text
    assert "Deactivated" in text and "Account of Test mentor" in text

    by_name = browser.get("/audit-log", params={"who": "OTHER_adv"})
    assert _count(by_name) == sum(1 for row in made if row["who"] == "other_adviser")
    updates = browser.get("/audit-log", params={"action": "update"})
    assert _count(updates) == sum(1 for row in made if row["action"] == "update")
    mentors = browser.get("/audit-log", params={"entity": "mentor"})
    assert _count(mentors) == 1 and "Activated" in mentors.text
    first, last = TEST_TODAY - timedelta(days=6), TEST_TODAY - timedelta(days=2)
    period = browser.get("/audit-log", params={
        "since-day": first.day, "since-month": first.month, "since-year": first.year,
        "until-day": last.day, "until-month": last.month, "until-year": last.year, "who": "adviser"})
    assert _count(period) == sum(1 for row in made if first <= row["day"] <= last and "adviser" in (row["who"] or ""))
    bad = browser.get("/audit-log", params={"since-day": "31", "since-month": "2", "since-year": "2026",
                                            "action": "nonsense"})
    assert bad.status_code == 400 and 'href="#since-day"' in bad.text and 'href="#action"' in bad.text
    assert 'value="31"' in bad.text  # what was typed comes back


def test_reading_the_audit_log_is_itself_audited_for_the_young_people_it_names(browser, people, engine):
    made = _audit_rows(engine, people)
    sign_in(browser, "manager")
    browser.get("/audit-log", params={"entity": "care_leaver"})
    with db.session_scope(engine) as session:
        seen = set(session.exec(select(AuditEvent.entity_id).where(
            AuditEvent.actor_id == people["manager"].id, AuditEvent.action == "list",
            AuditEvent.route == "GET /audit-log")))
    assert seen == {row["id"] for row in made if row["entity"] == "care_leaver"}


def test_only_managers_reach_the_oversight_pages(browser, people):
    for role in ("adviser", "admin", "department", "mentor"):
        browser.cookies.clear()
        sign_in(browser, role)
        for path in ("/audit-log", "/models", "/models/fairness", "/imports"):
            assert browser.get(path).status_code == 403, (role, path)


# Scoring models -----------------------------------------------------------------------------------------------

def test_a_manager_trains_compares_and_promotes_a_model(browser, people, engine):
    CLOCK.fix(TEST_TODAY)
    sign_in(browser, "manager")
    page = browser.get("/models")
    assert "No model has been trained yet" in page.text
    refused = browser.post("/models", data={"_csrf_token": csrf(page.text)})
    assert "No model was trained" in refused.text and "needs at least 200" in refused.text
    _labelled_history(engine, people)
    trained = browser.post("/models", data={"_csrf_token": csrf(page.text)})
    assert "did better than the scoring in use" in trained.text and "was trained in" in trained.text
    with db.session_scope(engine) as session:  # a manager's training waits for the manager; made current here
        session.exec(select(ScoringModel)).one().status = "current"
    again = browser.post("/models", data={"_csrf_token": csrf(page.text)})
    assert "is not in use" in again.text
    with db.session_scope(engine) as session:
        statuses = {m.version: m.status for m in session.exec(select(ScoringModel))}
    first = next(v for v, s in statuses.items() if s == "current")
    second = next(v for v, s in statuses.items() if s == "declined")
    assert "rated the successful one higher" in again.text and "Of the fifth of those matches" in again.text

    compared = browser.get("/models/compare", params={"first": first, "second": second})
    assert compared.status_code == 200
    assert re.findall(r'<th scope="col"[^>]*>(.*?)</th>', compared.text) == ["Measure", first, second]
    unknown = browser.get("/models/compare", params={"first": first, "second": "model-nothing"})
    assert unknown.status_code == 400 and "Select the second model from the list" in unknown.text
    same = browser.get("/models/compare", params={"first": first, "second": first})
    assert same.status_code == 400 and "Select two different models to compare" in same.text

    confirm = browser.get(f"/models/{second}/promote")
    assert confirm.status_code == 200 and "Are you sure you want to make model" in confirm.text
    with db.session_scope(engine) as session:  # looking at the confirmation changes nothing
        assert session.get(ScoringModel, second).status == "declined"
    promoted = browser.post(f"/models/{second}/promote", data={"_csrf_token": csrf(confirm.text)})
    assert f"{second} is now in use" in promoted.text
    with db.session_scope(engine) as session:
        assert session.get(ScoringModel, second).status == "current"
        assert session.get(ScoringModel, first).status == "retired"
        logged = session.exec(select(AuditEvent).where(AuditEvent.action == "promote")).one()
        assert logged.actor_id == people["manager"].id and second in logged.route
    assert f"Scoring model {second}" in browser.get("/audit-log", params={"action": "promote"}).text
    assert browser.get("/models/no-such-model/promote").status_code == 404
    already = browser.post(f"/models/{second}/promote", data={"_csrf_token": csrf(confirm.text)})
    assert "already in use" in already.text and "govuk-notification-banner--success" not in already.text


# Fairness over a period ---------------------------------------------------------------------------------------

def _outcomes(engine, people) -> None:
    """In the period: five women whose jobs succeeded and five men whose did not; before it: three men's
    successes, whose cases have closed since. Each was proposed on the day their outcome was recorded."""
    with db.session_scope(db.writer(engine)) as session:
        job = Opportunity(reference="FAIR-1", department_id=people["department"].department_id, kind="job",
                          title="Clerk", area="E8", places=50)
        session.add(job)
        session.flush()
        job_id = job.id
    plan = [("2", TEST_TODAY - timedelta(days=20), "placement_completed")] * 5 + \
           [("1", TEST_TODAY - timedelta(days=15), "not_successful")] * 5 + \
           [("1", TEST_TODAY - timedelta(days=400), "placement_completed")] * 3
    for n, (sex, day, kind) in enumerate(plan):
        CLOCK.fix(day)
        with db.session_scope(db.writer(engine)) as session:
            person = _young_person(session, 100 + n, sex=sex, ethnicity="WBRI",
                                   case_status="open" if day > TEST_TODAY - timedelta(days=30) else "closed")
            match = lifecycle.propose(session, care_leaver_id=person.id, opportunity_id=job_id)
            session.add(Outcome(match_id=match.id, recorded_on=day, kind=kind))
    CLOCK.fix(TEST_TODAY)


def _cells(page, grouping: str) -> dict[str, list[str]]:
    table = page.text.split(f'id="by-{grouping}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    found = {}
    for row in rows:
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        found[cells[0]] = cells[1:]
    return found


def test_fairness_counts_over_the_chosen_period_with_groups_in_words(browser, people, engine):
    _outcomes(engine, people)
    sign_in(browser, "manager")
    first, last = TEST_TODAY - timedelta(days=30), TEST_TODAY
    page = browser.get("/models/fairness", params={
        "since-day": first.day, "since-month": first.month, "since-year": first.year,
        "until-day": last.day, "until-month": last.month, "until-year": last.year})
    assert page.status_code == 200
    by_sex = _cells(page, "sex")
    # Outcomes recorded, successes, success rate, open cases, proposed, share proposed (the rows the test made).
    assert by_sex["Female"][:3] == ["5", "5", "100 %"]
    assert by_sex["Male"][:3] == ["5", "0", "0 %"]  # the three earlier successes are outside the period
    assert by_sex["Male"][3:] == ["5", "5", "100 %"] and by_sex["Female"][3:] == ["5", "5", "100 %"]
    assert by_sex["All young people"][:2] == ["10", "5"]
    assert "White" in _cells(page, "ethnicity")

    # A period that takes in the earlier outcomes: three men's successes, a small count, are withheld.
    whole = browser.get("/models/fairness", params={
        "since-day": "1", "since-month": "1", "since-year": str(TEST_TODAY.year - 2),
        "until-day": last.day, "until-month": last.month, "until-year": last.year})
    assert _cells(whole, "sex")["Male"][1:3] == ["fewer than 5", "Not shown"]

    bad = browser.get("/models/fairness", params={"since-day": "1", "since-month": "12", "since-year": "2026",
                                                  "until-day": "1", "until-month": "1", "until-year": "2026"})
    assert bad.status_code == 400 and "The end date must be the same as or after the start date" in bad.text


def test_the_fairness_period_is_counted_in_london_days():
    """A period's days are London's (here in summer time), not UTC's."""
    since, until = oversight.day_starts(date(2026, 7, 1), date(2026, 7, 1))
    assert since == datetime(2026, 7, 1, tzinfo=ZONE) and until == datetime(2026, 7, 2, tzinfo=ZONE)


# Imports ------------------------------------------------------------------------------------------------------

GOOD = ("case_reference,first_name,date_of_birth,leaving_care_category,in_touch\n"
        "IMP1,Amina,14/03/2006,Former relevant,YES\n"
        "IMP2,Yonas,2004-07-01,former_relevant,NO\n")
BAD = GOOD.replace("2004-07-01", "not a date")


def _upload(browser, page, content: bytes, name: str = "young-people.csv", kind: str = "care-leavers"):
    return browser.post("/imports", data={"_csrf_token": csrf(page.text), "kind": kind},
                        files={"file": (name, content, "text/csv")})


def _stored(engine) -> int:
    with db.session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(CareLeaver)).one()


def test_an_import_with_a_bad_row_names_it_and_stores_nothing_and_a_good_one_stores_every_row(browser, engine):
    sign_in(browser, "manager")
    page = browser.get("/imports")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    refused = _upload(browser, page, BAD.encode())
    assert refused.status_code == 400 and "nothing was imported" in refused.text
    assert 'href="#problems"' in refused.text
    rows = _cells_of(refused)
    assert rows and rows[0][:2] == ["3", "date_of_birth"], rows
    assert _stored(engine) == 0

    good = _upload(browser, page, GOOD.encode())
    assert good.status_code == 200 and "2 rows; 2 added, 0 updated, 0 unchanged" in good.text
    with db.session_scope(engine) as session:
        assert set(session.exec(select(CareLeaver.case_reference))) == {"IMP1", "IMP2"}
    again = _upload(browser, page, GOOD.encode())
    assert "0 added, 0 updated, 2 unchanged" in again.text


def _cells_of(page) -> list[list[str]]:
    table = page.text.split('id="problems"')[1].split("</table>")[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]]


def test_an_upload_is_refused_with_the_reason_beside_the_field(browser, engine):
    sign_in(browser, "manager")
    page = browser.get("/imports")
    no_kind = browser.post("/imports", data={"_csrf_token": csrf(page.text)},
                           files={"file": ("a.csv", GOOD.encode(), "text/csv")})
    assert no_kind.status_code == 400 and "Select what the file holds" in no_kind.text
    wrong_type = _upload(browser, page, b"hello", name="notes.txt")
    assert wrong_type.status_code == 400 and "must be a CSV or XLSX file" in wrong_type.text
    not_a_workbook = _upload(browser, page, b"hello", name="young-people.xlsx")
    assert not_a_workbook.status_code == 400 and "is not an Excel workbook" in not_a_workbook.text
    empty = _upload(browser, page, b"")
    assert empty.status_code == 400 and "The selected file is empty" in empty.text
    too_big = _upload(browser, page, b"x" * (6 * 1024 * 1024))
    assert too_big.status_code == 413 and "must be smaller than 5 MB" in too_big.text
    assert _stored(engine) == 0
    forged = browser.post("/imports", data={"_csrf_token": "forged", "kind": "care-leavers"},
                          files={"file": ("a.csv", GOOD.encode(), "text/csv")})
    assert forged.status_code == 403 and _stored(engine) == 0


def test_a_mentor_file_is_imported_through_the_page_too(browser, engine, people):
    sign_in(browser, "manager")
    page = browser.get("/imports")
    content = (b"email,full_name,department_code,job_title\n"
               b"new.mentor@test.example.gov.uk,New Mentor,PARK,Head of Parks\n")
    made = _upload(browser, page, content, name="mentors.csv", kind="mentors")
    assert "1 row; 1 added" in made.text
    with db.session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Match)).one() == 0  # nothing else touched
