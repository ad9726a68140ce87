"""The synthetic data: deterministic, valid, realistic in shape, and consistent with capacity."""

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from fixtures import demo
from fixtures.synthetic import SCALES, Scale, generate
from sqlmodel import Session, func, select

from matching.models import CareLeaver, CareLeaverCreate, MentorCreate, OpportunityCreate, User
from matching.services.users import hasher

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def borough():
    return generate(seed=7, today=TODAY)


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


def test_live_matches_never_exceed_capacity_or_places(borough):
    mentors = {m["id"]: m for m in borough.tables["mentors"]}
    opportunities = {o["id"]: o for o in borough.tables["opportunities"]}
    live = Counter((m["kind"], m["mentor_id"] or m["opportunity_id"]) for m in borough.tables["matches"]
                   if m["state"] in {"active", "started"})
    for (kind, target), n in live.items():
        row = mentors[target] if kind == "mentoring" else opportunities[target]
        limit, taken = (row["capacity"], row["slots_taken"]) if kind == "mentoring" else (row["places"], row["places_taken"])
        assert n == taken <= limit


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
