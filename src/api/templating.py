"""The pages' Jinja environment: our templates, GOV.UK Frontend's macros (govuk-frontend-jinja), and the
filters that turn stored values into words ("22 March 2026", "Former relevant child", "3 km")."""

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine

from api import components
from matching import clock, lifecycle, vocab

TEMPLATES = Path(__file__).parent / "templates"


def long_date(value: date | datetime | None, empty: str = "Not recorded") -> str:
    if value is None:
        return empty
    if isinstance(value, datetime):
        value = value.astimezone(clock.ZONE)
        return f"{value.day} {value:%B %Y} at {value:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")
    return f"{value.day} {value:%B %Y}"


def words(code: Any, vocabulary: dict[str, str], empty: str = "Not recorded") -> str:
    """A stored code as its words; a code not in the vocabulary is shown as it is, never hidden."""
    if code is None or code == "":
        return empty
    return vocabulary.get(code, str(code))


def state(code: str) -> str:
    return lifecycle.STATE_LABELS.get(code, code.replace("_", " ").capitalize())


def choice_items(choices: dict[str, str], chosen: list[str], hints: dict[str, str] | None = None) -> list[dict]:
    """Radio or checkbox items for GOV.UK's macros: ticked only where the form's values say so."""
    return [{"value": code, "text": text, "checked": code in chosen,
             "hint": {"text": hints[code]} if hints and code in hints else None} for code, text in choices.items()]


def select_items(choices: dict[str, str], current: str, blank: str) -> list[dict]:
    """A select's options: a blank first (chosen unless the form holds a value), then the choices."""
    return [{"value": "", "text": blank, "selected": not current},
            *({"value": code, "text": text, "selected": code == current} for code, text in choices.items())]


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES),
                             PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]),
        autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
        # Templates are part of the release: checking every file's modification time on every render cost
        # about a tenth of a list page's rendering. A changed template needs a restart, like changed code.
        auto_reload=False, extensions=["jinja2.ext.i18n"])
    # English everywhere; the public local-offer pages pass their language's gettext in their context (api/i18n.py).
    env.install_null_translations(newstyle=True)
    env.filters.update(long_date=long_date, words=words, state=state)
    env.globals.update(vocab=vocab, choice_items=choice_items, select_items=select_items, govuk_table=components.table,
                       govuk_checkboxes=components.checkboxes, govuk_radios=components.radios,
                       govuk_select=components.select, govuk_summary_list=components.summary_list,
                       govuk_tag=components.tag)
    return env


def template_engine() -> JinjaTemplateEngine:
    return JinjaTemplateEngine.from_environment(environment())
