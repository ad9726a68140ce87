"""The public pages' languages: gettext message catalogues a council can edit (translations/<code>/LC_MESSAGES/
messages.po), read with Babel when the service starts. No compile step: each .po file is turned into a
catalogue in memory, so a clean clone, `make test` and a council's edited file all work as they are.

Only the public pages switch language (their templates call `_()` / `{% trans %}`, and the handler puts the
chosen language's `gettext` in the template's context); every other page stays English, because the shared
Jinja environment has null translations installed (api/templating.py). A message with no translation, or
a fuzzy one, falls back to English, as gettext does.
"""

from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

CATALOGUES = Path(__file__).parent / "translations"
DOMAIN = "messages"
SOURCE = "en"  # the language the templates are written in


@dataclass(frozen=True)
class Language:
    code: str  # as in <html lang> and ?lang=
    name: str  # the language's name in itself, for the switcher ("العربية", "Türkçe")
    english_name: str
    direction: str  # "ltr" or "rtl"


def _language(code: str) -> Language:
    locale = Locale.parse(code)
    return Language(code, locale.display_name, locale.get_display_name(SOURCE), locale.text_direction)


def catalogue_path(code: str) -> Path:
    return CATALOGUES / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(code: str) -> Catalog:
    with catalogue_path(code).open("rb") as po:
        return read_po(po, locale=code, domain=DOMAIN)


@cache
def languages() -> dict[str, Language]:
    """English first, then every language with a catalogue, by its English name. Adding a folder adds a language."""
    found = sorted((_language(path.parent.parent.name) for path in CATALOGUES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")),
                   key=lambda language: language.english_name)
    return {SOURCE: _language(SOURCE), **{language.code: language for language in found}}


@cache
def translations(code: str) -> NullTranslations:
    """The language's messages; English (the messages as written) for English or a code with no catalogue."""
    if code == SOURCE or code not in languages():
        return NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, read_catalogue(code))  # untranslated and fuzzy messages are left out: English shows
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def choose(asked: str | None) -> Language:
    """The language asked for by `?lang=`, or English for anything else (unknown, empty, odd)."""
    return languages().get((asked or "").strip().lower(), languages()[SOURCE])


def template_context(language: Language) -> dict[str, Any]:
    """What a public template needs to speak `language`: gettext and ngettext (Jinja's new-style i18n calls,
    resolved from the context before the environment's null ones), and the language for lang/dir."""
    found = translations(language.code)

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        return _formatted(context, found.gettext(message), message, variables)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int, **variables: Any) -> str:
        variables.setdefault("num", count)
        written = singular if count == 1 else plural
        return _formatted(context, found.ngettext(singular, plural, count), written, variables)

    return {"gettext": gettext, "ngettext": ngettext, "language": language, "languages": languages()}


def _formatted(context: Context, translated: str, written: str, variables: dict[str, Any]) -> str:
    """As Jinja's own new-style gettext: in an autoescaped template the message is markup and the values
    filled into it are escaped; `%` placeholders are always filled (a literal % is written %%). A translation
    whose placeholders are broken (an edited catalogue the tests have not seen yet) shows the English
    message rather than failing the page."""
    try:
        return _filled(context, translated, variables)
    except (KeyError, ValueError, TypeError):
        return _filled(context, written, variables)


def _filled(context: Context, text: str, variables: dict[str, Any]) -> str:
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables
