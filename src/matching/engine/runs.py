"""A whole matching run in one transaction (one young person's alternatives: explain.py, re-exported here).

A run reads the state, checks the rules, generates and scores candidates, solves for the best set under
every capacity, and writes the run with its proposals. All of it happens in one write transaction that
only one run may hold at a time; any failure rolls back every proposal and the run row with them.
"""

import fcntl
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from matching import council_settings, db
from matching.clock import utcnow
from matching.council_settings import MatchingSettings
from matching.engine import candidates, learning, solve
from matching.engine.candidates import Progress
from matching.engine.explain import alternatives  # noqa: F401  (runs.alternatives, as before)
from matching.engine.features import feature_matrix
from matching.engine.reasons import passed_over_words
from matching.engine.scoring import Scorer, reasons
from matching.engine.state import KINDS, State, read_state  # noqa: F401  (KINDS: runs.KINDS)
from matching.errors import Conflict, NotFound
from matching.models import Match, MatchEvent, MatchRun, PassedOver

RUN_LOCK_KEY = 0x5B0A2D  # PostgreSQL advisory lock: one run at a time across every instance
_RUNS_IN_PROCESS: dict[str, threading.Lock] = {}


def run(engine: sa.Engine, *, today: date, actor_id: int | None, source: str,
        progress: Progress | None = None, queued_id: int | None = None) -> MatchRun:
    """Run the engine once. `queued_id` names a run row already committed as queued (a run asked for from a
    page or the API and carried out by the worker): that row becomes this run's record."""
    started = time.perf_counter()
    with _one_run_at_a_time(engine), db.session_scope(db.writer(engine)) as session:
        _lock_across_instances(session)
        settings = council_settings.load(session, MatchingSettings)
        scorer = learning.current_scorer(session, settings)
        record = _record(session, queued_id, actor_id=actor_id, source=source)
        record.model_version, record.parameters = scorer.version, settings.model_dump(mode="json")
        session.add(record)
        session.flush()
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        state = read_state(session.connection(), today, referrals_per_place=settings.referrals_per_place)
        timings["read_state"] = time.perf_counter() - clock
        counts: dict[str, Any] = {"people": len(state.people)}
        # On PostgreSQL one kind's proposals are written while the next kind is chosen: the writing waits on
        # the server (another process) while numpy chooses. SQLite writes in this process, under the GIL,
        # so there it only slows the choosing. Only the writer thread touches the session.
        overlap = session.get_bind().dialect.name == "postgresql"
        with ThreadPoolExecutor(max_workers=1) as writer:
            writing = None
            for kind in ("opportunity", "mentoring"):  # the larger write first, to overlap the most
                edges, chosen = choose(state, kind, settings, scorer, timings, progress)
                if writing:
                    writing.result()
                writing = writer.submit(_write_kind, session, state, kind, edges, chosen, scorer, record, timings,
                                        counts, progress)
                if not overlap:
                    writing.result()
            writing.result()
        record.finished_at, record.status = utcnow(), "finished"
        record.duration_ms = int((time.perf_counter() - started) * 1000)
        record.counts = {**counts, "seconds": {k: round(v, 3) for k, v in timings.items()}}
        session.flush()
        return record


def _record(session: Session, queued_id: int | None, **given: Any) -> MatchRun:
    if queued_id is None:
        return MatchRun(**given)
    record = session.get(MatchRun, queued_id)
    if record is None or record.status not in ("queued", "running"):
        raise NotFound("queued matching run", queued_id)
    return record


def _write_kind(session: Session, state: State, kind: str, edges, chosen: np.ndarray, scorer: Scorer,
                record: MatchRun, timings: dict[str, float], counts: dict[str, Any], progress: Progress | None) -> None:
    clock = time.perf_counter()
    written = _write_proposals(session, state, kind, edges.pi[chosen], edges.ti[chosen], scorer, record, progress)
    after = passed_over_after(state, kind, edges.pi, edges.pi[chosen])
    _write_passed_over(session, state, kind, after, record.id)
    timings[f"write_{kind}"] = time.perf_counter() - clock
    counts[kind] = {"pairs_considered": edges.considered, "candidates": len(edges), "proposals": written,
                    "people_proposed": int(len(np.unique(edges.pi[chosen]))),
                    "people_with_candidates": int(len(np.unique(edges.pi))),
                    "passed_over": int(np.count_nonzero(after > state.people.passed_over[kind]))}


def passed_over_after(state: State, kind: str, candidate_pi: np.ndarray, proposed_pi: np.ndarray) -> np.ndarray:
    """Each person's count of runs in a row passed over, after this run: back to 0 with a proposal of the kind
    (this run's or one still waiting) or a live match of it; one more for someone who had a candidate and was
    proposed nothing; as it was for someone with no candidate at all (nothing was passed over)."""
    had = np.zeros(len(state.people), dtype=bool)
    had[candidate_pi] = True
    served = state.people.busy[kind] | (state.people.proposed[kind] > 0)
    served[proposed_pi] = True
    before = state.people.passed_over[kind]
    return np.where(served, 0, np.where(had, before + 1, before))


def _write_passed_over(session: Session, state: State, kind: str, after: np.ndarray, run_id: int) -> None:
    """Only the rows that change, in bulk: a row is kept while its count is above 0 (no row reads as 0)."""
    changed = np.flatnonzero(after != state.people.passed_over[kind])
    ids, runs = state.people.ids[changed].tolist(), after[changed].tolist()
    table = PassedOver.__table__
    for start in range(0, len(ids), IN_CHUNK):
        session.execute(sa.delete(table).where(table.c.kind == kind,
                                               table.c.care_leaver_id.in_(ids[start:start + IN_CHUNK])))
    rows = [{"care_leaver_id": person, "runs": count} for person, count in zip(ids, runs, strict=True) if count]
    db.bulk_insert(session, table, rows, {"kind": kind, "last_run_id": run_id})


IN_CHUNK = 5_000  # ids per IN list: well under SQLite's and PostgreSQL's limits on parameters


def choose(state: State, kind: str, settings: MatchingSettings, scorer: Scorer,
           timings: dict[str, float] | None = None, progress: Progress | None = None, *, limit_first: bool = True):
    """The candidate edges of one kind and the mask of those the solver chose (no database needed).
    `limit_first`: leave out of the candidates those with no room for another proposal (False builds their
    edges too, as runs once did; the solver never chooses them, so the choice is the same)."""
    timings = {} if timings is None else timings
    limit = proposal_room(state, kind, settings)
    clock = time.perf_counter()
    edges = candidates.generate(state, kind, settings, scorer, progress, limit if limit_first else None)
    timings[f"candidates_{kind}"] = time.perf_counter() - clock
    clock = time.perf_counter()
    chosen = solve.assign(edges.pi, edges.ti, edges.score, limit, np.maximum(state.targets[kind].remaining, 0),
                          first_bonus(state, kind, settings))
    timings[f"solve_{kind}"] = time.perf_counter() - clock
    return edges, chosen


def proposal_room(state: State, kind: str, settings: MatchingSettings) -> np.ndarray:
    """Per person, the proposals of the kind this run may still make them: at most one mentor, and a few
    opportunities, waiting for a decision at any time, so those already waiting on them count against it."""
    wanted = 1 if kind == "mentoring" else settings.opportunities_per_person
    return np.maximum(wanted - state.people.proposed[kind], 0)


PRIORITY_RUNS = 52  # each run passed over adds one more coverage bonus, for up to a year of weekly runs


def first_bonus(state: State, kind: str, settings: MatchingSettings) -> np.ndarray:
    """Per person, what the solver may give up in total score to propose them something: the manager's
    coverage bonus, raised by each run in a row they were passed over; nothing for someone with a proposal
    of the kind still waiting (they are not without one)."""
    runs = np.minimum(state.people.passed_over[kind], PRIORITY_RUNS)
    return np.where(state.people.proposed[kind] > 0, 0.0, settings.coverage_bonus * (1 + runs))


def _write_proposals(session: Session, state: State, kind: str, pi: np.ndarray, ti: np.ndarray, scorer: Scorer,
                     record: MatchRun, progress: Progress | None) -> int:
    if len(pi) == 0:
        return 0
    features = feature_matrix(state, kind, pi, ti)
    scores, parts = scorer.score(kind, features), scorer.contributions(kind, features)
    now, side = utcnow(), state.targets[kind]
    column = "mentor_id" if kind == "mentoring" else "opportunity_id"
    other = "mentor_id" if column == "opportunity_id" else "opportunity_id"
    shared = {other: None, "kind": kind, "state": "proposed", "model_version": scorer.version,
              "run_id": record.id, "contact_arrangements": "", "version": 1, "created_at": now, "updated_at": now}
    said = reasons(state, kind, pi, ti, parts)
    # Why this person now, after the reasons for the pair: the runs in a row they had been passed over.
    for row, runs in enumerate(state.people.passed_over[kind][pi].tolist()):
        if runs:
            said[row].append(passed_over_words(runs))
    rows = [{"care_leaver_id": person, column: target, "score": round(score, 4), "reasons": reasons_of_pair}
            for person, target, score, reasons_of_pair in zip(state.people.ids[pi].tolist(), side.ids[ti].tolist(),
                                                              scores.tolist(), said, strict=True)]
    db.bulk_insert(session, Match.__table__, rows, shared)
    if progress:
        progress(f"proposals ({kind})", len(rows), len(rows))
    m, e = Match.__table__.c, MatchEvent.__table__
    session.execute(sa.insert(e).from_select(
        ["match_id", "at", "actor_id", "from_state", "to_state", "reason"],
        sa.select(m.id, sa.literal(now, type_=e.c.at.type), sa.literal(record.actor_id, type_=sa.Integer),
                  sa.null(), sa.literal("proposed"), sa.literal(f"proposed by match run {record.id}"))
        .where(m.run_id == record.id, m.kind == kind)))
    return len(rows)


RUNNING = "a match run is already in progress; try again when it has finished"


class _one_run_at_a_time:
    """Refuse at once rather than queue behind a run that may take a minute: in this process, a lock; across
    processes on one SQLite file, an exclusive flock on a file beside it (`<database>-match-run`), taken before
    the run's BEGIN IMMEDIATE so a second run never waits for the writer lock (it had waited, then run). The
    kernel drops a flock when its holder dies, so a run killed half-way leaves no claim behind.
    PostgreSQL's instances are kept apart by an advisory lock inside the run (`_lock_across_instances`)."""

    def __init__(self, engine: sa.Engine):
        self.lock = _RUNS_IN_PROCESS.setdefault(str(engine.url), threading.Lock())
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.claim_path = f"{database}-match-run" if database and database != ":memory:" else None
        self.claim: int | None = None

    def __enter__(self):
        if not self.lock.acquire(blocking=False):
            raise Conflict(RUNNING)
        try:
            if self.claim_path:
                self.claim = claim_sqlite_run(self.claim_path)
        except BaseException:
            self.lock.release()
            raise

    def __exit__(self, *exc):
        if self.claim is not None:
            os.close(self.claim)  # closing the file releases its flock
            self.claim = None
        self.lock.release()


def claim_sqlite_run(path: str) -> int:
    """The open file holding this process's claim on the run, or Conflict if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise Conflict(RUNNING) from None
    return fd


def _lock_across_instances(session: Session) -> None:
    # SQLite: the run's BEGIN IMMEDIATE already excludes every other writer. PostgreSQL: an advisory lock
    # held until commit or rollback, so a second instance is refused instead of writing duplicates.
    if session.get_bind().dialect.name != "postgresql":
        return
    if not session.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RUN_LOCK_KEY}).scalar():
        raise Conflict("a match run is already in progress on another instance; try again when it has finished")


def inputs(session: Session, today: date) -> tuple[MatchingSettings, Scorer, State]:
    """What a run chooses from (the council's settings, the current scorer, the state), read as a run reads
    them: for benchmarks, notebooks and tests that call `choose` themselves."""
    settings = council_settings.load(session, MatchingSettings)
    scorer = learning.current_scorer(session, settings)
    return settings, scorer, read_state(session.connection(), today, referrals_per_place=settings.referrals_per_place)
