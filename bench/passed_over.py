"""Nobody passed over: eight weekly runs with every proposal rejected, with and without the coverage trade.

    python -m bench.passed_over                          # borough and London on SQLite
    python -m bench.passed_over --scales borough --bonuses 0 0.1 0.3

For each scale, the demo data is seeded once; for each coverage bonus a copy of it then goes through eight
simulated weeks: a run, and two days later an adviser rejecting every proposal of that run (in bulk, with
their history rows, as `lifecycle.transition` would write them), so every week the same people are eligible
again and only the passed-over counts and the waiting clock move. Before each run the engine's own choice
is recomputed in this process on the same state (`runs.choose`), to see who had a candidate, whose candidate
still had room after the solve, and the pure-sum optimum (coverage bonus 0) on that same state.

Reported per scale, bonus and kind: people eligible (a candidate) in every run and never proposed, split by
whether some candidate of theirs had room left after the solve in any run (the goal is 0 there); people
proposed in all eight runs; coverage (people proposed / people eligible) per run; and the total score given
up against the pure-sum optimum, summed over the runs.
"""

import argparse
import json
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from bench.common import OUT, clone, load_average, machine, seeded
from matching import clock, council_settings, db, engine
from matching.clock import CLOCK
from matching.council_settings import MatchingSettings
from matching.engine import learning, solve
from matching.engine.runs import choose
from matching.engine.state import KINDS, read_state
from matching.models import Match, MatchEvent

SEED = 2026
WEEKS = 8


def simulate(url: str, bonus: float, start: date) -> dict:
    """Eight weekly runs from `start` with the given coverage bonus, each run's proposals rejected."""
    sa_engine = db.engine_for(url)
    with db.session_scope(db.writer(sa_engine)) as session:
        settings = council_settings.load(session, MatchingSettings).model_copy(update={"coverage_bonus": bonus})
        council_settings.save(session, settings, version=council_settings.version_of(session, MatchingSettings),
                              actor_id=None)
    weeks = [shadow_and_run(sa_engine, settings, start + timedelta(weeks=week)) for week in range(WEEKS)]
    return {kind: summarise([week[kind] for week in weeks]) for kind in KINDS} | {
        "run_seconds": [week["run_seconds"] for week in weeks]}


def shadow_and_run(sa_engine: sa.Engine, settings: MatchingSettings, day: date) -> dict:
    with CLOCK.fixed(day), db.session_scope(sa_engine) as session:
        scorer = learning.current_scorer(session, settings)
        state = read_state(session.connection(), day, referrals_per_place=settings.referrals_per_place)
    week = {kind: shadow(state, kind, settings, scorer) for kind in KINDS}
    with CLOCK.fixed(day):
        run = engine.run(sa_engine, today=day, actor_id=None, source="cli")
    for kind in KINDS:  # the engine chose exactly what was recomputed here
        assert run.counts[kind]["proposals"] == week[kind]["proposals"], (kind, run.counts[kind], week[kind])
    with CLOCK.fixed(day + timedelta(days=2)):
        reject_all(sa_engine, run.id)
    week["run_seconds"] = run.duration_ms / 1000
    return week


def shadow(state, kind: str, settings: MatchingSettings, scorer) -> dict:
    edges, chosen = choose(state, kind, settings, scorer)
    ids = state.people.ids
    room = np.maximum(state.targets[kind].remaining, 0) - np.bincount(edges.ti[chosen],
                                                                       minlength=len(state.targets[kind]))
    roomy = edges.pi[room[edges.ti] > 0]  # people with a candidate whose target still had room after the solve
    limit = np.maximum((1 if kind == "mentoring" else settings.opportunities_per_person)
                       - state.people.proposed[kind], 0)
    pure = solve.assign(edges.pi, edges.ti, edges.score, limit, np.maximum(state.targets[kind].remaining, 0))
    return {"eligible": set(ids[np.unique(edges.pi)].tolist()), "proposed": set(ids[edges.pi[chosen]].tolist()),
            "room": set(ids[np.unique(roomy)].tolist()), "proposals": int(chosen.sum()),
            "score": solve.total(edges.score, chosen) / solve.SCALE,
            "pure_sum": solve.total(edges.score, pure) / solve.SCALE}


def summarise(weeks: list[dict]) -> dict:
    always = set.intersection(*(week["eligible"] for week in weeks))
    ever = set.union(*(week["proposed"] for week in weeks))
    never = always - ever
    roomy = set.union(*(week["room"] for week in weeks))
    pure, score = sum(week["pure_sum"] for week in weeks), sum(week["score"] for week in weeks)
    return {"eligible_every_run": len(always), "never_proposed": len(never),
            "never_proposed_with_room": len(never & roomy), "never_proposed_without_room": len(never - roomy),
            "proposed_every_run": len(set.intersection(*(week["proposed"] for week in weeks))),
            "coverage": [round(len(week["proposed"]) / max(len(week["eligible"]), 1), 3) for week in weeks],
            "proposals": sum(week["proposals"] for week in weeks), "score": round(score, 2),
            "pure_sum_optimum": round(pure, 2), "given_up_pct": round(100 * (pure - score) / max(pure, 1e-9), 2)}


def reject_all(sa_engine: sa.Engine, run_id: int) -> None:
    """Every proposal of the run rejected, with its history row: the state and events `lifecycle.transition`
    writes for a rejection (a rejection frees no slot: a proposal holds none), in two statements."""
    m, e = Match.__table__, MatchEvent.__table__
    now = clock.utcnow()
    with db.session_scope(db.writer(sa_engine)) as session:
        session.execute(sa.insert(e).from_select(
            ["match_id", "at", "actor_id", "from_state", "to_state", "reason"],
            sa.select(m.c.id, sa.literal(now, type_=e.c.at.type), sa.null(), sa.literal("proposed"),
                      sa.literal("rejected"), sa.literal("poor_fit: benchmark"))
            .where(m.c.run_id == run_id, m.c.state == "proposed")))
        session.execute(sa.update(m).where(m.c.run_id == run_id, m.c.state == "proposed")
                        .values(state="rejected", version=m.c.version + 1, updated_at=now))


def report(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; load average before {results['load_before']}, "
             f"after {results['load_after']}; {WEEKS} weekly runs from {results['start']}, every proposal rejected.",
             "", "| scale | kind | coverage bonus | eligible every run | never proposed (room / no room) | "
             "proposed every run | coverage per run (first, last, lowest) | score given up vs pure sum |",
             "|---|---|---:|---:|---|---:|---|---:|"]
    for scale, bonuses in results["scales"].items():
        for bonus, found in bonuses.items():
            for kind in KINDS:
                row = found[kind]
                cover = row["coverage"]
                lines.append(f"| {scale} | {kind} | {bonus} | {row['eligible_every_run']:,} | "
                             f"{row['never_proposed']} ({row['never_proposed_with_room']} / "
                             f"{row['never_proposed_without_room']}) | {row['proposed_every_run']} | "
                             f"{cover[0]:.0%}, {cover[-1]:.0%}, {min(cover):.0%} | {row['given_up_pct']:.2f} % "
                             f"({row['pure_sum_optimum'] - row['score']:.2f} of {row['pure_sum_optimum']:,.2f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["borough", "london"])
    parser.add_argument("--bonuses", nargs="+", type=float, default=[0.0, 0.1, 0.3])
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--report", action="store_true", help="print the table of the last results and stop")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads((OUT / "passed_over.json").read_text())))
        return
    start = clock.today()
    results = {"machine": machine(), "load_before": load_average(), "start": start.isoformat(), "scales": {}}
    for scale in args.scales:
        with CLOCK.fixed(start):
            url, _ = seeded(args.backend, f"bench_passed_{scale}", scale, history=True, seed=SEED)
        results["scales"][scale] = {}
        for bonus in args.bonuses:
            copy = clone(args.backend, url, f"bench_passed_{scale}_{bonus:g}")
            results["scales"][scale][f"{bonus:g}"] = found = simulate(copy, bonus, start)
            print(json.dumps({"scale": scale, "bonus": bonus, **found}), flush=True)
    results["load_after"] = load_average()
    OUT.mkdir(exist_ok=True)
    (OUT / "passed_over.json").write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
