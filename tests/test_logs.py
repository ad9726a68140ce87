"""Application logs: every unexpected error, once, with its request id, and no personal data, through the
journeys people make with the demo data and in the log `springboard serve` writes to stderr."""

import logging
import os
import re
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fixtures import demo
from fixtures.synthetic import DEMO_PASSWORD
from litestar import Request, post
from litestar.params import FromQuery
from litestar.testing import TestClient
from sqlmodel import select

from api.app import create_app
from matching import db
from matching.models import ApiTokenCreate, CareLeaver
from matching.services import users
from tests.test_engine_runs import run_through_api

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_journeys_leave_no_personal_data_in_the_logs(engine, settings):
    assert demo.load(engine, seed=11, today=date(2026, 11, 23), history=False).loaded
    with db.session_scope(db.writer(engine)) as session:
        manager = users.by_email(session, "manager@northbridge.example.gov.uk")
        _, token = users.create_token(session, ApiTokenCreate(user_id=manager.id, name="log test"), created_by_id=None)
        young = session.exec(select(CareLeaver).order_by(CareLeaver.id).limit(25)).all()
    assert len(young) == 25
    app = create_app(settings)  # Litestar's logging set-up replaces root handlers, so capture after it
    captured = Captured()
    root = logging.getLogger()
    root.addHandler(captured)
    level, root.level = root.level, logging.DEBUG
    with TestClient(app=app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for person in young[:10]:
            assert client.get(f"/api/v1/care-leavers/{person.id}").status_code == 200
            assert client.get(f"/api/v1/care-leavers?q={person.family_name}").json()["total"] >= 1
            client.patch(f"/api/v1/care-leavers/{person.id}", json={"in_touch": "NOT-A-CODE", "version": person.version})
            client.patch(f"/api/v1/care-leavers/{person.id}", json={"first_name": person.first_name, "version": 99})
        client.get("/api/v1/care-leavers?limit=200&sort=-date_of_birth")
        client.get("/api/v1/audit-events?limit=200")
        client.get("/api/v1/care-leavers/99999999")
        assert run_through_api(client).json()["status"] == "finished"  # queued, then carried out by the job
        for person in young[:5]:
            assert client.get(f"/api/v1/care-leavers/{person.id}/alternatives").status_code == 200
        # The pages, as an adviser signs in and works through proposals.
        del client.headers["Authorization"]
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(1)
        client.post("/sign-in", data={"email": "adviser@northbridge.example.gov.uk", "password": "wrong password",
                                      "_csrf_token": token})
        client.post("/sign-in", data={"email": "adviser@northbridge.example.gov.uk", "password": DEMO_PASSWORD,
                                      "_csrf_token": token})
        assert client.get("/caseload").status_code == 200
        proposals = client.get("/proposals").text
        decided = re.search(r'action="/proposals/(\d+)"[^>]*>\s*<input type="hidden" name="_csrf_token" value="([^"]+)" />'
                            r'\s*<input type="hidden" name="version" value="(\d+)">', proposals)
        client.post(f"/proposals/{decided.group(1)}", data={"_csrf_token": decided.group(2),
                                                             "version": decided.group(3), "decision": "approve"})
    root.removeHandler(captured)
    root.level = level
    # The test client's own request log (logger "httpx") is the caller's, not the service's.
    logged = "\n".join(r.getMessage() for r in captured.records if not r.name.startswith("httpx"))
    assert "Bearer" not in logged
    for person in young:
        for secret in (f"{person.first_name} {person.family_name}", person.family_name,
                       person.date_of_birth.isoformat(), person.date_of_birth.strftime("%d/%m/%Y"),
                       person.case_reference):
            assert secret not in logged
        assert not re.search(rf"\b{person.home_area}\b", logged)


SECRET = "Jane Smith"  # what a caller might put in a query string or a body: never logged


def _planted_failure(app) -> None:
    """A route whose failure carries personal data in its message and SQL parameters, as real ones do."""

    @post("/api/v1/planted-failure", sync_to_thread=True)
    def planted(request: Request, q: FromQuery[str] = "") -> None:
        with request.app.state.uow.read() as session:
            session.execute(sa.text("SELECT * FROM no_such_table WHERE name = :name"), {"name": q})

    app.register(planted)


def test_every_unexpected_error_is_logged_with_its_request_id_and_nothing_personal(client):
    _planted_failure(client.app)
    captured = Captured()
    logging.getLogger().addHandler(captured)
    try:
        answers = [client.post("/api/v1/planted-failure", params={"q": SECRET}, json={"name": SECRET})
                   for _ in range(3)]
    finally:
        logging.getLogger().removeHandler(captured)
    lines = [r for r in captured.records if r.name == "springboard.errors"]
    assert [a.status_code for a in answers] == [500] * 3 and len(lines) == 3
    for answer, line in zip(answers, lines, strict=True):
        rid = answer.headers["x-request-id"]
        assert answer.json()["request_id"] == rid and line.request_id == rid and line.levelno == logging.ERROR
        message = line.getMessage()
        assert f"[request {rid}]" in message and "POST /api/v1/planted-failure" in message
        assert "sqlalchemy.exc" in message and line.route == "/api/v1/planted-failure"
        for personal in (SECRET, "Jane", "Smith", "no_such_table", "SELECT"):
            assert personal not in message
        assert SECRET not in answer.text  # nor in the answer (DEBUG is off)


def test_springboard_serve_logs_unexpected_errors_to_stderr(tmp_path):
    """The real command: uvicorn and Litestar as `springboard serve` sets them up, one worker."""
    script = tmp_path / "serve_with_a_planted_failure.py"
    script.write_text(
        "import api.app\n"
        "from tests.test_logs import _planted_failure\n"
        "make = api.app.create_app\n"
        "def create_app(*args):\n"
        "    app = make(*args)\n"
        "    _planted_failure(app)\n"
        "    return app\n"
        "api.app.create_app = create_app  # uvicorn looks the factory up by name, after this\n"
        "from api.cli import main\n"
        "main()\n")
    port = _free_port()
    env = os.environ | {"DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    server = subprocess.Popen([sys.executable, str(script), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        started = []
        for line in server.stderr:  # blocks until uvicorn says it is serving (or the process ends)
            started.append(line)
            if "Uvicorn running on" in line:
                break
        assert any("Uvicorn running on" in line for line in started), "".join(started)
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/planted-failure", params={"q": SECRET},
                            json={"name": SECRET}, timeout=30)
    finally:
        server.terminate()
        rest = server.communicate(timeout=30)[1]
    assert answer.status_code == 500
    rid = answer.headers["x-request-id"]
    logged = [line for line in rest.splitlines() if f"[request {rid}]" in line]
    assert len(logged) == 1 and "ERROR" in logged[0] and "POST /api/v1/planted-failure" in logged[0], rest
    assert "Jane" not in rest and "Smith" not in rest
