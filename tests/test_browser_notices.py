"""How we tell you (/notices) in a real headless Chromium with axe (WCAG 2.2 AA) on every state: the stored
choice shown, a post with no choice refused with the GOV.UK error summary, a change saved with the success
banner and stored; and the same form with JavaScript off."""

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.test_browser import chromium, plain_tab, serious_violations, service, sign_in, tab  # noqa: F401

DAILY, IMMEDIATE = "Once a day, one email with everything", "Straight away, one email for each"


def _stored_choice(service, who: str) -> str:  # noqa: F811
    engine = sa.create_engine(service.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT notices FROM users WHERE email = :email"),
                                      {"email": f"{who}@northbridge.example.gov.uk"}).scalar_one()
    finally:
        engine.dispose()


def test_an_adviser_sees_their_choice_is_refused_without_one_and_changes_it(tab: Page, service):  # noqa: F811
    sign_in(tab, "adviser")
    tab.goto("/notices")
    expect(tab.get_by_role("heading", name="How we tell you", level=1)).to_be_visible()
    expect(tab.get_by_label(IMMEDIATE)).to_be_checked()
    expect(tab.get_by_label(DAILY)).not_to_be_checked()
    assert serious_violations(tab) == []
    # A radio cannot be unticked by hand: clear them as a form posted with no choice would arrive.
    tab.evaluate("document.querySelectorAll('input[name=notices]').forEach(radio => { radio.checked = false; })")
    tab.get_by_role("button", name="Save").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Select how we tell you")
    assert tab.title().startswith("Error: How we tell you")
    assert serious_violations(tab) == []
    tab.locator(".govuk-error-summary a", has_text="Select how we tell you").click()
    expect(tab.get_by_label(IMMEDIATE)).to_be_focused()
    tab.get_by_label(DAILY).check()
    tab.get_by_role("button", name="Save").click()
    expect(tab.locator(".govuk-notification-banner--success")).to_contain_text("once a day, at 7am")
    expect(tab.get_by_label(DAILY)).to_be_checked()
    assert serious_violations(tab) == []
    assert _stored_choice(service, "adviser") == "daily"


def test_with_javascript_off_a_mentor_chooses_a_daily_digest(plain_tab: Page, service):  # noqa: F811
    sign_in(plain_tab, "mentor")
    plain_tab.goto("/notices")
    assert serious_violations(plain_tab) == []
    plain_tab.get_by_label(DAILY).check()
    plain_tab.get_by_role("button", name="Save").click()
    expect(plain_tab.locator(".govuk-notification-banner--success")).to_contain_text("once a day")
    assert serious_violations(plain_tab) == []
    assert _stored_choice(service, "mentor") == "daily"
    plain_tab.get_by_label(IMMEDIATE).check()
    plain_tab.get_by_role("button", name="Save").click()
    expect(plain_tab.locator(".govuk-notification-banner--success")).to_contain_text("straight away")
    assert _stored_choice(service, "mentor") == "immediate"
