"""The platform pages in real Chromium: GOV.UK error pages pass axe, and /schema works with no network."""

from playwright.sync_api import expect

from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401  (fixtures)


def test_page_not_found_is_a_gov_uk_page_signed_out_and_signed_in(tab):  # noqa: F811
    answer = tab.goto("/no-such-page")
    assert answer.status == 404 and answer.headers["cache-control"] == "no-store"
    expect(tab.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert serious_violations(tab) == []
    sign_in(tab, "adviser")
    tab.goto("/no-such-page")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="Go to your home page").click()
    expect(tab.get_by_role("heading", name="My caseload")).to_be_visible()


def test_a_page_outside_your_role_is_a_gov_uk_403(tab):  # noqa: F811
    sign_in(tab, "mentor")
    answer = tab.goto("/caseload")
    assert answer.status == 403
    expect(tab.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
    assert serious_violations(tab) == []


def test_schema_renders_swagger_ui_with_every_request_to_this_service(tab, service):  # noqa: F811
    elsewhere, refused = [], []
    tab.route("**/*", lambda route: (elsewhere.append(route.request.url), route.abort()) if not
              route.request.url.startswith(service) else route.continue_())
    tab.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
           else None)
    tab.goto("/schema")
    expect(tab.locator(".swagger-ui .info .title")).to_contain_text("Springboard")
    expect(tab.locator(".swagger-ui .opblock").first).to_be_visible()
    assert elsewhere == [] and refused == []
