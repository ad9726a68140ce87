"""Benchmark the matching engine end to end, and the quality of what it proposes.

    python -m bench.match_runs      # borough, London, England on SQLite; borough and London on PostgreSQL
    python -m bench.match_runs --scales borough --backends sqlite

Each scale is seeded in one process and measured in a fresh one, so the peak memory reported is the run's
own (read state, rules, candidates, scores, solve, write proposals). Quality is measured against the hidden
compatibility the fixtures generator used (`fixtures.synthetic.affinity`), which the engine never sees.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
from fixtures.history import _target_profile
from fixtures.synthetic import affinity, generate
from sqlmodel import select

from bench.common import OUT, clone, machine, seeded
from matching import clock, db, engine
from matching.engine.runs import choose, inputs
from matching.engine.state import KINDS
from matching.models import CareLeaver

SEED = 2026
REPEATS = 3


def measure(backend: str, scale: str, url: str, today: date) -> dict:
    sa_engine = db.engine_for(url)
    run = engine.run(sa_engine, today=today, actor_id=None, source="cli")
    seconds = run.counts["seconds"]
    result = {"backend": backend, "scale": scale, "total_s": run.duration_ms / 1000, "stages_s": seconds,
              "solve_s": sum(v for k, v in seconds.items() if k.startswith("solve_")),
              "counts": {k: run.counts[k] for k in ("people", *KINDS)}}
    result["alternatives_ms"] = time_alternatives(sa_engine, today)
    result["peak_rss_mib"] = peak_memory_mib()
    return result


def peak_memory_mib() -> float:
    """This process's own high-water mark (VmHWM starts afresh at exec; ru_maxrss would include what the
    parent held when it forked, and the parent seeded the data)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def time_alternatives(sa_engine, today: date, samples: int = 40) -> dict:
    with db.session_scope(sa_engine) as session:
        ids = list(session.exec(select(CareLeaver.id).where(CareLeaver.case_status == "open")))
    chosen = random.Random(SEED).sample(ids, min(samples, len(ids)))
    timings = []
    for person_id in chosen:
        started = time.perf_counter()
        with db.session_scope(sa_engine) as session:
            engine.alternatives(session, person_id, today=today)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50": round(statistics.median(timings), 1), "p95": round(timings[int(0.95 * (len(timings) - 1))], 1)}


def quality(url: str, scale: str, today: date) -> dict:
    """Hidden success of the solver's proposals against greedy best-first and random eligible ones."""
    data = generate(seed=SEED, scale=scale, today=today, history=True)
    people = {row["id"]: row for row in data.tables["care_leavers"]}
    targets = {"mentoring": {row["id"]: row for row in data.tables["mentors"]},
               "opportunity": {row["id"]: row for row in data.tables["opportunities"]}}
    sa_engine = db.engine_for(url)
    with db.session_scope(sa_engine) as session:
        settings, scorer, state = inputs(session, today)
    report = {}
    for kind in KINDS:
        edges, chosen = choose(state, kind, settings, scorer)
        limit = 1 if kind == "mentoring" else settings.opportunities_per_person
        room = np.maximum(state.targets[kind].remaining, 0)
        wide = settings.model_copy(update={"candidates_per_person": 500})
        every, _ = choose(state, kind, wide, scorer)
        order = np.argsort(-edges.score, kind="stable")
        shuffled = np.random.default_rng(SEED).permutation(len(every))
        truth = (state, people, targets[kind])
        report[kind] = {"solver": summary(truth, edges, chosen),
                        "greedy": summary(truth, edges, greedy(edges, order, limit, room)),
                        "random": summary(truth, every, greedy(every, shuffled, limit, room))}
    return report


def summary(truth, edges, mask: np.ndarray) -> dict:
    """The engine's own total score of the chosen edges, and their hidden chance of success."""
    state, people, targets = truth
    found = [affinity(people[int(state.people.ids[p])],
                      *_target_profile(edges.kind, targets[int(state.targets[edges.kind].ids[t])]))
             for p, t in zip(edges.pi[mask], edges.ti[mask], strict=True)]
    return {"proposals": int(mask.sum()), "engine_score": round(float(edges.score[mask].sum()), 2),
            "expected_successes": round(sum(found), 1), "mean_success": round(sum(found) / max(len(found), 1), 4)}


def greedy(edges, order, limit: int, room: np.ndarray) -> np.ndarray:
    """Take edges in the given order while the person and the target still have room."""
    taken = np.zeros(len(edges), dtype=bool)
    per_person: dict[int, int] = {}
    left = room.copy()
    for edge in order:
        p, t = int(edges.pi[edge]), int(edges.ti[edge])
        if per_person.get(p, 0) < limit and left[t] > 0:
            taken[edge] = True
            per_person[p] = per_person.get(p, 0) + 1
            left[t] -= 1
    return taken


def child(backend: str, scale: str, step: str, url: str, today: str) -> None:
    day = date.fromisoformat(today)
    if step == "run":
        print(json.dumps(measure(backend, scale, url, day)))
    else:
        print(json.dumps(quality(url, scale, day)))


def in_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.match_runs", "--child", *args], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: dict) -> str:
    """The markdown tables for bench/RESULTS.md."""
    lines = [f"Machine: {results['machine']}; {results['date']}.", "",
             "| backend | scale | people | candidate edges | proposals | read | candidates | solve | write | "
             "whole run (median, range) | whole / solve | peak memory | alternatives p50 / p95 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for run in results["runs"]:
        groups.setdefault((run["backend"], run["scale"]), []).append(run)
    for (backend, scale), runs in groups.items():
        runs.sort(key=lambda r: r["total_s"])
        mid = runs[len(runs) // 2]
        stage = {name: sum(v for k, v in mid["stages_s"].items() if k.startswith(name)) for name in
                 ("read", "candidates", "solve", "write")}
        edges = sum(mid["counts"][k]["candidates"] for k in KINDS)
        made = sum(mid["counts"][k]["proposals"] for k in KINDS)
        spread = f"{mid['total_s']:.2f} s ({runs[0]['total_s']:.2f}–{runs[-1]['total_s']:.2f}, n={len(runs)})"
        lines.append(f"| {backend} | {scale} | {mid['counts']['people']:,} | {edges:,} | {made:,} | "
                     f"{stage['read']:.2f} | {stage['candidates']:.2f} | {stage['solve']:.2f} | {stage['write']:.2f} | "
                     f"{spread} | {mid['total_s'] / max(mid['solve_s'], 1e-9):.1f} | {mid['peak_rss_mib']:.0f} MiB | "
                     f"{mid['alternatives_ms']['p50']} / {mid['alternatives_ms']['p95']} ms |")
    lines += ["", "| scale | kind | proposer | proposals | engine score | expected successes (hidden) | mean |",
              "|---|---|---|---:|---:|---:|---:|"]
    for scale, kinds in results["quality"].items():
        for kind, proposers in kinds.items():
            for name, found in proposers.items():
                lines.append(f"| {scale} | {kind} | {name} | {found['proposals']:,} | {found['engine_score']:,} | "
                             f"{found['expected_successes']:,} | {found['mean_success']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["borough", "london", "england"])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--report", action="store_true", help="print the tables of the last results and stop")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads((OUT / "match_runs.json").read_text())))
        return
    if args.child:
        child(*args.child)
        return
    today = clock.today().isoformat()
    results = {"machine": machine(), "date": today, "runs": [], "quality": {}}
    for backend in args.backends:
        for scale in args.scales:
            if backend == "postgresql" and scale == "england":
                continue  # the SQLite run shows the engine's scaling; PostgreSQL only changes read and write
            url, _ = seeded(backend, f"bench_match_{scale}", scale, history=True, seed=SEED)
            if backend == "sqlite" and scale != "england":  # before any run changes the state
                results["quality"][scale] = in_child(backend, scale, "quality", url, today)
                print(json.dumps(results["quality"][scale]), flush=True)
            # This machine is shared and noisy: each measurement starts from its own copy of the same state.
            for repeat in range(REPEATS):
                copy = clone(backend, url, f"bench_match_{scale}_{repeat}")
                measured = in_child(backend, scale, "run", copy, today)
                print(json.dumps(measured), flush=True)
                results["runs"].append(measured)
    OUT.mkdir(exist_ok=True)
    (OUT / "match_runs.json").write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
