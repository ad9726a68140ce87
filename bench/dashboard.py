"""The managers' overview and its named lists at London scale (10,000 care leavers, two years of history).

    python -m bench.dashboard [--backends sqlite postgresql] [--clients 20] [--seconds 10] [--repeats 3]

Goals (issue 17): the overview is made in under 1 s, counts and charts from nothing (what the first manager
to open it after a minute waits for), and each drill-down list answers with p95 < 150 ms under `clients`
connections of wrk, cycling through its first, a middle and its last page (its CSV download is timed alone,
as a file); the lists behind the charts' figures (the first linked in each chart's table) are timed
together. Each figure is the median of `repeats` runs, with the range and the load average before and
after, because this machine is shared and its speed wanders. Results go to bench/out/dashboard.json.
"""

import argparse
import html
import json
import re
import shutil
import statistics
import time

import httpx

from bench.common import OUT, described, load_average, machine, repeated, seeded, served, spread, wrk
from bench.pages import check, session_cookie
from matching import clock, council_settings, dashboard, db


def overview_from_nothing(url: str, repeats: int) -> dict:
    """What the first manager to open the overview after a minute waits for, `repeats` times in this process:
    `dashboard.recent_counts` with nothing kept (every attention list in full, which the counts are the lengths
    of, and every chart). Then each part alone, to say where the time goes."""
    engine = db.engine_for(url)
    today = clock.today()
    before, totals, timings = load_average(), [], {}
    for _ in range(repeats):
        dashboard.forget_kept()
        with db.session_scope(engine) as session:
            started = time.perf_counter()
            dashboard.recent_counts(session, today)
            totals.append((time.perf_counter() - started) * 1000)
        with db.session_scope(engine) as session:
            follow_up = council_settings.load(session, council_settings.FollowUpSettings)
            parts = [(listing.slug, lambda s, listing=listing, follow_up=follow_up: listing.rows(s, today, follow_up))
                     for listing in dashboard.LISTINGS]
            parts += [(name, lambda s, make=make: make(s, today)) for name, make in (
                ("by state", dashboard.matches_by_state), ("times", dashboard.decision_times),
                ("places", dashboard.places_by_department), ("outcomes", dashboard.outcomes_by_kind),
                ("attention", dashboard.attention_over_time))]
            for name, make in parts:
                started = time.perf_counter()
                make(session)
                timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return {"load_before": before, "load_after": load_average(), "total_ms": spread(totals),
            "parts_ms": {name: round(statistics.median(values), 1) for name, values in timings.items()}}


def list_paths(base: str, cookie: str, slug: str) -> list[str]:
    """A list's first, middle and last page (the page count read from the list itself)."""
    first = httpx.get(f"{base}/overview/{slug}", headers={"Cookie": cookie}, timeout=60).text
    pages = [int(n) for n in re.findall(rf'href="/overview/{slug}\?page=(\d+)"', first)] or [1]
    last = max(pages)
    return list(dict.fromkeys([f"/overview/{slug}", f"/overview/{slug}?page={max(1, last // 2)}",
                               f"/overview/{slug}?page={last}"]))


def chart_paths(base: str, cookie: str) -> list[str]:
    """The list behind the first figure linked in each chart's table on the overview, as a manager follows it."""
    overview = httpx.get(f"{base}/overview", headers={"Cookie": cookie}, timeout=60).text
    found: dict[str, str] = {}
    for href, chart in re.findall(r'href="(/overview/charts/([a-z-]+)\?[^"]+)"', overview):
        found.setdefault(chart, html.unescape(href))
    return list(found.values())


def csv_download(base: str, cookie: str, slug: str, repeats: int) -> dict:
    """The whole list as CSV, downloaded alone `repeats` times (a file, not a page: timed apart from them)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = httpx.get(f"{base}/overview/{slug}/csv", headers={"Cookie": cookie}, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200 or not answer.headers["content-type"].startswith("text/csv"):
            raise SystemExit(f"/overview/{slug}/csv answered {answer.status_code}: nothing measured")
    return spread(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk (make bench installs it)")
    results = {"machine": machine(), "clients": args.clients, "seconds": args.seconds, "overview": [], "lists": []}
    print(results["machine"], flush=True)
    for backend in args.backends:
        url, _ = seeded(backend, "bench_dashboard", "london", history=True)
        made = {"backend": backend} | overview_from_nothing(url, args.repeats)
        results["overview"].append(made)
        print(f"  {backend:<10} overview from nothing: median {made['total_ms']['median']} ms "
              f"(range {made['total_ms']['min']}-{made['total_ms']['max']}; {made['parts_ms']}; "
              f"load {made['load_before']} -> {made['load_after']})", flush=True)
        with served(url, 2) as base:
            cookie = session_cookie(base, "manager")
            for slug in dashboard.BY_SLUG:
                paths = list_paths(base, cookie, slug)
                check(base, cookie, paths)
                wrk(base, paths, ("Cookie", cookie), args.clients, 2)  # warm up
                row = {"backend": backend, "list": slug, "paths": paths} | repeated(
                    lambda: wrk(base, paths, ("Cookie", cookie), args.clients, args.seconds),  # noqa: B023
                    args.repeats)
                row["csv_ms"] = csv_download(base, cookie, slug, args.repeats)
                results["lists"].append(row)
                print(f"  {backend:<10} {slug:<14} {described(row)}; CSV alone median {row['csv_ms']['median']} ms",
                      flush=True)
            paths = chart_paths(base, cookie)  # the chart drill-downs, read fresh (not kept): timed together
            check(base, cookie, paths)
            row = {"backend": backend, "list": "chart figures", "paths": paths} | repeated(
                lambda: wrk(base, paths, ("Cookie", cookie), args.clients, args.seconds), args.repeats)  # noqa: B023
            results["lists"].append(row)
            print(f"  {backend:<10} {'chart figures':<14} {described(row)}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "dashboard.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
