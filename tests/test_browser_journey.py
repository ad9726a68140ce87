# ruff: noqa: F811 (the fixtures imported from test_browser are parameters here)
"""The whole pipeline, across every role, in a real headless Chromium on the demo borough (as `make run`
serves it): a senior manager signs up as a mentor, a manager vets them and runs matching and approves the
new mentor's proposal, the mentor sees their mentee; an adviser approves an opportunity and refers it, the
department records interview, offer, start and six months sustained, and the adviser sees that outcome on
the young person's page. What the pages said is checked against what the database holds."""

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.test_browser import PASSWORD, chromium, serious_violations, service, sign_in  # noqa: F401 (fixtures)
from tests.test_browser_match_runs import carry_out_queued
from tests.test_browser_mentor import example_date, fill_date

EMAIL, SECRET = "tomas.reyes@northbridge.example.gov.uk", "a long mentor password indeed"
JOB_TITLE = "Director of Youth Services"


def _query(service, sql: str, **values) -> list:
    with sa.create_engine(service.database_url).connect() as conn:
        return conn.execute(sa.text(sql), values).all()


def _tab(chromium, service) -> Page:
    return chromium.new_context(base_url=service).new_page()


def _sign_in_as(tab: Page, email: str, password: str = PASSWORD) -> None:
    tab.goto("/sign-in")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()


def _find_card(tab: Page, match_id: int):
    """The proposal card of this match, paging through the proposals until it shows."""
    card = tab.locator(".govuk-summary-card", has=tab.locator(f'a[href="/matches/{match_id}"]'))
    for _ in range(60):
        if card.count():
            return card
        tab.get_by_role("navigation", name="Pagination").get_by_role("link", name="Next").click()
    raise AssertionError(f"proposal {match_id} is on none of the pages")


def _sign_up(tab: Page) -> None:
    tab.goto("/sign-in")
    tab.get_by_role("link", name="sign up as a mentor").click()
    tab.get_by_role("button", name="Start now").click()
    tab.get_by_label("Full name").fill("Tomás Reyes")
    tab.get_by_label("Work email address").fill(EMAIL)
    tab.get_by_label("Create a password").fill(SECRET)
    tab.get_by_label("Type the password again").fill(SECRET)
    tab.get_by_role("button", name="Continue").click()
    tab.get_by_label("Department").select_option(index=1)
    tab.get_by_label("Job title").fill(JOB_TITLE)
    tab.get_by_label("Office postcode district").fill("E8")
    tab.get_by_role("button", name="Continue").click()
    tab.get_by_label("What you know about").fill("careers, housing, football, music, cooking")
    tab.get_by_role("button", name="Continue").click()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        tab.get_by_label(day).check()
    tab.get_by_label("How many young people could you mentor at once?").fill("5")
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", name="Check your answers before signing up")).to_be_visible()
    tab.get_by_role("button", name="Sign up as a mentor").click()
    expect(tab.locator(".govuk-panel")).to_contain_text("You have signed up as a mentor")


def test_from_mentor_sign_up_and_referral_to_an_outcome_on_the_young_persons_page(chromium, service):
    _sign_up(applicant := _tab(chromium, service))

    manager = _tab(chromium, service)
    sign_in(manager, "manager")
    manager.get_by_role("link", name="Mentors to vet").click()
    manager.get_by_role("link", name="Tomás Reyes").click()
    fill_date(manager, "dbs_checked_on", example_date(manager, "dbs_checked_on"))
    fill_date(manager, "safeguarding_trained_on", example_date(manager, "safeguarding_trained_on"))
    manager.get_by_role("button", name="Activate mentor").click()
    expect(manager.get_by_role("alert")).to_contain_text("Tomás Reyes is now an active mentor")
    manager.get_by_role("link", name="Overview").click()
    manager.get_by_role("button", name="Run matching now").click()
    expect(manager.get_by_role("alert")).to_contain_text(re.compile(r"Matching run \d+ is queued"))
    carry_out_queued(service)  # what the worker does when the page asks it to
    manager.get_by_role("link", name="Refresh this page").click()
    expect(manager.locator("#run-result")).to_contain_text(re.compile(r"This run made \d+ opportunity proposals?"))

    proposed = _query(service, "SELECT m.id, c.first_name, c.preferred_name, c.personal_adviser_id FROM matches m "
                               "JOIN mentors t ON t.id = m.mentor_id JOIN users u ON u.id = t.user_id "
                               "JOIN care_leavers c ON c.id = m.care_leaver_id "
                               "WHERE u.email = :email AND m.state = 'proposed' ORDER BY m.score DESC", email=EMAIL)
    assert proposed, "matching proposed no young person to the new mentor"
    match_id, first_name, preferred, adviser_id = proposed[0]
    manager.goto(f"/proposals?adviser={adviser_id}")
    card = _find_card(manager, match_id)
    expect(card).to_contain_text(JOB_TITLE)
    card.get_by_role("button", name="Approve").click()
    expect(manager.get_by_role("alert")).to_contain_text("Proposal approved")
    assert serious_violations(manager) == []

    _sign_in_as(applicant, EMAIL, SECRET)
    applicant.get_by_role("link", name="My mentees").click()
    expect(applicant.locator("main")).to_contain_text(preferred or first_name)
    assert serious_violations(applicant) == []

    adviser = _tab(chromium, service)
    sign_in(adviser, "adviser")
    job_match, person_id, department_id = _query(
        service, "SELECT m.id, m.care_leaver_id, o.department_id FROM matches m "
                 "JOIN opportunities o ON o.id = m.opportunity_id JOIN care_leavers c ON c.id = m.care_leaver_id "
                 "JOIN users a ON a.id = c.personal_adviser_id WHERE a.email = 'adviser@northbridge.example.gov.uk' "
                 "AND m.state = 'proposed' AND c.consent_share_employers ORDER BY m.id LIMIT 1")[0]
    adviser.get_by_role("link", name="Proposals to review").click()
    _find_card(adviser, job_match).get_by_role("button", name="Approve").click()
    expect(adviser.get_by_role("alert")).to_contain_text("Proposal approved")
    adviser.goto(f"/matches/{job_match}")
    adviser.get_by_label("Refer it to the department").check()
    adviser.get_by_role("button", name="Continue").click()
    expect(adviser.get_by_role("alert")).to_contain_text("Recorded: referred")

    department = _tab(chromium, service)
    email = _query(service, "SELECT email FROM users WHERE role = 'department' AND department_id = :d ORDER BY id",
                   d=department_id)[0][0]
    _sign_in_as(department, email)
    expect(department.get_by_role("heading", name="Referrals to your department")).to_be_visible()
    department.locator(f'a[href="/referrals/{job_match}"]').click()
    for step in ("Interviewed", "Offered", "Started", "Sustained 3 months", "Sustained 6 months"):
        department.get_by_role("group", name="What happened next?").get_by_label(step, exact=True).check()
        department.get_by_role("button", name="Continue").click()
    department.get_by_role("button", name="Yes, record sustained 6 months").click()
    expect(department.locator("main")).to_contain_text("This referral has ended")
    assert serious_violations(department) == []

    adviser.goto(f"/young-people/{person_id}")
    outcome = adviser.locator("tr", has=adviser.locator(f'a[href="/matches/{job_match}"]'))
    expect(outcome).to_contain_text("Sustained 6 months")
    assert serious_violations(adviser) == []
    stored = _query(service, "SELECT state FROM matches WHERE id = :m", m=job_match)[0][0]
    outcomes = {row[0] for row in _query(service, "SELECT kind FROM outcomes WHERE match_id = :m", m=job_match)}
    assert stored == "sustained_6m" and outcomes == {"job_sustained_3m", "job_sustained_6m"}
    assert _query(service, "SELECT state FROM matches WHERE id = :m", m=match_id)[0][0] == "approved"
