"""Mentors' journeys in a real headless Chromium on the demo borough, with axe checks on every page state:
signing up (question pages, check your answers, changing an answer, confirmation), a manager vetting the new
mentor who then shows as active, and a mentor changing their profile and logging then correcting a meeting.
"""

import re

from playwright.sync_api import Page, expect

from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

NEW_MENTOR = "ada.okonjo@northbridge.example.gov.uk"
NEW_PASSWORD = "a mentor password that is long"


def accessible(view: Page) -> None:
    assert serious_violations(view) == [], view.url


def example_date(view: Page, hint_of: str) -> tuple[str, str, str]:
    """The day, month and year a field's hint gives as its example (the service's own today, or a year before)."""
    hint = view.locator(f"#{hint_of}-hint").inner_text()
    return re.search(r"(\d{1,2}) (\d{1,2}) (\d{4})", hint).groups()


def fill_date(view: Page, name: str, parts: tuple[str, str, str]) -> None:
    for part, value in zip(("day", "month", "year"), parts, strict=True):
        view.locator(f"#{name}-{part}").fill(value)


def test_a_new_mentor_signs_up_is_vetted_by_a_manager_and_then_is_active(chromium, service, tab):  # noqa: F811
    tab.goto("/sign-in")
    tab.get_by_role("link", name="sign up as a mentor").click()
    expect(tab.get_by_role("heading", name="Become a mentor")).to_be_visible()
    accessible(tab)
    tab.get_by_role("button", name="Start now").click()

    expect(tab.get_by_role("heading", name="About you")).to_be_visible()
    accessible(tab)
    tab.get_by_label("Full name").fill("Ada Okonjo")
    tab.get_by_label("Work email address").fill("manager@northbridge.example.gov.uk")  # someone else's
    tab.get_by_label("Create a password").fill("too short")
    tab.get_by_role("button", name="Continue").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("An account with this email already exists: sign in instead")
    expect(summary).to_contain_text("Your password must be 12 characters or more")
    assert tab.title().startswith("Error: ")
    expect(tab.get_by_label("Full name")).to_have_value("Ada Okonjo")  # kept
    accessible(tab)
    tab.get_by_label("Work email address").fill(NEW_MENTOR)
    tab.get_by_label("Create a password").fill(NEW_PASSWORD)
    tab.get_by_label("Type the password again").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Continue").click()

    expect(tab.get_by_role("heading", name="Your role")).to_be_visible()
    accessible(tab)
    department = tab.get_by_label("Department")
    department.select_option(index=1)
    department_name = department.locator("option:checked").inner_text()
    tab.get_by_label("Job title").fill("Head of Libraries")
    tab.get_by_label("Office postcode district").fill("N16")
    tab.get_by_role("button", name="Continue").click()

    expect(tab.get_by_role("heading", name="What you can offer")).to_be_visible()
    accessible(tab)
    tab.get_by_label("What you know about").fill("libraries, reading")
    tab.get_by_label("Your interests (optional)").fill("football")
    tab.get_by_role("button", name="Continue").click()

    expect(tab.get_by_role("heading", name="When and how much")).to_be_visible()
    tab.get_by_role("button", name="Continue").click()  # nothing answered
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Select at least one day you could meet")
    accessible(tab)
    tab.get_by_label("Tuesday").check()
    tab.get_by_label("How many young people could you mentor at once?").fill("1")
    tab.get_by_role("button", name="Continue").click()

    expect(tab.get_by_role("heading", name="Check your answers before signing up")).to_be_visible()
    accessible(tab)
    for shown in ("Ada Okonjo", NEW_MENTOR, department_name, "Head of Libraries", "N16", "libraries, reading",
                  "Tuesday", "1 young person"):
        expect(tab.locator("main")).to_contain_text(shown)
    tab.get_by_role("link", name="Change job title").click()
    expect(tab.get_by_label("Job title")).to_have_value("Head of Libraries")
    tab.get_by_label("Job title").fill("Director of Libraries")
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", name="Check your answers before signing up")).to_be_visible()
    expect(tab.locator("main")).to_contain_text("Director of Libraries")
    tab.get_by_role("button", name="Sign up as a mentor").click()

    expect(tab.locator(".govuk-panel")).to_contain_text("You have signed up as a mentor")
    expect(tab.locator("main")).to_contain_text("What happens next")
    accessible(tab)

    _sign_in_as(tab, NEW_MENTOR, NEW_PASSWORD)
    expect(tab.locator("main")).to_contain_text("You are waiting for vetting")
    accessible(tab)
    tab.get_by_role("link", name="My profile").click()
    expect(tab.locator(".govuk-tag")).to_have_text("Waiting for vetting")
    accessible(tab)

    manager = tab.context.browser.new_context(base_url=service).new_page()
    sign_in(manager, "manager")
    manager.get_by_role("link", name="Mentors to vet").click()
    expect(manager.get_by_role("heading", name="Mentors to vet")).to_be_visible()
    accessible(manager)
    manager.get_by_role("link", name="Ada Okonjo").click()
    expect(manager.locator("main")).to_contain_text("Director of Libraries")
    accessible(manager)
    manager.get_by_role("button", name="Activate mentor").click()  # no dates yet
    expect(manager.locator(".govuk-error-summary")).to_contain_text("Enter the date of the DBS check")
    accessible(manager)
    fill_date(manager, "dbs_checked_on", example_date(manager, "dbs_checked_on"))
    fill_date(manager, "safeguarding_trained_on", example_date(manager, "safeguarding_trained_on"))
    manager.get_by_role("button", name="Activate mentor").click()
    expect(manager.get_by_role("alert")).to_contain_text("Ada Okonjo is now an active mentor")
    expect(manager.locator("table").get_by_role("link", name="Ada Okonjo")).to_have_count(0)
    accessible(manager)
    manager.context.close()

    tab.reload()
    expect(tab.locator(".govuk-tag")).to_have_text("Active")
    expect(tab.locator("main")).not_to_contain_text("Matching will not propose you")


def _sign_in_as(view: Page, email: str, password: str) -> None:
    view.goto("/sign-in")
    view.get_by_label("Email address").fill(email)
    view.get_by_label("Password").fill(password)
    view.get_by_role("button", name="Sign in").click()


def test_a_mentor_changes_their_profile_then_logs_and_corrects_a_meeting(tab):  # noqa: F811
    sign_in(tab, "mentor")
    expect(tab.get_by_role("heading", name="My mentees")).to_be_visible()
    accessible(tab)
    tab.get_by_role("link", name="My profile").click()
    expect(tab.get_by_role("heading", name="My profile")).to_be_visible()
    accessible(tab)
    tab.get_by_role("button", name="Change your profile").click()
    accessible(tab)
    tab.get_by_label("Job title").fill("")
    tab.get_by_role("button", name="Save your profile").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Enter your job title")
    accessible(tab)
    tab.get_by_label("Job title").fill("Assistant Director of Parks")
    tab.get_by_label("Your interests (optional)").fill("birdwatching, chess")
    tab.get_by_role("button", name="Save your profile").click()
    expect(tab.get_by_role("alert")).to_contain_text("Your profile is saved")
    expect(tab.locator("main")).to_contain_text("birdwatching, chess")
    expect(tab.locator("main")).to_contain_text("Assistant Director of Parks")
    accessible(tab)

    tab.get_by_role("link", name="My mentees").click()
    log = tab.get_by_role("button", name=re.compile("^Log a meeting with ")).first
    name = log.inner_text().removeprefix("Log a meeting with ")
    log.click()
    expect(tab.get_by_role("heading", name=f"Log a meeting with {name}")).to_be_visible()
    assert tab.locator("input[type=radio]:checked").count() == 0  # nothing preselected
    accessible(tab)
    tab.get_by_label("A short note about how it went (optional)").fill("Library visit")
    tab.get_by_role("button", name="Log meeting").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date you met")
    expect(summary).to_contain_text("Select how you met")
    expect(tab.get_by_label("A short note about how it went (optional)")).to_have_value("Library visit")
    accessible(tab)
    day = example_date(tab, "met_on")
    fill_date(tab, "met_on", day)
    tab.get_by_label("Video call").check()
    tab.get_by_role("button", name="Log meeting").click()
    expect(tab.get_by_role("alert")).to_contain_text(f"Meeting with {name} logged")
    row = tab.locator("tr", has_text="Library visit")
    expect(row).to_contain_text("Video call")
    accessible(tab)

    row.get_by_role("link", name=re.compile("^Change")).click()
    expect(tab.get_by_role("heading", name=f"Change a meeting with {name}")).to_be_visible()
    expect(tab.get_by_label("Video call")).to_be_checked()
    accessible(tab)
    tab.locator("#met_on-year").fill(str(int(day[2]) + 1))  # next year: refused, and what was typed is kept
    tab.get_by_role("button", name="Save the change").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("The date you met must be today or in the past")
    expect(tab.locator("#met_on-year")).to_have_value(str(int(day[2]) + 1))
    accessible(tab)
    fill_date(tab, "met_on", day)
    tab.get_by_label("In person").check()
    tab.get_by_label("A short note about how it went (optional)").fill("Library visit, then lunch")
    tab.get_by_role("button", name="Save the change").click()
    expect(tab.get_by_role("alert")).to_contain_text(f"Meeting with {name} corrected")
    expect(tab.locator("tr", has_text="Library visit, then lunch")).to_contain_text("In person")
    accessible(tab)


def test_logging_a_meeting_works_with_javascript_off(chromium, service):  # noqa: F811
    # No axe here: it runs as a script, which this context refuses; the same page states are checked with
    # scripts on above.
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, "mentor")
        plain.get_by_role("button", name=re.compile("^Log a meeting with ")).first.click()
        plain.get_by_role("button", name="Log meeting").click()
        expect(plain.locator(".govuk-error-summary")).to_contain_text("Enter the date you met")
        fill_date(plain, "met_on", example_date(plain, "met_on"))
        plain.get_by_label("Phone call").check()
        plain.get_by_label("A short note about how it went (optional)").fill("Call without scripts")
        plain.get_by_role("button", name="Log meeting").click()
        expect(plain.get_by_role("alert")).to_contain_text("logged")
        expect(plain.locator("tr", has_text="Call without scripts")).to_contain_text("Phone call")
    finally:
        context.close()
