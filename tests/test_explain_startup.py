"""`springboard match explain` answers in a fresh process (issue 16: under 1 s at London scale), so it loads
only what one person's alternatives need: not OR-Tools and the solver, not scipy (the TF-IDF of one person is
numpy's), not scikit-learn or skops. The same probe sees the run's libraries once `match run` has been run."""

import json
import os
import subprocess
import sys
from pathlib import Path

from matching.clock import CLOCK
from tests.test_engine_runs import TODAY, _cohort

ROOT = Path(__file__).resolve().parents[1]
RUN_ONLY = ["ortools", "matching.engine.solve", "matching.engine.candidates", "scipy", "scipy.sparse"]
NEVER = ["sklearn", "skops", "alembic", "litestar", "openpyxl"]
LOADED_AFTER = """
import json, sys
from api.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print("RESULT " + json.dumps(sorted(name for name in {probe!r} if name in sys.modules)))
"""


def _loaded_after(database_url: str, *args: str) -> tuple[str, list[str]]:
    script = LOADED_AFTER.format(probe=RUN_ONLY + NEVER)
    done = subprocess.run([sys.executable, "-c", script, "--today", TODAY.isoformat(), *args], capture_output=True,
                          text=True, check=True, cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url})
    said, result = done.stdout.rsplit("RESULT ", 1)
    return said, json.loads(result)


def test_explain_loads_neither_the_solver_nor_scipy_and_a_run_loads_both(client, people, engine, database_url):
    CLOCK.fix(TODAY)
    ids, _, _ = _cohort(client, people, engine, young=2)
    reference = client.get(f"/api/v1/care-leavers/{ids[0]}").json()["case_reference"]

    said, loaded = _loaded_after(database_url, "match", "explain", reference)
    assert "Mentoring: 1 eligible" in said and "Head of Parks" in said and "Opportunity: 1 eligible" in said
    assert loaded == []

    said, loaded = _loaded_after(database_url, "match", "run")
    assert set(RUN_ONLY) <= set(loaded) and not set(NEVER) & set(loaded), said
