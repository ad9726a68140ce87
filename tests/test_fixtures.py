"""The synthetic data: deterministic, valid, realistic in shape, and consistent with capacity."""

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from fixtures import demo
from fixtures.synthetic import SCALES, Scale, generate
from sqlmodel import Session, func, select

from matching import cases, clock
from matching import models as matching_models
from matching.lifecycle import CHECK_IN_STARTS, HOLDING, MACHINES, OUTCOMES, REFERRED
from matching.models import CareLeaver, CareLeaverCreate, Match, Meeting, MentorCreate, OpportunityCreate, User
from matching.services.users import hasher

TODAY = date(2026, 11, 23)
SEEDS = [7, 2026, 31]  # the demo's seed and others: the journeys are there whatever the seed
DEMO = "@northbridge.example.gov.uk"
_CACHE: dict[int, object] = {}


def _borough(seed: int):
    if seed not in _CACHE:
        _CACHE[seed] = generate(seed=seed, today=TODAY)
    return _CACHE[seed]


@pytest.fixture(scope="module")
def borough():
    return _borough(7)


def test_same_seed_same_data_and_another_seed_differs(borough):
    again = generate(seed=7, today=TODAY)
    assert again.tables == borough.tables
    assert generate(seed=8, today=TODAY).tables["care_leavers"] != borough.tables["care_leavers"]


def test_borough_scale_counts(borough):
    size = SCALES["borough"]
    assert [borough.count(t) for t in ("care_leavers", "mentors", "opportunities")] == [
        size.care_leavers, size.mentors, size.opportunities]
    assert borough.count("outcomes") > 50 and borough.count("contacts") > 300


@pytest.mark.parametrize("table,schema", [("care_leavers", CareLeaverCreate), ("mentors", MentorCreate),
                                          ("opportunities", OpportunityCreate)])
def test_every_generated_record_passes_the_api_validation(borough, table, schema):
    for row in borough.tables[table]:
        schema.model_validate({k: v for k, v in row.items() if k in schema.model_fields})


def test_people_are_18_to_25_mostly_and_history_spans_two_years(borough):
    ages = [(TODAY - p["date_of_birth"]).days // 365 for p in borough.tables["care_leavers"]]
    assert min(ages) >= 16 and max(ages) <= 25 and sum(18 <= a <= 21 for a in ages) > len(ages) / 2
    starts = [m["created_at"].date() for m in borough.tables["matches"]]
    assert (TODAY - min(starts)).days > 600
    assert 0.15 < sum(p["former_uasc"] for p in borough.tables["care_leavers"]) / len(ages) < 0.4


@pytest.mark.parametrize("seed", SEEDS)
def test_slots_and_places_taken_are_exactly_the_holding_matches_and_within_limits(seed):
    data = _borough(seed)
    holding = Counter((m["kind"], m["mentor_id"] or m["opportunity_id"]) for m in data.tables["matches"]
                      if m["state"] in HOLDING[m["kind"]])
    assert sum(holding.values()) > 20
    for mentor in data.tables["mentors"]:
        assert mentor["slots_taken"] == holding[("mentoring", mentor["id"])] <= mentor["capacity"]
    for opportunity in data.tables["opportunities"]:
        assert opportunity["places_taken"] == holding[("opportunity", opportunity["id"])] <= opportunity["places"]


def test_history_events_chain_states(borough):
    events = [e for e in borough.tables["match_events"] if e["match_id"] == 1]
    assert events[0]["from_state"] is None and events[0]["to_state"] == "proposed"
    assert all(a["to_state"] == b["from_state"] for a, b in zip(events, events[1:], strict=False))
    assert events[-1]["to_state"] == borough.tables["matches"][0]["state"]


def test_scales_to_benchmark_sizes_without_history():
    data = generate(seed=1, scale=Scale(2_000, 400, 1_000), today=TODAY, history=False)
    assert data.count("care_leavers") == 2_000 and data.count("matches") == 0
    assert len({p["case_reference"] for p in data.tables["care_leavers"]}) == 2_000


def test_demo_load_is_complete_and_loads_once(engine):
    first = demo.load(engine, seed=3, today=TODAY)
    assert first.loaded and "manager@northbridge.example.gov.uk" in first.summary()
    assert not demo.load(engine, seed=3, today=TODAY).loaded
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(CareLeaver)).one() == 300
        manager = session.exec(select(User).where(User.email == "manager@northbridge.example.gov.uk")).one()
        assert hasher.verify(manager.password_hash, "springboard-demo")
        # New rows get fresh ids after the explicit-id bulk load (PostgreSQL sequences advanced).
        new_id = session.execute(sa.insert(CareLeaver.__table__).values(
            case_reference="NEW1", first_name="N", date_of_birth=date(2005, 1, 1),
            leaving_care_category="former_relevant", version=1, created_at=sa.func.now(),
            updated_at=sa.func.now(), case_status="open", in_touch="YES", disability="not_known",
            languages=[], interests=[], sector_preferences=[], skills=[], days_available=[],
            aspirations="", support_needs="", accessibility_needs="", qualification_level=0,
            max_travel_km=10, former_uasc=False, right_to_work_confirmed=False,
            consent_share_mentors=False, consent_share_employers=False).returning(CareLeaver.__table__.c.id)).scalar()
        assert new_id == 301


# -- every history is one the service could have written ----------------------------------------------------

def _by_match(data, table):
    found = {}
    for row in data.tables.get(table, []):
        found.setdefault(row["match_id"], []).append(row)
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_every_history_chain_is_legal_in_the_lifecycle_and_ends_in_the_match_state(seed):
    data = _borough(seed)
    events = _by_match(data, "match_events")
    for match in data.tables["matches"]:
        chain = events[match["id"]]
        assert chain[0]["from_state"] is None and chain[0]["to_state"] == "proposed"
        for before, after in zip(chain, chain[1:], strict=False):
            assert after["from_state"] == before["to_state"]
            assert after["to_state"] in MACHINES[match["kind"]][before["to_state"]], (match, chain)
            assert before["at"] < after["at"]
        assert chain[-1]["to_state"] == match["state"] and match["version"] == len(chain)
        assert match["created_at"] == chain[0]["at"] and chain[-1]["at"].date() < TODAY


@pytest.mark.parametrize("seed", SEEDS)
def test_outcomes_are_written_where_the_lifecycle_writes_them_and_check_ins_where_it_schedules_them(seed):
    data = _borough(seed)
    events, outcomes, checks = _by_match(data, "match_events"), _by_match(data, "outcomes"), _by_match(data, "check_ins")
    for match in data.tables["matches"]:
        passed = [e["to_state"] for e in events[match["id"]]]
        expected = sorted(OUTCOMES[(match["kind"], s)] for s in passed if (match["kind"], s) in OUTCOMES)
        assert sorted(o["kind"] for o in outcomes.get(match["id"], [])) == expected
        starts = any((match["kind"], s) in CHECK_IN_STARTS for s in passed)
        assert len(checks.get(match["id"], [])) == (7 if starts else 0)
    for row in data.tables["check_ins"]:
        assert row["done_on"] is None or row["done_on"] <= TODAY


@pytest.mark.parametrize("seed", SEEDS)
def test_meetings_are_on_mentoring_under_way_or_done_and_never_in_the_future(seed):
    data = _borough(seed)
    matches = {m["id"]: m for m in data.tables["matches"]}
    assert data.count("meetings") > 50
    for meeting in data.tables["meetings"]:
        match = matches[meeting["match_id"]]
        assert match["kind"] == "mentoring" and match["state"] in {"introduced", "active", "completed", "ended_early"}
        assert match["created_at"].date() <= meeting["met_on"] <= TODAY


# -- what each demo account finds ------------------------------------------------------------------------------

def _user(data, role):
    return next(u for u in data.tables["users"] if u["email"] == f"{role}{DEMO}")


@pytest.mark.parametrize("seed", SEEDS)
def test_the_demo_mentor_has_mentees_who_agreed_to_share_and_past_meetings(seed):
    data = _borough(seed)
    mentor = next(m for m in data.tables["mentors"] if m["user_id"] == _user(data, "mentor")["id"])
    assert mentor["status"] == "active" and mentor["dbs_checked_on"] and mentor["safeguarding_trained_on"]
    people = {p["id"]: p for p in data.tables["care_leavers"]}
    mentees = [m for m in data.tables["matches"] if m["mentor_id"] == mentor["id"]
               and m["state"] in {"approved", "introduced", "active"}]
    assert len(mentees) >= 2 and {"approved", "introduced", "active"} <= {m["state"] for m in mentees}
    assert all(people[m["care_leaver_id"]]["consent_share_mentors"] for m in mentees)
    met = {row["match_id"] for row in data.tables["meetings"]}
    assert sum(m["id"] in met for m in mentees) >= 2


@pytest.mark.parametrize("seed", SEEDS)
def test_the_demo_department_has_a_referral_at_every_stage_with_consent(seed):
    data = _borough(seed)
    department = _user(data, "department")["department_id"]
    own = {o["id"]: o for o in data.tables["opportunities"] if o["department_id"] == department}
    people = {p["id"]: p for p in data.tables["care_leavers"]}
    referrals = [m for m in data.tables["matches"] if m["opportunity_id"] in own and m["state"] in REFERRED]
    stages = Counter(m["state"] for m in referrals)
    assert all(stages[stage] > 0 for stage in REFERRED), stages
    assert all(people[m["care_leaver_id"]]["consent_share_employers"] for m in referrals)
    statuses = Counter(o["status"] for o in own.values())
    assert statuses["open"] > 0 and statuses["paused"] > 0 and statuses["closed"] > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_opportunities_are_open_paused_and_closed_and_pending_mentors_wait_to_be_vetted(seed):
    data = _borough(seed)
    assert {"open", "paused", "closed"} <= {o["status"] for o in data.tables["opportunities"]}
    pending = [m for m in data.tables["mentors"] if m["status"] == "pending"]
    users = {u["id"]: u for u in data.tables["users"]}
    assert len(pending) >= 3
    for mentor in pending:
        assert mentor["dbs_checked_on"] is None and mentor["safeguarding_trained_on"] is None
        assert users[mentor["user_id"]]["role"] == "mentor" and users[mentor["user_id"]]["active"]
        assert not [m for m in data.tables["matches"] if m["mentor_id"] == mentor["id"]]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_date_is_counted_from_the_datasets_today_never_the_system_clock(seed):
    with clock.CLOCK.fixed(date(2031, 5, 5)):  # the service's clock elsewhere changes nothing
        assert generate(seed=seed, today=TODAY).tables == _borough(seed).tables
    later = generate(seed=seed, today=date(2031, 5, 5))
    stamps = [row[column] for table in ("matches", "match_events", "care_leavers", "meetings", "check_ins")
              for row in later.tables[table] for column in ("created_at", "at", "met_on", "done_on")
              if row.get(column) is not None]
    days = [value.date() if hasattr(value, "date") else value for value in stamps]
    assert min(days) > date(2027, 1, 1) and max(days) <= date(2031, 5, 5)


def test_demo_load_gives_the_adviser_every_kind_of_follow_up(engine):
    """Through the service's own rules (matching/cases.py), on the loaded database."""
    assert demo.load(engine, seed=2026, today=TODAY).loaded
    with Session(engine) as session:
        adviser = session.exec(select(User).where(User.email == f"adviser{DEMO}")).one().id
        mine = select(Match).join(CareLeaver, CareLeaver.id == Match.care_leaver_id).where(
            CareLeaver.personal_adviser_id == adviser)
        states = Counter((m.kind, m.state) for m in session.exec(mine))
        assert states[("opportunity", "approved")] >= 2 and states[("mentoring", "approved")] >= 1
        for listed in (cases.overdue_check_ins, cases.not_in_touch, cases.no_recent_meeting, cases.waiting):
            assert listed(session, today=TODAY, adviser_id=adviser), listed.__name__
        assert [r for r in cases.pathway_reviews(session, today=TODAY, adviser_id=adviser) if r["overdue"]]
        assert session.exec(select(func.count()).select_from(Meeting)).one() > 50
        pending = session.exec(select(func.count()).select_from(matching_models.Mentor)
                               .where(matching_models.Mentor.status == "pending")).one()
        assert pending >= 3
