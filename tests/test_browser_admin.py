"""An administrator's pages in Chromium on the demo borough: inviting someone who then chooses their password,
changing their role, deactivating them (their open session, in another browser, stops working) and
re-activating them; departments and API tokens with JavaScript off. axe on every page state."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
NEW_PASSWORD = "three words remembered"


def _invitation_link(service) -> str:  # noqa: F811
    """The path of the set-password link in the newest invitation in the service's outbox."""
    with sa.create_engine(service.database_url).connect() as connection:
        body = connection.execute(sa.text("SELECT body FROM notifications WHERE kind = 'password_invitation' "
                                          "ORDER BY id DESC LIMIT 1")).scalar_one()
    return re.search(r"https?://[^/\s]+(/set-password/\S+)", body).group(1)


def _sign_in_as(page: Page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_invites_someone_changes_their_role_deactivates_and_reactivates_them(tab, chromium, service):  # noqa: F811
    sign_in(tab, "admin")
    expect(tab.get_by_role("heading", name="People", level=1)).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Invite someone").click()
    tab.get_by_role("button", name="Send invitation").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Select their role")
    assert tab.title().startswith("Error: ") and serious_violations(tab) == []
    tab.get_by_label("Full name").fill("Priya Raman")
    tab.get_by_label("Email address").fill("priya.raman@northbridge.example.gov.uk")
    tab.get_by_label("Personal adviser").check()
    tab.get_by_role("button", name="Send invitation").click()
    expect(tab.locator(".govuk-notification-banner--success")).to_contain_text("Priya Raman was invited")
    expect(tab.get_by_role("heading", name="Priya Raman", level=1)).to_be_visible()
    assert serious_violations(tab) == []
    person = tab.url

    invitee = chromium.new_context(base_url=service).new_page()
    try:
        invitee.goto(_invitation_link(service))
        expect(invitee.get_by_role("heading", name="Choose your password")).to_be_visible()
        assert serious_violations(invitee) == []
        invitee.get_by_label("Your new password").fill(NEW_PASSWORD)
        invitee.get_by_label("Type the password again").fill("something else entirely")
        invitee.get_by_role("button", name="Save password").click()
        expect(invitee.locator(".govuk-error-summary")).to_contain_text("Enter the same password in both boxes")
        assert serious_violations(invitee) == []
        invitee.get_by_label("Your new password").fill(NEW_PASSWORD)
        invitee.get_by_label("Type the password again").fill(NEW_PASSWORD)
        invitee.get_by_role("button", name="Save password").click()
        expect(invitee.locator(".govuk-notification-banner")).to_contain_text("Your password is set")
        assert serious_violations(invitee) == []
        _sign_in_as(invitee, "priya.raman@northbridge.example.gov.uk", NEW_PASSWORD)
        expect(invitee.get_by_role("heading", name="My caseload")).to_be_visible()

        tab.get_by_role("link", name="Change role and department").click()
        assert serious_violations(tab) == []
        tab.get_by_label("Manager (Head of Corporate Parenting)").check()
        tab.get_by_role("button", name="Save role").click()
        expect(tab.locator(".govuk-notification-banner--success")).to_contain_text(
            "Priya Raman is now: Manager (Head of Corporate Parenting)")
        invitee.goto("/")
        expect(invitee).to_have_url(re.compile(r"/overview$"))  # their next page is a manager's

        tab.get_by_role("link", name="Deactivate Priya Raman").click()
        expect(tab.get_by_role("heading", name="Deactivate Priya Raman?")).to_be_visible()
        assert serious_violations(tab) == []
        tab.get_by_role("button", name="Yes, deactivate Priya Raman").click()
        expect(tab.locator(".govuk-notification-banner--success")).to_contain_text("signed out everywhere")
        assert serious_violations(tab) == []
        invitee.goto("/overview")
        expect(invitee.get_by_role("heading", name="Sign in")).to_be_visible()  # the open session stopped
        _sign_in_as(invitee, "priya.raman@northbridge.example.gov.uk", NEW_PASSWORD)
        expect(invitee.locator(".govuk-error-summary")).to_be_visible()

        tab.get_by_role("button", name="Re-activate Priya Raman").click()
        expect(tab.locator(".govuk-notification-banner--success")).to_contain_text("Priya Raman can sign in again")
        assert serious_violations(tab) == [] and tab.url == person
        _sign_in_as(invitee, "priya.raman@northbridge.example.gov.uk", NEW_PASSWORD)
        expect(invitee.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    finally:
        invitee.context.close()
    tab.goto("/people?status=deactivated&role=manager")
    assert serious_violations(tab) == []


def test_departments_and_api_tokens_with_javascript_off(chromium, service):  # noqa: F811
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "admin")
        page.goto("/departments")
        expect(page.get_by_role("heading", name="Departments", level=1)).to_be_visible()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Add a department").click()
        page.get_by_label("Name", exact=True).fill("Mobile Libraries")
        page.get_by_role("button", name="Add department").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter code")
        assert serious_violations(page) == []
        expect(page.get_by_label("Name", exact=True)).to_have_value("Mobile Libraries")
        page.get_by_label("Code").fill("MLIB")
        page.get_by_role("button", name="Add department").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Mobile Libraries was added")
        page.get_by_role("link", name="Rename Mobile Libraries").click()
        assert serious_violations(page) == []
        page.get_by_label("New name").fill("Mobile Library Service")
        page.get_by_role("button", name="Save name").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "Mobile Libraries is now called Mobile Library Service")
        page.get_by_role("link", name="Deactivate Mobile Library Service").click()
        assert serious_violations(page) == []
        page.get_by_label("Why is it closing?").fill("Run by the trust from January")
        page.get_by_role("button", name="Deactivate department").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("was deactivated")
        assert serious_violations(page) == []

        page.goto("/tokens")
        assert serious_violations(page) == []
        page.get_by_role("button", name="Create an API token").click()
        page.get_by_role("button", name="Create token").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Select whose token it is")
        assert serious_violations(page) == []
        page.get_by_label("What will use it").fill("Case system nightly export")
        manager = page.locator("#user_id option", has_text="(manager@northbridge.example.gov.uk)")
        page.get_by_label("Whose token it is").select_option(manager.get_attribute("value"))
        page.get_by_role("button", name="Create token").click()
        secret = page.get_by_label("The token").input_value()
        assert secret.startswith("sb_") and serious_violations(page) == []
        page.get_by_role("link", name="Back to API tokens").click()
        assert secret not in page.content()
        page.get_by_role("link", name="Revoke Case system nightly export").click()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Yes, revoke this token").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("was revoked")
        assert serious_violations(page) == []
    finally:
        context.close()
