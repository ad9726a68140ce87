# ruff: noqa: F811 (the fixtures imported from test_browser are parameters here)
"""The match pipeline in a real headless Chromium on the demo borough: proposals across pages, rejecting
(the reason error first) and approving, a match's page and its next steps (refer, introduce), a check-in,
the follow-ups list, logging and correcting a meeting from a mentoring match's page; axe on every page
state; the reject form and the meeting form with JavaScript off."""

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)
from tests.test_browser_mentor import example_date, fill_date, log_a_call_after_the_date_error

COUNT = re.compile(r"(\d+) young (?:people|person), (\d+) proposals?")


def _count(tab: Page) -> tuple[int, int]:
    people, proposals = COUNT.search(tab.locator("#proposal-count").inner_text()).groups()
    return int(people), int(proposals)


def _reject_with_the_reason_error_first(tab: Page, javascript: bool = True) -> None:
    card = tab.locator(".govuk-summary-card").first
    title = card.locator(".govuk-summary-card__title").inner_text()
    card.get_by_text("Reject this proposal").click()
    card.locator("button.govuk-button--warning").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    assert tab.title().startswith("Error: ")
    link = summary.get_by_role("link", name=re.compile("select why you are rejecting it"))
    expect(link).to_contain_text(title.split(": ", 1)[1])  # names the proposal
    assert serious_violations(tab) == []
    card = tab.locator(".govuk-summary-card", has=tab.locator(".govuk-error-message"))
    if javascript:  # GOV.UK Frontend's script moves focus to the field the summary links to
        link.click()
        expect(card.get_by_label("The young person does not want it")).to_be_focused()
    assert card.locator("input[type=radio]:checked").count() == 0  # nothing preselected
    card.get_by_label("Other (explained in the note)").check()
    card.locator("button.govuk-button--warning").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("explain in the note why you are rejecting it")
    card = tab.locator(".govuk-summary-card", has=tab.locator(".govuk-error-message"))
    expect(card.get_by_label("Other (explained in the note)")).to_be_checked()  # what was chosen is kept
    assert serious_violations(tab) == []
    card.get_by_label("Note", exact=True).fill("Has just started college full time")
    card.locator("button.govuk-button--warning").click()
    expect(tab.get_by_role("alert")).to_contain_text("Proposal rejected")


def _next_page(tab: Page) -> None:
    tab.get_by_role("navigation", name="Pagination").get_by_role("link", name="Next").click()


def test_an_adviser_reviews_proposals_across_pages_rejects_one_and_approves_and_refers_another(tab):
    sign_in(tab, "adviser")
    tab.get_by_role("link", name="Proposals to review").click()
    expect(tab.get_by_role("heading", level=1, name="Proposals to review")).to_be_visible()
    people, proposals = _count(tab)
    assert people > 10 and proposals >= people  # the demo adviser has more than one page of young people
    assert tab.locator("h2 a[href^='/young-people/']").count() == 10
    assert serious_violations(tab) == []
    _next_page(tab)
    expect(tab.locator("#proposal-count")).to_contain_text("(page 2 of")
    assert serious_violations(tab) == []
    tab.get_by_role("navigation", name="Pagination").get_by_role("link", name="Page 1").click()
    expect(tab.locator("#proposal-count")).to_contain_text("(page 1 of")

    _reject_with_the_reason_error_first(tab)
    assert _count(tab)[1] == proposals - 1
    assert serious_violations(tab) == []

    job = tab.locator(".govuk-summary-card", has=tab.locator("h3", has_text=re.compile(
        "^(Job|Apprenticeship|Work placement|Work experience|Internship):"))).first
    job_title = job.locator("h3").inner_text().split(": ", 1)[1]
    job.get_by_role("button", name="Approve").click()
    expect(tab.get_by_role("alert")).to_contain_text("Proposal approved")
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="open the match to refer it to the department").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text(job_title)
    expect(tab.locator(".govuk-tag")).to_have_text("Approved")
    assert tab.get_by_role("radio").count() == 2 and tab.locator("input[type=radio]:checked").count() == 0
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Continue").click()  # nothing chosen
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Select what happens next")
    assert serious_violations(tab) == []
    tab.get_by_label("Refer it to the department").check()
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("alert")).to_contain_text("Recorded: referred")
    expect(tab.locator(".govuk-tag")).to_have_text("Referred")
    expect(tab.get_by_text("The department records what happens next")).to_be_visible()
    assert serious_violations(tab) == []


def test_an_adviser_approves_a_mentor_finds_it_in_follow_ups_introduces_them_and_records_a_check_in(tab):
    sign_in(tab, "adviser")
    tab.goto("/proposals")
    mentors = tab.locator(".govuk-summary-card", has=tab.locator("h3", has_text=re.compile("^Mentor:")))
    for _ in range(5):  # the first page with a mentor proposed
        if mentors.count():
            break
        _next_page(tab)
    href = mentors.first.locator("a[href^='/matches/']").get_attribute("href")
    mentors.first.get_by_role("button", name="Approve").click()
    expect(tab.get_by_role("alert")).to_contain_text("Proposal approved")

    tab.get_by_role("link", name="Follow-ups due").click()
    expect(tab.get_by_role("heading", level=1, name="Follow-ups due")).to_be_visible()
    assert serious_violations(tab) == []
    waiting = tab.locator("tr", has=tab.locator(f'a[href="{href}"]'))
    expect(waiting).to_contain_text("Approved, not yet introduced to the mentor")
    expect(waiting).to_contain_text("Due in 14 days")
    check_in = tab.locator("tr", has=tab.locator(f'a[href^="{href}/check-ins/"]'))
    expect(check_in).to_contain_text("2 weeks check-in due")
    waiting.locator(f'a[href="{href}"]').click()

    expect(tab.locator(".govuk-caption-l")).to_contain_text("Mentoring match")
    expect(tab.locator(".govuk-tag")).to_have_text("Approved")
    assert serious_violations(tab) == []
    tab.get_by_label("Introduced: the young person has met their mentor").check()
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("alert")).to_contain_text("Recorded: introduced")
    assert serious_violations(tab) == []

    tab.get_by_role("link", name="Record the 2 weeks check-in").click()
    expect(tab.get_by_role("heading", level=1, name="Record the 2 weeks check-in")).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Record as done").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Enter what you found")
    assert serious_violations(tab) == []
    tab.get_by_label("What you found").fill("Met twice, getting on well")
    tab.get_by_role("button", name="Record as done").click()
    expect(tab.get_by_role("alert")).to_contain_text("The 2 weeks check-in is recorded as done")
    expect(tab.get_by_text("Met twice, getting on well")).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="Follow-ups due").click()
    expect(tab.locator(f'a[href="{href}"], a[href^="{href}/check-ins/"]')).to_have_count(0)  # nothing left due


def test_a_manager_sees_everyones_proposals_and_follow_ups_and_filters_by_adviser(tab):
    sign_in(tab, "manager")
    tab.get_by_role("link", name="Proposals to review").click()
    everyone = _count(tab)
    assert serious_violations(tab) == []
    tab.get_by_label("Personal adviser").select_option(index=1)
    tab.get_by_role("button", name="Show proposals").click()
    one = _count(tab)
    assert 0 < one[0] < everyone[0] and one[1] < everyone[1]
    assert serious_violations(tab) == []
    tab.goto("/follow-ups")
    expect(tab.get_by_role("heading", level=1, name="Follow-ups due")).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_label("Personal adviser").select_option(index=1)
    tab.get_by_role("button", name="Show follow-ups").click()
    expect(tab.get_by_role("heading", level=1, name="Follow-ups due")).to_be_visible()
    assert serious_violations(tab) == []


def test_the_reject_form_works_with_javascript_off(chromium, service):
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    tab = context.new_page()
    try:
        sign_in(tab, "adviser")
        tab.goto("/proposals")
        _, proposals = _count(tab)
        _reject_with_the_reason_error_first(tab, javascript=False)
        assert _count(tab)[1] == proposals - 1
    finally:
        context.close()


def _mentoring_under_way(service) -> int:
    """A mentoring match of the demo adviser's caseload that is under way (approved, introduced or active)."""
    with sa.create_engine(service.database_url).connect() as conn:
        return conn.execute(sa.text(
            "SELECT m.id FROM matches m JOIN care_leavers c ON c.id = m.care_leaver_id "
            "JOIN users u ON u.id = c.personal_adviser_id WHERE u.email = 'adviser@northbridge.example.gov.uk' "
            "AND m.kind = 'mentoring' AND m.state IN ('approved', 'introduced', 'active') "
            "ORDER BY m.state DESC, m.id LIMIT 1")).scalar_one()


def test_an_adviser_logs_then_corrects_a_meeting_from_the_match_page(tab, service):
    match_id = _mentoring_under_way(service)
    sign_in(tab, "adviser")
    tab.goto(f"/matches/{match_id}")
    expect(tab.locator(".govuk-caption-l")).to_contain_text("Mentoring match")
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Log a meeting").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Log a meeting between ")
    assert tab.locator("input[type=radio]:checked").count() == 0  # nothing preselected
    assert serious_violations(tab) == []
    note = tab.get_by_label("A short note about how it went (optional)")
    note.fill("Met at the library, told to the adviser")
    tab.get_by_role("button", name="Log meeting").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date they met")
    expect(summary).to_contain_text("Select how they met")
    expect(note).to_have_value("Met at the library, told to the adviser")  # kept
    assert serious_violations(tab) == []
    day = example_date(tab, "met_on")
    fill_date(tab, "met_on", day)
    tab.get_by_label("Video call").check()
    tab.get_by_role("button", name="Log meeting").click()
    expect(tab.get_by_role("alert")).to_contain_text("and their mentor logged")
    expect(tab.get_by_role("heading", level=1)).not_to_contain_text("Log a meeting")  # back on the match page
    row = tab.locator("tr", has_text="Met at the library, told to the adviser")
    expect(row).to_contain_text("Video call")
    assert serious_violations(tab) == []

    row.get_by_role("link", name=re.compile("^Change")).click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Change a meeting between ")
    expect(tab.get_by_label("Video call")).to_be_checked()
    assert serious_violations(tab) == []
    tab.locator("#met_on-year").fill(str(int(day[2]) + 1))
    tab.get_by_role("button", name="Save the change").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("The date they met must be today or in the past")
    expect(tab.locator("#met_on-year")).to_have_value(str(int(day[2]) + 1))  # kept
    assert serious_violations(tab) == []
    fill_date(tab, "met_on", day)
    tab.get_by_label("In person").check()
    tab.get_by_role("button", name="Save the change").click()
    expect(tab.get_by_role("alert")).to_contain_text("and their mentor corrected")
    expect(tab.locator("tr", has_text="Met at the library, told to the adviser")).to_contain_text("In person")
    assert serious_violations(tab) == []


def test_an_adviser_logs_a_meeting_on_the_match_page_with_javascript_off(chromium, service):
    match_id = _mentoring_under_way(service)
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, "adviser")
        plain.goto(f"/matches/{match_id}")
        plain.get_by_role("button", name="Log a meeting").click()
        log_a_call_after_the_date_error(plain, "they", "Adviser's call, no scripts")
        expect(plain.get_by_role("alert")).to_contain_text("and their mentor logged")
    finally:
        context.close()
