"""Every page, as the role it is for, on the demo borough: a title, exactly one h1, every field labelled,
and no raw markup shown as text. The ids in each path come from the demo data, so each page shows a real
record (a form with no record behind it would be a 404 page, which proves little)."""

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from fixtures import demo
from litestar.testing import TestClient

from api.app import create_app
from matching import clock
from tests import page_rules
from tests.test_pages import csrf

DEMO_PASSWORD = "springboard-demo"
ACCOUNT = {role: f"{role}@northbridge.example.gov.uk" for role in page_rules.EVERY_ROLE}


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title, self.h1s, self.fields, self.labelled, self._in = "", 0, [], set(), []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self._in.append(tag)
        if tag == "h1":
            self.h1s += 1
        if tag == "label" and found.get("for"):
            self.labelled.add(found["for"])
        if tag in {"input", "select", "textarea"} and found.get("type") not in {"hidden", "submit"}:
            self.fields.append(found)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] == "title":
            self.title += data


def _examples(engine) -> dict[str, str]:
    """A real value for each path parameter, each within the demo accounts' own scopes."""
    one = lambda sql: str(engine.connect().execute(sa.text(sql)).scalar())  # noqa: E731
    adviser = "(SELECT id FROM users WHERE email = 'adviser@northbridge.example.gov.uk')"
    return {
        "person_id": one(f"SELECT id FROM care_leavers WHERE personal_adviser_id = {adviser} AND case_status = 'open' "
                         "ORDER BY id LIMIT 1"),
        "match_id": one(f"SELECT m.id FROM matches m JOIN care_leavers c ON c.id = m.care_leaver_id WHERE "
                        f"c.personal_adviser_id = {adviser} AND m.state = 'approved' ORDER BY m.id LIMIT 1"),
        "check_in_id": one(f"SELECT k.id FROM check_ins k JOIN matches m ON m.id = k.match_id JOIN care_leavers c "
                           f"ON c.id = m.care_leaver_id WHERE c.personal_adviser_id = {adviser} ORDER BY k.id LIMIT 1"),
        "opportunity_id": one("SELECT id FROM opportunities WHERE department_id = (SELECT department_id FROM users "
                              "WHERE email = 'department@northbridge.example.gov.uk') ORDER BY id LIMIT 1"),
        "mentor_id": one("SELECT id FROM mentors WHERE status = 'pending' ORDER BY id LIMIT 1"),
        "item_id": one("SELECT id FROM offer_items ORDER BY id LIMIT 1"),
        "run_id": one("SELECT MAX(id) FROM match_runs"),
        "application_id": one(f"SELECT h.id FROM housing_applications h JOIN care_leavers c ON c.id = h.care_leaver_id "
                              f"WHERE c.personal_adviser_id = {adviser} ORDER BY h.id LIMIT 1"),
        "user_id": one(f"SELECT {adviser}"),
        "department_id": one("SELECT id FROM departments ORDER BY id LIMIT 1"),
        "token_id": one("SELECT COALESCE(MAX(id), 1) FROM api_tokens"),
        "link": "0-nothing",  # a set-password link that was never sent: its "expired" page
        "version": "no-model-yet",  # the demo has trained no model: promoting one that does not exist
        "chart": "by-state",
    }


def _path(path: str, role: str, examples: dict[str, str], engine) -> str:
    values = dict(examples)
    if role == "department":  # a referral to this department
        values["match_id"] = str(engine.connect().execute(sa.text(
            "SELECT m.id FROM matches m JOIN opportunities o ON o.id = m.opportunity_id WHERE m.state = 'referred' "
            "AND o.department_id = (SELECT department_id FROM users WHERE email = :e) ORDER BY m.id LIMIT 1"),
            {"e": ACCOUNT["department"]}).scalar())
    if role == "mentor":  # a mentee of the demo mentor, and one of their meetings
        row = engine.connect().execute(sa.text(
            "SELECT m.id, g.id FROM matches m JOIN mentors t ON t.id = m.mentor_id JOIN users u ON u.id = t.user_id "
            "JOIN meetings g ON g.match_id = m.id WHERE u.email = :e ORDER BY m.id LIMIT 1"),
            {"e": ACCOUNT["mentor"]}).one()
        values["match_id"], values["meeting_id"] = str(row[0]), str(row[1])
    if "/meetings" in path and role in {"adviser", "manager"}:  # a meeting of a mentoring still under way
        row = engine.connect().execute(sa.text(
            "SELECT m.id, g.id FROM matches m JOIN care_leavers c ON c.id = m.care_leaver_id JOIN meetings g "
            "ON g.match_id = m.id WHERE c.personal_adviser_id = (SELECT id FROM users WHERE email = :e) AND "
            "m.kind = 'mentoring' AND m.state IN ('approved', 'introduced', 'active') ORDER BY m.id LIMIT 1"),
            {"e": ACCOUNT["adviser"]}).one()
        values["match_id"], values["meeting_id"] = str(row[0]), str(row[1])
    if "{to:str}" in path:
        values["to"] = "withdrawn"
    filled = re.sub(r"\{([a-z_]+):(?:int|str)\}", lambda m: values[m.group(1)], path)
    if path == "/overview/charts/{chart:str}":  # a figure of the chart: this month's proposals
        filled += f"?month={clock.today():%Y-%m}&series=proposed"
    return filled


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_has_a_title_one_h1_and_labelled_fields(settings, engine):
    assert demo.load(engine).loaded
    with TestClient(app=create_app(settings)) as browser:
        _check_every_page(browser, engine)


def _check_every_page(browser, engine) -> None:
    examples = _examples(engine)
    pages = sorted({path for (method, path), allowed in page_rules.PAGES.items() if method == "GET"}
                   | {path for method, path in page_rules.PUBLIC if method == "GET" and "oidc" not in path})
    problems, seen = [], 0
    for role in sorted(page_rules.EVERY_ROLE):
        browser.cookies.clear()
        token = csrf(browser.get("/sign-in").text)
        browser.post("/sign-in", data={"email": ACCOUNT[role], "password": DEMO_PASSWORD, "_csrf_token": token})
        for path in pages:
            allowed = page_rules.PAGES.get(("GET", path))
            if allowed is not None and role not in allowed:
                continue
            url = _path(path, role, examples, engine)
            response = browser.get(url, follow_redirects=True)
            if response.status_code >= 500:
                problems.append(f"{role} {url}: {response.status_code}")
                continue
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue  # a download (CSV, XLSX), not a page
            seen += 1
            found = Structure()
            found.feed(response.text)
            where = f"{role} {url} ({response.status_code})"
            if not found.title.strip():
                problems.append(f"{where}: no title")
            if found.h1s != 1:
                problems.append(f"{where}: {found.h1s} h1 elements")
            for field in found.fields:
                if field.get("id") not in found.labelled and not field.get("aria-label"):
                    problems.append(f"{where}: field {field.get('name')} has no label")
            if re.search(r"&lt;(a|p|span|strong|div) ", response.text):
                problems.append(f"{where}: markup shown as text")
    assert seen > 40 and problems == []
