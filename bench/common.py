"""What every benchmark shares: the machine it ran on, fresh databases at a given scale, a served app."""

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from fixtures import demo

from matching import db
from matching.models import ApiTokenCreate
from matching.services import users

OUT = Path(__file__).parent / "out"
PG_BASE = os.environ.get("BENCH_DATABASE_URL",
                         "postgresql+psycopg://springboard:springboard-test@127.0.0.1:5432/springboard_test")


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, written beside every figure: a busy machine reads slow."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def spread(values: list[float]) -> dict[str, float]:
    """Median and range of repeated measurements (each benchmark repeats three times)."""
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
            "max": round(max(values), 1), "n": len(values)}


def repeated(measure: Callable[[], dict], repeats: int) -> dict:
    """`measure` (one wrk run) `repeats` times: the median and range of p95, p50 and throughput, with the load
    average before and after, so a figure taken in a busy phase of this shared machine shows as one."""
    before = load_average()
    runs = [measure() for _ in range(repeats)]
    return {"load_before": before, "load_after": load_average(),
            "p95_ms": spread([r["p95_ms"] for r in runs]), "p50_ms": spread([r["p50_ms"] for r in runs]),
            "per_second": spread([r["per_second"] for r in runs]), "errors": sum(r["errors"] for r in runs)}


def described(row: dict) -> str:
    """One printed line of a `repeated` measurement."""
    p95, p50, rate = row["p95_ms"], row["p50_ms"], row["per_second"]
    return (f"p95 {p95['median']:>6} ms ({p95['min']}–{p95['max']})  p50 {p50['median']:>6} ms  "
            f"{rate['median']:>5}/s  errors {row['errors']}  load {row['load_before']} → {row['load_after']}")


WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["%s"] = "%s"})
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout
  io.write(string.format('{"requests": %%d, "p50_ms": %%.1f, "p95_ms": %%.1f, "max_ms": %%.1f, '
    .. '"per_second": %%.0f, "errors": %%d}\\n', summary.requests, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency.max / 1000, summary.requests / (summary.duration / 1e6), errors))
end
"""


def wrk(base: str, paths: list[str], header: tuple[str, str], clients: int, seconds: int) -> dict:
    """`clients` connections of wrk (a C client, so the load is not starved by a Python client sharing the
    cores) cycling through `paths` for `seconds`, each request carrying `header` (a token or a cookie)."""
    listed = ", ".join(f'"{path}"' for path in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % (listed, *header))
        script.flush()
        output = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s",
                                 script.name, base], capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def fresh_database(backend: str, name: str) -> str:
    """An empty, migrated database for this benchmark."""
    if backend == "sqlite":
        OUT.mkdir(exist_ok=True)
        path = OUT / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        base = sa.make_url(PG_BASE)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    db.upgrade(url)
    return url


def clone(backend: str, url: str, name: str) -> str:
    """A copy of a seeded database, so repeated measurements each start from the same state."""
    db.engine_for(url).dispose()  # a template database must have no open connections
    if backend == "sqlite":
        path = OUT / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        with sa.create_engine(url, poolclass=sa.pool.NullPool).connect() as conn:
            conn.exec_driver_sql(f"VACUUM INTO '{path}'")
        return f"sqlite:///{path}"
    source = sa.make_url(url)
    admin = sa.create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    return source.set(database=name).render_as_string(hide_password=False)


def seeded(backend: str, name: str, scale: str, *, history: bool = False, seed: int = 2026) -> tuple[str, str]:
    """The database's URL, and a manager's API token for calling it."""
    url = fresh_database(backend, name)
    started = time.perf_counter()
    engine = db.engine_for(url)
    demo.load(engine, seed=seed, scale=scale, history=history)
    print(f"  seeded {scale} on {backend} in {time.perf_counter() - started:.1f} s", flush=True)
    with db.session_scope(db.writer(engine)) as session:
        manager = users.by_email(session, "manager@northbridge.example.gov.uk")
        _, token = users.create_token(session, ApiTokenCreate(user_id=manager.id, name="benchmark"), created_by_id=None)
    return url, token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(url: str, workers: int):
    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "SECURE_COOKIES": "false"}  # plain HTTP on loopback
    OUT.mkdir(exist_ok=True)
    log = (OUT / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # requests that take seconds were still queued: nothing left to measure
            server.kill()
            server.wait()
        log.close()
