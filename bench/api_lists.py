"""List endpoints at London scale under 20 concurrent clients on loopback: p50 and p95 per endpoint.

    python -m bench.api_lists [--backends sqlite postgresql] [--clients 20] [--seconds 10] [--repeats 3]
                              [--endpoints care-leavers ...]

The load comes from wrk (Debian's package; a C client, so the measurement is not starved by a Python
client sharing the two cores). Each endpoint gets `clients` connections for `seconds`, cycling through
typical list queries: first page, filters, sorts, a deep page, text search. Goal (issues 3 and 19): p95 <
100 ms. The care-leaver list also writes one audit row per record shown, as in production. Each measurement
is repeated `repeats` times; the median and range are reported with the load average before and after,
because this machine is shared and its speed wanders.
"""

import argparse
import json
import shutil

from bench.common import OUT, described, machine, repeated, seeded, served, wrk

QUERIES = {
    "departments": ["", "?status=active", "?sort=name"],
    "mentors": ["", "?status=active&sort=-capacity", "?department_id=3", "?offset=1900", "?q=director"],
    "opportunities": ["", "?status=open&kind=apprenticeship", "?sort=closes_on", "?ring_fenced=true&offset=400",
                      "?q=parks"],
    "care-leavers": ["", "?in_touch=YES&sort=-last_contact_on", "?personal_adviser_id=7",
                     "?case_status=open&offset=9000", "?q=smith", "?former_uasc=true&sort=date_of_birth"],
}
WORKERS = {"sqlite": 2, "postgresql": 2}  # one per core; SQLite writers of both queue on a file lock (db.py)


def load(base: str, token: str, endpoint: str, clients: int, seconds: int) -> dict:
    return wrk(base, [f"/api/v1/{endpoint}{q}" for q in QUERIES[endpoint]], ("Authorization", f"Bearer {token}"),
               clients, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--endpoints", nargs="+", choices=list(QUERIES), default=list(QUERIES))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk (make bench installs it)")
    results = {"machine": machine(), "clients": args.clients, "seconds": args.seconds, "rows": []}
    print(results["machine"], flush=True)
    for backend in args.backends:
        url, token = seeded(backend, "bench_api_lists", "london")
        with served(url, WORKERS[backend]) as base:
            for endpoint in args.endpoints:
                load(base, token, endpoint, args.clients, 2)  # warm up
                row = {"backend": backend, "workers": WORKERS[backend], "endpoint": endpoint} | repeated(
                    lambda: load(base, token, endpoint, args.clients, args.seconds), args.repeats)  # noqa: B023
                results["rows"].append(row)
                print(f"  {backend:<10} {endpoint:<14} {described(row)}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "api_lists.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
