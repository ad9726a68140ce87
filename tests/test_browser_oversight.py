"""A manager's oversight pages in Chromium on the demo borough: training, comparing and promoting a scoring
model; uploading an import file with a mistake and then corrected (with JavaScript off); the audit log with a
filter and the fairness report over a chosen period. axe on every page state."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from matching import db
from matching.models import CareLeaver, ScoringModel
from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _statuses(service) -> dict[str, str]:  # noqa: F811
    with db.session_scope(db.engine_for(service.database_url)) as session:
        return {row.version: row.status for row in session.exec(select(ScoringModel))}


def _share(page, selector: str) -> int:
    return int(page.locator(selector).inner_text().removesuffix("%").strip())


def test_a_manager_trains_compares_and_promotes_a_model(tab, service):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/models")
    expect(tab.get_by_role("heading", name="Scoring models", level=1)).to_be_visible()
    assert serious_violations(tab) == []
    # The demo borough starts with the weights in use and two years of outcomes: enough to learn from.
    assert _statuses(service) == {}
    tab.get_by_role("button", name="Train a new model").click()
    expect(tab.locator(".govuk-notification-banner--success")).to_contain_text("did better than the scoring in use")
    assert serious_violations(tab) == []
    [(waiting, status)] = _statuses(service).items()
    assert status == "candidate"  # a manager's training waits for the manager to decide

    tab.get_by_role("link", name=f"Make current ({waiting})").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text(f"make {waiting} current")
    comparison = tab.locator("#held-out-comparison")
    expect(comparison).to_contain_text("the weights set in Settings")
    # On the same outcomes neither had learned from, the new model beats the scoring in use, as the page shows.
    assert _share(tab, "#held-out-model") > _share(tab, "#held-out-in-use")
    assert serious_violations(tab) == []
    assert _statuses(service) == {waiting: "candidate"}  # the confirmation page changes nothing
    tab.get_by_role("button", name="Yes, make it current").click()
    expect(tab.locator(".govuk-notification-banner--success")).to_contain_text(f"{waiting} is now in use")
    assert serious_violations(tab) == []
    assert _statuses(service) == {waiting: "current"}

    # Trained again on the same outcomes, a model does no better than the one now in use: it is declined.
    tab.get_by_role("button", name="Train a new model").click()
    expect(tab.locator(".govuk-notification-banner")).to_contain_text("is not in use")
    declined = next(version for version, status in _statuses(service).items() if status == "declined")
    tab.get_by_label("First model").select_option(declined)
    tab.get_by_label("Second model").select_option(waiting)
    tab.get_by_role("button", name="Compare").click()
    expect(tab.get_by_role("heading", name="Compare two models", level=1)).to_be_visible()
    expect(tab.locator("table")).to_contain_text("rated the successful one higher")
    assert serious_violations(tab) == []
    assert _statuses(service) == {waiting: "current", declined: "declined"}

    tab.goto("/audit-log?action=promote")
    expect(tab.locator("table")).to_contain_text(f"Scoring model {waiting}")
    assert serious_violations(tab) == []
    tab.goto("/models/fairness")
    expect(tab.get_by_role("heading", name="Fairness of matching", level=1)).to_be_visible()
    expect(tab.locator("#by-sex")).to_contain_text("Female")
    assert serious_violations(tab) == []
    tab.get_by_label("Year").first.fill("2030")
    tab.get_by_role("button", name="Show this period").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("The end date must be the same as or after")
    assert serious_violations(tab) == []


HEADER = "case_reference,first_name,family_name,date_of_birth,leaving_care_category,in_touch\n"
WRONG = HEADER + "WEBIMP1,Amira,Kahn,14/03/2006,Former relevant,YES\nWEBIMP2,Dawit,Bekele,31/02/2005,former_relevant,YES\n"
RIGHT = WRONG.replace("31/02/2005", "28/02/2005")


def _stored(service) -> set[str]:  # noqa: F811
    with db.session_scope(db.engine_for(service.database_url)) as session:
        return set(session.exec(select(CareLeaver.case_reference).where(CareLeaver.case_reference.like("WEBIMP%"))))


def test_a_manager_uploads_a_file_with_a_mistake_then_the_corrected_one_with_javascript_off(chromium, service):  # noqa: F811
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    tab = context.new_page()  # noqa: F811
    try:
        sign_in(tab, "manager")
        tab.goto("/imports")
        expect(tab.get_by_role("heading", name="Import a file", level=1)).to_be_visible()
        assert serious_violations(tab) == []
        tab.get_by_role("button", name="Import the file").click()  # nothing chosen
        expect(tab.locator(".govuk-error-summary")).to_contain_text("Select what the file holds")
        expect(tab.locator(".govuk-error-summary")).to_contain_text("Select a file to import")
        assert serious_violations(tab) == []

        tab.get_by_label("Young people (care leavers)").check()
        tab.get_by_label("The file").set_input_files({"name": "young-people.csv", "mimeType": "text/csv",
                                                      "buffer": WRONG.encode()})
        tab.get_by_role("button", name="Import the file").click()
        expect(tab.locator(".govuk-error-summary")).to_contain_text("young-people.csv has 1 problem; nothing was imported")
        problem = tab.locator("#problems tbody tr")
        expect(problem).to_have_count(1)
        expect(problem.locator("td").nth(0)).to_have_text("3")
        expect(problem.locator("td").nth(1)).to_have_text("date_of_birth")
        assert tab.title().startswith("Error: ")
        assert serious_violations(tab) == []
        assert _stored(service) == set()  # nothing of the file was kept, not even its good row

        expect(tab.get_by_label("Young people (care leavers)")).to_be_checked()  # the answer is kept
        tab.get_by_label("The file").set_input_files({"name": "young-people.csv", "mimeType": "text/csv",
                                                      "buffer": RIGHT.encode()})
        tab.get_by_role("button", name="Import the file").click()
        expect(tab.locator(".govuk-notification-banner--success")).to_contain_text("2 rows; 2 added")
        assert serious_violations(tab) == []
        assert _stored(service) == {"WEBIMP1", "WEBIMP2"}
    finally:
        context.close()
