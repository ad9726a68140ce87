"""The local offer in real Chromium: a young person reads it on a 375 px phone in each language (axe clean, no
sideways scrolling, the language's lang and dir), and a manager adds an item, with JavaScript off, that then
shows on the public page."""

from playwright.sync_api import expect

from api import i18n
from tests.test_browser import chromium, plain_tab, serious_violations, service, sign_in, tab  # noqa: F401

PHONE = {"width": 375, "height": 740}


def test_a_young_person_reads_the_local_offer_on_a_phone_in_each_language(chromium, service):  # noqa: F811
    context = chromium.new_context(base_url=service, viewport=PHONE)
    phone = context.new_page()
    try:
        phone.goto("/sign-in")
        phone.get_by_role("link", name="read what the council offers care leavers").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Support for care leavers")
        shown = "en"
        for code, language in i18n.languages().items():
            if code != shown:  # each language is reached from the switcher, by its name in itself
                switcher = i18n.translations(shown).gettext("Choose a language")
                phone.get_by_role("navigation", name=switcher).get_by_role("link", name=language.name).click()
                shown = code
            html = phone.locator("html")
            expect(html).to_have_attribute("lang", code)
            expect(html).to_have_attribute("dir", language.direction)
            heading = i18n.translations(code).gettext("Support for care leavers")
            expect(phone.get_by_role("heading", level=1)).to_have_text(heading)
            expect(phone.get_by_role("heading", name="Council tax exemption")).to_be_visible()
            assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), code
            assert serious_violations(phone) == [], code
    finally:
        context.close()


def test_a_manager_adds_an_item_without_javascript_and_young_people_see_it(plain_tab):  # noqa: F811
    sign_in(plain_tab, "manager")
    plain_tab.goto("/local-offer/items")
    assert serious_violations(plain_tab) == []
    plain_tab.get_by_role("button", name="Add an entitlement").click()
    plain_tab.get_by_label("Short code").fill("free_gym")
    plain_tab.get_by_label("Name of the entitlement").fill("Free gym membership")
    plain_tab.get_by_label("Youngest age").fill("18")
    plain_tab.get_by_label("Eligible until this birthday").fill("18")
    plain_tab.get_by_role("button", name="Add to the local offer").click()
    summary = plain_tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter who qualifies")
    expect(summary).to_contain_text("Eligible until this birthday must be more than the youngest age")
    expect(plain_tab.get_by_label("Name of the entitlement")).to_have_value("Free gym membership")
    assert serious_violations(plain_tab) == []
    plain_tab.get_by_label("Who qualifies").fill("Care leavers aged 18 to 21 who live in the borough.")
    plain_tab.get_by_label("Eligible until this birthday").fill("22")
    plain_tab.get_by_role("button", name="Add to the local offer").click()
    expect(plain_tab.locator(".govuk-notification-banner--success")).to_contain_text(
        "Free gym membership added to the local offer")
    expect(plain_tab.get_by_role("cell", name="Free gym membership", exact=True)).to_be_visible()
    assert serious_violations(plain_tab) == []
    plain_tab.goto("/local-offer?lang=ps")
    expect(plain_tab.get_by_role("heading", name="Free gym membership")).to_be_visible()
    expect(plain_tab.get_by_text("Care leavers aged 18 to 21 who live in the borough.")).to_be_visible()
    assert serious_violations(plain_tab) == []
