# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # How good is the learned scoring model? An evaluation on held-out outcomes
#
# The engine learns from recorded outcomes (`matching.engine.learning.train`, run weekly by
# `jobs.models.retrain`): a calibrated logistic regression over the same criteria the documented weights use.
# A quarter of the labelled matches, chosen by a hash of each match's id, is kept back from training at every
# retraining. This notebook trains a model as the job does, then measures it on that quarter: how well it
# ranks (ROC curve and its area), whether its probabilities can be taken at their word (calibration and the
# Brier score), what drives it (its coefficients and permutation importance), whether it works as well for
# every group of young people, and how often each group is proposed something. Open it with Jupyter through
# jupytext, or run it as a script; the test suite runs it on a fresh database seeded with the synthetic borough
# (`tests/test_notebooks.py`). Set `DATABASE_URL` to run it on a council's own data.

# %%
import os
from pathlib import Path
from tempfile import mkdtemp

import numpy as np
import sqlalchemy as sa
from fixtures import demo
from sklearn.calibration import calibration_curve
from sklearn.inspection import permutation_importance
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from matching import clock, council_settings, db, engine, vocab
from matching.engine import learning, scoring
from matching.models import CareLeaver, Match, MatchRun
from matching.reports import outcomes as outcomes_report
from matching.reports.oc3 import latest_complete_year

url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(mkdtemp()) / 'evaluation.sqlite3'}"
db.upgrade(url)
sa_engine = db.engine_for(url)
# True when the synthetic borough (two years of matches and outcomes) was loaded just now, into an empty database
synthetic = demo.load(sa_engine).loaded
today = clock.today()

# %% [markdown]
# ## Training, as the weekly job does
# On the synthetic borough the model is kept as the job would keep it (made current if it does better), so the
# matching run further down scores with it. On a council's own data nothing is kept: the training is rolled
# back, and the scorer in use, the models page and the proposals are as they were.

# %%
with db.session_scope(db.writer(sa_engine)) as session:
    trained = engine.train(session, today=today, actor_id=None, models_dir=Path(mkdtemp()))
    assert not isinstance(trained, dict), f"no model was trained: {trained}"
    version, status, stored, rows = trained.version, trained.status, trained.metrics, trained.training_rows
    model = learning.load_model(trained.path, trained.sha256)  # checked against its recorded digest
    if not synthetic:
        session.rollback()
print(f"{version}: {status if synthetic else 'not kept (this is not the synthetic borough)'}, trained on {rows} "
      f"outcomes; {stored['decision']}")

# %% [markdown]
# ## The held-out rows
# The same labelled matches and the same hash the training used, so these are exactly the rows the model
# never saw. As in training, each past pair's criteria are worked out from today's profiles (docs/matching.md).

# %%
with db.session_scope(sa_engine) as session:
    data = learning.labelled_pairs(session, today)
    weights = scoring.weights_scorer(council_settings.load(session, council_settings.MatchingSettings))
test = learning.held_out(data.match_id)
X = data.features()
X_test, y_test, kinds_test = X[test], data.label[test], data.kind[test]
scores = model.predict_proba(X_test)[:, 1]
baseline = np.zeros(len(X_test))  # the manager's weights (the documented defaults until changed), same rows
for kind in ("mentoring", "opportunity"):
    rows = np.flatnonzero(kinds_test == kind)
    baseline[rows] = weights.score(kind, X_test[rows, :-1])
print(f"{len(data.label)} labelled matches, {int(test.sum())} held out, of which {int(y_test.sum())} succeeded "
      f"({y_test.mean():.0%}); the model learned from {int((~test).sum())}")

# %% [markdown]
# ## Ranking: the ROC curve and its area
# The area under the ROC curve is the chance that, given one held-out match that succeeded and one that did
# not, the model scored the successful one higher (0.5 is a coin toss). The table reads the curve at a few
# points: to pick out that share of the successes, the model also picks this share of the failures.

# %%
auc = float(roc_auc_score(y_test, scores))
baseline_auc = float(roc_auc_score(y_test, baseline))
false_positive, true_positive, thresholds = roc_curve(y_test, scores)
in_use = stored["current_on_same_rows"]  # what the training compared it with: the current model, or the weights
print(f"ROC AUC: model {auc:.3f}, documented weights {baseline_auc:.3f}, the scorer in use ({in_use['version']}) "
      f"{in_use['roc_auc']:.3f}, on the same rows")
roc_points = []
for wanted in (0.1, 0.2, 0.3, 0.5):
    at = int(np.searchsorted(false_positive, wanted, side="right")) - 1  # the last point at or below `wanted`
    roc_points.append({"false_positive_rate": round(float(false_positive[at]), 3),
                       "true_positive_rate": round(float(true_positive[at]), 3),
                       "threshold": round(float(min(thresholds[at], 1.0)), 3)})
    print(f"  scored {roc_points[-1]['threshold']:.3f} or more: {true_positive[at]:.0%} of the successes, "
          f"{false_positive[at]:.0%} of the failures")
# Cross-check: the training stored its own held-out measurement of the same rows.
assert round(auc, 4) == stored["held_out"]["roc_auc"], (auc, stored["held_out"])
if in_use["version"] == weights.version:
    assert round(baseline_auc, 4) == in_use["roc_auc"]

# %% [markdown]
# ## Calibration: do the probabilities mean what they say?
# Held-out rows in fifths by score (as the scoring models page shows them); in each, the mean predicted
# chance of success beside the share that did succeed. The Brier score is the mean squared gap between
# prediction and outcome (0 is perfect); against it, the Brier score of always predicting the training rows'
# success rate.

# %%
BINS = 5
edges = np.percentile(scores, np.linspace(0, 100, BINS + 1))  # as calibration_curve(strategy="quantile")
bin_of = np.searchsorted(edges[1:-1], scores)
reliability = []
for index in range(BINS):
    inside = bin_of == index
    if inside.any():
        reliability.append({"bin": index + 1, "from": round(float(edges[index]), 3),
                            "to": round(float(edges[index + 1]), 3), "rows": int(inside.sum()),
                            "successes": int(y_test[inside].sum()),
                            "predicted": round(float(scores[inside].mean()), 3),
                            "observed": round(float(y_test[inside].mean()), 3)})
print(f"{'fifth':>5} {'scores':>15} {'rows':>5} {'predicted':>10} {'observed':>9}")
for row in reliability:
    print(f"{row['bin']:>5} {row['from']:>7.3f}-{row['to']:<7.3f} {row['rows']:>5} {row['predicted']:>10.3f} "
          f"{row['observed']:>9.3f}")
observed, predicted = calibration_curve(y_test, scores, n_bins=BINS, strategy="quantile")
assert np.allclose(observed, [row["observed"] for row in reliability], atol=5e-4)
assert np.allclose(predicted, [row["predicted"] for row in reliability], atol=5e-4)
brier = float(brier_score_loss(y_test, scores))
training_rate = float(data.label[~test].mean())
brier_reference = float(brier_score_loss(y_test, np.full(len(y_test), training_rate)))
print(f"Brier score {brier:.4f}; always predicting {training_rate:.0%} scores {brier_reference:.4f} "
      f"(skill {1 - brier / brier_reference:+.0%})")

# %% [markdown]
# ## What drives the model
# Each criterion's coefficient in the logistic regression (every criterion runs from 0 to 1, so they compare;
# positive raises the chance of success), and its permutation importance: how much the held-out ROC AUC falls
# when that criterion's values are shuffled among the rows, over ten shuffles.

# %%
# In words (the engine names the criteria only in code; the reasons it gives are sentences about one pair).
CRITERIA_WORDS = {"interests": "Shared interests and goals", "sector": "The sector they want to work in",
                  "distance": "How near it is", "days": "Free on the days needed",
                  "languages": "A language in common", "qualification": "Has the qualification asked for",
                  "ring_fenced": "Ring-fenced for care leavers", "guaranteed_interview": "Guaranteed interview",
                  "waiting": "How long they have waited", "is_opportunity": "A job or placement, not a mentor"}
names = [*council_settings.FEATURES, "is_opportunity"]
coefficients = scoring.coefficients(model)
shuffled = permutation_importance(model, X_test, y_test, scoring="roc_auc", n_repeats=10, random_state=2026)
effects = {name: {"words": CRITERIA_WORDS[name], "coefficient": round(float(coefficient), 3),
                  "importance": round(float(mean), 4), "importance_spread": round(float(spread), 4)}
           for name, coefficient, mean, spread in zip(names, coefficients, shuffled.importances_mean,
                                                      shuffled.importances_std, strict=True)}
for effect in sorted(effects.values(), key=lambda effect: -effect["importance"]):
    print(f"  {effect['words']:<36} coefficient {effect['coefficient']:>+7.3f}   "
          f"AUC lost when shuffled {effect['importance']:>+.3f} (± {effect['importance_spread']:.3f})")

# %% [markdown]
# ## Does it work as well for every group?
# The held-out rows by the young person's sex, ethnic group, disability and whether they came to the UK as an
# unaccompanied child (the groups the engine's fairness report uses). The area under the curve is given only
# where a group has at least 30 rows with 5 of each outcome; fewer, and it moves too much with one match.

# %%
MIN_ROWS, MIN_EACH = 30, 5
DIMENSIONS = {"sex": "sex", "ethnicity": "ethnic group", "disability": "disability",
              "former_uasc": "whether a former unaccompanied asylum-seeking child"}


def shown_group(dimension: str, name: str) -> str:
    """The group's name in words (the fairness report keeps disability as its code)."""
    return vocab.DISABILITY.get(name, name) if dimension == "disability" else name

with db.session_scope(sa_engine) as session:
    people = {row.id: row for row in session.execute(
        sa.select(CareLeaver.id, CareLeaver.sex, CareLeaver.ethnicity, CareLeaver.disability, CareLeaver.former_uasc))}
held_out_people = data.state.people.ids[data.pi[test]]
performance: dict[str, dict[str, dict]] = {}
for dimension in DIMENSIONS:
    labels = np.array([learning.group_of(dimension, getattr(people[int(i)], dimension)) for i in held_out_people])
    performance[dimension] = {}
    for name in sorted(set(labels)):
        inside = labels == name
        y, p = y_test[inside], scores[inside]
        enough_rows = len(y) >= MIN_ROWS and min(y.sum(), len(y) - y.sum()) >= MIN_EACH
        performance[dimension][name] = {
            "rows": int(inside.sum()), "successes": int(y.sum()), "observed": round(float(y.mean()), 3),
            "predicted": round(float(p.mean()), 3), "brier": round(float(brier_score_loss(y, p, labels=[0, 1])), 4),
            "roc_auc": round(float(roc_auc_score(y, p)), 3) if enough_rows else None}
    print(dimension)
    for name, found in performance[dimension].items():
        shown_auc = "too few" if found["roc_auc"] is None else f"{found['roc_auc']:.3f}"
        print(f"  {shown_group(dimension, name):<18} rows {found['rows']:>4}  succeeded {found['observed']:>6.1%}  "
              f"predicted {found['predicted']:>6.1%}  Brier {found['brier']:.3f}  ROC AUC {shown_auc}")

# %% [markdown]
# ## Exposure: who is proposed something, and who is approved
# The share of each group's open cases that the last matching run proposed something to (the engine's fairness
# report); on the synthetic borough, which has had no run, a run now, scored by the new model if it was made
# current (never on a council's data: there the nightly run is the one to read). Then, from the year's outcomes
# report, the share of each group's young people proposed, approved and succeeding in the last complete year.

# %%
if synthetic:
    engine.run(sa_engine, today=today, actor_id=None, source="cli")
with db.session_scope(sa_engine) as session:
    fairness = engine.fairness(session)
    yearly = outcomes_report.outcomes(session, latest_complete_year(today))
    run = session.get(MatchRun, fairness["run_id"]) if fairness["run_id"] else None
    run_proposed = set(session.execute(sa.select(Match.care_leaver_id).where(Match.run_id == fairness["run_id"]))
                       .scalars())
print(f"run {run.id} of {run.started_at:%d %B %Y}, scored by {run.model_version}: proposals to {len(run_proposed)} "
      f"young people" if run else "No matching run yet: no exposure to show.")
exposure: dict[str, dict[str, dict]] = {}
for dimension in DIMENSIONS if run else ():
    exposure[dimension] = {name: {"open_cases": entry["open_cases"], "proposed": entry["proposed_in_last_run"],
                                  "exposure": entry["exposure"]}
                           for name, entry in fairness["groups"][dimension].items() if entry["open_cases"]}
    print(dimension)
    for name, entry in exposure[dimension].items():
        print(f"  {shown_group(dimension, name):<18} open cases {entry['open_cases']:>4}  "
              f"proposed in this run {entry['exposure']:.0%}")
yearly_shares = {}
for share in yearly.shares:
    yearly_shares.setdefault(share.dimension, {})[share.group] = {"young_people": share.cohort, **share.percents}
for dimension, shares in yearly_shares.items():
    print(f"{dimension}, {yearly.year.short}")
    for name, share in shares.items():
        said = ", ".join(f"{column.lower()} {'withheld' if value is None else f'{value} %'}"
                         for column, value in share.items() if column != "young_people")
        print(f"  {name:<40} {share['young_people']:>4} young people: {said}")

# %% [markdown]
# ## What this says, in plain words

# %%
conclusions = [
    f"Tested on {int(test.sum())} outcomes it had not learned from, the model ranked a successful match above an "
    f"unsuccessful one {auc:.0%} of the time; the scorer in use did so {in_use['roc_auc']:.0%} of the time, and "
    f"so retraining {'makes it current' if status == 'current' else 'keeps the scorer in use'} (a new model must "
    f"be at least {learning.PROMOTION_MARGIN:.2f} better).",
    f"Its predictions are off by {brier:.3f} on the Brier score, against {brier_reference:.3f} for predicting the "
    f"same {training_rate:.0%} chance for everyone.",
]
top, bottom = reliability[-1], reliability[0]
conclusions.append(f"Of the fifth it rated most likely to succeed, it predicted {top['predicted']:.0%} and "
                   f"{top['observed']:.0%} did; of the fifth it rated least likely, {bottom['predicted']:.0%} and "
                   f"{bottom['observed']:.0%}.")
ranked = sorted(effects.values(), key=lambda effect: -effect["importance"])
first, second = ranked[0], ranked[1]
conclusions.append(f"What matters most to it: {first['words'].lower()}, then {second['words'].lower()} (shuffling "
                   f"them costs {first['importance']:.3f} and {second['importance']:.3f} of ROC AUC).")
for dimension in DIMENSIONS:
    measured = {name: found["roc_auc"] for name, found in performance[dimension].items() if found["roc_auc"]}
    if len(measured) > 1:
        low, high = min(measured, key=measured.get), max(measured, key=measured.get)
        conclusions.append(f"By {DIMENSIONS[dimension]}: ROC AUC from {measured[low]:.2f} "
                           f"({shown_group(dimension, low)}) to {measured[high]:.2f} ({shown_group(dimension, high)}).")
    shares = {name: entry["exposure"] for name, entry in exposure.get(dimension, {}).items()
              if entry["open_cases"] >= MIN_ROWS}
    if len(shares) > 1:
        low, high = min(shares, key=shares.get), max(shares, key=shares.get)
        conclusions.append(f"  This run proposed something to {shares[high]:.0%} of the open cases "
                           f"'{shown_group(dimension, high)}' and {shares[low]:.0%} of those "
                           f"'{shown_group(dimension, low)}' (groups of at least {MIN_ROWS}).")
print("\n".join(conclusions))

# %%
results = {"version": version, "status": status, "stored_metrics": stored,
           "held_out": {"match_ids": data.match_id[test], "labels": y_test, "scores": scores, "baseline": baseline,
                        "features": X_test, "kinds": kinds_test, "care_leaver_ids": held_out_people},
           "roc_auc": auc, "baseline_roc_auc": baseline_auc, "roc_curve": (false_positive, true_positive),
           "roc_points": roc_points, "reliability": reliability, "brier": brier, "brier_reference": brier_reference,
           "effects": effects, "performance": performance, "exposure": exposure, "yearly_shares": yearly_shares,
           "run_id": fairness["run_id"], "conclusions": conclusions}
