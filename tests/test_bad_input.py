"""No server error from any input: OPTIONS, numbers no column can hold, NUL characters, deep JSON, and
every error documented in the OpenAPI schema as the problem details it is (issue 15)."""

import re

import pytest
from litestar.routes import HTTPRoute

from tests import factories
from tests.test_pages import sign_in

PARAM = re.compile(r"\{(\w+):(\w+)\}")
TOO_BIG = [2**31, 2**63]  # past PostgreSQL's integer, past SQLite's (and PostgreSQL's bigint)
NUL = "must not contain a NUL character"


def _api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every documented /api/v1 route, straight from the route table."""
    return sorted({(method, route.path) for route in app.routes if isinstance(route, HTTPRoute)
                   and route.path.startswith("/api/v1") for handler in route.route_handlers
                   if handler.include_in_schema for method in handler.http_methods})


def _filled(path: str, number: int) -> str:
    return PARAM.sub(lambda m: str(number) if m.group(2) == "int" else "follow_up", path)


def _field_refused(response, status: int, field: str, reason: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert {"field": field, "reason": reason} in body["errors"], body
    assert response.headers["content-type"].startswith("application/problem+json")


# --- OPTIONS ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("signed_in", [True, False], ids=["token", "no token"])
def test_options_on_every_api_route_answers_204_with_the_allowed_methods(client, signed_in):
    if not signed_in:
        del client.headers["Authorization"]
    paths = {path for _, path in _api_routes(client.app)}
    assert len(paths) > 40
    for path in sorted(paths):
        response = client.options(_filled(path, 1), headers={"Origin": "https://elsewhere.example",
                                                             "Access-Control-Request-Method": "GET"})
        assert response.status_code == 204, (path, response.text)
        # Litestar's Allow names the methods of the route as first registered (for /care-leavers, POST but not
        # the GET added beside it): never one the route lacks.
        allowed = {m for m, p in _api_routes(client.app) if p == path} | {"OPTIONS"}
        assert "OPTIONS" in response.headers["allow"] and set(response.headers["allow"].split(", ")) <= allowed
        assert response.content == b""  # nothing about any record


# --- numbers no column can hold -------------------------------------------------------------------------

@pytest.mark.parametrize("number", [*TOO_BIG, 0, -(2**63) - 1])
def test_an_id_in_the_path_that_no_record_can_have_is_not_found_on_every_route(client, number):
    routes = [(method, path) for method, path in _api_routes(client.app) if ":int}" in path]
    assert len(routes) > 20
    for method, path in routes:
        response = client.request(method, _filled(path, number), json={"version": 1})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["title"] == "Not found"


def test_the_issues_own_out_of_range_id_is_not_found(client):
    for number in TOO_BIG:
        assert client.get(f"/api/v1/care-leavers/{number}").status_code == 404


@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/care-leavers?offset={n}", "offset"), ("/api/v1/mentors?offset={n}", "offset"),
    ("/api/v1/care-leavers?personal_adviser_id={n}", "personal_adviser_id"),
    ("/api/v1/opportunities?department_id={n}", "department_id"),
    ("/api/v1/matches?care_leaver_id={n}", "care_leaver_id"), ("/api/v1/matches?offset={n}", "offset"),
    ("/api/v1/audit-events?actor_id={n}", "actor_id"), ("/api/v1/audit-events?entity_id={n}", "entity_id"),
    ("/api/v1/users?offset={n}", "offset"),
])
def test_a_number_in_the_query_no_column_can_hold_is_refused_naming_it(client, people, path, field, number):
    headers = people["admin"].headers if path.startswith("/api/v1/users") else {}
    response = client.get(path.format(n=number), headers=headers)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert "2147483647" in response.json()["detail"]


@pytest.mark.parametrize("number", [*TOO_BIG, -(2**31) - 1, 1e300])
def test_a_foreign_key_in_a_body_no_column_can_hold_is_refused_naming_it(client, people, number):
    reason = "must be a whole number from -2147483648 to 2147483647"
    admin = people["admin"].headers
    for path, body, field, headers in [
        ("/api/v1/mentors", {"user_id": people["mentor"].id, "department_id": number, "job_title": "Engineer"},
         "department_id", {}),
        ("/api/v1/opportunities", factories.opportunity(number), "department_id", {}),
        ("/api/v1/care-leavers", factories.care_leaver(personal_adviser_id=number), "personal_adviser_id", {}),
        ("/api/v1/tokens", {"user_id": number, "name": "a token"}, "user_id", admin),
        ("/api/v1/users", {"email": "x@example.gov.uk", "full_name": "Xavier Example", "role": "department",
                           "department_id": number}, "department_id", admin),
    ]:
        _field_refused(client.post(path, json=body, headers=headers), 400, field, reason)


def test_a_whole_number_in_range_still_reaches_the_rules(client):
    """The bound is the column's, not a new rule: an id that fits but matches nothing is the usual 422."""
    response = client.post("/api/v1/opportunities", json=factories.opportunity(2**31 - 1))
    _field_refused(response, 422, "department_id", "no department with id 2147483647")


# --- NUL characters ---------------------------------------------------------------------------------------

def test_a_nul_in_a_search_is_refused_naming_it_and_matches_nothing(client):
    assert client.post("/api/v1/care-leavers", json=factories.care_leaver()).status_code == 201
    for q in ["\x00", "a\x00b", "Test\x00"]:
        _field_refused(client.get("/api/v1/care-leavers", params={"q": q}), 400, "q", NUL)
    _field_refused(client.get("/api/v1/matches", params={"state": "\x00"}), 400, "state", NUL)
    _field_refused(client.get("/api/v1/care-leavers", params={"\x00": "x"}), 400, "\\u0000", NUL)
    assert client.get("/api/v1/care-leavers", params={"q": "Test"}).json()["total"] == 1  # search still works


def test_a_nul_in_a_body_is_refused_naming_the_field(client):
    _field_refused(client.post("/api/v1/departments", json=factories.department(name="Parks\x00")), 400, "name",
                   NUL)
    body = {"version": 0, "value": {"not_in_touch_weeks": 8, "notes": ["fine", "bad\x00"]}}
    _field_refused(client.put("/api/v1/settings/follow_up", json=body), 400, "value.notes.1", NUL)
    _field_refused(client.post("/api/v1/departments", json={"na\x00me": "x"}), 400, "na\\u0000me", NUL)


def test_a_nul_in_a_path_is_not_found(client):
    assert client.get("/api/v1/settings/follow%00up").status_code == 404
    assert client.put("/api/v1/care-leavers/1/entitlements/a%00b", json={"status": "told"}).status_code == 404


def test_a_nul_in_a_static_path_is_not_found(client):
    for path in ["/static/%00", "/static/govuk/%00.css", "/static/a%00/b"]:
        assert client.get(path).status_code == 404, path


def test_a_nul_in_a_form_field_is_refused(browser):
    token = re.search(r'name="_csrf_token" value="([^"]+)"', browser.get("/sign-in").text).group(1)
    response = browser.post("/sign-in", data={"email": "adviser@test.example.gov.uk\x00", "password": "x",
                                              "_csrf_token": token})
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_the_pages_meet_the_same_limits(browser):
    sign_in(browser, "adviser")
    assert browser.get("/caseload").status_code == 200
    for number in TOO_BIG:
        assert browser.get(f"/young-people/{number}").status_code == 404
    refused = browser.get("/caseload", params={"q": "Test\x00"})
    assert refused.status_code == 400 and "Traceback" not in refused.text


# --- deep JSON --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [33, 1000, 200_000])
def test_json_nested_too_deep_is_refused(client, depth):
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/departments", content=body, headers={"Content-Type": "application/json"})
    _field_refused(response, 400, "body", "is nested more than 32 levels deep")


def test_json_within_the_depth_reaches_validation(client):
    nested = {"name": "Zoos", "code": "ZOO"}
    value: dict = {}
    for _ in range(30):  # {} and 30 around it, inside the body: 32 levels
        value = {"x": value}
    response = client.post("/api/v1/departments", json=nested | {"extra": value})
    assert response.status_code in (201, 400), response.text
    assert "nested" not in response.text


def test_json_that_is_not_json_is_a_400(client):
    response = client.post("/api/v1/departments", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# --- the schema documents every problem -------------------------------------------------------------------

def test_every_api_operation_documents_its_problems_as_problem_details(client):
    schema = client.get("/schema/openapi.json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert problem["required"] == ["status"] and "errors" in problem["properties"]
    operations = [(path, method, operation) for path, item in schema["paths"].items() if path.startswith("/api/")
                  for method, operation in item.items()]
    assert len(operations) == len(_api_routes(client.app))
    for path, method, operation in operations:
        for status in ("400", "401", "403", "404", "409", "422", "503"):
            documented = operation["responses"][status]["content"]["application/problem+json"]["schema"]
            assert documented == {"$ref": "#/components/schemas/Problem"}, (method, path, status)


def test_the_problems_sent_match_the_problem_schema(client, people):
    refused = client.get("/api/v1/users")  # a manager: 403
    unknown = client.get("/api/v1/care-leavers/999")
    invalid = client.get("/api/v1/care-leavers?limit=0")
    anonymous = client.get("/api/v1/me", headers={"Authorization": ""})
    for response, status in [(refused, 403), (unknown, 404), (invalid, 400), (anonymous, 401)]:
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == status
