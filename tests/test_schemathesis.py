"""Schemathesis over the JSON API's own OpenAPI schema, as every role, on both databases.

For each operation and role, a bounded, seeded (derandomised) run of schema-valid requests and of requests
that break the schema, each answer checked: no server error, a status the operation documents, and a body of
the documented type and shape. The roles the operation's policy refuses get one request of each kind (the 403
is checked like any answer); the roles it allows get `EXAMPLES`. A new route that can be brought to a 500,
or that answers in a shape its schema does not say, fails here.
"""

import os
from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from litestar import get
from litestar.params import FromQuery
from litestar.routes import HTTPRoute
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from matching import db
from matching.models import Match, MentorCreate
from matching.services import records
from matching.settings import Settings
from tests import factories

ROLES = ("admin", "manager", "adviser", "mentor", "department")
# Per operation, allowed role and mode: about 1,000 requests per database in the suite. SCHEMATHESIS_EXAMPLES
# makes a deeper run by hand (the same seed, more cases).
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Revoking API tokens would revoke the very tokens the run signs in with: it goes last.
LAST = ("POST", "/api/v1/tokens/{token_id}/revoke")


def _allowed_roles(app) -> dict[tuple[str, str], set[str]]:
    """Who each operation's policy lets in (api/access.py), keyed as the OpenAPI schema names it."""
    allowed = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:  # Litestar's own OPTIONS (tests/test_bad_input.py)
                continue
            policy, action = handler.opt.get("policy") or {}, handler.opt.get("action")
            for method in handler.http_methods:
                allowed[(method, route.path_format)] = {role for role, access in policy.items()
                                                        if action in access.actions}
    return allowed


def _world(engine, people) -> None:
    """A record of each kind in each role's scope, so small generated ids reach real records."""
    with db.session_scope(db.writer(engine)) as session:
        person = records.create(session, records.CARE_LEAVERS, records.CARE_LEAVERS.create.model_validate(
            factories.care_leaver(personal_adviser_id=people["adviser"].id)))
        place = records.create(session, records.OPPORTUNITIES, records.OPPORTUNITIES.create.model_validate(
            factories.opportunity(people["department"].department_id)))
        mentor = records.create(session, records.MENTORS, MentorCreate(
            user_id=people["mentor"].id, department_id=people["mentor"].department_id, job_title="Engineer",
            capacity=2, interests=["music"]))
        session.add_all([Match(care_leaver_id=person.id, mentor_id=mentor.id, score=0.8, kind="mentoring", state="active"),
                         Match(care_leaver_id=person.id, opportunity_id=place.id, score=0.7, kind="opportunity",
                               state="referred")])


def _run(operation, mode: GenerationMode, headers: dict[str, str], examples: int, seen: Counter) -> None:
    @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        response = case.call(headers=headers)
        seen[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


def _ordered(operations: list[Any]) -> list[Any]:
    return sorted(operations, key=lambda op: (op.method.upper(), op.path) == LAST)


def test_no_server_error_and_every_answer_documented_as_every_role(settings, engine, people):
    app = create_app(settings)
    _world(engine, people)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = _ordered([result.ok() for result in schema.get_all_operations()
                           if result.ok().path.startswith("/api/")])
    allowed = _allowed_roles(app)
    assert {(op.method.upper(), op.path) for op in operations} == set(allowed), "schema and route table differ"
    failures: list[str] = []
    seen: Counter = Counter()
    for operation in operations:
        permitted = allowed[(operation.method.upper(), operation.path)]
        for role in ROLES:
            headers = people[role].headers
            # A refused role's 403 is the same whatever it sends: one request shows it is documented.
            modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if role in permitted else (
                GenerationMode.POSITIVE,)
            for mode in modes:
                try:
                    _run(operation, mode, headers, EXAMPLES if role in permitted else 1, seen)
                except hypothesis.errors.Unsatisfiable:
                    pass  # nothing in this operation can be sent wrong (no parameters, no body)
                except (Exception, BaseExceptionGroup) as error:  # every operation is tried, all failures told
                    failures.append(f"{operation.method.upper()} {operation.path} as {role} ({mode.value}): "
                                    f"{str(error)[:1500]}")
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)
    # The run reached the handlers (tokens accepted, records found and made), not only the guards.
    assert seen[200] > 100 and seen[201] > 0 and seen[404] > 100 and seen[403] > 50, seen


def test_the_run_reports_a_server_error(tmp_path):
    """The harness itself: an operation that answers 500 is reported, not passed over."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}", data_dir=tmp_path))

    @get("/api/v1/explode", sync_to_thread=False)
    def explode(n: FromQuery[int] = 0) -> dict[str, int]:
        raise RuntimeError("planted")

    app.register(explode)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    with pytest.raises(BaseExceptionGroup, match="Server error"):
        _run(schema["/api/v1/explode"]["GET"], GenerationMode.POSITIVE, {}, 1, Counter())
