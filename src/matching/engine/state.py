"""The engine's view of the world: people and targets as column arrays, read once per run.

Everything the rules and features need is here, in numpy arrays indexed by position, so a whole block of
pairs is checked and scored with a few array operations instead of a Python loop per pair.
"""

from collections import Counter, namedtuple
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time

import msgspec
import numpy as np
import sqlalchemy as sa

from matching.engine import geo
from matching.engine.text import Tfidf
from matching.lifecycle import HOLDING
from matching.mentoring import dbs_current, safeguarding_current
from matching.models import CareLeaver, Match, MatchEvent, Mentor, Opportunity, PassedOver
from matching.models.opportunities import PAID_KINDS
from matching.vocab import DAYS

KINDS = ("mentoring", "opportunity")
NOT_SHARED_LANGUAGES = {"english"}  # everyone's common ground, so never a reason on its own


@dataclass
class People:
    ids: np.ndarray
    references: list[str]
    case_open: np.ndarray
    age: np.ndarray
    qualification: np.ndarray
    right_to_work: np.ndarray
    consent: dict[str, np.ndarray]
    xy: np.ndarray
    areas: np.ndarray          # postcode districts (upper case), '' when missing
    travel_km: np.ndarray
    days: np.ndarray
    languages: list[set[str]]
    tags: list[set[str]]
    sectors: list[set[str]]
    text: list[str]
    waiting_weeks: dict[str, np.ndarray]  # per kind: weeks since they last had a live or pending match of it
    passed_over: dict[str, np.ndarray]    # per kind: runs in a row they had a candidate and were proposed nothing
    busy: dict[str, np.ndarray] = field(default_factory=dict)  # already matched (or proposed a mentor)
    proposed: dict[str, np.ndarray] = field(default_factory=dict)  # proposals waiting for a decision

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Targets:
    kind: str
    ids: np.ndarray
    labels: list[str]
    statuses: list[str]
    status_ok: np.ndarray          # mentor active / opportunity open
    vetted: dict[str, np.ndarray]  # mentor checks, or the opportunity's closing date, by rule name
    remaining: np.ndarray          # slots or referrals still free, after pending proposals
    min_age: np.ndarray
    max_age: np.ndarray
    qualification: np.ndarray
    paid: np.ndarray
    xy: np.ndarray
    areas: np.ndarray
    days: np.ndarray
    languages: list[set[str]]
    tags: list[set[str]]
    sectors: list[set[str]]
    text: list[str]
    ring_fenced: np.ndarray
    guaranteed_interview: np.ndarray
    hours: np.ndarray
    index: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {int(target_id): position for position, target_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class PairHistory:
    """Pairs that must not be proposed again, as `person position * width + target position` keys."""

    rejected: np.ndarray
    pending: np.ndarray
    width: int


@dataclass
class State:
    today: date
    people: People
    targets: dict[str, Targets]
    history: dict[str, PairHistory]
    cache: dict = field(default_factory=dict)   # people-side derived arrays, built on first use
    shared: dict = field(default_factory=dict)  # target-side ones (the fitted text model), may outlive the state


def day_mask(days: list[str]) -> int:
    positions = {day: bit for bit, day in enumerate(DAYS)}
    return sum(1 << positions[day] for day in days if day in positions)


def _years(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _districts(codes) -> np.ndarray:
    return np.array([(code or "").strip().upper() for code in codes], dtype="<U8")


def _lower(values) -> set[str]:
    # Stored tags are already trimmed and lower-cased (models.base.Tags); a sector is free text.
    return {value.lower() for value in values} if values else set()


def _fetch(conn: sa.Connection, query: sa.Select) -> list:
    """Rows with their JSON list columns decoded in one call per column: decoding row by row through
    SQLAlchemy's JSON type was the largest part of reading the state."""
    result = conn.execute(query)
    keys, rows = list(result.keys()), result.all()
    Row = namedtuple("Row", keys)
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in keys]
    for position, column in enumerate(query.selected_columns):
        if isinstance(column.type, sa.Text) and column.name in JSON_LISTS:
            columns[position] = msgspec.json.decode("[" + ",".join(v or "[]" for v in columns[position]) + "]")
    return [Row(*values) for values in zip(*columns, strict=True)]


JSON_LISTS = {"days_available", "languages", "interests", "skills", "sector_preferences", "availability", "expertise"}


def _lists(table: sa.Table, *names: str) -> list:
    return [sa.cast(table.c[name], sa.Text).label(name) for name in names]


def read_people(conn: sa.Connection, today: date, *, only: list[int] | None = None) -> People:
    """Open cases, or exactly the people in `only` whatever their case status (explanations, training)."""
    c = CareLeaver.__table__.c
    query = sa.select(c.id, c.case_reference, c.case_status, c.date_of_birth, c.qualification_level,
                      c.right_to_work_confirmed, c.right_to_work_expires_on, c.consent_share_mentors,
                      c.consent_share_employers, c.home_area, c.max_travel_km, c.aspirations, c.created_at,
                      *_lists(CareLeaver.__table__, "days_available", "languages", "interests", "skills",
                              "sector_preferences")).order_by(c.id)
    query = query.where(c.id.in_(only)) if only is not None else query.where(c.case_status == "open")
    return people_from(_fetch(conn, query), today, _waiting_since(conn, only), _passed_over(conn, only))


def people_from(rows, today: date, waited_from: dict[str, dict[int, datetime]],
                passed_over: dict[str, dict[int, int]] | None = None) -> People:
    """Rows with the care_leavers columns read above (tests pass plain namespaces). `waited_from`: per kind,
    when each person last had a live or pending match of it; `passed_over`: per kind, the runs counted so far."""
    passed_over = passed_over or {}
    tags = [_lower(r.interests) | _lower(r.skills) | _lower(r.sector_preferences) for r in rows]
    return People(
        ids=np.array([r.id for r in rows], dtype=np.int64),
        references=[r.case_reference for r in rows],
        case_open=np.array([r.case_status == "open" for r in rows], dtype=bool),
        age=np.array([_years(r.date_of_birth, today) for r in rows], dtype=np.int16),
        qualification=np.array([r.qualification_level for r in rows], dtype=np.int8),
        right_to_work=np.array([bool(r.right_to_work_confirmed) and (r.right_to_work_expires_on is None
                                                                      or r.right_to_work_expires_on >= today)
                                for r in rows], dtype=bool),
        consent={"mentoring": np.array([bool(r.consent_share_mentors) for r in rows], dtype=bool),
                 "opportunity": np.array([bool(r.consent_share_employers) for r in rows], dtype=bool)},
        xy=geo.locate([r.home_area for r in rows]), areas=_districts(r.home_area for r in rows),
        travel_km=np.array([r.max_travel_km for r in rows], dtype=np.float64),
        days=np.array([day_mask(r.days_available or []) for r in rows], dtype=np.int64),
        languages=[_lower(r.languages) - NOT_SHARED_LANGUAGES for r in rows],
        tags=tags, sectors=[_lower(r.sector_preferences) for r in rows],
        text=[" ".join(sorted(t)) + " " + (r.aspirations or "") for t, r in zip(tags, rows, strict=True)],
        waiting_weeks={kind: np.array([_weeks_waiting(r.created_at, waited_from.get(kind, {}).get(r.id), today)
                                       for r in rows], dtype=np.float64) for kind in KINDS},
        passed_over={kind: np.array([passed_over.get(kind, {}).get(r.id, 0) for r in rows], dtype=np.int64)
                     for kind in KINDS},
    )


def _waiting_since(conn: sa.Connection, only: list[int] | None) -> dict[str, dict[int, datetime]]:
    """Per kind, the last moment each person still had a live or pending match of it: the latest step taken
    from a proposed or holding state (a rejection, a withdrawal, an ending, or an approval on the way to one).
    The waiting clock restarts there, so a rejected proposal restarts it and being passed over does not.
    Someone whose match is live or pending now waits 0 weeks (`assemble`)."""
    m, e = Match.__table__.c, MatchEvent.__table__.c
    # One query for both kinds: each kind's state machine only ever reaches its own holding states.
    query = (sa.select(m.kind, m.care_leaver_id, sa.func.max(e.at))
             .join_from(MatchEvent.__table__, Match.__table__, e.match_id == m.id)
             .where(e.from_state.in_(set().union(*HOLDING.values()) | {"proposed"}))
             .group_by(m.kind, m.care_leaver_id))
    if only is not None:
        query = query.where(m.care_leaver_id.in_(only))
    waited: dict[str, dict[int, datetime]] = {kind: {} for kind in KINDS}
    for kind, person, at in conn.execute(query):
        waited.setdefault(kind, {})[person] = at
    return waited


def _passed_over(conn: sa.Connection, only: list[int] | None) -> dict[str, dict[int, int]]:
    p = PassedOver.__table__.c
    query = sa.select(p.kind, p.care_leaver_id, p.runs).where(p.runs > 0)
    counts: dict[str, dict[int, int]] = {kind: {} for kind in KINDS}
    for kind, person, runs in conn.execute(query if only is None else query.where(p.care_leaver_id.in_(only))):
        counts.setdefault(kind, {})[person] = runs
    return counts


def _weeks_waiting(created: datetime, last_held: datetime | None, today: date) -> float:
    since = max(created, last_held) if last_held else created
    moment = datetime.combine(today, time(), UTC)
    return max(0.0, (moment - since.astimezone(UTC)).days / 7)


def read_mentors(conn: sa.Connection, today: date, pending: dict[int, int], *,
                 only: list[int] | None = None, versions: dict[str, np.ndarray] | None = None) -> Targets:
    """`versions`, if given, gets the profiles' versions as they were read (`_reused_targets`)."""
    c = Mentor.__table__.c
    query = sa.select(c.id, c.job_title, c.status, c.dbs_checked_on, c.safeguarding_trained_on, c.capacity,
                      c.slots_taken, c.office_area,
                      *_lists(Mentor.__table__, "availability", "languages", "expertise", "interests")).order_by(c.id)
    query = query if versions is None else query.add_columns(c.version)
    rows = _fetch(conn, query if only is None else query.where(c.id.in_(only)))
    _keep_versions(versions, "mentoring", rows)
    return mentors_from(rows, today, pending)


def _keep_versions(versions: dict[str, np.ndarray] | None, kind: str, rows) -> None:
    if versions is not None:
        versions[kind] = np.array([r.version for r in rows], dtype=np.int64)


def mentors_from(rows, today: date, pending: dict[int, int]) -> Targets:
    n = len(rows)
    tags = [_lower(r.expertise) | _lower(r.interests) for r in rows]
    return Targets(
        kind="mentoring", ids=np.array([r.id for r in rows], dtype=np.int64), labels=[r.job_title for r in rows],
        statuses=[r.status for r in rows], status_ok=np.array([r.status == "active" for r in rows], dtype=bool),
        # The vetting rules are the vetting pages' own (mentoring.py), so a mentor is never active but unmatchable.
        vetted={"mentor_dbs_checked": np.array([dbs_current(r.dbs_checked_on, today) for r in rows], dtype=bool),
                "mentor_safeguarding_trained": np.array([safeguarding_current(r.safeguarding_trained_on, today)
                                                         for r in rows], dtype=bool)},
        remaining=np.array([r.capacity - r.slots_taken - pending.get(r.id, 0) for r in rows], dtype=np.int64),
        min_age=np.zeros(n, dtype=np.int16), max_age=np.full(n, 200, dtype=np.int16),
        qualification=np.zeros(n, dtype=np.int8), paid=np.zeros(n, dtype=bool),
        xy=geo.locate([r.office_area for r in rows]), areas=_districts(r.office_area for r in rows),
        days=np.array([day_mask(r.availability or []) for r in rows], dtype=np.int64),
        languages=[_lower(r.languages) - NOT_SHARED_LANGUAGES for r in rows], tags=tags,
        sectors=[_lower(r.expertise) for r in rows],
        text=[f"{' '.join(sorted(t))} {r.job_title}" for t, r in zip(tags, rows, strict=True)],
        ring_fenced=np.zeros(n, dtype=bool), guaranteed_interview=np.zeros(n, dtype=bool),
        hours=np.zeros(n, dtype=np.float64),
    )


def read_opportunities(conn: sa.Connection, today: date, pending: dict[int, int], referrals_per_place: int, *,
                       only: list[int] | None = None, versions: dict[str, np.ndarray] | None = None) -> Targets:
    c = Opportunity.__table__.c
    query = sa.select(c.id, c.reference, c.title, c.kind, c.status, c.closes_on, c.places, c.places_taken, c.min_age,
                      c.max_age, c.qualification_required, c.pay_pence_per_hour, c.area, c.sector, c.ring_fenced,
                      c.guaranteed_interview, c.hours_per_week, *_lists(Opportunity.__table__, "skills")).order_by(c.id)
    query = query if versions is None else query.add_columns(c.version)
    rows = _fetch(conn, query if only is None else query.where(c.id.in_(only)))
    _keep_versions(versions, "opportunity", rows)
    return opportunities_from(rows, today, pending, referrals_per_place)


def opportunities_from(rows, today: date, pending: dict[int, int], referrals_per_place: int) -> Targets:
    n = len(rows)
    tags = [_lower(r.skills) | ({r.sector.lower()} if r.sector else set()) for r in rows]
    return Targets(
        kind="opportunity", ids=np.array([r.id for r in rows], dtype=np.int64),
        labels=[f"{r.reference} {r.title}" for r in rows],
        statuses=[r.status for r in rows], status_ok=np.array([r.status == "open" for r in rows], dtype=bool),
        vetted={"opportunity_not_past_closing": np.array([r.closes_on is None or r.closes_on >= today
                                                          for r in rows], dtype=bool)},
        remaining=np.array([max(0, r.places - r.places_taken) * referrals_per_place - pending.get(r.id, 0)
                            for r in rows], dtype=np.int64),
        min_age=np.array([r.min_age for r in rows], dtype=np.int16),
        max_age=np.array([r.max_age for r in rows], dtype=np.int16),
        qualification=np.array([r.qualification_required for r in rows], dtype=np.int8),
        paid=np.array([r.kind in PAID_KINDS or bool(r.pay_pence_per_hour) for r in rows], dtype=bool),
        xy=geo.locate([r.area for r in rows]), areas=_districts(r.area for r in rows), days=np.zeros(n, dtype=np.int64),
        languages=[set() for _ in rows], tags=tags, sectors=[({r.sector.lower()} if r.sector else set()) for r in rows],
        text=[f"{' '.join(sorted(t))} {r.title}" for t, r in zip(tags, rows, strict=True)],
        ring_fenced=np.array([bool(r.ring_fenced) for r in rows], dtype=bool),
        guaranteed_interview=np.array([bool(r.guaranteed_interview) for r in rows], dtype=bool),
        hours=np.array([r.hours_per_week for r in rows], dtype=np.float64),
    )


def read_state(conn: sa.Connection, today: date, *, referrals_per_place: int = 3,
               only: list[int] | None = None, reuse_targets: bool = False) -> State:
    """Everything one run (or some people's alternatives) needs, read in one transaction.

    With `reuse_targets`, the mentors and opportunities (and the text model fitted on them) come from the
    last read in this process when nothing they depend on has changed since: one person's alternatives then
    cost a few small queries instead of reading every target again."""
    people = read_people(conn, today, only=only)
    m = Match.__table__.c
    live = set().union(*HOLDING.values())
    query = (sa.select(m.care_leaver_id, m.mentor_id, m.opportunity_id, m.kind, m.state)
             .where(m.state.in_(live | {"proposed", "rejected"})))
    rows = conn.execute(query.where(m.care_leaver_id.in_(only)) if only is not None else query).all()
    if not reuse_targets:
        targets, shared = read_targets(conn, today, referrals_per_place), {}
    else:
        targets, shared = _reused_targets(conn, today, referrals_per_place)
    state = assemble(today, people, targets, rows)
    state.shared = shared
    return state


_SNAPSHOT: dict = {}  # the last targets read with reuse_targets: their key, fingerprint and profile versions


def _reused_targets(conn: sa.Connection, today: date, referrals_per_place: int) -> tuple[dict[str, Targets], dict]:
    """The targets of the last read while nothing they depend on changed. When only places and slots moved (an
    approval, a proposal, an ending: none bumps a profile's version, which every edit of a profile does, imports
    included), only what remains of each target's capacity is read again, not every profile and its text model:
    the first alternatives after a match changed cost 0.4 s at London scale with a whole read."""
    key, fingerprint = (str(conn.engine.url), today, referrals_per_place), _fingerprint(conn)
    if _SNAPSHOT.get("key") == key and _SNAPSHOT["fingerprint"] == fingerprint:
        return _SNAPSHOT["targets"], _SNAPSHOT["shared"]
    held = _SNAPSHOT.get("targets") if _SNAPSHOT.get("key") == key else None
    if held:
        capacity = _capacity(conn, referrals_per_place)
        if all(np.array_equal(_SNAPSHOT["versions"][kind], versions) and np.array_equal(held[kind].ids, ids)
               for kind, (ids, versions, _) in capacity.items()):
            targets = {kind: replace(held[kind], remaining=remaining) for kind, (_, _, remaining) in capacity.items()}
            _SNAPSHOT.update(fingerprint=fingerprint, targets=targets)
            return _SNAPSHOT["targets"], _SNAPSHOT["shared"]
    # Nothing held (a fresh process: `match explain`) or a profile changed: every profile is read, with the
    # versions it was read at (a change after the fingerprint above is seen next time).
    versions: dict[str, np.ndarray] = {}
    targets = read_targets(conn, today, referrals_per_place, versions=versions)
    _SNAPSHOT.update(key=key, fingerprint=fingerprint, targets=targets, shared={}, versions=versions)
    return _SNAPSHOT["targets"], _SNAPSHOT["shared"]


def _capacity(conn: sa.Connection, referrals_per_place: int) -> dict[str, tuple[np.ndarray, ...]]:
    """Per kind, each target's id and version, and what remains of its capacity after pending proposals (the
    same figure `read_mentors` and `read_opportunities` give), in id order."""
    pending = _pending(conn)
    mentors, jobs = Mentor.__table__.c, Opportunity.__table__.c
    found = {}
    for kind, table, free in (("mentoring", mentors, mentors.capacity - mentors.slots_taken),
                              ("opportunity", jobs, sa.func.max(jobs.places - jobs.places_taken, 0)
                               if conn.dialect.name == "sqlite" else
                               sa.func.greatest(jobs.places - jobs.places_taken, 0))):
        rows = conn.execute(sa.select(table.id, table.version, free).order_by(table.id)).all()
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        scale = 1 if kind == "mentoring" else referrals_per_place
        remaining = np.array([row[2] * scale - pending[kind].get(row[0], 0) for row in rows], dtype=np.int64)
        found[kind] = (ids, np.array([row[1] for row in rows], dtype=np.int64), remaining)
    return found


def read_pair(conn: sa.Connection, today: date, *, care_leaver_id: int, kind: str, target_id: int,
              referrals_per_place: int, deciding: int | None = None) -> State:
    """One young person and one target as an adviser decides on their proposal (`deciding`, a match id),
    for the same rules a run applies. That proposal is not counted against itself, and no proposal holds
    a slot or makes the person busy here: at approval the first to take the slot has it (lifecycle's
    conditional UPDATE), whoever else is waiting."""
    people = read_people(conn, today, only=[care_leaver_id])
    chosen = {side: [target_id] if side == kind else [] for side in KINDS}
    targets = {"mentoring": read_mentors(conn, today, {}, only=chosen["mentoring"]),
               "opportunity": read_opportunities(conn, today, {}, referrals_per_place, only=chosen["opportunity"])}
    m = Match.__table__.c
    rows = conn.execute(sa.select(m.care_leaver_id, m.mentor_id, m.opportunity_id, m.kind, m.state)
                        .where(m.care_leaver_id == care_leaver_id, m.id != (deciding or 0),
                               m.state.in_(set().union(*HOLDING.values()) | {"rejected"}))).all()
    return assemble(today, people, targets, rows)


def read_targets(conn: sa.Connection, today: date, referrals_per_place: int, *,
                 versions: dict[str, np.ndarray] | None = None) -> dict[str, Targets]:
    pending = _pending(conn)
    return {"mentoring": read_mentors(conn, today, pending["mentoring"], versions=versions),
            "opportunity": read_opportunities(conn, today, pending["opportunity"], referrals_per_place,
                                              versions=versions)}


def _pending(conn: sa.Connection) -> dict[str, Counter]:
    """Per kind, how many proposals wait on each target (they hold a slot or a referral until decided)."""
    m = Match.__table__.c
    proposed = (sa.select(m.kind, sa.func.coalesce(m.mentor_id, m.opportunity_id), sa.func.count())
                .where(m.state == "proposed").group_by(m.kind, m.mentor_id, m.opportunity_id))
    pending = {kind: Counter() for kind in KINDS}
    for kind, target_id, count in conn.execute(proposed):
        pending[kind][target_id] += count
    return pending


def _fingerprint(conn: sa.Connection) -> tuple:
    """Changes whenever anything a target's arrays depend on changes: any profile edit bumps its
    updated_at; slots and places move only with a match's transition, which bumps the match's."""
    return tuple(conn.execute(_FINGERPRINT).one())


def _fingerprint_query() -> sa.Select:
    """One statement, and each part read from an index where one serves: rows are never deleted, so the
    highest id stands for the count; the latest change comes from the updated_at indexes. The young person's
    page asks this on every view: three aggregate scans had cost it about 2 ms."""
    mentors, jobs, matches = Mentor.__table__.c, Opportunity.__table__.c, Match.__table__.c
    parts = [sa.func.max(mentors.id), sa.func.max(mentors.updated_at), sa.func.sum(mentors.slots_taken),
             sa.func.max(jobs.id), sa.func.max(jobs.updated_at), sa.func.sum(jobs.places_taken),
             sa.func.max(matches.id), sa.func.max(matches.updated_at)]
    return sa.select(*(sa.select(part).scalar_subquery() for part in parts))


_FINGERPRINT = _fingerprint_query()


def assemble(today: date, people: People, targets: dict[str, Targets], rows) -> State:
    """Add what existing matches forbid: pairs rejected or already proposed, and people already matched.
    `rows` are the open-case matches that are live, proposed or rejected."""
    person_at = {int(person_id): position for position, person_id in enumerate(people.ids)}
    history = {}
    for kind, side in targets.items():
        mine = [r for r in rows if r.kind == kind and r.care_leaver_id in person_at]
        busy = {r.care_leaver_id for r in mine if r.state in HOLDING[kind]
                or (kind == "mentoring" and r.state == "proposed")}
        people.busy[kind] = np.array([int(i) in busy for i in people.ids], dtype=bool)
        waiting_on = Counter(r.care_leaver_id for r in mine if r.state == "proposed")
        people.proposed[kind] = np.array([waiting_on[int(i)] for i in people.ids], dtype=np.int64)
        # A live or pending match of the kind now: nobody is waiting for one.
        holding = {r.care_leaver_id for r in mine if r.state in HOLDING[kind] or r.state == "proposed"}
        people.waiting_weeks[kind] = np.where([int(i) in holding for i in people.ids], 0.0,
                                              people.waiting_weeks[kind]) if len(people) else people.waiting_weeks[kind]
        history[kind] = PairHistory(
            rejected=_keys(mine, "rejected", person_at, side), pending=_keys(mine, "proposed", person_at, side),
            width=len(side))
    return State(today=today, people=people, targets=targets, history=history)


def _keys(rows, state: str, person_at: dict[int, int], side: Targets) -> np.ndarray:
    keys = [person_at[r.care_leaver_id] * len(side) + side.index[r.mentor_id or r.opportunity_id]
            for r in rows if r.state == state and (r.mentor_id or r.opportunity_id) in side.index]
    keys = np.sort(np.array(keys, dtype=np.int64))
    # np.unique's, without its check for a masked array: that imports numpy.ma, 10 ms of explain's answer.
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def cached(store: dict, key: tuple, build):
    if key not in store:
        store[key] = build()
    return store[key]


def tfidf(state: State, kind: str):
    """TF-IDF fitted on all targets' words (what the council offers), applied to both sides; None if no words."""
    def fit():
        try:
            vectorizer, matrix = Tfidf.fit([text for side in KINDS for text in state.targets[side].text])
        except ValueError:  # no targets, or not one word among them
            return None
        split = len(state.targets["mentoring"])
        return vectorizer, {"mentoring": matrix[:split], "opportunity": matrix[split:]}

    model = cached(state.shared, ("tfidf",), fit)
    if model is None:
        return None
    vectorizer, targets = model
    # Kept with the targets' model (state.shared) by the words themselves: one young person's alternatives
    # then reuse the vector while the targets are unchanged.
    words = tuple(state.people.text)
    people = cached(state.shared, ("tfidf", words), lambda: vectorizer.transform(words)) if len(words) == 1 \
        else cached(state.cache, ("tfidf",), lambda: vectorizer.transform(state.people.text))
    return people, targets[kind]


def bitsets(state: State, kind: str, attribute: str) -> tuple[np.ndarray, np.ndarray]:
    """People's and targets' sets (languages, sectors) as rows of 64-bit words over the targets' vocabulary."""
    def targets():
        side = getattr(state.targets[kind], attribute)
        vocabulary = {word: bit for bit, word in enumerate(sorted(set().union(*side)))}
        return vocabulary, _pack(side, vocabulary)

    vocabulary, packed = cached(state.shared, ("bits", kind, attribute), targets)
    people = cached(state.cache, ("bits", kind, attribute), lambda: _pack(getattr(state.people, attribute), vocabulary))
    return people, packed


def _pack(sets: list[set[str]], vocabulary: dict[str, int]) -> np.ndarray:
    packed = np.zeros((len(sets), max(1, -(-len(vocabulary) // 64))), dtype=np.uint64)
    rows, bits = [], []
    for row, words in enumerate(sets):
        for word in words:
            if (bit := vocabulary.get(word)) is not None:
                rows.append(row)
                bits.append(bit)
    if rows:  # every bit at once, not a numpy call per word (at London scale a run: 36 ms to 9; explain: 8 to 2)
        at = np.array(bits, dtype=np.int64)
        np.bitwise_or.at(packed, (np.array(rows, dtype=np.int64), at // 64),
                         np.left_shift(np.uint64(1), (at % 64).astype(np.uint64)))
    return packed
