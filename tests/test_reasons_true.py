"""Every stored reason is true: a generated world is matched by a real run, and each reason of each proposal
is read back from the database and its claim recomputed from the records, independently of the engine.

The checker (`claim_holds`) knows every sentence a reason may be; a sentence it does not know fails the
test, and `test_the_checker_meets_every_kind_of_reason` makes sure that each kind of reason is met, so the
property test cannot pass by checking nothing.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from math import ceil

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sqlmodel import Session, SQLModel, select

from matching import council_settings, db, lifecycle
from matching import engine as matching_engine
from matching.clock import CLOCK
from matching.engine import geo
from matching.models import CareLeaver, Department, Match, MatchEvent, MatchRun, Mentor, Opportunity, User
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


def claim_holds(reason: str, person: CareLeaver, target, all_reasons: list[str], *,
                history: "History | None" = None) -> str:
    """Which kind of claim the reason makes, after asserting that it is true of these records. `history` is what
    the person's earlier matches of the kind say (none: nothing was ever proposed to them)."""
    history = history or History(waited_since=person.created_at, runs_without=0)
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
        assert history.waited_since is not None, (reason, "a match of the kind is live or waiting")
        weeks = (MIDNIGHT - history.waited_since.astimezone(UTC)).days // 7
        assert int(found[1]) == weeks >= 1 and (found[0].endswith("weeks") == (weeks > 1)), (reason, weeks)
        return "waiting"
    if found := re.fullmatch(r"passed over in (\d+) earlier runs?", reason):
        assert 1 <= int(found[1]) <= history.runs_without and found[0].endswith("runs") == (int(found[1]) > 1), \
            (reason, history)
        return "passed over"
    raise AssertionError(f"a reason no claim is known for: {reason!r}")


@dataclass
class History:
    waited_since: datetime | None  # created, or the last moment a match of the kind was live or waiting; None: now
    runs_without: int              # the most recent earlier runs in a row that proposed them nothing of the kind


def history_of(session: Session, person: CareLeaver, kind: str, run_id: int) -> History:
    """From the records: the person's matches of the kind made before this run, their steps, the earlier runs."""
    earlier = session.exec(select(Match).where(Match.care_leaver_id == person.id, Match.kind == kind,
                                               sa.or_(Match.run_id.is_(None), Match.run_id != run_id))).all()
    held = {"proposed", *lifecycle.HOLDING[kind]}
    if any(match.state in held for match in earlier):
        return History(waited_since=None, runs_without=0)
    left = [event.at for match in earlier for event in session.exec(
        select(MatchEvent).where(MatchEvent.match_id == match.id)).all() if event.from_state in held]
    since = max([person.created_at.astimezone(UTC), *(at.astimezone(UTC) for at in left)])
    proposed_in = {match.run_id for match in earlier}
    runs = session.exec(select(MatchRun.id).where(MatchRun.id < run_id).order_by(MatchRun.id.desc())).all()
    without = next((n for n, earlier_run in enumerate(runs) if earlier_run in proposed_in), len(runs))
    return History(waited_since=since, runs_without=without)


def check_every_stored_reason(engine: sa.Engine, run_id: int) -> set[str]:
    """Recompute the claim of every reason of every proposal of the run; the kinds of claim met."""
    met = set()
    with db.session_scope(engine) as session:
        proposals = session.exec(select(Match).where(Match.run_id == run_id)).all()
        for match in proposals:
            person = session.get(CareLeaver, match.care_leaver_id)
            target = session.get(Mentor, match.mentor_id) if match.mentor_id else session.get(
                Opportunity, match.opportunity_id)
            # The top four reasons for the pair, and after them the run's own: how often they were passed over.
            assert 1 <= len(match.reasons) <= 5 and len(set(match.reasons)) == len(match.reasons)
            assert all(r.startswith("passed over") for r in match.reasons[4:]), match.reasons
            history = history_of(session, person, match.kind, run_id)
            for reason in match.reasons:
                assert "it and digital" not in reason, reason  # the acronym keeps its capitals
                met.add(claim_holds(reason, person, target, match.reasons, history=history))
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


def _referring_to_care_leavers() -> list[str]:
    """Tables other than matches that hold rows about a young person (passed_over, a record's statuses...)."""
    return [table.name for table in reversed(SQLModel.metadata.sorted_tables) if table.name != "matches"
            and any(fk.column.table.name == "care_leavers" for fk in table.foreign_keys)]


def seed(engine: sa.Engine, people: list[dict], mentors: list[dict], jobs: list[dict]) -> None:
    """Replace the previous example's world with this one (records as the API stores them)."""
    with db.session_scope(db.writer(engine)) as session:
        for table in (*_referring_to_care_leavers(), "match_events", "check_ins", "outcomes", "matches", "match_runs",
                      "care_leavers", "mentors", "opportunities"):
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


def run(engine: sa.Engine, today=TODAY) -> int:
    return matching_engine.run(engine, today=today, actor_id=None, source="cli").id


def reject(engine: sa.Engine, run_id: int, chosen: set[int] | None = None) -> None:
    """An adviser rejects the run's proposals (those whose position is in `chosen`, or all), on the clock's day."""
    with db.session_scope(db.writer(engine)) as session:
        proposals = session.exec(select(Match).where(Match.run_id == run_id).order_by(Match.id)).all()
        for n, proposal in enumerate(proposals):
            if chosen is None or n in chosen:
                lifecycle.transition(session, proposal.id, lifecycle.Change("rejected", proposal.version, "not now",
                                                                            "poor_fit"), actor_id=None)


def weekly_runs_with_rejections(engine: sa.Engine, weeks: int, chosen: set[int] | None = None) -> int:
    """A run a week for `weeks` weeks before TODAY, each run's proposals rejected two days later; then TODAY's."""
    for weeks_ago in range(weeks, 0, -1):
        day = TODAY - timedelta(weeks=weeks_ago)
        with CLOCK.fixed(day):
            earlier = run(engine, day)
        with CLOCK.fixed(day + timedelta(days=2)):
            reject(engine, earlier, chosen)
    return run(engine)


@EXAMPLES
@given(drawn=worlds())
def test_every_stored_reason_of_a_generated_run_is_true(engine, drawn):
    seed(engine, *drawn)
    check_every_stored_reason(engine, run(engine))


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=worlds(), chosen=st.sets(st.integers(0, 12)))
def test_reasons_stay_true_over_weekly_runs_with_rejections(engine, drawn, chosen):
    """The waiting clock restarts at each rejection, and passed-over counts build up, over three earlier runs."""
    seed(engine, *drawn)
    check_every_stored_reason(engine, weekly_runs_with_rejections(engine, 3, chosen))


def test_waiting_and_passed_over_reasons_are_written_and_checked(engine):
    """One mentor with one slot and two young people: last week the first was proposed (and rejected), the
    second passed over; this week the second is proposed, waiting since their record was made, and both
    claims are met and hold, while the same claims about the first are refused."""
    keen = dict(home_area="E8", max_travel_km=30.0, days_available=["tue"], languages=[], interests=["coding"],
                skills=[], sector_preferences=["it and digital"], aspirations="", qualification_level=2,
                created_at=MIDNIGHT - timedelta(weeks=40))
    people = [keen, keen | dict(interests=[], sector_preferences=[], created_at=MIDNIGHT - timedelta(weeks=40))]
    mentors = [dict(office_area="E8", availability=["tue"], languages=[], expertise=["it and digital", "coding"],
                    interests=[], capacity=1, job_title="Head of Digital")]
    seed(engine, people, mentors, [])
    with db.session_scope(db.writer(engine)) as session:  # waiting counts for more here, so it is a top reason
        council_settings.save(session, council_settings.MatchingSettings(weights={"waiting": 1.0, "interests": 0.2}),
                              version=council_settings.version_of(session, council_settings.MatchingSettings),
                              actor_id=None)
    final = weekly_runs_with_rejections(engine, 1)
    met = check_every_stored_reason(engine, final)
    assert met >= {"waiting", "passed over"}, met
    with db.session_scope(engine) as session:
        second = session.exec(select(Match).where(Match.run_id == final)).one()
        person = session.get(CareLeaver, second.care_leaver_id)
        assert person.case_reference == "R1" and "passed over in 1 earlier run" in second.reasons, second.reasons
        assert "waiting 40 weeks" in second.reasons  # never had a mentor proposed: from the record's creation
        first = session.exec(select(CareLeaver).where(CareLeaver.case_reference == "R0")).one()
        mentor = session.exec(select(Mentor)).one()
        rejected = history_of(session, first, "mentoring", final)
        assert rejected.waited_since == max(e.at for e in session.exec(select(MatchEvent)).all()
                                            if e.to_state == "rejected").astimezone(UTC) and rejected.runs_without == 0
        for false in ("waiting 40 weeks", "passed over in 1 earlier run"):  # R0 was proposed last week
            with pytest.raises(AssertionError):
                claim_holds(false, first, mentor, [], history=rejected)


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
