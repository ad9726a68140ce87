"""Every stored reason is true: a generated world is matched by a real run, and each reason of each proposal
is read back from the database and its claim recomputed from the records, independently of the engine.

The checker (`claim_holds`) knows every sentence a reason may be; a sentence it does not know fails the
test, and `test_the_checker_meets_every_kind_of_reason` makes sure that each kind of reason is met, so the
property test cannot pass by checking nothing.
"""

import re
from datetime import UTC, datetime, time, timedelta
from math import ceil

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sqlmodel import Session, select

from matching import db
from matching import engine as matching_engine
from matching.engine import geo
from matching.models import CareLeaver, Department, Match, Mentor, Opportunity, User
from matching.vocab import DAYS
from tests.engine_world import TODAY

MIDNIGHT = datetime.combine(TODAY, time(), UTC)
AREAS = ["WC2A", "EC4A", "E8", "E9", "N16", "SE1", "E1"]  # WC2A and EC4A: centroids under 0.5 km apart
SECTORS = ["it and digital", "transport", "health", "construction"]
WORDS = ["coding", "driving licence", "first aid", "carpentry", "football", "music", "hr", *SECTORS]
LANGUAGES = ["english", "somali", "polish", "british sign language"]
DAY_CODES = list(DAYS)
EXAMPLES = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- The claims, recomputed from the records -----------------------------------------------------------

def _items(text: str) -> list[list[str]]:
    """The ways a listed phrase can be read: as one item, or split at ', ' and ' and ' outside ‘quotes’."""
    split = [part.strip("‘’") for part in re.split(r"(?:, | and )(?![^‘]*’)", text)]
    return [[text], split] if "‘" not in text else [split]


def _tags(record) -> set[str]:
    if isinstance(record, CareLeaver):
        return {*record.interests, *record.skills, *record.sector_preferences}
    if isinstance(record, Mentor):
        return {*record.expertise, *record.interests}
    return {*record.skills, *([record.sector.lower()] if record.sector else [])}


def _sectors(record) -> set[str]:
    if isinstance(record, Mentor):
        return set(record.expertise)
    return {record.sector.lower()} if record.sector else set()


def _area(record) -> str | None:
    return record.office_area if isinstance(record, Mentor) else record.area


def _tokens(text: str) -> set[str]:
    return {word for word in re.findall(r"(?u)\b\w\w+\b", text.lower())} - ENGLISH_STOP_WORDS


def _target_text(record) -> str:
    return " ".join(sorted(_tags(record))) + " " + (record.job_title if isinstance(record, Mentor) else record.title)


def _written(word: str) -> str:
    """How a stored (lower-case) word must be shown: acronyms in capitals."""
    return " ".join(part.upper() if part in {"it", "hr"} else part for part in word.split(" "))


def _listed_exactly(text: str, expected: set[str], show=_written) -> bool:
    return any(items == [show(word) for word in sorted(expected)] for items in _items(text))


def claim_holds(reason: str, person: CareLeaver, target, all_reasons: list[str]) -> str:
    """Which kind of claim the reason makes, after asserting that it is true of these records."""
    both_tags = _tags(person) & _tags(target)
    shared_sectors = set(person.sector_preferences) & _sectors(target)
    if found := re.fullmatch(r"both interested in (.+)", reason):
        readings = _items(found[1])
        sector_said = any(r.startswith("wants to work in ") for r in all_reasons)
        assert any(len(items) <= 3 and all(item.lower() in both_tags and item == _written(item.lower())
                                           and not (sector_said and item.lower() in shared_sectors)
                                           for item in items) for items in readings), (reason, both_tags)
        return "interests"
    if reason == "similar interests and goals":
        person_text = " ".join(sorted(_tags(person))) + " " + person.aspirations
        assert _tokens(person_text) & _tokens(_target_text(target)), reason
        return "interests"
    if found := re.fullmatch(r"wants to work in (.+)", reason):
        assert shared_sectors and _listed_exactly(found[1], shared_sectors), (reason, shared_sectors)
        return "sector"
    if reason == "in the same postcode district":
        assert person.home_area and person.home_area == _area(target), (reason, person.home_area, _area(target))
        return "same district"
    if found := re.fullmatch(r"(?:less than 0\.1|(\d+\.\d)) km away", reason):
        km = geo.distance_km(person.home_area, _area(target))
        assert person.home_area != _area(target) and km is not None and km <= person.max_travel_km
        assert (f"{km:.1f}" == found[1]) if found[1] else km < 0.05, (reason, km)
        return "distance"
    if found := re.fullmatch(r"both free on (.+)", reason):
        shared = set(person.days_available) & set(target.availability)
        assert _listed_exactly(found[1], shared, show=lambda code: DAYS[code]) or any(
            items == [DAYS[c] for c in DAY_CODES if c in shared] for items in _items(found[1])), (reason, shared)
        return "days (mentoring)"
    if found := re.fullmatch(r"(\d+(?:\.\d+)?) hours a week fits the (\d) days? a week they are free", reason):
        free = len(set(person.days_available))
        assert float(found[1]) == target.hours_per_week > 0 and int(found[2]) == free, (reason, free)
        assert ceil(target.hours_per_week / 7.5) <= free, (reason, free)
        return "days (opportunity)"
    if found := re.fullmatch(r"speaks (.+)", reason):
        shared = {w.lower() for w in person.languages} & {w.lower() for w in target.languages} - {"english"}
        assert _listed_exactly(found[1], shared, show=str.title), (reason, shared)
        return "languages"
    if found := re.fullmatch(r"meets the level (\d) qualification it asks for", reason):
        assert int(found[1]) == target.qualification_required > 0, reason
        assert person.qualification_level >= target.qualification_required, reason
        return "qualification"
    if reason == "no qualification needed":
        assert target.qualification_required == 0, reason
        return "qualification"
    if reason == "ring-fenced for care leavers":
        assert target.ring_fenced, reason
        return "ring-fenced"
    if reason == "guaranteed interview":
        assert target.guaranteed_interview, reason
        return "guaranteed interview"
    if found := re.fullmatch(r"waiting (\d+) weeks?", reason):
        weeks = (MIDNIGHT - person.created_at.astimezone(UTC)).days // 7  # nobody here has had a match approved
        assert int(found[1]) == weeks >= 1 and (found[0].endswith("weeks") == (weeks > 1)), (reason, weeks)
        return "waiting"
    raise AssertionError(f"a reason no claim is known for: {reason!r}")


def check_every_stored_reason(engine: sa.Engine, run_id: int) -> set[str]:
    """Recompute the claim of every reason of every proposal of the run; the kinds of claim met."""
    met = set()
    with db.session_scope(engine) as session:
        proposals = session.exec(select(Match).where(Match.run_id == run_id)).all()
        for match in proposals:
            person = session.get(CareLeaver, match.care_leaver_id)
            target = session.get(Mentor, match.mentor_id) if match.mentor_id else session.get(
                Opportunity, match.opportunity_id)
            assert 1 <= len(match.reasons) <= 4 and len(set(match.reasons)) == len(match.reasons)
            for reason in match.reasons:
                assert "it and digital" not in reason, reason  # the acronym keeps its capitals
                met.add(claim_holds(reason, person, target, match.reasons))
    return met


# --- Generated worlds, matched by a real run -----------------------------------------------------------

def words(draw, pool, most=3) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), unique=True, max_size=most))


@st.composite
def worlds(draw):
    people = [dict(home_area=draw(st.sampled_from([*AREAS, None])), max_travel_km=draw(st.sampled_from([1.0, 5.0, 30.0])),
                   days_available=words(draw, DAY_CODES, 7), languages=words(draw, LANGUAGES),
                   interests=words(draw, WORDS), skills=words(draw, WORDS), sector_preferences=words(draw, SECTORS, 2),
                   aspirations=draw(st.sampled_from(["", "Work with computers", "Drive buses"])),
                   qualification_level=draw(st.integers(0, 4)),
                   created_at=MIDNIGHT - timedelta(days=draw(st.integers(0, 400)), hours=draw(st.integers(0, 23))))
              for _ in range(draw(st.integers(1, 6)))]
    mentors = [dict(office_area=draw(st.sampled_from(AREAS)), availability=words(draw, DAY_CODES, 4),
                    languages=words(draw, LANGUAGES), expertise=words(draw, [*SECTORS, "coding", "hr"]),
                    interests=words(draw, WORDS), capacity=draw(st.integers(1, 2)),
                    job_title=draw(st.sampled_from(["Head of Digital", "Bus driver", "Nurse"])))
               for _ in range(draw(st.integers(0, 3)))]
    jobs = [dict(area=draw(st.sampled_from(AREAS)), sector=draw(st.sampled_from(["IT and digital", "transport",
                                                                                  "Health", ""])),
                 skills=words(draw, WORDS), hours_per_week=draw(st.sampled_from([0.0, 7.5, 16.0, 22.5, 37.5])),
                 qualification_required=draw(st.integers(0, 3)), ring_fenced=draw(st.booleans()),
                 guaranteed_interview=draw(st.booleans()), places=draw(st.integers(1, 2)),
                 kind=draw(st.sampled_from(["job", "work_experience"])))
            for _ in range(draw(st.integers(0, 3)))]
    return people, mentors, jobs


def seed(engine: sa.Engine, people: list[dict], mentors: list[dict], jobs: list[dict]) -> None:
    """Replace the previous example's world with this one (records as the API stores them)."""
    with db.session_scope(db.writer(engine)) as session:
        for table in ("match_events", "check_ins", "outcomes", "matches", "match_runs", "care_leavers", "mentors",
                      "opportunities"):
            session.execute(sa.text(f"DELETE FROM {table}"))
        session.execute(sa.delete(User).where(User.email.like("reasons-%")))
        department = session.exec(select(Department)).first()
        if department is None:
            department = Department(name="Digital", code="DIG")
            session.add(department)
            session.flush()
        _add(session, department.id, people, mentors, jobs)


def _add(session: Session, department_id: int, people, mentors, jobs) -> None:
    for n, values in enumerate(people):
        session.add(CareLeaver(case_reference=f"R{n}", first_name="Test", date_of_birth=TODAY - timedelta(days=20 * 365),
                               leaving_care_category="former_relevant", consent_share_mentors=True,
                               consent_share_employers=True, right_to_work_confirmed=True, **values))
    for n, values in enumerate(mentors):
        user = User(email=f"reasons-{n}@test.example.gov.uk", full_name="A mentor", role="mentor",
                    department_id=department_id)
        session.add(user)
        session.flush()
        session.add(Mentor(user_id=user.id, department_id=department_id, dbs_checked_on=TODAY - timedelta(days=30),
                           safeguarding_trained_on=TODAY - timedelta(days=30), **values))
    for n, values in enumerate(jobs):
        session.add(Opportunity(reference=f"OPP-R{n}", department_id=department_id, title="A post in the council",
                                closes_on=TODAY + timedelta(days=10), pay_pence_per_hour=None, **values))


def run(engine: sa.Engine) -> int:
    return matching_engine.run(engine, today=TODAY, actor_id=None, source="cli").id


@EXAMPLES
@given(drawn=worlds())
def test_every_stored_reason_of_a_generated_run_is_true(engine, drawn):
    seed(engine, *drawn)
    check_every_stored_reason(engine, run(engine))


def test_the_checker_meets_every_kind_of_reason(engine):
    """A world made so that every kind of reason is among the top four somewhere, checked the same way."""
    keen = dict(home_area="WC2A", max_travel_km=30.0, days_available=["mon", "tue", "wed"],
                languages=["english", "somali"], interests=["coding"], skills=["hr"], sector_preferences=["it and digital"],
                aspirations="", qualification_level=2, created_at=MIDNIGHT - timedelta(weeks=30))
    people = [keen, keen | dict(home_area="E8", sector_preferences=[], interests=[], skills=[],
                                aspirations="Work with computers", days_available=["mon"]),
              keen | dict(sector_preferences=["transport"], interests=[], skills=[], languages=["polish"])]
    mentors = [dict(office_area="EC4A", availability=["tue", "wed"], languages=["somali"],
                    expertise=["it and digital", "coding"], interests=["hr"], capacity=3, job_title="Head of Digital")]
    jobs = [dict(area="WC2A", sector="IT and digital", skills=["coding"], hours_per_week=16.0, qualification_required=2,
                 ring_fenced=True, guaranteed_interview=True, places=3, kind="job"),
            dict(area="E9", sector="", skills=[], hours_per_week=0.0, qualification_required=0, ring_fenced=False,
                 guaranteed_interview=False, places=3, kind="work_experience")]
    seed(engine, people, mentors, jobs)
    met = check_every_stored_reason(engine, run(engine))
    assert met >= {"interests", "sector", "same district", "distance", "days (mentoring)", "languages",
                   "qualification", "ring-fenced", "guaranteed interview"}, met
    # The opportunity's days and waiting give way to larger contributions here: checked on their own.
    with db.session_scope(engine) as session:
        person = session.exec(select(CareLeaver).where(CareLeaver.case_reference == "R0")).one()
        job = session.exec(select(Opportunity).where(Opportunity.reference == "OPP-R0")).one()
        assert claim_holds("16 hours a week fits the 3 days a week they are free", person, job, []) == \
            "days (opportunity)"
        assert claim_holds("waiting 30 weeks", person, job, []) == "waiting"
        mentor = session.exec(select(Mentor)).one()
        for false, target in [("38 hours a week fits the 3 days a week they are free", job), ("waiting 31 weeks", job),
                              ("in the same postcode district", mentor), ("wants to work in it and digital", job),
                              ("no qualification needed", job), ("both free on Tuesday", mentor),
                              ("speaks Somali and Polish", mentor), ("2.0 km away", mentor)]:
            with pytest.raises(AssertionError):
                claim_holds(false, person, target, [])
