"""The overview and its named lists over HTTP: every count links to a list of that many rows, whose CSV is the
same list (formula cells made text); reading a list or downloading it is audited; other roles are refused."""

import csv
import html
import io
import re
from urllib.parse import parse_qsl

import pytest
from sqlmodel import select

from matching import dashboard, db
from matching.models import AuditEvent, CareLeaver
from tests import test_dashboard
from tests.test_dashboard import TODAY, world  # noqa: F401 (the fixture the lists are read from)
from tests.test_pages import sign_in


@pytest.fixture(autouse=True)
def nothing_kept():
    """The lists and charts are kept a minute per database address, and the suite's clock stands still."""
    dashboard._KEPT.clear()


def _counts(page_text: str) -> dict[str, int]:
    return {slug: int(count) for slug, count in re.findall(r'href="/overview/([a-z-]+)" id="count-[a-z-]+">(\d+)',
                                                           page_text)}


def _table_rows(page_text: str) -> int:
    body = page_text.split('id="named-list"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return body.count('<tr class="govuk-table__row">')


def _csv(answer) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer.text)))


def test_every_count_links_to_a_list_of_that_many_and_its_csv_is_the_list(browser, world):  # noqa: F811
    sign_in(browser, "manager")
    overview = browser.get("/overview")
    counts = _counts(overview.text)
    assert overview.status_code == 200 and set(counts) == set(dashboard.BY_SLUG)
    for slug, count in counts.items():
        listed = browser.get(f"/overview/{slug}")
        assert listed.status_code == 200, slug
        if count:
            assert f"of {count} {'row' if count == 1 else 'rows'}" in listed.text and _table_rows(listed.text) == min(
                count, dashboard.PER_PAGE)
        else:
            assert "Nobody was on this list" in listed.text
        download = browser.get(f"/overview/{slug}/csv")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        assert "attachment" in download.headers["content-disposition"]
        assert len(_csv(download)) == count + 1, slug  # the heading, then one row per person on the list
    cara = _csv(browser.get("/overview/not-in-touch/csv"))
    assert cara == [["Name", "Case reference", "Personal adviser", "Days since contact", "Last contact", "Notes"],
                    ["Cara Jones", "DASH2", "Test other_adviser", "", "", "No contact"]]
    page = browser.get("/overview/not-in-touch").text
    assert f'href="/young-people/{world.ids["Cara"]}"' in page and "Test other_adviser" in page


def test_the_overview_draws_each_chart_with_its_table(browser, world):  # noqa: F811
    sign_in(browser, "manager")
    page = browser.get("/overview").text
    for key in ("by-state", "times", "places", "outcomes", "attention"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="app-chart" id="chart-{key}"' in page
        assert f'id="table-{key}"' in page
    places = page.split('id="table-places"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'Parks</th>\s*<td[^>]*>3</td>\s*<td[^>]*><a class="govuk-link" href="[^"]+">1<span', places)
    shown = re.sub(r'href="[^"]*"', "", page)  # the code is in a figure's link, never in what is read
    assert "Job sustained 3 months" in shown and "job_sustained_3m" not in shown  # outcomes in words
    assert "January 2026" in page and "None that month" in page  # a month with no decision says so


def test_reading_and_downloading_a_list_are_audited_and_formula_cells_made_text(browser, world, engine,  # noqa: F811
                                                                                   people):
    with db.session_scope(db.writer(engine)) as session:
        cara = session.get(CareLeaver, world.ids["Cara"])
        cara.first_name, cara.family_name = "=HYPERLINK(\"http://x\")", "@SUM(1)"
    sign_in(browser, "manager")
    everyone = [world.ids[name] for name in ("Amy", "Ben", "Cara", "Eve")]
    assert browser.get("/overview/reviews").status_code == 200
    assert browser.get("/overview/reviews/csv").status_code == 200
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.actor_id == people["manager"].id)).all()
    read = sorted(row.entity_id for row in rows if row.route == "GET /overview/reviews" and row.action == "list")
    exported = sorted(row.entity_id for row in rows if row.route == "GET /overview/reviews/csv"
                      and row.action == "export" and row.entity == "care_leaver")
    assert read == exported == sorted(everyone)
    assert [row.entity for row in rows if row.action == "download"] == ["report_reviews"]
    names = [row[0] for row in _csv(browser.get("/overview/reviews/csv"))]
    assert "'=HYPERLINK(\"http://x\") @SUM(1)" in names and not any(name.startswith(("=", "@")) for name in names)


def test_other_roles_are_refused_and_unknown_lists_or_pages_are_answered_plainly(browser, world):  # noqa: F811
    sign_in(browser, "adviser")
    assert browser.get("/overview/not-in-touch").status_code == 403
    assert browser.get("/overview/not-in-touch/csv").status_code == 403
    browser.get("/sign-out")
    browser.cookies.clear()
    sign_in(browser, "manager")
    assert browser.get("/overview/nothing-here").status_code == 404
    wrong = browser.get("/overview/reviews?page=first")
    assert wrong.status_code == 400 and "There is a problem" in wrong.text and 'href="#page"' in wrong.text
    assert "Page must be a whole number" in wrong.text or "Page must be" in wrong.text
    assert _table_rows(wrong.text) == 4  # the first page is still shown


# The lists behind the charts' figures ---------------------------------------------------------------------

def _table_cells(page_text: str, key: str) -> list[tuple[str, str | None]]:
    """Each figure cell of a chart's table: its number and the address it links to (None: plain text)."""
    table = page_text.split(f'id="table-{key}"', 1)[1].split("</table>", 1)[0].split("<tbody", 1)[1]
    cells = re.findall(r'<td class="govuk-table__cell[^"]*">(.*?)</td>', table, re.S)
    found = []
    for cell in cells:
        link = re.search(r'href="([^"]+)">(\d+)<span', cell)
        found.append((link.group(2), html.unescape(link.group(1))) if link else (cell.strip(), None))
    return found


def test_every_chart_figure_links_to_a_list_of_that_many_and_its_csv(browser, world, engine):  # noqa: F811
    sign_in(browser, "manager")
    overview = browser.get("/overview").text
    with db.session_scope(engine) as session:
        expected = {(figure.chart, tuple(sorted(figure.query().items()))): value
                    for figure, value in test_dashboard._every_figure(session, TODAY)}
    followed = 0
    for key in ("by-state", "places", "outcomes", "attention", "times"):
        for text, href in _table_cells(overview, key):
            if href is None:  # a zero, a median or places offered: nothing to list
                assert key in {"times", "places"} or text == "0", (key, text)
                continue
            path, _, query = href.partition("?")
            assert int(text) == expected[(path.rsplit("/", 1)[1], tuple(sorted(parse_qsl(query))))] > 0
            listed = browser.get(href)
            assert listed.status_code == 200 and f"of {text} {'row' if text == '1' else 'rows'}" in listed.text
            assert _table_rows(listed.text) == int(text)
            download = browser.get(f"{path}/csv?{query}")
            assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
            assert len(_csv(download)) == int(text) + 1
            followed += 1
    assert followed == sum(1 for value in expected.values() if value)  # every figure but the zeros is a link
    april = browser.get("/overview/charts/attention?month=2026-04&series=check-ins-overdue").text
    assert "Check-ins overdue at the end of April 2026" in april and "Days overdue at the month" in april
    assert f'href="/young-people/{world.ids["Dan"]}"' in april and "Test adviser" in april


def test_reading_and_downloading_a_chart_list_are_audited(browser, world, engine, people):  # noqa: F811
    sign_in(browser, "manager")
    path = "/overview/charts/by-state"
    assert browser.get(f"{path}?month=2026-01&series=proposed").status_code == 200
    assert browser.get(f"{path}/csv?month=2026-01&series=proposed").status_code == 200
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.actor_id == people["manager"].id)).all()
    read = sorted(row.entity_id for row in rows if row.route == f"GET {path}" and row.action == "list")
    exported = sorted(row.entity_id for row in rows if row.route == f"GET {path}/csv" and row.action == "export")
    assert read == exported == sorted([world.ids["Amy"], world.ids["Ben"]])  # proposed in January: m1 and m2
    assert [row.entity for row in rows if row.action == "download"] == ["report_chart_by-state"]


WRONG_FIGURES = [("/overview/charts/by-state?month=2026-13&series=approved", "month"),
                 ("/overview/charts/by-state?month=2026-05", "series"),
                 ("/overview/charts/places?department=first&series=filled", "department"),
                 ("/overview/charts/places?department=99999999999999999999&series=filled", "department"),
                 ("/overview/charts/outcomes?kind=%3DSUM(A1)", "kind"),
                 ("/overview/charts/attention/csv?month=2020-01&series=not-in-touch", "month")]


def test_a_chart_list_asked_for_wrongly_is_a_400_naming_the_field(browser, world):  # noqa: F811
    sign_in(browser, "manager")
    for address, field in WRONG_FIGURES:
        wrong = browser.get(address)
        assert wrong.status_code == 400 and "There is a problem" in wrong.text, address
        assert f'href="#{field}"' in wrong.text and f'id="{field}"' in wrong.text, address
        assert wrong.text.count("<h1") == 1 and "<title>Error: " in wrong.text
        assert "=SUM" not in wrong.text  # what was asked is not echoed


def test_chart_lists_are_for_managers_and_unknown_charts_are_not_found(browser, world):  # noqa: F811
    for role in ("adviser", "department", "mentor", "admin"):
        browser.cookies.clear()
        sign_in(browser, role)
        assert browser.get("/overview/charts/by-state?month=2026-01&series=proposed").status_code == 403, role
        assert browser.get("/overview/charts/by-state/csv?month=2026-01&series=proposed").status_code == 403, role
    browser.cookies.clear()
    sign_in(browser, "manager")
    assert browser.get("/overview/charts/nothing-here?month=2026-01").status_code == 404
    paged = browser.get("/overview/charts/by-state?month=2026-01&series=proposed&page=none")
    assert paged.status_code == 400 and 'href="#page"' in paged.text and _table_rows(paged.text) == 2
