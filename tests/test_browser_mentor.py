"""Mentors' journeys in a real headless Chromium on the demo borough, with axe checks on every page state:
signing up (question pages, check your answers, changing an answer, confirmation), a manager vetting the new
mentor who then shows as active, and a mentor changing their profile and logging then correcting a meeting.
"""

import re

from playwright.sync_api import Page, expect

from tests.test_browser import PASSWORD, chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

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
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, "mentor")
        plain.get_by_role("button", name=re.compile("^Log a meeting with ")).first.click()
        log_a_call_after_the_date_error(plain, "you", "Call without scripts")
    finally:
        context.close()


def log_a_call_after_the_date_error(view: Page, who: str, note: str) -> None:
    """On a meeting form: sent empty, the date is asked for; answered, the meeting shows with the banner.
    Shared by the mentor's and the adviser's journeys with JavaScript off."""
    view.get_by_role("button", name="Log meeting").click()
    expect(view.locator(".govuk-error-summary")).to_contain_text(f"Enter the date {who} met")
    assert serious_violations(view) == []
    fill_date(view, "met_on", example_date(view, "met_on"))
    view.get_by_label("Phone call").check()
    view.get_by_label("A short note about how it went (optional)").fill(note)
    view.get_by_role("button", name="Log meeting").click()
    expect(view.get_by_role("alert")).to_contain_text("logged")
    expect(view.locator("tr", has_text=note)).to_contain_text("Phone call")
    assert serious_violations(view) == []


def _shown(view: Page, key: str) -> str:
    """The value a summary list shows for `key`."""
    row = view.locator(".govuk-summary-list__row").filter(has=view.locator("dt", has_text=re.compile(rf"^\s*{key}\s*$")))
    return row.locator(".govuk-summary-list__value").inner_text().strip()


def _change_account(view: Page, name: str, email: str, password: str) -> None:
    view.get_by_label("Full name").fill(name)
    view.get_by_label("Work email address").fill(email)
    view.get_by_label("Your current password").fill(password)
    view.get_by_role("button", name="Save the change").click()


def test_a_mentor_changes_their_name_and_email_and_signs_in_with_the_new_one(chromium, service, tab):  # noqa: F811
    # Last in this module: the demo mentor's own address changes, and is put back at the end.
    old_email, new_email = "mentor@northbridge.example.gov.uk", "morgan.example@northbridge.example.gov.uk"
    sign_in(tab, "mentor")
    tab.get_by_role("link", name="My profile").click()
    old_name = _shown(tab, "Name")
    tab.get_by_role("link", name="Change name").click()
    expect(tab.get_by_role("heading", level=1, name="Change your name or email address")).to_be_visible()
    expect(tab.get_by_label("Full name")).to_have_value(old_name)
    accessible(tab)

    _change_account(tab, "Morgan Example", "manager@northbridge.example.gov.uk", "")
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your current password to change your email address")
    assert tab.title().startswith("Error: ")
    expect(tab.get_by_label("Full name")).to_have_value("Morgan Example")  # kept
    expect(tab.get_by_label("Work email address")).to_have_value("manager@northbridge.example.gov.uk")
    accessible(tab)
    tab.get_by_label("Your current password").fill(PASSWORD)
    tab.get_by_role("button", name="Save the change").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Another account already uses this email address")
    expect(tab.get_by_label("Your current password")).to_have_value("")  # a password never comes back
    accessible(tab)

    _change_account(tab, "Morgan Example", new_email, PASSWORD)
    expect(tab.get_by_role("alert")).to_contain_text("Your name and email address are saved")
    assert (_shown(tab, "Name"), _shown(tab, "Work email")) == ("Morgan Example", new_email)
    accessible(tab)

    again = chromium.new_context(base_url=service).new_page()
    try:
        _sign_in_as(again, old_email, PASSWORD)
        expect(again.locator(".govuk-error-summary")).to_contain_text("The email address or password is not right")
        _sign_in_as(again, new_email, PASSWORD)
        expect(again.get_by_role("heading", level=1, name="My mentees")).to_be_visible()
        accessible(again)
        again.get_by_role("link", name="My profile").click()
        again.get_by_role("link", name="Change work email").click()
        _change_account(again, old_name, old_email, PASSWORD)  # back as the demo had it
        expect(again.get_by_role("alert")).to_contain_text("Your name and email address are saved")
        assert _shown(again, "Work email") == old_email
    finally:
        again.context.close()
