"""The local offer's pages: the public page in each language (lang and dir, every message translated, unknown
languages in English), its message catalogues (complete, placeholders intact), and the manager's pages that
keep the items (errors the GOV.UK way, changes stored and audited, other roles refused)."""

import re
from html.parser import HTMLParser
from io import BytesIO

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from sqlmodel import select

from api import i18n, templating
from matching import db
from matching.models import AuditEvent, OfferItem
from tests import factories
from tests.test_pages import csrf, sign_in

CHOSEN = {"ar": "rtl", "ps": "rtl", "tr": "ltr"}  # the languages most spoken after English (docs/translations.md)
TRANSLATED = sorted(set(i18n.languages()) - {i18n.SOURCE})  # every catalogue, including any a council adds
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")


def template_messages() -> dict[str, set[str]]:
    """Every message the public templates use, as `pybabel extract` finds it, with its placeholders."""
    found = extract_from_dir(str(i18n.CATALOGUES.parent / "templates" / "local_offer"),
                             method_map=[("**.html", "jinja2")],
                             options_map={"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                                      "lstrip_blocks": "true"}})
    return {message: set(PLACEHOLDER.findall(message)) for _, _, message, _, _ in found}


class Page(HTMLParser):
    """The <html> element's lang and dir, and the visible text, to tell which language a page speaks."""

    def __init__(self) -> None:
        super().__init__()
        self.html, self.text, self._skip = {}, [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.html = dict(attrs)
        self._skip += tag in {"script", "style", "title"}

    def handle_endtag(self, tag):
        self._skip -= tag in {"script", "style", "title"}

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


def one_heading(response) -> bool:
    """A title and exactly one h1 (as tests/test_page_structure.py asks of every page)."""
    return response.text.count("<h1") == 1 and bool(re.search(r"<title>[^<]+</title>", response.text))


def read(response) -> Page:
    found = Page()
    found.feed(response.text)
    return found


# The catalogues (no database) --------------------------------------------------------------------------------

def test_the_chosen_languages_each_have_a_catalogue_and_a_direction():
    directions = {code: language.direction for code, language in i18n.languages().items()}
    assert {"en": "ltr", **CHOSEN}.items() <= directions.items()
    names = {code: language.name for code, language in i18n.languages().items()}
    assert {"en": "English", "ar": "العربية", "ps": "پښتو", "tr": "Türkçe"}.items() <= names.items()
    assert list(names)[0] == "en"


def test_the_catalogue_template_lists_exactly_the_messages_the_templates_use():
    """messages.pot is what a new language's catalogue starts from (docs/translations.md): kept up to date."""
    with (i18n.CATALOGUES / "messages.pot").open("rb") as pot:
        assert {message.id for message in read_po(pot) if message.id} == set(template_messages())


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_the_templates_use_is_translated_with_its_placeholders(code):
    used = template_messages()
    assert "Support for care leavers" in used and {"youngest", "oldest"} in used.values()  # the extractor works
    catalogue = {message.id: message for message in i18n.read_catalogue(code) if message.id}
    missing = sorted(set(used) - set(catalogue))
    untranslated = sorted(m for m in used if m in catalogue and (not catalogue[m].string or catalogue[m].fuzzy))
    broken = sorted(m for m, wanted in used.items() if m in catalogue and catalogue[m].string
                    and set(PLACEHOLDER.findall(catalogue[m].string)) != wanted)
    unfillable = []
    for message in used:
        try:
            catalogue[message].string % {name: "1" for name in used[message] if name}
        except (KeyError, ValueError, TypeError, AttributeError):
            unfillable.append(message)
    assert (missing, untranslated, broken, unfillable) == ([], [], [], [])
    assert catalogue.keys() - used.keys() == set(), "messages no template uses any more: remove them"


def test_a_broken_placeholder_or_a_missing_message_is_caught():
    """The check above fails on a catalogue that lost a message or mistyped a placeholder."""
    po = i18n.catalogue_path("tr").read_text(encoding="utf-8")
    broken = po.replace("%(youngest)s ile %(oldest)s", "%(youngest)s ile %(eldest)s").replace(
        'msgid "Who can get it"\nmsgstr "Kimler alabilir"\n', "")
    catalogue = {message.id: message.string for message in read_po(BytesIO(broken.encode())) if message.id}
    used = template_messages()
    assert "Who can get it" not in catalogue
    assert set(PLACEHOLDER.findall(catalogue["Ages %(youngest)s to %(oldest)s."])) != used[
        "Ages %(youngest)s to %(oldest)s."]


def test_a_broken_translation_shows_the_english_message_instead_of_failing(monkeypatch):
    class Broken(NullTranslations):
        def gettext(self, message):
            return "%(eldest)s 100%"  # as a hasty edit might leave it

    monkeypatch.setattr(i18n, "translations", lambda code: Broken())
    shown = templating.environment().from_string(
        '{{ _("Ages %(youngest)s to %(oldest)s.", youngest=18, oldest="<24>") }}|{{ _("How to ask") }}')
    assert shown.render(**i18n.template_context(i18n.choose("tr"))) == "Ages 18 to &lt;24&gt;.|How to ask"


# The public page -------------------------------------------------------------------------------------------

def test_the_public_page_speaks_each_language_with_its_lang_and_dir(browser):
    for code in ("en", *TRANSLATED):  # one test, not one per language: each would sign up the test people again
        page = browser.get(f"/local-offer?lang={code}")
        assert page.status_code == 200 and one_heading(page)
        found = read(page)
        assert found.html["lang"] == code and found.html["dir"] == i18n.languages()[code].direction
        words = i18n.translations(code)
        for message in ("Support for care leavers", "How to ask", "Who can get it"):
            assert words.gettext(message) in page.text
            assert (message in page.text) == (code == "en"), (code, message)
        assert words.gettext("Ages %(youngest)s to %(oldest)s.") % {"youngest": 18, "oldest": 24} in page.text
        # The items are the council's English data, marked as English inside the page's language.
        assert '<h3 class="govuk-heading-m govuk-!-margin-bottom-2" lang="en" dir="ltr">Council tax exemption</h3>' \
            in page.text
        told = words.gettext("The name and details of each item are in English. Your personal adviser can explain "
                             "them in your language, or get an interpreter for you.")
        assert (told in page.text) == (code != "en")
        # The switcher names every language in itself and links to each of the others.
        switcher = page.text.split(f'aria-label="{words.gettext("Choose a language")}"')[1].split("</nav>")[0]
        for other, language in i18n.languages().items():
            assert language.name in switcher and f'lang="{other}"' in switcher
            assert (f'href="/local-offer?lang={other}"' in switcher) == (other != code)


def test_an_unknown_language_falls_back_to_english(browser):
    for asked in ("xx", "", "../../etc", "a" * 2000, "ar-XX", "<script>"):
        page = browser.get("/local-offer", params={"lang": asked})
        assert page.status_code == 200 and read(page).html["lang"] == "en", asked
        assert "Support for care leavers" in page.text
    assert read(browser.get("/local-offer?lang=AR")).html["lang"] == "ar"  # as typed in capitals
    assert read(browser.get("/local-offer?lang=tr&lang=ps")).html["lang"] in {"tr", "ps"}  # twice: no error


def test_the_public_page_needs_no_sign_in_shows_nothing_personal_and_is_linked_from_sign_in(browser, people, engine):
    person = browser.post("/api/v1/care-leavers", json=factories.care_leaver(
        first_name="Zainab", family_name="Okonkwo-Test", personal_adviser_id=people["adviser"].id),
        headers=people["manager"].headers).json()
    with db.session_scope(engine) as session:
        before = len(session.exec(select(AuditEvent)).all())
    assert 'href="/local-offer"' in browser.get("/sign-in").text
    page = browser.get("/local-offer?lang=ar", follow_redirects=False)
    assert page.status_code == 200 and "/sign-out" not in page.text and "_csrf_token" not in page.text
    assert "springboard_session" not in page.headers.get("set-cookie", "")
    with db.session_scope(engine) as session:
        assert len(session.exec(select(AuditEvent)).all()) == before  # nothing about anyone was read
    for personal in ("Zainab", "Okonkwo-Test", person["case_reference"], "@test.example.gov.uk", "Test adviser"):
        assert personal not in page.text


def test_a_retired_item_leaves_the_public_page(browser, engine):
    with db.session_scope(db.writer(engine)) as session:
        session.exec(select(OfferItem).where(OfferItem.code == "rent_deposit")).one().active = False
    page = browser.get("/local-offer")
    assert "Rent deposit or guarantee" not in page.text and "Council tax exemption" in page.text


# The manager's pages ---------------------------------------------------------------------------------------

def _item(engine, code: str) -> OfferItem | None:
    with db.session_scope(engine) as session:
        return session.exec(select(OfferItem).where(OfferItem.code == code)).first()


def _audited(engine, action: str) -> list[int]:
    with db.session_scope(engine) as session:
        return [e.entity_id for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "offer_item",
                                                                           AuditEvent.action == action))]


def test_a_manager_adds_an_item_after_fixing_the_errors_and_it_shows_in_every_language(browser, engine, people):
    sign_in(browser, "manager")
    token = csrf(browser.get("/local-offer/items/new").text)
    refused = browser.post("/local-offer/items", data={"_csrf_token": token, "code": "Free Bus", "label": "Free bus pass",
                                                       "rule": "", "min_age": "21", "max_age": "18"})
    assert refused.status_code == 400 and "Error: Add an entitlement" in refused.text
    assert 'class="govuk-error-summary"' in refused.text and 'href="#rule"' in refused.text
    for message in ("Use lower-case letters, digits and underscores, starting with a letter", "Enter who qualifies",
                    "Eligible until this birthday must be more than the youngest age"):
        assert message in refused.text
    assert 'value="Free bus pass"' in refused.text and 'value="Free Bus"' in refused.text  # what was typed is kept
    duplicate = browser.post("/local-offer/items", data={"_csrf_token": token, "code": "rent_deposit",
                                                         "label": "Free bus pass", "rule": "Aged 18 to 21",
                                                         "min_age": "18", "max_age": "22"})
    assert duplicate.status_code == 400 and "Short code: &#39;rent_deposit&#39; is already in the offer" in duplicate.text
    added = browser.post("/local-offer/items", data={"_csrf_token": token, "code": "free_bus_pass",
                                                     "label": "Free bus pass", "rule": "Care leavers aged 18 to 21.",
                                                     "min_age": "18", "max_age": "22"})
    assert added.status_code == 200 and "Free bus pass added to the local offer" in added.text
    item = _item(engine, "free_bus_pass")
    assert (item.label, item.rule, item.min_age, item.max_age, item.active) == (
        "Free bus pass", "Care leavers aged 18 to 21.", 18, 22, True)
    assert _audited(engine, "create") == [item.id]
    browser.cookies.clear()
    for code in ("en", *TRANSLATED):
        page = browser.get(f"/local-offer?lang={code}")
        assert "Free bus pass" in page.text and "Care leavers aged 18 to 21." in page.text
        assert i18n.translations(code).gettext("Ages %(youngest)s to %(oldest)s.") % {
            "youngest": 18, "oldest": 21} in page.text


def test_a_manager_changes_retires_and_brings_back_an_item(browser, engine, people):
    sign_in(browser, "manager")
    item_id = _item(engine, "council_tax_exemption").id
    form = browser.get(f"/local-offer/items/{item_id}/edit")
    assert 'value="Council tax exemption"' in form.text and "council_tax_exemption" in form.text
    assert all(one_heading(browser.get(path)) for path in ("/local-offer/items", "/local-offer/items/new",
                                                            f"/local-offer/items/{item_id}/retire")) and one_heading(form)
    token = csrf(form.text)
    refused = browser.post(f"/local-offer/items/{item_id}/edit", data={
        "_csrf_token": token, "label": "Council tax help", "rule": "Everyone", "min_age": "15", "max_age": "x"})
    assert refused.status_code == 400 and "Youngest age must be 16 or more" in refused.text
    assert "Eligible until this birthday must be a whole number" in refused.text and 'value="Council tax help"' \
        in refused.text
    assert _item(engine, "council_tax_exemption").label == "Council tax exemption"  # nothing stored
    changed = browser.post(f"/local-offer/items/{item_id}/edit", data={
        "_csrf_token": token, "code": "sneaky", "label": "Council tax help",
        "rule": "Care leavers aged 18 to 24 living in the borough.", "min_age": "18", "max_age": "25"})
    assert "Council tax help changed" in changed.text
    item = _item(engine, "council_tax_exemption")  # the code is not changed by the form
    assert (item.label, item.rule) == ("Council tax help", "Care leavers aged 18 to 24 living in the borough.")
    assert _audited(engine, "update") == [item_id]

    confirm = browser.get(f"/local-offer/items/{item_id}/retire")
    assert "Are you sure you want to retire Council tax help?" in confirm.text and _item(
        engine, "council_tax_exemption").active  # asking changes nothing
    retired = browser.post(f"/local-offer/items/{item_id}/retire", data={"_csrf_token": token})
    assert "Council tax help is retired" in retired.text and not _item(engine, "council_tax_exemption").active
    assert "Council tax help" not in browser.get("/local-offer").text
    again = browser.post(f"/local-offer/items/{item_id}/retire", data={"_csrf_token": token})
    assert "Nothing changed" in again.text and "govuk-notification-banner--success" not in again.text
    back = browser.post(f"/local-offer/items/{item_id}/restore", data={"_csrf_token": token})
    assert "Council tax help is back in the local offer" in back.text and _item(engine, "council_tax_exemption").active
    assert (_audited(engine, "retire"), _audited(engine, "restore")) == ([item_id], [item_id])
    assert browser.get("/local-offer/items/999999/edit").status_code == 404


@pytest.mark.parametrize("role", ["adviser", "admin", "mentor", "department"])
def test_other_roles_cannot_keep_the_items(browser, engine, people, role):
    sign_in(browser, role)
    token = csrf(browser.get("/sign-in").text)
    item_id = _item(engine, "rent_deposit").id
    assert browser.get("/local-offer/items").status_code == 403
    refused = browser.post(f"/local-offer/items/{item_id}/retire", data={"_csrf_token": token})
    assert refused.status_code == 403 and _item(engine, "rent_deposit").active
    assert browser.get("/local-offer").status_code == 200  # the public page is for everyone
