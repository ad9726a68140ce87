"""The match pipeline as advisers and managers work it: proposals to review (grouped by young person and
paged in SQL), one match with its history and the next steps this person may take, and the follow-ups due.

Plain functions taking a session and a viewer (anything with `role`, `id` and `department_id`). What a
viewer may see comes from `scopes.matches(viewer)`; which steps they may take from `steps_for`; what may
refuse a step that the state machine allows from `lifecycle.why_not_now` (checked on every path).
Outside the viewer's scope a match is "not found".
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from matching import cases, clock, council_settings, lifecycle, scopes, vocab
from matching.dates import add_months
from matching.errors import Conflict, NotFound
from matching.models import CareLeaver, CheckIn, Department, Match, MatchEvent, Meeting, Mentor, Opportunity, User

PEOPLE_PER_PAGE = 10
# What each step is called where a person chooses it.
STEP_WORDS = {
    "approved": "Approve it", "rejected": "Reject it", "withdrawn": "Withdraw it",
    "referred": "Refer it to the department", "introduced": "Introduced: the young person has met their mentor",
    "active": "Active: they are meeting regularly", "completed": "Completed", "ended_early": "Ended early",
    "proposed": "Re-open it as a proposal", "interviewed": "Interviewed", "offered": "Offered the job or place",
    "started": "Started", "not_successful": "Not successful", "sustained_3m": "Sustained 3 months",
    "sustained_6m": "Sustained 6 months",
}


class StepNotAllowed(Conflict):
    """A step this person may not take from the match's current state."""


def name_of(person: Any) -> str:
    """A young person by the name they go by."""
    return " ".join(part for part in (person.preferred_name or person.first_name, person.family_name) if part)


def step_words(to: str) -> str:
    return STEP_WORDS.get(to, lifecycle.STATE_LABELS.get(to, to))


# Who may take which step ------------------------------------------------------------------------------

def steps_for(viewer: scopes.Viewer, match: Match) -> list[str]:
    """The next steps this viewer may take: the state machine's, less what departments record for their
    opportunities when the viewer is an adviser (mentoring matches are the adviser's to record throughout)."""
    steps = lifecycle.allowed_next(match)
    if viewer.role == "adviser" and match.kind == "opportunity":
        steps = [step for step in steps if step not in lifecycle.DEPARTMENT_STEPS]
    return steps if viewer.role in {"adviser", "manager"} else []


def needs_confirmation(to: str) -> bool:
    """A step that ends a match, or needs a reason, is asked about on a page of its own first."""
    return to in lifecycle.ENDING or to in lifecycle.NEEDS_A_REASON


def find(session: Session, viewer: scopes.Viewer, match_id: int) -> Match:
    match = session.exec(select(Match).where(Match.id == match_id, *scopes.matches(viewer))).first()
    if match is None:
        raise NotFound("match", match_id)
    return match


def take_step(session: Session, viewer: scopes.Viewer, match_id: int, change: lifecycle.Change, *,
              today: date) -> Match:
    """One step on a match the viewer may see: a step they may take, that no rule now refuses."""
    match = find(session, viewer, match_id)
    if change.version == match.version and change.to not in steps_for(viewer, match):
        allowed = ", ".join(step_words(step).lower() for step in steps_for(viewer, match)) or "nothing more"
        raise StepNotAllowed(f"it is {lifecycle.STATE_LABELS.get(match.state, match.state).lower()} now, and "
                             f"“{step_words(change.to)}” is not a next step you can record; you can: {allowed}")
    return lifecycle.transition(session, match_id, change, actor_id=viewer.id, today=today)


def record_check_in(session: Session, viewer: scopes.Viewer, match_id: int, check_in_id: int, *, note: str,
                    today: date) -> CheckIn:
    find(session, viewer, match_id)
    return lifecycle.complete_check_in(session, match_id, check_in_id, note=note, today=today, actor_id=viewer.id)


def check_in(session: Session, viewer: scopes.Viewer, match_id: int, check_in_id: int) -> CheckIn:
    find(session, viewer, match_id)
    check = session.get(CheckIn, check_in_id)
    if check is None or check.match_id != match_id:
        raise NotFound("check-in", check_in_id)
    return check


# What a match is about --------------------------------------------------------------------------------

_MENTOR_DEPT, _JOB_DEPT = aliased(Department), aliased(Department)
_WHAT = (Mentor.job_title.label("mentor_title"), _MENTOR_DEPT.name.label("mentor_department"),
         Opportunity.title.label("opportunity_title"), Opportunity.kind.label("opportunity_kind"),
         _JOB_DEPT.name.label("opportunity_department"))


def _with_what(query):
    return (query.outerjoin(Mentor, Mentor.id == Match.mentor_id)
            .outerjoin(_MENTOR_DEPT, _MENTOR_DEPT.id == Mentor.department_id)
            .outerjoin(Opportunity, Opportunity.id == Match.opportunity_id)
            .outerjoin(_JOB_DEPT, _JOB_DEPT.id == Opportunity.department_id))


def _what(row: Any) -> dict[str, str]:
    if row.mentor_title is not None:
        return {"kind": "Mentor", "title": row.mentor_title, "department": row.mentor_department or "",
                "summary": f"Mentor: {row.mentor_title}, {row.mentor_department}"}
    kind = vocab.OPPORTUNITY_KINDS.get(row.opportunity_kind, row.opportunity_kind or "Opportunity")
    return {"kind": kind, "title": row.opportunity_title or "", "department": row.opportunity_department or "",
            "summary": f"{kind}: {row.opportunity_title}, {row.opportunity_department}"}


_PERSON = (CareLeaver.id.label("person_id"), CareLeaver.first_name, CareLeaver.preferred_name,
           CareLeaver.family_name, CareLeaver.case_reference, CareLeaver.personal_adviser_id)


def _person(row: Any) -> dict[str, Any]:
    return {"id": row.person_id, "name": name_of(row), "case_reference": row.case_reference,
            "personal_adviser_id": row.personal_adviser_id}


def score_words(score: float) -> str:
    """A score in words, as the reasons behind it are."""
    points = round(score * 100)
    strength = ("a very strong match" if points >= 80 else "a strong match" if points >= 60
                else "a fair match" if points >= 40 else "a weak match")
    return f"{points} out of 100: {strength}"


# Proposals to review ----------------------------------------------------------------------------------

@dataclass
class ProposalPage:
    people: list[dict[str, Any]] = field(default_factory=list)  # each with its proposals
    people_total: int = 0
    proposals_total: int = 0
    page: int = 1
    pages: int = 1
    per_page: int = PEOPLE_PER_PAGE

    @property
    def count_words(self) -> str:
        return (f"{self.people_total} {'young person' if self.people_total == 1 else 'young people'}, "
                f"{self.proposals_total} {'proposal' if self.proposals_total == 1 else 'proposals'}")


def _adviser(adviser_id: int | None) -> list[Any]:
    return [CareLeaver.personal_adviser_id == adviser_id] if adviser_id else []


def proposals(session: Session, viewer: scopes.Viewer, *, page: int = 1, adviser_id: int | None = None,
              per_page: int = PEOPLE_PER_PAGE) -> ProposalPage:
    """Proposals waiting for a decision, grouped by young person (by name), a page of people at a time.
    Three statements whatever the page holds: the counts, the page's people, and their proposals."""
    where = [Match.state == "proposed", *scopes.matches(viewer), *_adviser(adviser_id)]
    people_total, proposals_total = session.execute(
        sa.select(sa.func.count(sa.distinct(Match.care_leaver_id)), sa.func.count(Match.id))
        .select_from(Match).join(CareLeaver, CareLeaver.id == Match.care_leaver_id).where(*where)).one()
    pages = max(1, -(-people_total // per_page))
    page = min(max(page, 1), pages)
    order = (sa.func.coalesce(CareLeaver.family_name, ""), CareLeaver.first_name, CareLeaver.id)
    ids = session.execute(
        sa.select(CareLeaver.id).join(Match, Match.care_leaver_id == CareLeaver.id).where(*where)
        .group_by(CareLeaver.id, CareLeaver.family_name, CareLeaver.first_name)
        .order_by(*order).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    found = ProposalPage(people_total=people_total, proposals_total=proposals_total, page=page, pages=pages,
                         per_page=per_page)
    if not ids:
        return found
    rows = session.execute(_with_what(
        sa.select(Match, *_PERSON, *_WHAT).join(CareLeaver, CareLeaver.id == Match.care_leaver_id))
        .where(Match.state == "proposed", Match.care_leaver_id.in_(ids), *scopes.matches(viewer))
        .order_by(*order, Match.kind, Match.score.desc(), Match.id)).all()
    by_person: dict[int, dict[str, Any]] = {}
    for row in rows:
        person = by_person.setdefault(row.person_id, {**_person(row), "proposals": []})
        person["proposals"].append({"match": row.Match, "what": _what(row), "score": score_words(row.Match.score)})
    found.people = [by_person[i] for i in ids if i in by_person]
    return found


def advisers(session: Session) -> dict[str, str]:
    """Personal advisers by id (as text, for a select), by name: a manager's filter."""
    rows = session.execute(sa.select(User.id, User.full_name).where(User.role == "adviser", User.active)
                           .order_by(User.full_name, User.id)).all()
    return {str(row.id): row.full_name for row in rows}


# One match --------------------------------------------------------------------------------------------

def match_detail(session: Session, viewer: scopes.Viewer, match_id: int) -> dict[str, Any]:
    """One match as its page shows it: who, what, state, score and reasons, history, check-ins, meetings,
    and the steps this viewer may take next. Not found outside the viewer's scope."""
    row = session.execute(_with_what(
        sa.select(Match, *_PERSON, *_WHAT).join(CareLeaver, CareLeaver.id == Match.care_leaver_id))
        .where(Match.id == match_id, *scopes.matches(viewer))).first()
    if row is None:
        raise NotFound("match", match_id)
    match = row.Match
    history = session.execute(sa.select(MatchEvent, User.full_name).outerjoin(User, User.id == MatchEvent.actor_id)
                              .where(MatchEvent.match_id == match_id).order_by(MatchEvent.at, MatchEvent.id)).all()
    checks = session.exec(select(CheckIn).where(CheckIn.match_id == match_id)
                          .order_by(CheckIn.due_on, CheckIn.id)).all()
    meetings = (session.exec(select(Meeting).where(Meeting.match_id == match_id)
                             .order_by(Meeting.met_on.desc(), Meeting.id.desc())).all()
                if match.kind == "mentoring" else [])
    adviser = session.get(User, row.personal_adviser_id) if row.personal_adviser_id else None
    return {"match": match, "person": _person(row), "what": _what(row), "score": score_words(match.score),
            "adviser": adviser.full_name if adviser else None,
            "history": [{"at": event.at, "from": event.from_state, "to": event.to_state,
                         "by": by or "Springboard (automatic matching)", "reason": _reason_words(event.reason)}
                        for event, by in history],
            "check_ins": checks, "meetings": meetings, "steps": steps_for(viewer, match)}


def _reason_words(reason: str) -> str:
    """A stored reason ('code: note') with the rejection code in words."""
    code, _, note = reason.partition(": ")
    if code in lifecycle.REJECTION_REASONS:
        return f"{lifecycle.REJECTION_REASONS[code]}. {note}".strip(". ") if note else lifecycle.REJECTION_REASONS[code]
    return reason


# Follow-ups due ---------------------------------------------------------------------------------------

def follow_ups(session: Session, viewer: scopes.Viewer, *, today: date,
               adviser_id: int | None = None) -> list[dict[str, Any]]:
    """What is due on the viewer's matches, listed from the manager's `check_ins_due_within_days` before it
    is due: check-ins on matches still under way, and approved matches not yet referred or introduced (due
    `no_next_step_days` after approval). The intervals are local standards (council_settings.FollowUpSettings).
    The most overdue first."""
    intervals = council_settings.load(session, council_settings.FollowUpSettings)
    within = intervals.check_ins_due_within_days
    holding = sorted(set().union(*lifecycle.HOLDING.values()))
    scope = [*scopes.matches(viewer), *_adviser(adviser_id)]
    base = _with_what(sa.select(Match, *_PERSON, *_WHAT).join(CareLeaver, CareLeaver.id == Match.care_leaver_id))
    items: list[dict[str, Any]] = []
    checks = session.execute(
        base.add_columns(CheckIn.id.label("check_in_id"), CheckIn.label, CheckIn.due_on)
        .join(CheckIn, CheckIn.match_id == Match.id)
        .where(CheckIn.done_on.is_(None), CheckIn.due_on <= today + timedelta(days=within),
               Match.state.in_(holding), *scope)).all()
    for row in checks:
        overdue = (today - row.due_on).days
        items.append({"kind": "check_in", "title": f"{row.label} check-in {'overdue' if overdue > 0 else 'due'}",
                      "match": row.Match, "person": _person(row), "what": _what(row), "since": row.due_on,
                      "days_overdue": overdue, "check_in_id": row.check_in_id,
                      "href": f"/matches/{row.Match.id}/check-ins/{row.check_in_id}"})
    # Correlated, so only the viewer's approved matches are looked up (grouping every approval first read
    # the whole history: most of the page's time at London scale).
    approved_at = (sa.select(sa.func.max(MatchEvent.at)).where(MatchEvent.match_id == Match.id,
                                                                MatchEvent.to_state == "approved")
                   .correlate(Match).scalar_subquery())
    stalled = session.execute(base.add_columns(approved_at.label("approved_at"))
                              .where(Match.state == "approved", approved_at.is_not(None), *scope)).all()
    for row in stalled:
        since = row.approved_at.astimezone(clock.ZONE).date()
        overdue = (today - since).days - intervals.no_next_step_days  # due that many days after approval
        if overdue < -within:
            continue
        waiting = "referred to the department" if row.Match.kind == "opportunity" else "introduced to the mentor"
        items.append({"kind": "no_next_step", "title": f"Approved, not yet {waiting}", "match": row.Match,
                      "person": _person(row), "what": _what(row), "since": since, "days_overdue": overdue,
                      "href": f"/matches/{row.Match.id}"})
    return sorted(items, key=lambda item: (-item["days_overdue"], item["person"]["name"], item["match"].id))


# Stale matches: no next step or outcome past the manager's interval --------------------------------------

# After how long each state's next step or outcome is due, before the manager's `no_next_step_days` runs:
# approved, referred, interviewed and offered move on at once; a job or placement started is next recorded
# as sustained (or ended) after three months, and three months later again.
OUTCOME_DUE_AFTER_MONTHS = {"started": 3, "sustained_3m": 3}
STALE_KINDS = {"no_next_step": "Approved, no next step", "no_outcome": "No outcome recorded",
               "no_meeting": "Mentoring with no meeting"}


def stale_matches(session: Session, *, today: date, adviser_id: int | None = None,
                  follow_up: Any = None) -> list[dict[str, Any]]:
    """Every approved match with no next step or outcome past the manager's interval (FollowUpSettings):
    approved and never referred or introduced, `no_next_step_days` after approval; referred, interviewed or
    offered with nothing recorded since, `no_next_step_days` after; started (or sustained three months) with
    no outcome three months and `no_next_step_days` after; mentoring under way with no meeting for
    `no_meeting_days` (cases.no_recent_meeting). Each row: who, which adviser, since when and days overdue,
    the most overdue first. `days_overdue` is 1 on the first day the match is on the list."""
    follow_up = follow_up or council_settings.load(session, council_settings.FollowUpSettings)
    wait = follow_up.no_next_step_days
    reached = (sa.select(sa.func.max(MatchEvent.at)).where(MatchEvent.match_id == Match.id,
                                                          MatchEvent.to_state == Match.state)
               .correlate(Match).scalar_subquery())
    waiting = sorted(lifecycle.HOLDING["opportunity"])
    query = (sa.select(Match.id, Match.kind, Match.state, reached.label("reached_at"), *_PERSON)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(Match.state.in_(waiting), (Match.kind == "opportunity") | (Match.state == "approved"),
                    CareLeaver.case_status == "open", *_adviser(adviser_id)))
    found = []
    for row in session.execute(query):
        if row.reached_at is None:
            continue
        since = row.reached_at.astimezone(clock.ZONE).date()
        due = add_months(since, OUTCOME_DUE_AFTER_MONTHS.get(row.state, 0)) + timedelta(days=wait)
        if today > due:
            found.append(_stale(row, "no_next_step" if row.state == "approved" else "no_outcome", since, due, today))
    quiet = [row for row in cases.no_recent_meeting(session, today=today, days=follow_up.no_meeting_days,
                                                    adviser_id=adviser_id) if row["state"] != "approved"]
    people = _people_of(session, [row["match_id"] for row in quiet])
    for row in quiet:
        person = people[row["match_id"]]
        days_since = row["days_since"] or 0
        since = today - timedelta(days=days_since)
        found.append(_stale(person, "no_meeting", row["last_meeting_on"] or since, since
                            + timedelta(days=follow_up.no_meeting_days), today, match_id=row["match_id"],
                            state=row["state"]))
    return with_adviser_names(session, sorted(found, key=lambda item: (-item["days_overdue"], item["name"],
                                                                       item["match_id"])))


def with_adviser_names(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with its adviser's name ("No adviser" when there is none)."""
    ids = {row["personal_adviser_id"] for row in rows} - {None}
    names = dict(session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return [row | {"adviser": names.get(row["personal_adviser_id"], "No adviser")} for row in rows]


def _stale(row: Any, kind: str, since: date, due: date, today: date, **given: Any) -> dict[str, Any]:
    """One stale match as the list shows it: `due` is the last day it was not yet overdue."""
    return {"kind": kind, "title": STALE_KINDS[kind], "match_id": given.get("match_id", getattr(row, "id", None)),
            "state": given.get("state", getattr(row, "state", None)), "care_leaver_id": row.person_id,
            "name": name_of(row), "case_reference": row.case_reference,
            "personal_adviser_id": row.personal_adviser_id, "since": since, "overdue_from": due + timedelta(days=1),
            "days_overdue": (today - due).days}


def _people_of(session: Session, match_ids: list[int]) -> dict[int, Any]:
    """Each match's young person (name, case reference, adviser), by match id."""
    if not match_ids:
        return {}
    rows = session.execute(sa.select(Match.id.label("match_id"), *_PERSON)
                           .join(CareLeaver, CareLeaver.id == Match.care_leaver_id).where(Match.id.in_(match_ids)))
    return {row.match_id: row for row in rows}
