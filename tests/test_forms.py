"""The one form reader and error mapper every page uses (api/forms.py)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api import forms
from matching.errors import Conflict, InvalidInput
from matching.vocab import InTouch


class Example(BaseModel):
    met_on: date = Field(title="Date you met")
    kind: Literal["call", "visit"] = Field(title="How you met")
    in_touch: InTouch = Field(title="In touch")
    hours: int = Field(ge=1, le=40, title="Hours a week")
    days: list[str] = Field(default_factory=list)
    paid: bool | None = None
    note: str = Field(default="", max_length=10)


def test_a_complete_form_becomes_the_model():
    form = forms.read(Example, {"met_on-day": "3", "met_on-month": "2", "met_on-year": "2026", "kind": "call",
                                "in_touch": "YES", "hours": " 16 ", "days": ["mon", "tue, wed"], "paid": "yes"})
    assert form.ok and form.errors == {}
    assert form.model == Example(met_on=date(2026, 2, 3), kind="call", in_touch="YES", hours=16,
                                 days=["mon", "tue", "wed"], paid=True)


def test_each_problem_is_worded_as_gov_uk_words_it_and_linked_to_its_field():
    form = forms.read(Example, {"met_on-day": "31", "met_on-month": "2", "met_on-year": "2026", "hours": "many",
                                "note": "far too long a note"})
    assert not form.ok and form.model is None
    assert form.errors == {"met_on-day": "Date you met must be a real date", "kind": "Select how you met",
                           "in_touch": "Select in touch", "hours": "Hours a week must be a whole number",
                           "note": "Note must be 10 characters or fewer"}


def test_empty_answers_are_missing_and_numbers_out_of_range_say_the_limit():
    form = forms.read(Example, {"met_on-day": "", "met_on-month": "", "met_on-year": "", "kind": "visit",
                                "in_touch": "NO", "hours": "41"})
    assert form.errors == {"met_on-day": "Enter date you met", "hours": "Hours a week must be 40 or less"}


def test_what_was_typed_comes_back_whatever_was_wrong():
    form = forms.read(Example, {"met_on-day": "x", "met_on-month": "13", "met_on-year": "2026", "hours": "many",
                                "days": ["mon"]})
    assert form.values["met_on"] == {"day": "x", "month": "13", "year": "2026"}
    assert form.values["hours"] == "many" and form.values["days"] == ["mon"]


def test_a_stored_record_fills_the_form_with_dates_in_parts():
    form = forms.filled(Example, {"met_on": date(2026, 11, 5), "kind": "call", "paid": False, "days": ["sat"]})
    assert form.values["met_on"] == {"day": "5", "month": "11", "year": "2026"}
    assert form.values["paid"] == "no" and form.values["days"] == ["sat"] and form.values["note"] == ""


def test_a_refusal_goes_on_the_form_beside_its_field_or_at_the_top():
    form = forms.read(Example, {"met_on-day": "1", "met_on-month": "1", "met_on-year": "2030", "kind": "call",
                                "in_touch": "YES", "hours": "2"})
    assert form.ok
    form.refuse(InvalidInput("met_on", "cannot be in the future"), {"met_on": "the date you met"})
    assert not form.ok and form.errors == {"met_on-day": "The date you met: cannot be in the future"}
    other = forms.Form({}).refuse(Conflict("the mentor has no capacity left"))
    assert other.errors == {forms.PAGE: "The mentor has no capacity left"}
