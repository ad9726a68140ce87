"""The Python renderings of GOV.UK components give the same markup as govuk-frontend-jinja's macros."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.templating import environment

ENV = environment()
GOVUK_TABLE = ENV.from_string('{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}'
                              "{{ govukTable(params) }}")
OURS = ENV.from_string("{{ govuk_table(params) }}")

words = st.text(alphabet=st.sampled_from('ab <>&"\'é'), min_size=1, max_size=8)
cell = st.fixed_dictionaries({}, optional={
    "text": words, "html": st.sampled_from(["<a href='/x'>A &amp; B</a>", "<br>", "plain"]),
    "format": st.sampled_from(["numeric", None]), "classes": st.sampled_from(["sb-x", "govuk-!-width-one-half", None]),
    "colspan": st.sampled_from([2, None]), "rowspan": st.sampled_from([3, None]),
    "attributes": st.sampled_from([{"data-sort": "1"}, {"id": "c"}, None])})
params = st.fixed_dictionaries({"rows": st.lists(st.lists(cell, max_size=4), max_size=4)}, optional={
    "caption": words, "captionClasses": st.sampled_from(["govuk-table__caption--m", None]),
    "head": st.lists(cell, max_size=4), "firstCellIsHeader": st.booleans(),
    "classes": st.sampled_from(["sb-caseload govuk-!-font-size-16", None]), "attributes": st.sampled_from([{"id": "t"}, None])})


def _same_markup(html: str) -> str:
    """Whitespace between and inside tags is not markup."""
    html = re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html))
    return re.sub(r'"\s+>', '">', re.sub(r"\s+", " ", html)).strip()


@settings(max_examples=300, deadline=None)
@given(params)
def test_the_table_renders_what_govuk_table_renders(params):
    assert _same_markup(OURS.render(params=params)) == _same_markup(GOVUK_TABLE.render(params=params))


def test_text_is_escaped_and_html_is_kept():
    rendered = OURS.render(params={"rows": [[{"text": "<script>"}, {"html": "<b>kept</b>"}]]})
    assert "&lt;script&gt;" in rendered and "<b>kept</b>" in rendered


GOVUK_SELECT = ENV.from_string('{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}'
                               "{{ govukSelect(params) }}")
OUR_SELECT = ENV.from_string("{{ govuk_select(params) }}")
option = st.fixed_dictionaries({"text": words}, optional={
    "value": st.sampled_from(["", "a", "b", "<&>"]), "selected": st.sampled_from([True, False, None]),
    "disabled": st.booleans()})
label = st.fixed_dictionaries({"text": words}, optional={"classes": st.sampled_from(["govuk-label--m", None]),
                                                       "isPageHeading": st.booleans()})
select_params = st.fixed_dictionaries({"name": st.sampled_from(["sort", "adviser"]), "label": label,
                                       "items": st.lists(option, max_size=6)}, optional={
    "id": st.sampled_from(["x-id", None]),
    "hint": st.fixed_dictionaries({"text": words}), "errorMessage": st.fixed_dictionaries({"text": words}),
    "value": st.sampled_from(["", "a", "b", None]), "classes": st.sampled_from(["govuk-!-width-full", None]),
    "formGroup": st.fixed_dictionaries({"classes": st.sampled_from(["sb-x", None])}), "disabled": st.booleans()})


@settings(max_examples=300, deadline=None)
@given(select_params)
def test_the_select_renders_what_govuk_select_renders(params):
    assert _same_markup(OUR_SELECT.render(params=params)) == _same_markup(GOVUK_SELECT.render(params=params))


choice = st.fixed_dictionaries({"value": st.sampled_from(["a", "b", "<&>", ""]), "text": words}, optional={
    "checked": st.sampled_from([True, False, None]), "disabled": st.booleans(),
    "hint": st.fixed_dictionaries({"text": words})})
legend = st.fixed_dictionaries({"text": words}, optional={
    "classes": st.sampled_from(["govuk-fieldset__legend--s", None]), "isPageHeading": st.booleans()})
choice_params = st.fixed_dictionaries({"name": st.sampled_from(["in_touch", "status"]),
                                       "fieldset": st.fixed_dictionaries({"legend": legend}),
                                       "items": st.lists(choice, max_size=5)}, optional={
    "idPrefix": st.sampled_from(["x-id", None]), "hint": st.fixed_dictionaries({"text": words}),
    "errorMessage": st.fixed_dictionaries({"text": words}), "classes": st.sampled_from(["govuk-radios--inline", None]),
    "values": st.lists(st.sampled_from(["a", "b"]), max_size=2), "value": st.sampled_from(["a", "", None])})


@pytest.mark.parametrize("macro,ours", [("checkboxes", "govuk_checkboxes"), ("radios", "govuk_radios")])
@settings(max_examples=200, deadline=None)
@given(params=choice_params)
def test_checkboxes_and_radios_render_what_govuk_renders(macro, ours, params):
    name = "govuk" + macro.capitalize()
    theirs = ENV.from_string(f'{{% from "govuk_frontend_jinja/components/{macro}/macro.html" import {name} %}}'
                             f"{{{{ {name}(params) }}}}")
    assert _same_markup(ENV.from_string(f"{{{{ {ours}(params) }}}}").render(params=params)) == _same_markup(
        theirs.render(params=params))


GOVUK_TAG = ENV.from_string('{% from "govuk_frontend_jinja/components/tag/macro.html" import govukTag %}'
                            "{{ govukTag(params) }}")
OUR_TAG = ENV.from_string("{{ govuk_tag(params) }}")
words_or_html = st.fixed_dictionaries({}, optional={
    "text": words, "html": st.sampled_from(["<b>A &amp; B</b>", "plain", ""])})
tag_params = st.tuples(words_or_html, st.fixed_dictionaries({}, optional={
    "classes": st.sampled_from(["govuk-tag--red", None]), "attributes": st.sampled_from([{"id": "t"}, None])})).map(
    lambda parts: parts[0] | parts[1])


@settings(max_examples=200, deadline=None)
@given(tag_params)
def test_the_tag_renders_what_govuk_tag_renders(params):
    assert _same_markup(OUR_TAG.render(params=params)) == _same_markup(GOVUK_TAG.render(params=params))


GOVUK_SUMMARY = ENV.from_string(
    '{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}'
    "{{ govukSummaryList(params) }}")
OUR_SUMMARY = ENV.from_string("{{ govuk_summary_list(params) }}")
action = st.tuples(words_or_html, st.fixed_dictionaries({"href": st.sampled_from(["/a?b=1&c=2", "/x"])}, optional={
    "visuallyHiddenText": words, "classes": st.sampled_from(["govuk-link--no-visited-state", None]),
    "attributes": st.sampled_from([{"data-x": "1"}, None])})).map(lambda parts: parts[0] | parts[1])
actions = st.fixed_dictionaries({"items": st.lists(action, max_size=3)},
                                optional={"classes": st.sampled_from(["sb-actions", None])})
part = st.tuples(words_or_html, st.fixed_dictionaries({}, optional={
    "classes": st.sampled_from(["govuk-!-width-one-third", None])})).map(lambda parts: parts[0] | parts[1])
row = st.one_of(st.just({}), st.fixed_dictionaries({"key": part, "value": part}, optional={
    "actions": actions, "classes": st.sampled_from(["sb-row", None])}))
title = st.tuples(words_or_html, st.fixed_dictionaries({}, optional={
    "headingLevel": st.sampled_from([2, 3, None]), "classes": st.sampled_from(["sb-title", None])})).map(
    lambda parts: parts[0] | parts[1])
card = st.fixed_dictionaries({}, optional={"title": title, "actions": actions,
                                           "classes": st.sampled_from(["sb-card", None]),
                                           "attributes": st.sampled_from([{"id": "card"}, None])})
summary_params = st.fixed_dictionaries({"rows": st.lists(row, max_size=4)}, optional={
    "classes": st.sampled_from(["govuk-summary-list--no-border", None]),
    "attributes": st.sampled_from([{"id": "s"}, None]), "card": card})


@settings(max_examples=400, deadline=None)
@given(summary_params)
def test_the_summary_list_renders_what_govuk_summary_list_renders(params):
    assert _same_markup(OUR_SUMMARY.render(params=params)) == _same_markup(GOVUK_SUMMARY.render(params=params))


def test_a_summary_list_escapes_text_and_keeps_html():
    rendered = OUR_SUMMARY.render(params={"rows": [{"key": {"text": "<i>"}, "value": {"html": "<b>kept</b>"},
                                                    "actions": {"items": [{"href": "/c", "text": "Change",
                                                                           "visuallyHiddenText": "<name>"}]}}]})
    assert "&lt;i&gt;" in rendered and "<b>kept</b>" in rendered and "&lt;name&gt;" in rendered
