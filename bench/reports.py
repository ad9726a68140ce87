"""Every report page at London scale (10,000 care leavers, two years of history), one request at a time.

    python -m bench.reports [--backends sqlite postgresql] [--requests 5] [--repeats 3]

Goal (issue 18): every report renders in under 2 s. That is one request's time, so the pages are fetched by
one client, one request after another (no concurrency: 20 clients on 2 cores would time the queue, not the
page), signed in as the demo borough's manager, from `springboard serve` on the London state. The pages are the
ones `/reports` links to (so a report added there is measured without changing this file), and the annual
report's PDF. Each page is fetched once first and must be a 200 page with its h1 (the PDF: a PDF), then timed
`requests` times; a run's figure is the median of its requests, and each page's result is the median and range
of `repeats` runs, with its slowest single request and the load average before and after.
"""

import argparse
import json
import re
import statistics
import time

import httpx

from bench.common import OUT, load_average, machine, seeded, served, spread
from bench.pages import check, session_cookie

GOAL_MS = 2000


def report_paths(base: str, cookie: str) -> list[str]:
    """The reports `/reports` links to, in its order, and the annual report's PDF."""
    index = httpx.get(f"{base}/reports", headers={"Cookie": cookie}, follow_redirects=False, timeout=30)
    if index.status_code != 200:
        raise SystemExit(f"/reports answered {index.status_code}: nothing measured")
    paths = list(dict.fromkeys(re.findall(r'href="(/reports/[^"]+)"', index.text)))
    return [*(path.replace("&amp;", "&") for path in paths), "/reports/annual.pdf"]


def check_pdf(base: str, cookie: str, path: str) -> None:
    answer = httpx.get(base + path, headers={"Cookie": cookie}, follow_redirects=False, timeout=120)
    if answer.status_code != 200 or not answer.content.startswith(b"%PDF"):
        raise SystemExit(f"{path} answered {answer.status_code}, not a PDF: nothing measured")


def one_run(client: httpx.Client, path: str, requests: int) -> dict:
    """`requests` sequential requests of one page: their median and slowest, in milliseconds."""
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code} while timed")
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def measured(base: str, cookie: str, path: str, requests: int, repeats: int) -> dict:
    with httpx.Client(base_url=base, headers={"Cookie": cookie}, follow_redirects=False, timeout=120) as client:
        before = load_average()
        runs = [one_run(client, path, requests) for _ in range(repeats)]
    return {"load_before": before, "load_after": load_average(), "requests": requests,
            "median_ms": spread([run["median_ms"] for run in runs]),
            "slowest_ms": round(max(run["max_ms"] for run in runs), 1)}


def described(row: dict) -> str:
    median = row["median_ms"]
    verdict = "met" if row["slowest_ms"] < GOAL_MS else "NOT MET"
    return (f"median {median['median']:>7} ms ({median['min']}–{median['max']})  slowest {row['slowest_ms']:>7} ms  "
            f"{verdict}  load {row['load_before']} → {row['load_after']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--requests", type=int, default=5, help="timed requests of each page in one run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {"machine": machine(), "requests": args.requests, "repeats": args.repeats, "goal_ms": GOAL_MS,
               "rows": []}
    print(results["machine"], flush=True)
    for backend in args.backends:
        url, _ = seeded(backend, "bench_reports", "london", history=True)
        with served(url, 2) as base:
            cookie = session_cookie(base, "manager")
            for path in report_paths(base, cookie):
                if path.endswith(".pdf"):
                    check_pdf(base, cookie, path)
                else:
                    check(base, cookie, [path])
                row = {"backend": backend, "page": path} | measured(base, cookie, path, args.requests, args.repeats)
                results["rows"].append(row)
                print(f"  {backend:<10} {path:<28} {described(row)}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "reports.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
