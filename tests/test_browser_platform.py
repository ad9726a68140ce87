"""The platform pages in real Chromium: GOV.UK error pages (with the signed-in person's menu) pass axe,
/schema works with no network, and a manager changes the follow-up intervals on the settings page."""

# ruff: noqa: F811 (the fixtures imported from test_browser are parameters of the tests and helpers here)

import re

from playwright.sync_api import Page, expect

from tests.test_browser import chromium, plain_tab, serious_violations, service, sign_in, tab  # noqa: F401


def _menu(tab: Page):
    return tab.get_by_role("navigation", name="Menu")


def test_page_not_found_is_a_gov_uk_page_signed_out_and_signed_in(tab):
    answer = tab.goto("/no-such-page")
    assert answer.status == 404 and answer.headers["cache-control"] == "no-store"
    expect(tab.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(_menu(tab)).to_have_count(0)  # signed out: the plain page
    assert serious_violations(tab) == []
    sign_in(tab, "adviser")
    answer = tab.goto("/no-such-page")
    assert answer.status == 404
    expect(tab.get_by_role("heading", level=1)).to_have_text("Page not found")
    for link in ("My caseload", "Proposals to review", "Follow-ups due"):  # signed in: their own menu
        expect(_menu(tab).get_by_role("link", name=link)).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="Go to your home page").click()
    expect(tab.get_by_role("heading", name="My caseload")).to_be_visible()


def test_the_menu_on_a_page_not_found_signs_out(tab):
    sign_in(tab, "manager")
    tab.goto("/overview/no-such-thing")
    _menu(tab).get_by_role("button", name="Sign out").click()
    expect(tab.get_by_role("heading", name="Sign in to Springboard")).to_be_visible()
    tab.goto("/no-such-page")
    expect(_menu(tab)).to_have_count(0)


def test_the_json_api_keeps_problem_details_for_an_unknown_address(tab, service):
    sign_in(tab, "adviser")  # a browser's session cookie changes nothing for the API
    answer = tab.request.get(f"{service}/api/v1/no-such-thing")
    assert answer.status == 404 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 404 and "<html" not in answer.text()


def test_a_page_outside_your_role_is_a_gov_uk_403(tab):
    sign_in(tab, "mentor")
    answer = tab.goto("/caseload")
    assert answer.status == 403
    expect(tab.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
    expect(_menu(tab).get_by_role("link", name="My mentees")).to_be_visible()
    assert serious_violations(tab) == []


def test_schema_renders_swagger_ui_with_every_request_to_this_service(tab, service):
    elsewhere, refused = [], []
    tab.route("**/*", lambda route: (elsewhere.append(route.request.url), route.abort()) if not
              route.request.url.startswith(service) else route.continue_())
    tab.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
           else None)
    tab.goto("/schema")
    expect(tab.locator(".swagger-ui .info .title")).to_contain_text("Springboard")
    expect(tab.locator(".swagger-ui .opblock").first).to_be_visible()
    assert elsewhere == [] and refused == []


def test_a_manager_sets_the_follow_up_intervals_fixing_an_error_on_the_way(tab):
    sign_in(tab, "manager")
    tab.get_by_role("link", name="Settings").click()
    expect(tab.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    assert serious_violations(tab) == []
    waiting = tab.get_by_label("Follow up an approved match not yet referred or introduced after (days)")
    ahead = tab.get_by_label("List check-ins and waiting matches from this many days before they are due")
    waiting.fill("2.5")
    ahead.fill("90")
    tab.get_by_role("button", name="Save settings").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Days an approved match may wait must be a whole number")
    expect(summary).to_contain_text("Days ahead for check-ins and next steps must be 60 or less")
    assert tab.title().startswith("Error: ")
    expect(waiting).to_have_value("2.5")  # what was typed is kept
    expect(ahead).to_have_value("90")
    assert serious_violations(tab) == []
    summary.get_by_role("link", name="Days an approved match may wait must be a whole number").click()
    expect(waiting).to_be_focused()
    waiting.fill("21")
    ahead.fill("7")
    tab.get_by_role("button", name="Save settings").click()
    expect(tab.get_by_role("alert")).to_contain_text("Settings saved")
    expect(waiting).to_have_value("21")
    expect(ahead).to_have_value("7")
    assert serious_violations(tab) == []


def test_the_settings_form_works_with_javascript_off(plain_tab):
    sign_in(plain_tab, "manager")
    plain_tab.goto("/settings")
    assert serious_violations(plain_tab) == []
    plain_tab.get_by_label("Flag mentoring with no meeting for (days)").fill("3")
    plain_tab.get_by_label("Follow up an approved match not yet referred or introduced after (days)").fill("")
    plain_tab.get_by_role("button", name="Save settings").click()
    summary = plain_tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Days with no meeting must be 7 or more")
    expect(summary).to_contain_text("Enter days an approved match may wait")
    expect(plain_tab.get_by_label("Flag mentoring with no meeting for (days)")).to_have_value("3")
    assert serious_violations(plain_tab) == []
    plain_tab.get_by_label("Flag mentoring with no meeting for (days)").fill("60")
    plain_tab.get_by_label("Follow up an approved match not yet referred or introduced after (days)").fill("10")
    plain_tab.get_by_role("button", name="Save settings").click()
    expect(plain_tab.get_by_role("alert")).to_contain_text("Settings saved")
    expect(plain_tab.get_by_label("Follow up an approved match not yet referred or introduced after (days)")
           ).to_have_value("10")
    assert serious_violations(plain_tab) == []
    plain_tab.get_by_role("link", name="Overview").click()
    expect(plain_tab.get_by_text(re.compile("Mentoring with no meeting for 60 days"))).to_be_visible()
    assert serious_violations(plain_tab) == []
