"""Peak memory (and time) of `import_file` for care-leaver files of growing size: the peak should stay flat.
With --speed, the time of importing 50,000 rows of each kind instead (the goal: under 30 s).

    python -m bench.imports [--backends sqlite postgresql] [--rows 1000 10000 50000] [--formats csv xlsx]
                            [--cases good header-error claimed-sheet] [--tracemalloc]
    python -m bench.imports --speed [--backends ...] [--kinds care-leavers mentors opportunities]
                            [--speed-rows 50000] [--repeats 3] [--again]

Each measurement runs in its own Python process (so one run's memory cannot hide another's) that imports
one file into a fresh, migrated database and reports its peak resident set (VmHWM, else
`resource.getrusage` ru_maxrss) and, with --tracemalloc, the peak of Python's own allocations (slower). The cases:

- good: every row is imported (two passes over the file: check, then write);
- header-error: the file has an unknown column, so nothing is written, but every row is still checked;
- claimed-sheet (XLSX only): the sheet's dimension claims A1:XFD1048576, as some exporters write it.

A process that only starts Python and the importers is measured too (`baseline`), so that the growth is
read against it.

--speed imports a CSV of new records into a fresh, migrated database (`new_s`), and with --again the same
file once more (`again_s`: every row looked up and found unchanged), each repeat in its own process and
database; it prints the median and range of the repeats with the load average before and after (the machine
is shared), and the importing process's own CPU time (`*_cpu_s`; not the database server's), which a busy
machine stretches far less than the wall-clock time.
Figures are printed as JSON lines, not recorded: the lead runs this and writes RESULTS.md.
"""

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

COLUMNS = ["case_reference", "first_name", "family_name", "date_of_birth", "sex", "ethnicity", "disability",
           "leaving_care_category", "home_area", "interests", "days_available", "in_touch", "current_activity",
           "accommodation", "accommodation_suitable", "last_contact_on", "pathway_plan_reviewed_on", "aspirations"]


def row(n: int) -> list[str]:
    return [f"BENCH{n:07d}", "Amina", f"Family{n % 997}", f"{1 + n % 28:02d}/{1 + n % 12:02d}/200{n % 8}", "F",
            "Black or Black British - African", "Not known", "Former relevant", f"E{1 + n % 20}", "music; cooking",
            "Mon-Fri", "Yes - in touch", "Not in education training or employment, owing to other reasons",
            "Independent living", "Accommodation considered suitable", "2026-11-01 00:00:00.000",
            "1900-01-01 00:00:00.000", "To work in parks " * 4]


def write_file(folder: Path, fmt: str, rows: int, case: str) -> Path:
    header = COLUMNS + (["not_a_column"] if case == "header-error" else [])
    extra = [""] if case == "header-error" else []
    path = folder / f"{case}-{rows}.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(row(n) + extra for n in range(rows))
        return path
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for n in range(rows):
        sheet.append(row(n) + extra)
    book.save(path)
    return _claim_whole_sheet(path) if case == "claimed-sheet" else path


CLAIM = b'<dimension ref="A1:XFD1048576"/>'


def _claim_whole_sheet(path: Path) -> Path:
    claimed = path.with_name(f"claimed-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(claimed, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                # write-only workbooks carry no dimension: add one before the cells (or replace the one there)
                start = data.find(b"<dimension ref=")
                if start >= 0:
                    data = data[:start] + data[data.find(b">", start) + 1:]
                data = data.replace(b"<sheetData", CLAIM + b"<sheetData", 1)
            target.writestr(item, data)
    path.unlink()
    return claimed


SPEED_COLUMNS = {
    "care-leavers": COLUMNS,
    "mentors": ["email", "full_name", "department_code", "job_title", "expertise", "interests", "capacity",
                "availability", "office_area", "dbs_checked_on", "safeguarding_trained_on", "status"],
    "opportunities": ["reference", "department_code", "kind", "title", "description", "skills", "sector", "area",
                      "hours_per_week", "pay_per_hour", "places", "min_age", "max_age", "starts_on", "closes_on",
                      "ring_fenced", "status"],
}


def speed_row(kind: str, n: int) -> list[str]:
    if kind == "care-leavers":
        return row(n)
    if kind == "mentors":
        return [f"mentor{n}@bench.example.gov.uk", f"Mentor {n}", "PARK", "Park keeper", "horticulture; first aid",
                "music", str(1 + n % 3), "Mon-Fri", f"E{1 + n % 20}", f"{1 + n % 28:02d}/0{1 + n % 9}/2025",
                "2025-06-01 00:00:00.000", "active"]
    return [f"BENCH-OPP{n:06d}", "PARK", "Apprenticeship", f"Park keeper {n % 50}", "Looking after parks " * 3,
            "horticulture; teamwork", "Environment", f"E{1 + n % 20}", "37.5", "12.60", str(1 + n % 4), "16", "25",
            "2027-01-11", "2026-12-20", "yes", "open"]


def write_speed_file(folder: Path, kind: str, rows: int) -> Path:
    path = folder / f"speed-{kind}-{rows}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SPEED_COLUMNS[kind])
        writer.writerows(speed_row(kind, n) for n in range(rows))
    return path


def speed_child(url: str, kind: str, path: str, again: bool) -> None:
    """Imports the file into this fresh database (and, with `again`, once more); prints the times as one JSON
    line."""
    from matching import db
    from matching.imports import import_file
    from matching.models import Department

    engine = db.writer(db.engine_for(url))
    with db.session_scope(engine) as session:
        session.add(Department(name="Parks and Open Spaces", code="PARK"))
    result = {}
    for run in ("new", "again") if again else ("new",):
        started, cpu = time.perf_counter(), time.process_time()
        with db.session_scope(engine) as session:
            report = import_file(session, kind, Path(path))
        result[f"{run}_s"] = round(time.perf_counter() - started, 2)
        result[f"{run}_cpu_s"] = round(time.process_time() - cpu, 2)
        result[f"{run}_outcome"] = f"{report.created} created, {report.unchanged} unchanged"
    print(json.dumps(result))


def speed(backends: list[str], kinds: list[str], rows: int, repeats: int, again: bool) -> None:
    from bench.common import fresh_database, load_average, spread

    with tempfile.TemporaryDirectory(prefix="bench-imports-") as folder:
        for kind in kinds:
            path = write_speed_file(Path(folder), kind, rows)
            for backend in backends:
                before, runs = load_average(), []
                for _ in range(repeats):
                    url = fresh_database(backend, "bench_imports")
                    command = [sys.executable, "-m", "bench.imports", "--speed-child", url, kind, str(path)]
                    done = subprocess.run(command + (["--again"] if again else []), capture_output=True, text=True,
                                          check=False)
                    if done.returncode:
                        raise SystemExit(done.stderr)
                    runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                times = {name: spread([r[name] for r in runs])
                         for name in ("new_s", "new_cpu_s", "again_s", "again_cpu_s") if name in runs[0]}
                outcomes = sorted({"; ".join(r[name] for name in ("new_outcome", "again_outcome") if name in r)
                                   for r in runs})
                print(json.dumps({"backend": backend, "kind": kind, "rows": rows, **times, "outcomes": outcomes,
                                  "load_before": before, "load_after": load_average()}), flush=True)


def child(url: str, path: str, traced: bool) -> None:
    """One import in this process; prints its peak memory and time as one JSON line."""
    import tracemalloc

    from matching import db
    from matching.imports import ImportFailed, import_file

    engine = db.writer(db.engine_for(url))
    if path == "baseline":
        print(json.dumps({"peak_rss_mib": _peak_rss_mib()}))
        return
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    outcome = "imported"
    try:
        with db.session_scope(engine) as session:
            import_file(session, "care-leavers", Path(path))
    except ImportFailed as failure:
        outcome = f"refused ({len(failure.errors)} problems)"
    seconds = time.perf_counter() - started
    result = {"outcome": outcome, "seconds": round(seconds, 2), "peak_rss_mib": _peak_rss_mib()}
    if traced:
        result["peak_traced_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    print(json.dumps(result))


def _peak_rss_mib() -> float:
    """This process's peak resident set. Linux's VmHWM starts afresh at exec; ru_maxrss does not (it keeps the
    forking parent's peak), so it is the fallback only."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def measure(backend: str, path: Path | str, traced: bool) -> dict:
    from bench.common import fresh_database

    url = fresh_database(backend, "bench_imports")
    command = [sys.executable, "-m", "bench.imports", "--child", url, str(path)] + (["--tracemalloc"] if traced else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--rows", nargs="+", type=int, default=[1000, 10000, 50000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    parser.add_argument("--cases", nargs="+", default=["good", "header-error", "claimed-sheet"])
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--speed", action="store_true", help="time 50,000-row imports instead of memory")
    parser.add_argument("--kinds", nargs="+", default=["care-leavers", "mentors", "opportunities"])
    parser.add_argument("--speed-rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--again", action="store_true", help="with --speed, also time importing the file again")
    parser.add_argument("--child", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--speed-child", nargs=3, metavar=("URL", "KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.tracemalloc)
        return
    if args.speed_child:
        speed_child(*args.speed_child, args.again)
        return
    from bench.common import load_average, machine

    print(json.dumps({"machine": machine(), "load": load_average()}), flush=True)
    if args.speed:
        speed(args.backends, args.kinds, args.speed_rows, args.repeats, args.again)
        return
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as folder:
        for backend in args.backends:
            print(json.dumps({"backend": backend, "case": "baseline"} | measure(backend, "baseline", False)),
                  flush=True)
            for fmt in args.formats:
                for case in args.cases:
                    if case == "claimed-sheet" and fmt != "xlsx":
                        continue
                    for rows in args.rows:
                        path = write_file(Path(folder), fmt, rows, case)
                        size = round(path.stat().st_size / 2**20, 1)
                        figures = measure(backend, path, args.tracemalloc)
                        print(json.dumps({"backend": backend, "format": fmt, "case": case, "rows": rows,
                                          "file_mib": size} | figures), flush=True)
                        path.unlink()
    print(json.dumps({"load_after": load_average()}))


if __name__ == "__main__":
    main()
