"""What a manager oversees: the audit trail in words, the scoring models (trained, compared, promoted), the
fairness of matching over a period, and imports uploaded through the pages.

Plain functions taking a session, as everywhere in the domain; the pages (api/pages/oversight.py) only read
forms and render. The engine's learning module (scikit-learn) is imported only by the functions that need it.
"""

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching import vocab
from matching.clock import ZONE
from matching.errors import Conflict, NotFound
from matching.models import AuditEvent, CareLeaver, Match, MatchEvent, Mentor, Outcome, ScoringModel, User
from matching.paging import Page
from matching.reports.suppression import Cell, suppress
from matching.services import audit

if TYPE_CHECKING:
    from matching.imports import ImportReport

# The audit trail ------------------------------------------------------------------------------------------

# What each action code means, in a sentence's verb ("Test manager viewed young person ...").
ACTIONS = {
    "read": "Viewed", "list": "Saw in a list", "update": "Changed", "create": "Added", "correct": "Corrected",
    "export": "Downloaded in a list", "download": "Downloaded", "activate": "Activated", "decline": "Declined",
    "account": "Changed the sign-in account of", "close": "Closed the case of", "reopen": "Re-opened the case of",
    "promote": "Made current", "invite": "Invited", "change_role": "Changed the role of",
    "set_password": "Set the password of", "reset_pw": "Sent a new-password link to", "unlock": "Unlocked",
    "deactivate": "Deactivated", "rename": "Renamed", "revoke": "Revoked", "retire": "Retired",
    "restore": "Brought back", "sign_in": "Signed in", "sign_in_fail": "Failed to sign in",
    "locked_out": "Locked out after repeated wrong passwords",
}
# Which kind of record each entity code is.
ENTITIES = {
    "care_leaver": "Young person", "mentor": "Mentor", "meeting": "Mentoring meeting", "user": "Account",
    "scoring_model": "Scoring model", "department": "Department", "api_token": "API token",
    "report_oc3": "Report: OC3 return", "report_cohort": "Report: cohort", "opportunity": "Opportunity",
    "offer_item": "Local offer item",
}
SERVICE = "The service itself (a command or a scheduled job)"
PER_PAGE = 50


@dataclass(frozen=True)
class AuditLogPage(Page):
    care_leaver_ids: list[int]  # the young people this page names: its view is audited


def day_starts(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """A range of days in London as UTC moments: from the start of `first` to the start of the day after `last`."""
    def start(day: date) -> datetime:
        return datetime.combine(day, day_time(0), tzinfo=ZONE).astimezone(UTC)
    return (start(first) if first else None), (start(last + timedelta(days=1)) if last else None)


def audit_log(session: Session, wanted: audit.EventFilter, *, page: int = 1, per_page: int = PER_PAGE) -> AuditLogPage:
    """A page of the audit trail, newest first, each row in words: who (by name), did what, to which record."""
    rows, total = audit.find_events(session, wanted, limit=per_page, offset=(page - 1) * per_page)
    actors = _names(session, User, {row.actor_id for row in rows if row.actor_id}
                    | {row.entity_id for row in rows if row.entity == "user" and row.entity_id})
    young = {row.entity_id for row in rows if row.entity == "care_leaver" and row.entity_id}
    people = {p.id: p for p in session.exec(select(CareLeaver).where(CareLeaver.id.in_(young)))} if young else {}
    mentor_ids = {row.entity_id for row in rows if row.entity == "mentor" and row.entity_id}
    mentors = {mentor_id: name for mentor_id, name in session.exec(
        select(Mentor.id, User.full_name).join(User, User.id == Mentor.user_id).where(Mentor.id.in_(mentor_ids)))} \
        if mentor_ids else {}
    described = [{"id": row.id, "at": row.at, "who": actors.get(row.actor_id, "Someone no longer known")
                  if row.actor_id else SERVICE, "action": words_for(ACTIONS, row.action),
                  "record": _record(row, people, mentors, actors), "route": row.route, "client": row.client}
                 for row in rows]
    return AuditLogPage(described, total, page, per_page, sorted(i for i in young if i in people))


def words_for(vocabulary: dict[str, str], code: str) -> str:
    """A code in words; a code not yet given words reads as itself, spaced."""
    return vocabulary.get(code) or code.replace("_", " ").capitalize()


def _names(session: Session, table, ids: set[int]) -> dict[int, str]:
    rows = session.exec(select(table.id, table.full_name).where(table.id.in_(ids))) if ids else []
    return {row_id: name for row_id, name in rows}


def _record(row: AuditEvent, people: dict[int, CareLeaver], mentors: dict[int, str], users: dict[int, str]) -> str:
    kind = words_for(ENTITIES, row.entity) if not row.entity.startswith("report_") or row.entity in ENTITIES \
        else f"Report: {row.entity.removeprefix('report_').replace('_', ' ')}"
    if row.entity == "care_leaver" and row.entity_id in people:
        person = people[row.entity_id]
        return f"{kind} {_person_name(person)} ({person.case_reference})"
    if row.entity == "mentor" and row.entity_id in mentors:
        return f"{kind} {mentors[row.entity_id]}"
    if row.entity == "user" and row.entity_id in users:
        return f"{kind} of {users[row.entity_id]}"
    if row.entity == "scoring_model" and "/models/" in row.route:
        return f"{kind} {row.route.split('/models/')[1].split('/')[0]}"  # a model's key is text, in its route
    if row.entity.startswith("report_") and row.entity_id:
        return f"{kind}, {row.entity_id}"
    return f"{kind} {row.entity_id}" if row.entity_id else kind


def _person_name(person: CareLeaver) -> str:
    return " ".join(part for part in (person.preferred_name or person.first_name, person.family_name) if part)


# Scoring models -------------------------------------------------------------------------------------------

MODEL_STATUSES = {"current": "In use", "retired": "Retired (was in use)",
                  "candidate": "Ready to use: it did better than the scoring in use, and waits for a manager",
                  "declined": "Not used: it did not do better than the scoring in use by enough"}


def models(session: Session) -> list[dict[str, Any]]:
    """Every trained model, newest first, with who trained it and its held-out results in words."""
    rows = session.exec(select(ScoringModel).order_by(ScoringModel.created_at.desc())).all()
    trainers = _names(session, User, {row.created_by_id for row in rows if row.created_by_id})
    return [described_model(row, trainers.get(row.created_by_id)) for row in rows]


def model(session: Session, version: str) -> dict[str, Any]:
    row = session.get(ScoringModel, version)
    if row is None:
        raise NotFound("scoring model", version)
    trainer = session.get(User, row.created_by_id) if row.created_by_id else None
    return described_model(row, trainer.full_name if trainer else None)


def described_model(row: ScoringModel, trainer: str | None) -> dict[str, Any]:
    metrics = row.metrics or {}
    held, baseline = metrics.get("held_out") or {}, metrics.get("current_on_same_rows") or {}
    return {"version": row.version, "created_at": row.created_at, "trained_by": trainer or SERVICE,
            "status": row.status, "status_words": words_for(MODEL_STATUSES, row.status),
            "training_rows": row.training_rows, "held_out_rows": metrics.get("held_out_rows"),
            "roc_auc": held.get("roc_auc"), "brier": held.get("brier"), "top_fifth": top_fifth(held),
            "baseline_version": baseline.get("version"), "baseline_roc_auc": baseline.get("roc_auc"),
            "baseline_words": scorer_words(baseline.get("version", "")) if baseline else None,
            "sentences": metric_sentences(metrics)}


def top_fifth(measured: dict[str, Any]) -> dict[str, float] | None:
    """The calibration bin of the matches the scorer rated most likely to succeed (bins are fifths)."""
    bins = measured.get("calibration") or []
    return bins[-1] if bins else None


def percent(share: float | None) -> str:
    return f"{round(share * 100)} %" if share is not None else "not measured"


def metric_sentences(metrics: dict[str, Any]) -> list[str]:
    """What the held-out numbers mean, for someone who does not read ROC curves."""
    held, baseline = metrics.get("held_out") or {}, metrics.get("current_on_same_rows") or {}
    if not held:
        return ["No held-out results were recorded for this model."]
    said = [f"It was tested on {metrics.get('held_out_rows', 'some')} of the {metrics.get('labelled', '')} recorded "
            f"outcomes, kept back from what it learned from."]
    if held.get("roc_auc") is not None:
        said.append(f"Given one match that succeeded and one that did not, it rated the successful one higher "
                    f"{percent(held['roc_auc'])} of the time (50 % is no better than chance).")
    if (top := top_fifth(held)) is not None:
        said.append(f"Of the fifth of those matches it rated most likely to succeed, {percent(top['observed'])} "
                    f"succeeded; it had expected {percent(top['predicted'])}.")
    if held.get("brier") is not None:
        said.append(f"Its Brier score was {held['brier']:.2f}: the average squared gap between the chance it gave "
                    f"and what happened (0 is perfect; always saying 50 % scores 0.25).")
    if baseline.get("roc_auc") is not None:
        said.append(f"On the same outcomes, the scoring in use then ({scorer_words(baseline.get('version', ''))}) "
                    f"rated the successful match higher {percent(baseline['roc_auc'])} of the time.")
    if metrics.get("margin") is not None:
        points = round(metrics["margin"] * 100)
        plural = "s" if points != 1 else ""
        said.append(f"Retraining puts a new model in use only if it does that at least {points} percentage "
                    f"point{plural} more often than the scoring in use, on the same outcomes.")
    return said


def scorer_words(version: str) -> str:
    return "the weights set in Settings" if version.startswith("weights-") else version


def current_model(session: Session) -> str | None:
    return session.exec(select(ScoringModel.version).where(ScoringModel.status == "current")).first()


def promote(session: Session, version: str) -> ScoringModel:
    """Make `version` the model matching scores with; the one in use is retired. Its file is checked against
    its recorded digest first, so a swapped or damaged file is never made current."""
    from matching.engine import learning  # scikit-learn: only when a model is loaded

    row = session.get(ScoringModel, version)
    if row is None:
        raise NotFound("scoring model", version)
    if row.status == "current":
        raise Conflict(f"{version} is already in use")
    try:
        model = learning.load_model(row.path, row.sha256)
    except OSError as error:
        raise Conflict(f"the file of {version} cannot be read, so it was not made current") from error
    if not row.parameters:  # a model trained before its numbers were stored (0018): it now scores without its file
        row.parameters = learning.learned_from(model).as_json()
    for old in session.exec(select(ScoringModel).where(ScoringModel.status == "current")):
        old.status = "retired"
    row.status = "current"
    session.flush()
    return row


@dataclass(frozen=True)
class Training:
    model: dict[str, Any] | None  # the model trained (current or declined), or None when nothing was trained
    reason: str  # why nothing was trained, when nothing was
    seconds: float


def train(session: Session, *, today: date, models_dir: Path, actor_id: int | None) -> Training:
    """Train a model on the recorded outcomes (engine.learning.train), and how long that took. A manager who
    trains one decides whether to use it: a better model is kept as a candidate, not made current."""
    from matching.engine import learning

    started = time.perf_counter()
    result = learning.train(session, today=today, models_dir=models_dir, actor_id=actor_id, promote=False)
    seconds = time.perf_counter() - started
    if isinstance(result, dict):
        return Training(None, f"There are {result['labelled']} recorded outcomes, {result['successes']} of them "
                              f"successes; training {result['reason']}.", seconds)
    trainer = session.get(User, actor_id) if actor_id else None
    return Training(described_model(result, trainer.full_name if trainer else None), "", seconds)


# Fairness over a period -----------------------------------------------------------------------------------

GROUPINGS = {"sex": "Sex", "ethnicity": "Ethnic group", "disability": "Disability",
             "former_uasc": "Former unaccompanied asylum-seeking child"}
GROUPS = {
    "sex": [*vocab.SEX.values(), "Not known"],
    "ethnicity": [*dict.fromkeys(vocab.ETHNIC_GROUPS.values()), "Not known"],
    "disability": ["Disabled", "Not disabled", "Not known"],
    "former_uasc": ["Former unaccompanied asylum-seeking child", "Not a former unaccompanied asylum-seeking child"],
}
DISABILITY = {"yes": "Disabled", "no": "Not disabled"}


def group_name(grouping: str, value: Any) -> str:
    """Which group a young person is in, in words (903 codes through matching.vocab)."""
    if grouping == "sex":
        return vocab.SEX.get(value, "Not known")
    if grouping == "ethnicity":
        return vocab.ethnic_group(value) if value in vocab.ETHNICITY else "Not known"
    if grouping == "disability":
        return DISABILITY.get(value, "Not known")
    return GROUPS["former_uasc"][0 if value else 1]


@dataclass(frozen=True)
class GroupRow:
    group: str
    succeeded: Cell
    not_succeeded: Cell
    outcomes: Cell
    proposed: Cell
    not_proposed: Cell
    open_cases: Cell

    @property
    def success_rate(self) -> str:
        return _rate(self.succeeded, self.outcomes, "No outcomes")

    @property
    def exposure(self) -> str:
        return _rate(self.proposed, self.open_cases, "No open cases")


def _rate(part: Cell, whole: Cell, nothing: str) -> str:
    """A share only when both counts are shown: a rate beside a withheld count would give it away."""
    if not (part.visible and whole.visible):
        return "Not shown"
    return percent(part.count / whole.count) if whole.count else nothing


@dataclass(frozen=True)
class Grouping:
    name: str
    title: str
    rows: list[GroupRow]
    totals: GroupRow


def fairness_between(session: Session, first: date, last: date) -> list[Grouping]:
    """Per group, over the days `first` to `last`: outcomes recorded (successes, and failures or an adviser's
    rejection) and, of the young people whose case is open, how many were proposed something. Counts from 1
    to 4 are withheld as 'fewer than 5', with whatever would let them be worked out (reports/suppression.py)."""
    since, until = day_starts(first, last)
    labels = _labels_between(session, first, last, since, until)
    c = CareLeaver.__table__.c
    people = session.execute(sa.select(c.id, c.sex, c.ethnicity, c.disability, c.former_uasc, c.case_status)).all()
    labelled_people = {match_id: person_id for match_id, person_id in session.execute(
        sa.select(Match.id, Match.care_leaver_id).where(Match.id.in_(list(labels))))} if labels else {}
    proposed = set(session.exec(select(Match.care_leaver_id).where(Match.created_at >= since,
                                                                   Match.created_at < until).distinct()))
    by_id = {person.id: person for person in people}
    groupings = []
    for grouping, title in GROUPINGS.items():
        names = GROUPS[grouping]
        counts = {name: [0, 0, 0, 0] for name in names}  # succeeded, not, proposed, not proposed
        for match_id, label in labels.items():
            person = by_id.get(labelled_people.get(match_id))
            if person is not None:
                counts[group_name(grouping, getattr(person, grouping))][0 if label else 1] += 1
        for person in people:
            if person.case_status == "open":
                counts[group_name(grouping, getattr(person, grouping))][2 if person.id in proposed else 3] += 1
        groupings.append(_grouping(grouping, title, names, counts))
    return groupings


def _labels_between(session: Session, first: date, last: date, since: datetime, until: datetime) -> dict[int, int]:
    """Match id -> 1 for a success recorded in the period, 0 for a failure or a rejection in it."""
    from matching.engine.learning import FAILURE, SUCCESS  # the engine's own definition of a label

    labels: dict[int, int] = {}
    for match_id in session.exec(select(MatchEvent.match_id).where(
            MatchEvent.to_state == "rejected", MatchEvent.at >= since, MatchEvent.at < until)):
        labels[match_id] = 0
    for match_id, kind in session.exec(select(Outcome.match_id, Outcome.kind).where(
            Outcome.kind.in_(SUCCESS | FAILURE), Outcome.recorded_on >= first, Outcome.recorded_on <= last)):
        labels[match_id] = max(labels.get(match_id, 0), int(kind in SUCCESS))
    return labels


def _grouping(grouping: str, title: str, names: list[str], counts: dict[str, list[int]]) -> Grouping:
    outcomes = suppress([counts[name][:2] for name in names])
    exposure = suppress([counts[name][2:] for name in names])
    rows = [GroupRow(name, *outcomes.cells[i], outcomes.row_totals[i], *exposure.cells[i], exposure.row_totals[i])
            for i, name in enumerate(names)]
    totals = GroupRow("All young people", *outcomes.column_totals, outcomes.total, *exposure.column_totals,
                      exposure.total)
    return Grouping(grouping, title, rows, totals)


# Imports --------------------------------------------------------------------------------------------------

IMPORT_KINDS = {"care-leavers": "Young people (care leavers)", "mentors": "Mentors",
                "opportunities": "Opportunities"}
IMPORT_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def import_upload(session: Session, kind: str, filename: str, content: bytes, *,
                  actor_id: int | None = None) -> "ImportReport":
    """An uploaded file imported as `springboard import` would: every row, or none (ImportFailed lists every
    problem and the caller's unit of work then writes nothing). The readers take a path, so the upload is
    written to a temporary file that keeps its suffix (which says how to read it) and removed afterwards.
    Every record added or changed is audited as done by `actor_id`, the signed-in person who uploaded it."""
    from matching.imports import import_file  # openpyxl: only when a file is imported

    suffix = Path(filename).suffix.lower()
    # The file's own name (made safe), so that a problem with the whole file names the file the person chose.
    stem = "".join(c if c.isalnum() or c in "-_ " else "_" for c in Path(filename).stem)[:80] or "upload"
    with tempfile.TemporaryDirectory(prefix="springboard-import-") as folder:
        path = Path(folder) / f"{stem}{suffix}"
        path.write_bytes(content)
        return import_file(session, kind, path, actor_id=actor_id, route="/imports")
