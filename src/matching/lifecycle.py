"""The life of a match, from proposal to outcome: which states may follow which, and what each change does.

Every change is checked against the current state and version, written as an append-only history row,
and, where it starts or stops holding a mentor's slot or an opportunity's place, takes or frees that slot
with one conditional UPDATE, so two advisers approving the last place end with one approval and one
refusal on any database.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from matching import clock, notifications, vocab
from matching.dates import add_months
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.models import CheckIn, Match, MatchEvent, Meeting, Mentor, Opportunity, Outcome

REOPEN = "proposed"
MENTORING = {
    "proposed": {"approved", "rejected", "withdrawn"},
    "approved": {"introduced", "withdrawn"},
    "introduced": {"active", "ended_early", "withdrawn"},
    "active": {"completed", "ended_early"},
    "rejected": {REOPEN},
    "withdrawn": {REOPEN},
    "completed": set(),
    "ended_early": set(),
}
OPPORTUNITY = {
    "proposed": {"approved", "rejected", "withdrawn"},
    "approved": {"referred", "withdrawn"},
    "referred": {"interviewed", "not_successful", "withdrawn"},
    "interviewed": {"offered", "not_successful", "withdrawn"},
    "offered": {"started", "not_successful", "withdrawn"},
    "started": {"sustained_3m", "completed", "ended_early", "withdrawn"},
    "sustained_3m": {"sustained_6m", "completed", "ended_early", "withdrawn"},
    "sustained_6m": set(),
    "completed": set(),
    "not_successful": {REOPEN},
    "ended_early": set(),
    "rejected": {REOPEN},
    "withdrawn": {REOPEN},
}
MACHINES = {"mentoring": MENTORING, "opportunity": OPPORTUNITY}
# States in which a match holds one of the mentor's slots or one of the opportunity's places.
HOLDING = {"mentoring": {"approved", "introduced", "active"},
           "opportunity": {"approved", "referred", "interviewed", "offered", "started", "sustained_3m"}}
OUTCOMES = {("mentoring", "completed"): "mentoring_sustained_6m", ("mentoring", "ended_early"): "ended_early",
            ("opportunity", "completed"): "placement_completed", ("opportunity", "sustained_3m"): "job_sustained_3m",
            ("opportunity", "sustained_6m"): "job_sustained_6m", ("opportunity", "not_successful"): "not_successful",
            ("opportunity", "ended_early"): "ended_early"}
# Who records which step: advisers decide and refer, departments record what happened after referral.
DEPARTMENT_STEPS = frozenset({"interviewed", "offered", "started", "not_successful", "sustained_3m",
                              "sustained_6m", "completed", "ended_early"})
# A department sees a match only once it has been referred to them (never proposals or approvals).
REFERRED = frozenset({"referred", "interviewed", "offered", "started", "sustained_3m", "sustained_6m",
                      "completed", "not_successful", "ended_early", "withdrawn"})
# Steps that end a match: the pages ask for confirmation and a reason before recording one.
ENDING = frozenset(state for machine in MACHINES.values() for state, after in machine.items()
                   if not after or after == {REOPEN})
REJECTION_REASONS = {
    "young_person_declined": "The young person does not want it",
    "not_right_now": "Not the right time for the young person",
    "poor_fit": "Not a good fit for their interests or goals",
    "travel": "Too far or too hard to get to",
    "safeguarding": "A safeguarding concern",
    "other": "Other (explained in the note)",
}
# Follow-up: from the day a mentoring match is approved or a job or placement starts.
CHECK_IN_STARTS = {("mentoring", "approved"), ("opportunity", "started")}
CHECK_INS = [("2 weeks", None), ("1 month", 1), ("2 months", 2), ("3 months", 3), ("4 months", 4),
             ("5 months", 5), ("6 months", 6)]
NEEDS_A_REASON = {"rejected", "withdrawn", "ended_early", "not_successful", REOPEN}
STATE_LABELS = {**vocab.MENTORING_STATES, **vocab.OPPORTUNITY_STATES}
# Who is told of a change: the notice is written here, in the change's unit of work, so it exists exactly
# when the change commits, whichever page, API call or job made it.
TELLS = {("opportunity", "referred"): notifications.referral_arrived,
         ("mentoring", "approved"): notifications.mentee_approved}


@dataclass(frozen=True)
class Change:
    to: str
    version: int
    reason: str = ""
    reason_code: str | None = None


class IllegalTransition(Conflict):
    def __init__(self, match: Match, to: str):
        allowed = sorted(MACHINES[match.kind][match.state])
        super().__init__(f"a {match.kind} match cannot go from {match.state} to {to}; "
                         f"allowed next: {', '.join(allowed) or 'none (it has ended)'}")
        self.allowed = allowed


def allowed_next(match: Match) -> list[str]:
    return sorted(MACHINES[match.kind][match.state])


def transition(session: Session, match_id: int, change: Change, *, actor_id: int | None,
               today: date | None = None) -> Match:
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound("match", match_id)
    if change.version != match.version:
        raise StaleVersion("match", match_id, change.version, match.version)
    if change.to not in MACHINES[match.kind][match.state]:
        raise IllegalTransition(match, change.to)
    _check_reason(change)
    day = today or clock.today()
    if broken := broken_rule(session, match, change.to, day):
        raise RuleBroken(*broken)
    holding = HOLDING[match.kind]
    if change.to in holding and match.state not in holding:
        _take_slot(session, match)
    elif match.state in holding and change.to not in holding:
        _free_slot(session, match)
    reason = f"{change.reason_code}: {change.reason}" if change.reason_code else change.reason
    session.add(MatchEvent(match_id=match.id, actor_id=actor_id, from_state=match.state, to_state=change.to,
                           reason=reason.strip(": ")))
    if outcome := OUTCOMES.get((match.kind, change.to)):
        session.add(Outcome(match_id=match.id, kind=outcome, recorded_on=day, recorded_by_id=actor_id,
                            note=change.reason))
    if (match.kind, change.to) in CHECK_IN_STARTS:
        _schedule_check_ins(session, match, day)
    match.state = change.to
    try:
        session.flush()  # the version check (version_id_col) makes a concurrent change fail here
    except StaleDataError as error:
        raise StaleVersion("match", match_id, change.version, change.version + 1) from error
    if tell := TELLS.get((match.kind, change.to)):
        tell(session, match)
    return match


# After approval the match is the live one and holds its slot: capacity, travel, the pair's history and the
# manager's must-haves were settled then. Referring or introducing needs only that the people still qualify.
STILL_REQUIRED = frozenset({"case_open", "mentor_active", "opportunity_open", "opportunity_not_past_closing"})
RECHECKED: dict[str, frozenset[str] | None] = {"approved": None, "referred": STILL_REQUIRED,
                                               "introduced": STILL_REQUIRED}  # None: every hard rule


class RuleBroken(Conflict):
    """A step refused because the pair now breaks one of the engine's hard rules; says which, in its words."""

    def __init__(self, rule: str, words: str):
        super().__init__(f"{words}; nothing was changed")
        self.rule, self.words = rule, words


def broken_rule(session: Session, match: Match, to: str, today: date) -> tuple[str, str] | None:
    """The hard rule (name, words) that stops this step today, or None. Approval re-checks every rule the
    engine applies to the pair, with the engine's own rule functions (engine/rules.py), so what a run
    would never propose cannot be approved either: a mentor withdrawn or no longer vetted, consent
    withdrawn, a case closed, an opportunity closed or past its closing date, too far, full."""
    if to not in RECHECKED:
        return None
    # Imported here: the engine's numpy and scikit-learn take seconds to load, and most callers never step.
    from matching import council_settings
    from matching.council_settings import MatchingSettings
    from matching.engine.rules import broken_by
    from matching.engine.state import read_pair

    settings = council_settings.load(session, MatchingSettings)
    session.flush()  # the pair is read with SQL: it must see this unit of work's changes
    state = read_pair(session.connection(), today, care_leaver_id=match.care_leaver_id, kind=match.kind,
                      target_id=match.mentor_id or match.opportunity_id,
                      referrals_per_place=settings.referrals_per_place, deciding=match.id)
    if len(state.people) == 0 or len(state.targets[match.kind]) == 0:
        return None  # a record removed under the match: nothing to check against
    rule = broken_by(state, match.kind, 0, 0, settings, RECHECKED[to])
    return None if rule is None else (rule.name, rule.words(state, match.kind, 0, 0))


def why_not_now(session: Session, match: Match, to: str, today: date) -> str | None:
    """Why a step the state machine allows cannot happen today, in the rule's words; None when it can.
    Checked on every transition, so approving or referring through the API, the pages or a job meets the
    same rules."""
    broken = broken_rule(session, match, to, today)
    return broken[1] if broken else None


def withdraw_pending(session: Session, *, reason: str, actor_id: int | None, mentor_id: int | None = None,
                     opportunity_id: int | None = None, care_leaver_id: int | None = None) -> int:
    """Withdraw every proposal still waiting for a decision for one mentor, opportunity or young person,
    each with its history row, so that none of them holds a slot or a place for the next run; how many.
    Called when a mentor stops mentoring, an opportunity closes or a case closes."""
    given = {name: value for name, value in (("mentor_id", mentor_id), ("opportunity_id", opportunity_id),
                                             ("care_leaver_id", care_leaver_id)) if value is not None}
    if len(given) != 1:
        raise InvalidInput("mentor_id", "withdraw the proposals of one mentor, opportunity or young person")
    (column, value), = given.items()
    pending = session.execute(sa.select(Match.id, Match.version).where(
        getattr(Match, column) == value, Match.state == "proposed").order_by(Match.id)).all()
    for match_id, version in pending:
        transition(session, match_id, Change("withdrawn", version, reason), actor_id=actor_id)
    return len(pending)


def _schedule_check_ins(session: Session, match: Match, start: date) -> None:
    session.add_all(CheckIn(match_id=match.id, label=label,
                            due_on=start + timedelta(weeks=2) if months is None else add_months(start, months))
                    for label, months in CHECK_INS)


def _check_reason(change: Change) -> None:
    if change.to == "rejected" and change.reason_code not in REJECTION_REASONS:
        raise InvalidInput("reason_code", f"choose one of: {', '.join(REJECTION_REASONS)}")
    if change.to in NEEDS_A_REASON and len(change.reason.strip()) < 3:
        raise InvalidInput("reason", f"say why the match is {change.to.replace('_', ' ')}")


def _target(match: Match) -> tuple[type, int, str, str]:
    if match.kind == "mentoring":
        return Mentor, match.mentor_id, "slots_taken", "capacity"
    return Opportunity, match.opportunity_id, "places_taken", "places"


def _take_slot(session: Session, match: Match) -> None:
    table, target_id, taken, limit = _target(match)
    columns = table.__table__.c
    # One statement decides: it adds the slot only if one is free, so concurrent approvals cannot both win.
    result = session.execute(sa.update(table.__table__)
                             .where(columns.id == target_id, columns[taken] < columns[limit])
                             .values({taken: columns[taken] + 1}))
    if result.rowcount != 1:
        what = "mentor has no capacity left" if match.kind == "mentoring" else "opportunity has no places left"
        raise Conflict(f"the {what}; nothing was changed")


def _free_slot(session: Session, match: Match) -> None:
    table, target_id, taken, _limit = _target(match)
    columns = table.__table__.c
    session.execute(sa.update(table.__table__).where(columns.id == target_id, columns[taken] > 0)
                    .values({taken: columns[taken] - 1}))


def propose(session: Session, *, care_leaver_id: int, mentor_id: int | None = None,
            opportunity_id: int | None = None, score: float = 0.0, reasons: list[str] | None = None,
            model_version: str = "", run_id: int | None = None, actor_id: int | None = None) -> Match:
    """A new proposal with its first history row (the engine's runs and advisers both start here)."""
    if (mentor_id is None) == (opportunity_id is None):
        raise InvalidInput("mentor_id", "propose either a mentor or an opportunity")
    match = Match(care_leaver_id=care_leaver_id, mentor_id=mentor_id, opportunity_id=opportunity_id,
                  kind="mentoring" if mentor_id else "opportunity", state="proposed", score=score,
                  reasons=reasons or [], model_version=model_version, run_id=run_id)
    session.add(match)
    session.flush()
    session.add(MatchEvent(match_id=match.id, actor_id=actor_id, from_state=None, to_state="proposed"))
    return match


def complete_check_in(session: Session, match_id: int, check_in_id: int, *, note: str, today: date,
                      actor_id: int | None) -> CheckIn:
    check = session.get(CheckIn, check_in_id)
    if check is None or check.match_id != match_id:
        raise NotFound("check-in", check_in_id)
    if check.done_on is not None:
        raise Conflict(f"check-in {check_in_id} was done on {check.done_on.isoformat()}")
    check.done_on, check.done_by_id, check.note = today, actor_id, note
    session.flush()
    return check


def log_meeting(session: Session, match_id: int, *, met_on: date, kind: str, note: str, today: date,
                actor_id: int | None, who: str = "they") -> Meeting:
    """A mentor (or the adviser) logs a meeting on a mentoring match that is under way: the rule is
    mentoring.check_meeting, the same for the API and every page (`who` met, in its words)."""
    from matching.mentoring import check_meeting  # mentoring imports this module

    match = session.get(Match, match_id)
    if match is None or match.kind != "mentoring":
        raise NotFound("mentoring match", match_id)
    check_meeting(match, met_on, today, who)
    meeting = Meeting(match_id=match_id, met_on=met_on, kind=kind, note=note, logged_by_id=actor_id)
    session.add(meeting)
    session.flush()
    return meeting
