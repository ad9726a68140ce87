"""Pages at London scale under 20 concurrent signed-in browsers on loopback: p50 and p95 per page.

    python -m bench.pages [--backends sqlite postgresql] [--clients 20] [--seconds 10] [--repeats 3]
                          [--pages "young person" referrals ...]

Goal (issue 13): every list page and the young person's page answer with p95 < 150 ms. Each page gets
`clients` connections of wrk (Debian's package) for `seconds`, cycling through typical views of it
(filters, sorts, search, a deep page), signed in with a real session cookie for the role that uses it.
Each measurement is repeated `repeats` times; the median and range are reported with the load average
before and after, because this machine is shared and its speed wanders.
"""

import argparse
import json
import re
import shutil

import httpx
import sqlalchemy as sa

from bench.common import OUT, described, machine, repeated, seeded, served, wrk
from matching import db

PASSWORD = "springboard-demo"


def pages(url: str) -> dict[str, tuple[str, list[str]]]:
    """Each page: the demo account that uses it, and the views of it to cycle through."""
    engine = db.engine_for(url)
    with engine.connect() as conn:
        adviser = conn.execute(sa.text("SELECT id FROM users WHERE email = :e"),
                               {"e": "adviser@northbridge.example.gov.uk"}).scalar()
        people = conn.execute(sa.text("SELECT id FROM care_leavers WHERE personal_adviser_id = :a ORDER BY id "
                                      "LIMIT 20"), {"a": adviser}).scalars().all()
        match = conn.execute(sa.text("SELECT m.id FROM matches m JOIN care_leavers c ON c.id = m.care_leaver_id "
                                     "WHERE c.personal_adviser_id = :a ORDER BY m.id LIMIT 1"), {"a": adviser}).scalar()
    return {
        "caseload": ("adviser", ["/caseload", "/caseload?sort=last_contact", "/caseload?in_touch=NO",
                                 "/caseload?q=smith", "/caseload?page=3", "/caseload?activity=neet&age_band=18-20"]),
        "young person": ("adviser", [f"/young-people/{i}" for i in people]),
        "proposals": ("adviser", ["/proposals", "/proposals?page=2"]),
        "match": ("adviser", [f"/matches/{match}"] if match else []),
        "follow-ups": ("adviser", ["/follow-ups"]),
        "proposals (manager)": ("manager", ["/proposals", "/proposals?page=5"]),
        "overview": ("manager", ["/overview"]),
        "referrals": ("department", ["/referrals", "/referrals?stage=started"]),
        "opportunities": ("department", ["/opportunities"]),
        "mentees": ("mentor", ["/mentees"]),
        "pending mentors": ("manager", ["/mentors/pending"]),
    }


def session_cookie(base: str, role: str) -> str:
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        form = client.get("/sign-in").text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form).group(1)
        signed = client.post("/sign-in", data={"email": f"{role}@northbridge.example.gov.uk", "password": PASSWORD,
                                               "_csrf_token": token})
        if signed.status_code != 303:
            raise SystemExit(f"could not sign in as {role}: {signed.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def check(base: str, cookie: str, paths: list[str]) -> None:
    """Every path answers 200 with a page for this person before it is measured: a redirect to the sign-in
    page or an error page would be timed as if it were the page."""
    for path in paths:
        answer = httpx.get(base + path, headers={"Cookie": cookie}, follow_redirects=False, timeout=30)
        if answer.status_code != 200 or "<h1" not in answer.text:
            raise SystemExit(f"{path} answered {answer.status_code}, not the page: nothing measured")


def load(base: str, cookie: str, paths: list[str], clients: int, seconds: int) -> dict:
    return wrk(base, paths, ("Cookie", cookie), clients, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pages", nargs="+", help="only these pages (names as printed)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk (make bench installs it)")
    results = {"machine": machine(), "clients": args.clients, "seconds": args.seconds, "rows": []}
    print(results["machine"], flush=True)
    for backend in args.backends:
        url, _ = seeded(backend, "bench_pages", "london", history=True)
        with served(url, 2) as base:
            cookies = {role: session_cookie(base, role) for role in ("adviser", "manager", "department", "mentor")}
            for name, (role, paths) in pages(url).items():
                if not paths or (args.pages and name not in args.pages):
                    continue
                check(base, cookies[role], paths)
                load(base, cookies[role], paths, args.clients, 2)  # warm up
                row = {"backend": backend, "page": name} | repeated(
                    lambda: load(base, cookies[role], paths, args.clients, args.seconds), args.repeats)  # noqa: B023
                results["rows"].append(row)
                print(f"  {backend:<10} {name:<20} {described(row)}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "pages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
