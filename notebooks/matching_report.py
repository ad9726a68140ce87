# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Matching report for committee
#
# What the engine proposes for the demo borough, why, and whether any group is disadvantaged. Open it
# with Jupyter through jupytext, or run it as a script; the test suite runs it on a fresh database
# (`tests/test_notebooks.py`). Set `DATABASE_URL` to run it on a council's own data.

# %%
import os
from collections import Counter
from pathlib import Path
from tempfile import mkdtemp

from fixtures import demo
from sqlmodel import select

from matching import clock, db, engine
from matching.models import Match

url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(mkdtemp()) / 'report.sqlite3'}"
db.upgrade(url)
sa_engine = db.engine_for(url)
demo.load(sa_engine)
today = clock.today()

# %% [markdown]
# ## A run, and what it proposed

# %%
run = engine.run(sa_engine, today=today, actor_id=None, source="cli")
print(f"run {run.id}: {run.counts['people']} open cases, scored by {run.model_version}")
for kind in ("mentoring", "opportunity"):
    print(f"  {kind}: {run.counts[kind]['proposals']} proposals from {run.counts[kind]['candidates']} candidates")

# %%
with db.session_scope(sa_engine) as session:
    proposals = session.exec(select(Match).where(Match.run_id == run.id)).all()
reasons = Counter(reason.split(" ")[0] + " " + reason.split(" ")[1] for m in proposals for reason in m.reasons)
print("The reasons given most often:", reasons.most_common(5))
assert proposals and all(m.reasons for m in proposals)

# %% [markdown]
# ## Learning from outcomes
# The learned model replaces the documented weights only if it predicts held-out outcomes better.

# %%
with db.session_scope(db.writer(sa_engine)) as session:
    trained = engine.train(session, today=today, actor_id=None, models_dir=Path(mkdtemp()))
print(trained if isinstance(trained, dict) else (trained.version, trained.status, trained.metrics["held_out"]))

# %% [markdown]
# ## Fairness: success and exposure per group

# %%
with db.session_scope(sa_engine) as session:
    report = engine.fairness(session)
for grouping, groups in report["groups"].items():
    print(grouping)
    for name, entry in groups.items():
        print(f"  {name:<18} open {entry['open_cases']:>4}  exposure {entry['exposure']}  "
              f"labelled {entry['labelled']:>4}  success rate {entry['success_rate']}")
assert sum(g["open_cases"] for g in report["groups"]["sex"].values()) == run.counts["people"]
