"""No personal data in application logs, through the journeys people make with the demo data."""

import logging
import re
from datetime import date

import pytest
from fixtures import demo
from fixtures.synthetic import DEMO_PASSWORD
from litestar.testing import TestClient
from sqlmodel import select

from api.app import create_app
from matching import db
from matching.models import ApiTokenCreate, CareLeaver
from matching.services import users


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
        assert client.post("/api/v1/match-runs").status_code == 201
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
