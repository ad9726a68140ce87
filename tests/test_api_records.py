"""The core JSON API: every endpoint's success and failure paths, for every resource, on both databases."""

import pytest
from sqlmodel import select

from matching.models import AuditEvent, UserCreate
from matching.services.users import create_user
from tests import factories


@pytest.fixture
def department_id(client) -> int:
    return client.post("/api/v1/departments", json=factories.department()).json()["id"]


@pytest.fixture
def mentor_user_id(engine, department_id) -> int:
    from matching import db

    with db.session_scope(db.writer(engine)) as session:
        user = create_user(session, UserCreate(email="m@example.gov.uk", full_name="Meg Mentor", role="mentor",
                                               department_id=department_id))
        return user.id


def body_for(resource: str, department_id: int, user_id: int | None = None) -> dict:
    return {
        "departments": factories.department,
        "care-leavers": factories.care_leaver,
        "opportunities": lambda: factories.opportunity(department_id),
        "mentors": lambda: {"user_id": user_id, "department_id": department_id, "job_title": "Head of Parks",
                            "expertise": ["Gardening"], "capacity": 2, "office_area": "n16"},
    }[resource]()


CHANGES = {  # a valid change, then an invalid value for the same field and a word from the reason
    "departments": ("name", "Parks and Leisure", "", "at least 2"),
    "care-leavers": ("in_touch", "NO", "MAYBE", "IN_TOUCH"),
    "opportunities": ("places", 4, 0, "greater than or equal to 1"),
    "mentors": ("capacity", 3, -1, "greater than or equal to 0"),
}


@pytest.fixture(params=list(CHANGES))
def resource(request, client, department_id, mentor_user_id):
    name = request.param
    created = client.post(f"/api/v1/{name}", json=body_for(name, department_id, mentor_user_id))
    assert created.status_code == 201, created.text
    return name, created.json()


def test_create_read_update_round_trip(client, resource):
    name, record = resource
    field, good, _bad, _ = CHANGES[name]
    assert record["version"] == 1 and record["created_at"].endswith("Z")
    assert client.get(f"/api/v1/{name}/{record['id']}").json() == record
    updated = client.patch(f"/api/v1/{name}/{record['id']}", json={field: good, "version": 1})
    assert updated.status_code == 200, updated.text
    assert updated.json()[field] == good and updated.json()["version"] == 2
    assert client.get(f"/api/v1/{name}/{record['id']}").json()[field] == good


def test_invalid_update_names_the_field_and_changes_nothing(client, resource):
    name, record = resource
    field, _good, bad, reason = CHANGES[name]
    response = client.patch(f"/api/v1/{name}/{record['id']}", json={field: bad, "version": 1})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["field"] == field and reason in problem["errors"][0]["reason"]
    assert client.get(f"/api/v1/{name}/{record['id']}").json() == record


def test_stale_version_is_refused_with_409_and_changes_nothing(client, resource):
    name, record = resource
    field, good, _bad, _ = CHANGES[name]
    assert client.patch(f"/api/v1/{name}/{record['id']}", json={field: good, "version": 1}).status_code == 200
    current = client.get(f"/api/v1/{name}/{record['id']}").json()
    stale = client.patch(f"/api/v1/{name}/{record['id']}", json={field: record[field], "version": 1})
    assert stale.status_code == 409 and "version 1" in stale.json()["detail"]
    assert client.get(f"/api/v1/{name}/{record['id']}").json() == current


def test_unknown_ids_are_404(client, resource):
    name, _record = resource
    assert client.get(f"/api/v1/{name}/999999").status_code == 404
    response = client.patch(f"/api/v1/{name}/999999", json={"version": 1})
    assert response.status_code == 404 and response.json()["title"] == "Not found"


def test_nothing_is_ever_deleted(client, resource):
    name, record = resource
    assert client.delete(f"/api/v1/{name}/{record['id']}").status_code == 405
    assert client.get(f"/api/v1/{name}/{record['id']}").status_code == 200


def test_missing_required_field_is_400_naming_it(client, department_id):
    body = factories.care_leaver()
    del body["date_of_birth"]
    response = client.post("/api/v1/care-leavers", json=body)
    assert response.status_code == 400
    assert {"field": "date_of_birth"}.items() <= response.json()["errors"][0].items()


def test_duplicate_natural_key_and_unknown_reference_are_422(client, department_id):
    body = factories.care_leaver()
    assert client.post("/api/v1/care-leavers", json=body).status_code == 201
    duplicate = client.post("/api/v1/care-leavers", json=body | {"first_name": "Other"})
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "case_reference"
    orphan = client.post("/api/v1/opportunities", json=factories.opportunity(department_id + 99))
    assert orphan.status_code == 422
    assert orphan.json()["errors"] == [{"field": "department_id", "reason": f"no department with id {department_id + 99}"}]


def test_an_update_is_checked_against_the_whole_record(client, department_id):
    created = client.post("/api/v1/opportunities", json=factories.opportunity(department_id, min_age=18)).json()
    response = client.patch(f"/api/v1/opportunities/{created['id']}", json={"max_age": 17, "version": 1})
    assert response.status_code == 422 and "min_age" in response.json()["detail"]


def test_required_fields_cannot_be_cleared(client, department_id):
    created = client.post("/api/v1/care-leavers", json=factories.care_leaver()).json()
    response = client.patch(f"/api/v1/care-leavers/{created['id']}", json={"first_name": None, "version": 1})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "first_name"


def test_903_codes_must_agree(client):
    body = factories.care_leaver(in_touch="DIED", current_activity="F5", accommodation="U1")
    response = client.post("/api/v1/care-leavers", json=body)
    assert response.status_code == 400 and "DIED or RHOM" in response.json()["detail"]


def test_list_filters_sorts_and_pages(client, department_id):
    for n, (kind, ring_fenced) in enumerate([("job", True), ("apprenticeship", False), ("job", False)]):
        client.post("/api/v1/opportunities", json=factories.opportunity(
            department_id, kind=kind, ring_fenced=ring_fenced, title=f"Role {n}"))
    jobs = client.get("/api/v1/opportunities?kind=job&sort=-title").json()
    assert jobs["total"] == 2 and [o["title"] for o in jobs["items"]] == ["Role 2", "Role 0"]
    assert client.get("/api/v1/opportunities?ring_fenced=true").json()["total"] == 1
    first, second = (client.get(f"/api/v1/opportunities?sort=title&limit=2&offset={o}").json() for o in (0, 2))
    assert [o["title"] for o in first["items"] + second["items"]] == ["Role 0", "Role 1", "Role 2"]
    assert first["total"] == 3 and first["limit"] == 2
    assert client.get("/api/v1/opportunities?q=role 1").json()["total"] == 1


def test_pages_of_a_sort_with_ties_neither_overlap_nor_skip(client, department_id):
    """Ties are broken by id in the sort's own direction, so one index walk serves a descending sort."""
    created = [client.post("/api/v1/opportunities", json=factories.opportunity(department_id, title="Same")).json()["id"]
               for _ in range(5)]
    for sort, expected in (("title", sorted(created)), ("-title", sorted(created, reverse=True))):
        pages = [client.get(f"/api/v1/opportunities?sort={sort}&limit=2&offset={o}").json()["items"] for o in (0, 2, 4)]
        assert [item["id"] for page in pages for item in page] == expected


def test_a_list_shows_each_records_summary_and_a_read_the_whole_record(client, resource):
    """Lists carry what a list shows; free text, interests and the fairness codes only come one record at a
    time (each read of a young person audited)."""
    name, record = resource
    schema = client.get("/schema/openapi.json").json()
    listed = schema["paths"][f"/api/v1/{name}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    summary = schema["components"]["schemas"][listed["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]]
    line = next(item for item in client.get(f"/api/v1/{name}").json()["items"] if item["id"] == record["id"])
    assert set(line) == set(summary["properties"]) and line == {k: record[k] for k in line}
    if name != "departments":
        assert set(line) < set(record)
    if name == "care-leavers":
        assert not {"ethnicity", "sex", "disability", "support_needs", "interests", "aspirations"} & set(line)


def test_text_search_finds_any_part_of_any_searched_column_whatever_its_case(client):
    ada = client.post("/api/v1/care-leavers", json=factories.care_leaver(first_name="Ada", family_name="O'Brien-Smith",
                                                                          preferred_name="Addy")).json()
    other = client.post("/api/v1/care-leavers", json=factories.care_leaver(first_name="Ben", family_name="Jones")).json()

    def found(q: str) -> list[int]:
        return [p["id"] for p in client.get("/api/v1/care-leavers", params={"q": q}).json()["items"]]

    assert found("smith") == found("SMITH") == found("brien-sm") == found("ddy") == [ada["id"]]
    assert found(ada["case_reference"][1:]) == [ada["id"]]
    assert found("ad") == [ada["id"]]  # shorter than a trigram: still found, by a scan
    assert found("%") == found('"') == found("_") == found("zzz") == found('x"y') == found("%%%") == []
    renamed = client.patch(f"/api/v1/care-leavers/{other['id']}", json={"family_name": "Smithson", "version": 1})
    assert renamed.status_code == 200 and found("smith") == [ada["id"], other["id"]]
    assert found("jones") == []  # the old name is forgotten
    assert client.get("/api/v1/care-leavers", params={"q": "smith", "limit": 1}).json()["total"] == 2


def test_every_searched_column_has_a_trigram_index():
    """The migration that builds the indexes names the columns itself (migrations are frozen in time)."""
    import importlib.util

    from matching.db import MIGRATIONS
    from matching.services import records

    path = next((MIGRATIONS / "versions").glob("0011_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    resources = [records.DEPARTMENTS, records.MENTORS, records.OPPORTUNITIES, records.CARE_LEAVERS]
    assert {r.table.__tablename__: r.search for r in resources} == migration.SEARCHED


def test_every_list_filter_and_sort_has_an_index_ending_in_id(engine):
    """So a filtered or sorted page, however deep, is found from an index (models/base.list_indexes)."""
    import inspect

    import sqlalchemy as sa

    from api import records as api
    from matching.services import records

    lists = {records.DEPARTMENTS: api.department_filters, records.MENTORS: api.mentor_filters,
             records.OPPORTUNITIES: api.opportunity_filters, records.CARE_LEAVERS: api.care_leaver_filters}
    for resource, filters in lists.items():
        table = resource.table.__table__
        indexed = {tuple(index["column_names"]) for index in sa.inspect(engine).get_indexes(table.name)}
        for name in {*inspect.signature(filters).parameters, *resource.sortable} - {"id"}:
            assert table.c[name].unique or (name, "id") in indexed, f"{table.name}.{name}"


@pytest.mark.parametrize("query,field", [("sort=secret", "sort"), ("kind=spaceship", "kind"),
                                         ("limit=0", "limit"), ("limit=5000", "limit"), ("offset=-1", "offset")])
def test_bad_list_parameters_name_the_parameter(client, query, field):
    response = client.get(f"/api/v1/opportunities?{query}")
    assert response.status_code in {400, 422}
    assert response.json()["errors"][0]["field"] == field


def test_close_records_who_and_why_once(client, department_id):
    opportunity = client.post("/api/v1/opportunities", json=factories.opportunity(department_id)).json()
    url = f"/api/v1/opportunities/{opportunity['id']}/close"
    assert client.post(url, json={"reason": "filled elsewhere", "version": 2}).status_code == 409
    assert client.post(url, json={"reason": "", "version": 1}).status_code == 400
    closed = client.post(url, json={"reason": "Budget withdrawn", "version": 1})
    assert closed.status_code == 200
    assert closed.json()["status"] == "withdrawn" and closed.json()["closed_reason"] == "Budget withdrawn"
    assert client.post(url, json={"reason": "again", "version": 2}).status_code == 409


def test_a_care_leavers_case_closes_only_through_the_statutory_route(client):
    created = client.post("/api/v1/care-leavers", json=factories.care_leaver()).json()
    response = client.post(f"/api/v1/care-leavers/{created['id']}/close", json={"reason": "x" * 5, "version": 1})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason_code"
    assert client.get(f"/api/v1/care-leavers/{created['id']}").json()["case_status"] == "open"


def test_every_read_of_a_care_leaver_is_audited_without_the_data(client, session):
    created = client.post("/api/v1/care-leavers", json=factories.care_leaver(first_name="Zebedee")).json()
    client.get(f"/api/v1/care-leavers/{created['id']}")
    client.get("/api/v1/care-leavers?limit=10")
    rows = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(r.action, r.entity, r.entity_id) for r in rows] == [
        ("create", "care_leaver", created["id"]), ("read", "care_leaver", created["id"]),
        ("list", "care_leaver", created["id"])]
    assert rows[1].route == f"GET /api/v1/care-leavers/{created['id']}"
    assert not any("Zebedee" in str(r.model_dump()) for r in rows)


def test_a_reads_audit_follows_its_transaction_and_concurrent_reads_audit_in_one_commit(engine):
    """The read's transaction ends before its audit rows are written (api/resources.audited_read), and the
    rows of reads that arrive while a batch is being written are written together (db.GroupCommit)."""
    import threading

    from api.deps import UnitOfWork
    from api.resources import audited_read

    uow, seen = UnitOfWork(engine), {}
    first_batch_started, more_waiting = threading.Event(), threading.Event()

    def audit(request, writing, ids, action):
        seen[ids[0]] = writing
        if ids == [1]:  # hold the first batch open until the other reads are waiting for the next one
            first_batch_started.set()
            more_waiting.wait(5)

    def audited(ident):
        with uow.read() as read:
            read.connection()
            audited_read(audit, None, uow, read, [ident], "list")
            assert not read.in_transaction()

    first = threading.Thread(target=audited, args=(1,))
    first.start()
    first_batch_started.wait(5)
    others = [threading.Thread(target=audited, args=(n,)) for n in (2, 3, 4)]
    for thread in others:
        thread.start()
    for _ in range(10_000):  # until the three are queued behind the first batch
        if len(uow.audit_rows._waiting) == 3:
            break
        threading.Event().wait(0.001)
    more_waiting.set()
    for thread in [first, *others]:
        thread.join(10)
    assert sorted(seen) == [1, 2, 3, 4]
    assert seen[2] is seen[3] is seen[4] and seen[1] is not seen[2]  # the three waiting reads: one unit of work


def test_a_read_audited_inside_a_writing_unit_of_work_joins_it(engine):
    from api.deps import UnitOfWork
    from api.resources import audited_read

    uow, seen = UnitOfWork(engine), []
    with uow.write() as writing:
        audited_read(lambda request, session, ids, action: seen.append(session), None, uow, writing, [7], "read")
    assert seen == [writing]


def test_a_read_whose_audit_cannot_be_written_fails(engine):
    from api.deps import UnitOfWork
    from api.resources import audited_read

    def broken(request, writing, ids, action):
        raise RuntimeError("the audit table is unwritable")

    with UnitOfWork(engine).read() as read, pytest.raises(RuntimeError, match="unwritable"):
        audited_read(broken, None, UnitOfWork(engine), read, [7], "list")


def test_openapi_documents_the_api(client):
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for name in ("departments", "mentors", "opportunities", "care-leavers"):
        assert {"get", "post"} <= set(paths[f"/api/v1/{name}"])
        assert {"get", "patch"} <= set(paths[f"/api/v1/{name}/{{record_id}}"])
    listed = {p["name"] for p in paths["/api/v1/care-leavers"]["get"]["parameters"]}
    assert {"in_touch", "personal_adviser_id", "sort", "limit", "offset", "q"} <= listed


def test_health_reports_the_database(client):
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}


def test_concurrent_reads_of_care_leavers_are_all_served_and_audited(client, session):
    from concurrent.futures import ThreadPoolExecutor

    ids = [client.post("/api/v1/care-leavers", json=factories.care_leaver()).json()["id"] for _ in range(3)]
    urls = [f"/api/v1/care-leavers/{ids[n % 3]}" if n % 2 else "/api/v1/care-leavers" for n in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda url: client.get(url).status_code, urls))
    assert statuses == [200] * 40
    audited = session.exec(select(AuditEvent).where(AuditEvent.action != "create")).all()
    assert len(audited) == 20 * 3 + 20  # each list shows all three; each read shows one


@pytest.fixture
def own_mentor(client, people, engine) -> dict:
    """The test mentor's own profile, active and vetted, with one mentee's slot taken."""
    from matching import db
    from matching.models import Mentor

    with db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=2, slots_taken=1, dbs_checked_on=TODAY_MINUS_YEAR,
                        safeguarding_trained_on=TODAY_MINUS_YEAR)
        session.add(mentor)
        session.flush()
        return {"id": mentor.id, "headers": people["mentor"].headers}


TODAY_MINUS_YEAR = __import__("datetime").date(2025, 11, 1)
MANAGED = [("dbs_checked_on", "2026-11-01"), ("safeguarding_trained_on", "2026-11-01"), ("department_id", None),
           ("status", "withdrawn"), ("user_id", None)]


@pytest.mark.parametrize("field,value", MANAGED)
def test_a_mentor_cannot_change_their_own_vetting_fields(client, people, own_mentor, field, value):
    if field == "department_id":
        value = people["other_department"].department_id
    if field == "user_id":
        value = people["adviser"].id
    before = client.get(f"/api/v1/mentors/{own_mentor['id']}").json()
    refused = client.patch(f"/api/v1/mentors/{own_mentor['id']}", json={field: value, "job_title": "Chief", "version": 1},
                           headers=own_mentor["headers"])
    assert 400 <= refused.status_code < 500 and refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in refused.json()["errors"]] == [field], refused.json()
    assert client.get(f"/api/v1/mentors/{own_mentor['id']}").json() == before  # nothing changed


def test_a_manager_may_change_a_mentors_vetting_fields(client, own_mentor):
    changed = client.patch(f"/api/v1/mentors/{own_mentor['id']}", json={
        "dbs_checked_on": "2026-11-01", "status": "paused", "capacity": 8, "version": 1})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["dbs_checked_on"], changed.json()["status"], changed.json()["capacity"]) == (
        "2026-11-01", "paused", 8)


def test_a_mentor_changes_their_own_profile_and_pauses_with_capacity_capped(client, session, own_mentor):
    url, headers = f"/api/v1/mentors/{own_mentor['id']}", own_mentor["headers"]
    for capacity, reason in ((6, "between 1 and 5"), (0, "between 1 and 5")):
        refused = client.patch(url, json={"capacity": capacity, "version": 1}, headers=headers)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "capacity"
        assert reason in refused.json()["errors"][0]["reason"]
    changed = client.patch(url, json={"capacity": 5, "interests": ["Chess"], "languages": ["Polish"],
                                      "availability": ["mon"], "office_area": "e8", "status": "paused",
                                      "version": 1}, headers=headers)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["capacity"], body["interests"], body["office_area"], body["status"]) == (5, ["chess"], "E8", "paused")
    back = client.patch(url, json={"status": "active", "version": 2}, headers=headers)
    assert back.status_code == 200 and back.json()["status"] == "active"
    # Sending back the stored vetting values unchanged (a client echoing the record) is not a change.
    echoed = client.patch(url, json={"dbs_checked_on": body["dbs_checked_on"], "job_title": "Head", "version": 3},
                          headers=headers)
    assert echoed.status_code == 200, echoed.text
    audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all()
    assert [(a.entity_id, a.action) for a in audited] == [(own_mentor["id"], "update")] * 3
