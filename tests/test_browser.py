"""The pages in a real headless Chromium (Debian's package) through Playwright, with axe accessibility checks.

The service runs as `springboard serve` on the demo borough, exactly as `make run` starts it.
"""

import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import TEST_TODAY
from tests.test_packaging_and_cli import _free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "springboard-demo"
# Chromium as the machine allows it: no sandbox as root, and no calls home (the network is closed).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: .ci/system-deps installs Debian's chromium")
    pytest.skip("Debian's chromium is not installed (`apt-get install chromium`, as .ci/system-deps does)",
                allow_module_level=True)


class Served(str):
    """The service's address, and the URL of its database for tests that check what was stored."""

    database_url: str


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser")
    # The service runs on the suite's day, as the tests in this process do: the demo data is counted back
    # from it, so a journey finds the same people whatever the calendar says.
    env = os.environ | {"DATA_DIR": str(data), "DATABASE_URL": "", "SECURE_COOKIES": "false",
                        "SPRINGBOARD_TODAY": TEST_TODAY.isoformat()}
    command = [sys.executable, "-m", "api"]
    for step in (["db", "upgrade"], ["demo"], ["match", "run"]):
        subprocess.run([*command, *step], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # up to a minute: the suite keeps both cores busy while the server starts
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    served = Served(base)
    served.database_url = f"sqlite:///{data / 'springboard.sqlite3'}"
    yield served
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def _tab_of(chromium, service, **options):
    context = chromium.new_context(base_url=service, **options)
    yield context.new_page()
    context.close()


@pytest.fixture
def tab(chromium, service) -> Page:
    yield from _tab_of(chromium, service)


@pytest.fixture
def plain_tab(chromium, service) -> Page:
    """A tab with JavaScript off: every page must work as plain HTML forms (and `serious_violations` runs)."""
    yield from _tab_of(chromium, service, java_script_enabled=False)


def sign_in(tab: Page, who: str) -> None:
    tab.goto("/sign-in")
    tab.get_by_label("Email address").fill(f"{who}@northbridge.example.gov.uk")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()


def serious_violations(tab: Page) -> list[str]:
    """axe's serious and critical WCAG 2.2 AA violations on the page as it stands, JavaScript on or off."""
    # A click that navigates returns once the new page has committed, before its stylesheets and fonts
    # have loaded: axe run then measures unstyled links (24 px target size fails on the skip link).
    tab.wait_for_load_state("load")
    if tab.evaluate("matchMedia('(scripting: none)').matches"):
        return _serious_violations_without_javascript(tab)
    tab.evaluate("document.fonts.ready.then(() => true)")
    found = Axe().run(tab, options=WCAG_AA).response["violations"]
    return [f"{v['id']}: {v['help']} at {[node['target'] for node in v['nodes']]}" for v in found
            if v["impact"] in {"serious", "critical"}]


def _serious_violations_without_javascript(tab: Page) -> list[str]:
    """axe on a page in a context with JavaScript off.

    Playwright's `evaluate` still runs there, but timers never fire, and axe waits on `setTimeout`: run in
    place, axe never answers. So the page as it stands (its HTML, parsed with no script run) is served
    again, at the same address so its stylesheets load, to a tab where timers work but a Content Security
    Policy of `script-src 'none'` stops the page's own scripts: axe checks what a visitor with JavaScript
    off is shown. (No template uses <noscript>, whose content this would not show.)"""
    html, address = tab.content(), tab.url.split("#")[0]
    context = tab.context.browser.new_context(viewport=tab.viewport_size)
    try:
        again = context.new_page()
        again.route(lambda url: url.split("#")[0] == address, lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=html,
            headers={"Content-Security-Policy": "script-src 'none'"}))
        again.goto(address)
        assert again.evaluate("!document.body.classList.contains('js-enabled')")  # no page script ran
        return serious_violations(again)
    finally:
        context.close()


def test_sign_in_errors_are_summarised_and_linked_to_their_fields(tab):
    tab.goto("/sign-in")
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Sign in").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend's script moves focus to the summary
    summary.get_by_role("link", name="Enter your email address").click()
    expect(tab.get_by_label("Email address")).to_be_focused()
    assert tab.title().startswith("Error: ")


def test_an_adviser_reviews_and_approves_a_proposal_with_its_reasons(tab):
    sign_in(tab, "adviser")
    expect(tab.get_by_role("heading", name="My caseload")).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="Proposals to review").click()
    first = tab.locator(".govuk-summary-card").first
    expect(first.get_by_text("Why")).to_be_visible()
    assert first.locator("li").count() >= 1  # the reasons behind the score, in words
    assert serious_violations(tab) == []
    action = first.locator("form").first.get_attribute("action")
    first.get_by_role("button", name="Approve").click()
    expect(tab.get_by_role("alert")).to_contain_text("Proposal approved")
    expect(tab.locator(f'form[action="{action}"]')).to_have_count(0)  # decided: no longer waiting


def test_keyboard_users_can_skip_to_the_content_and_sign_out(tab):
    sign_in(tab, "manager")
    expect(tab.get_by_role("heading", name="Overview")).to_be_visible()
    tab.keyboard.press("Tab")
    expect(tab.get_by_role("link", name="Skip to main content")).to_be_focused()
    tab.keyboard.press("Enter")
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_role("heading", name="Sign in to Springboard")).to_be_visible()
    tab.goto("/overview")
    expect(tab).to_have_url(f"{tab.url.split('/sign-in')[0]}/sign-in?next=%2Foverview")


def test_a_mentor_cannot_open_an_advisers_page(tab):
    sign_in(tab, "mentor")
    expect(tab.get_by_role("heading", name="My mentees")).to_be_visible()
    response = tab.goto("/caseload")
    assert response.status == 403
    expect(tab.get_by_role("heading", name="You cannot see this page")).to_be_visible()


def test_on_a_phone_the_menu_folds_behind_a_button(chromium, service):
    context = chromium.new_context(base_url=service, viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        sign_in(phone, "adviser")
        menu = phone.get_by_role("button", name="Menu")
        expect(menu).to_be_visible()
        expect(phone.get_by_role("link", name="Proposals to review")).to_be_hidden()
        menu.click()
        expect(phone.get_by_role("link", name="Proposals to review")).to_be_visible()
        assert serious_violations(phone) == []
    finally:
        context.close()


def test_axe_checks_a_page_with_javascript_off_as_it_is_shown(plain_tab):
    plain_tab.goto("/sign-in")
    plain_tab.get_by_role("button", name="Sign in").click()  # a form with errors, no script to focus it
    expect(plain_tab.locator(".govuk-error-summary")).to_be_visible()
    assert serious_violations(plain_tab) == []
    plain_tab.evaluate("document.querySelector('label[for=email]').remove()")  # the page as it now stands
    assert [found.split(":")[0] for found in serious_violations(plain_tab)] == ["label"]
