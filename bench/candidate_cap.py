"""What the per-person candidate cap costs: the optimum with the cap at its default against a wide cap and none.

    python -m bench.candidate_cap                    # the London state the benchmarks seed
    python -m bench.candidate_cap --source bench/out/bench_passed_london.sqlite3

The solver is exact on the candidate graph, so the cap (each person keeps only their best
`candidates_per_person` eligible pairs of a kind) is the run's one approximation. On one London state, for
each kind, this chooses the proposals with the default cap, with 150 and with no cap at all (and with the
default cap plus every target's own 40 best pairs, the remedy considered), and reports the
solver's objective (the total engine score plus each newly covered person's coverage bonus), the total
score, the proposals and the people proposed. Loss: how much lower the capped objective is than the
uncapped one. `choose` is the run's own choice without the writing. Last, one real run on the copy, and
the candidate edges a second run that day would build with the per-person limit applied first and after.

The state is a seeded SQLite database (an existing London-scale copy under bench/out/ is reused, or one is
seeded), copied to /tmp first so the benchmarks' own copy is untouched.
"""

import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from bench.common import OUT, load_average, machine, seeded
from matching import clock, db, engine
from matching.council_settings import MatchingSettings
from matching.engine import solve
from matching.engine.candidates import Edges
from matching.engine.runs import choose, first_bonus, inputs, proposal_room
from matching.engine.state import KINDS

SEED = 2026
DEFAULT_SOURCE = OUT / "bench_passed_london.sqlite3"  # bench.passed_over's seeded London state, before any run
NO_CAP = 10**9
TARGETS_BEST = 40  # the remedy measured: each target's 40 best pairs added to the capped set


def working_copy(source: Path | None) -> str:
    """A copy in /tmp of the seeded London state (seeded afresh when there is none), migrated to head."""
    if source is None or not source.exists():
        url, _ = seeded("sqlite", "bench_cap_london", "london", history=True, seed=SEED)
        source = Path(sa.make_url(url).database)
    target = Path("/tmp/bench_candidate_cap.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sa.create_engine(f"sqlite:///file:{source}?mode=ro&uri=true", poolclass=sa.pool.NullPool).connect() as conn:
        conn.exec_driver_sql(f"VACUUM INTO '{target}'")
    url = f"sqlite:///{target}"
    db.upgrade(url)
    return url


def optimum(state, kind: str, settings: MatchingSettings, scorer, cap: int) -> tuple[dict, Edges]:
    capped = settings.model_copy(update={"candidates_per_person": cap})
    started = time.perf_counter()
    edges, chosen = choose(state, kind, capped, scorer)
    return described(state, kind, settings, "none" if cap == NO_CAP else cap, edges, chosen, started), edges


def described(state, kind: str, settings: MatchingSettings, cap, edges: Edges, chosen: np.ndarray,
              started: float) -> dict:
    bonus = first_bonus(state, kind, settings)
    return {"cap": cap, "candidate_edges": len(edges),
            "objective": solve.objective(edges.pi, edges.score, chosen, bonus) / solve.SCALE,
            "total_score": solve.total(edges.score, chosen) / solve.SCALE, "proposals": int(chosen.sum()),
            "people_proposed": int(len(np.unique(edges.pi[chosen]))),
            "seconds_under_load": round(time.perf_counter() - started, 2)}


def with_each_targets_best(state, kind: str, settings: MatchingSettings, capped: Edges, every: Edges,
                           best: int) -> dict:
    """The remedy considered: the capped edges plus, for every target, its `best` highest-scoring eligible
    pairs (taken here from the uncapped edges), solved as a run would."""
    started = time.perf_counter()
    width = len(state.targets[kind])
    order = np.lexsort((-every.score, every.ti))  # by target, best first
    first_of_target = np.searchsorted(every.ti[order], np.arange(width))
    rank = np.arange(len(order)) - first_of_target[every.ti[order]]
    keep = np.zeros(len(every), dtype=bool)
    keep[order[rank < best]] = True
    keep |= np.isin(every.pi * width + every.ti, capped.pi * width + capped.ti)
    edges = Edges(kind, every.pi[keep], every.ti[keep], every.score[keep])
    chosen = solve.assign(edges.pi, edges.ti, edges.score, proposal_room(state, kind, settings),
                          np.maximum(state.targets[kind].remaining, 0), first_bonus(state, kind, settings))
    return described(state, kind, settings, f"{settings.candidates_per_person} + each target's best {best}", edges,
                     chosen, started)


def with_loss(rows: list[dict]) -> list[dict]:
    best = rows[-1]  # no cap: the exact optimum
    for row in rows:
        row["objective_loss_pct"] = round(100 * (best["objective"] - row["objective"]) / best["objective"], 3)
        row["score_loss_pct"] = round(100 * (best["total_score"] - row["total_score"]) / best["total_score"], 3)
    return rows


def measure(url: str, wider: list[int]) -> dict:
    today = clock.today()
    with db.session_scope(db.engine_for(url)) as session:
        settings, scorer, state = inputs(session, today)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    found = {"machine": machine(), "date": today.isoformat(), "commit": commit, "load_before": load_average(),
             "people": len(state.people), "targets": {kind: len(state.targets[kind]) for kind in KINDS},
             "default_cap": settings.candidates_per_person, "coverage_bonus": settings.coverage_bonus, "kinds": {}}
    caps = sorted({settings.candidates_per_person, *wider}) + [NO_CAP]
    for kind in KINDS:
        rows, edges = [], {}
        for cap in caps:
            row, edges[cap] = optimum(state, kind, settings, scorer, cap)
            rows.append(row)
        # Before the uncapped row, which `with_loss` takes as the exact optimum.
        rows.insert(-1, with_each_targets_best(state, kind, settings, edges[settings.candidates_per_person],
                                               edges[NO_CAP], TARGETS_BEST))
        for row in rows:
            print(kind, json.dumps(row), flush=True)
        found["kinds"][kind] = with_loss(rows)
    found["load_after"] = load_average()
    return found


def second_run_edges(url: str) -> dict:
    """After one real run (on the copy), the candidate edges a second run the same day builds, with the
    per-person limit applied first (as runs do) and after (as they once did); the proposals are the same."""
    today = clock.today()
    engine.run(db.engine_for(url), today=today, actor_id=None, source="cli")
    with db.session_scope(db.engine_for(url)) as session:
        settings, scorer, state = inputs(session, today)
    found = {}
    for kind in KINDS:
        now, chosen = choose(state, kind, settings, scorer)
        before, chosen_before = choose(state, kind, settings, scorer, limit_first=False)
        found[kind] = {"limit_first": len(now), "limit_in_solver_only": len(before),
                       "proposals": [int(chosen.sum()), int(chosen_before.sum())]}
    print("second run", json.dumps(found), flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a seeded London SQLite database")
    parser.add_argument("--caps", type=int, nargs="+", default=[150], help="caps besides the council's own and none")
    args = parser.parse_args()
    url = working_copy(args.source)
    result = measure(url, args.caps)
    result["second_run_same_day_candidate_edges"] = second_run_edges(url)
    OUT.mkdir(exist_ok=True)
    (OUT / "candidate_cap.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
