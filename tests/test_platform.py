"""What every page relies on: a quick command, GOV.UK error pages (problem details for the API), an
offline /schema, no caching of personal data, and unexpected errors logged once without personal data."""

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from litestar import get
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import PASSWORD
from tests.test_pages import csrf

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["ortools", "scipy", "sklearn", "skops", "numpy", "openpyxl", "litestar", "uvicorn"]
LOADED_AFTER = """
import sys
from api.cli import main
from matching import clock
try:
    main({args!r}, standalone_mode=False)
except SystemExit:
    pass
print("RESULT", clock.today().isoformat(), sorted(name for name in {heavy!r} if name in sys.modules))
"""


def _loaded_after(*args: str) -> tuple[str, list[str]]:
    script = LOADED_AFTER.format(args=list(args), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    _, day, loaded = line.split(" ", 2)
    return day, json.loads(loaded.replace("'", '"'))


@pytest.mark.parametrize("args", [["--help"], ["db", "--help"], ["import", "--help"], ["match", "--help"],
                                  ["users", "create", "--help"], ["tokens", "--help"], ["demo", "--help"]])
def test_help_imports_neither_the_engine_nor_the_web_app(args):
    _, loaded = _loaded_after(*args)
    assert loaded == []


def test_the_engine_is_imported_by_the_commands_that_use_it():
    """The check above can fail: the same probe sees the engine (OR-Tools) once a matching command is loaded.
    Scikit-learn and skops are not among it: scoring uses a model's stored numbers, and only training or
    checking a model file loads them (tests/test_learned_scorer.py)."""
    done = subprocess.run([sys.executable, "-c", "import sys, api.cli, matching.engine.runs; "
                           f"print(sorted(n for n in {HEAVY!r} if n in sys.modules))"],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(done.stdout.replace("'", '"')))
    assert "ortools" in loaded and not {"sklearn", "skops"} & loaded


def test_today_on_the_main_group_still_fixes_the_clock():
    day, loaded = _loaded_after("--today", "2031-02-03", "db", "--help")
    assert day == "2031-02-03" and loaded == []


def test_the_import_kinds_in_the_command_are_the_importers_kinds():
    from api.cli import IMPORT_KINDS
    from matching.imports import KINDS

    assert IMPORT_KINDS == KINDS


# -- error pages ---------------------------------------------------------------------------------------

SECRET = "Jayden Okonkwo-Smith born 2007-03-14"  # what an exception's text might carry


@get("/explode", sync_to_thread=False, opt={"public": True})
def explode() -> str:
    raise RuntimeError(SECRET)


@get("/api/explode", sync_to_thread=False)
def explode_api() -> str:
    raise ValueError(SECRET)


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def app(settings, request):
    app = create_app(settings.model_copy(update={"debug": request.param}))
    app.register(explode)
    app.register(explode_api)
    return app


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged(app):
    captured = Captured()
    root = logging.getLogger()
    with TestClient(app=app) as client:  # Litestar sets up logging on start-up: capture after it
        root.addHandler(captured)
        yield client, captured.records
    root.removeHandler(captured)


def _h1(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)]


def test_an_unknown_address_is_a_gov_uk_page_not_found(browser):
    found = browser.get("/no-such-page")
    assert found.status_code == 404 and found.headers["content-type"].startswith("text/html")
    assert _h1(found.text) == ["Page not found"] and "<title>Page not found – Springboard</title>" in found.text
    assert "govuk-frontend.min.css" in found.text and "/no-such-page" not in found.text


def test_the_json_api_keeps_problem_details_for_unknown_addresses(browser):
    found = browser.get("/api/v1/no-such-thing")
    assert found.status_code == 404 and found.headers["content-type"] == "application/problem+json"
    assert found.json()["status"] == 404


def test_a_page_outside_your_role_is_a_gov_uk_403(browser):
    browser_sign_in(browser, "mentor")
    refused = browser.get("/caseload")
    assert refused.status_code == 403 and _h1(refused.text) == ["You cannot see this page"]


def test_a_form_without_its_csrf_token_is_a_gov_uk_403_that_echoes_nothing(browser):
    refused = browser.post("/sign-in", data={"email": "adviser@test.example.gov.uk", "password": PASSWORD})
    assert refused.status_code == 403 and _h1(refused.text) == ["This form has expired"]
    assert "Nothing was changed" in refused.text and "adviser@test" not in refused.text


def browser_sign_in(client, who: str) -> None:
    token = csrf(client.get("/sign-in").text)
    done = client.post("/sign-in", data={"email": f"{who}@test.example.gov.uk", "password": PASSWORD,
                                         "_csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unexpected_error_on_a_page_is_a_gov_uk_500_with_a_request_id_logged_once(logged):
    client, records = logged
    failed = client.get("/explode?name=Jayden")
    assert failed.status_code == 500 and failed.headers["content-type"].startswith("text/html")
    assert _h1(failed.text) == ["Sorry, there is a problem with the service"]
    request_id = failed.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id) and request_id in failed.text
    assert SECRET not in failed.text and "RuntimeError" not in failed.text and "Traceback" not in failed.text
    ours = [r for r in records if request_id in r.getMessage()]
    assert len(ours) == 1 and ours[0].levelno == logging.ERROR
    assert "RuntimeError" in ours[0].getMessage() and "/explode" in ours[0].getMessage()
    text = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                     for r in records if not r.name.startswith("httpx"))
    assert "Jayden" not in text and "2007" not in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unexpected_error_in_the_api_is_problem_details_with_the_request_id(logged):
    client, records = logged
    failed = client.get("/api/explode")
    assert failed.status_code == 500 and failed.headers["content-type"] == "application/problem+json"
    body = failed.json()
    assert body["status"] == 500 and body["request_id"] == failed.headers["x-request-id"]
    assert SECRET not in failed.text
    assert sum(body["request_id"] in r.getMessage() for r in records) == 1


def test_every_response_has_its_own_request_id(browser):
    ids = {browser.get("/sign-in").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


# -- /schema offline ------------------------------------------------------------------------------------

def test_schema_page_loads_swagger_ui_from_this_service_only(browser):
    page = browser.get("/schema")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.text)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in assets and "/static/swagger-ui/swagger-ui.css" in assets
    assert not re.search(r"https?://", page.text.split("spec:")[0])  # the page head names no host at all
    assert not [a for a in assets if "//" in a]
    for asset in assets:
        if asset.startswith("/static/"):
            served = browser.get(asset)
            assert served.status_code == 200 and len(served.content) > 1000
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp


def test_swagger_ui_licence_and_version_are_recorded():
    folder = ROOT / "src/api/static/swagger-ui"
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "NOTICE", "swagger-ui-bundle.js",
                                                         "swagger-ui-standalone-preset.js", "swagger-ui.css"]
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "Swagger UI 5." in (ROOT / "src/api/static/README.md").read_text()


# -- caching --------------------------------------------------------------------------------------------

def test_signed_in_pages_and_the_api_are_never_cached_but_static_files_are(browser, people):
    browser_sign_in(browser, "adviser")
    for path in ("/caseload", "/proposals", "/no-such-page"):
        assert browser.get(path).headers["cache-control"] == "no-store", path
    api = browser.get("/api/v1/care-leavers", headers=people["adviser"].headers)
    assert api.status_code == 200 and api.headers["cache-control"] == "no-store"
    assert browser.get("/api/v1/care-leavers").headers["cache-control"] == "no-store"  # refused: still no-store
    static = browser.get("/static/govuk/govuk-frontend.min.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
