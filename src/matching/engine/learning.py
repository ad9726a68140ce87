"""Learning from outcomes: train, check on held-out outcomes, keep only a better model, and report fairness.

Labels come from the lifecycle: an outcome of success (placement completed, job or mentoring sustained)
is 1; an early ending, an unsuccessful application or an adviser's rejection is 0. The model is a
scikit-learn pipeline (a logistic regression over the same criteria the weights use, so it still explains
itself) calibrated to a probability of success. It is stored with skops, never pickle, and its file's
SHA-256 is kept in the database and checked before every load, so a swapped file is refused.

Scoring does not load that file: training also keeps the few numbers the model scores with on its row
(`learned_from`, `scoring.Learned`), and the engine scores with those and numpy alone. scikit-learn and skops
take seconds to import (skops' trusted types import every estimator), so they are imported here only inside
the functions that train, evaluate, store or load a model's file, never with this module.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from matching import council_settings
from matching.clock import utcnow
from matching.council_settings import MatchingSettings
from matching.engine.features import feature_matrix
from matching.engine.scoring import INPUTS, Learned, ModelRefused, Scorer, model_input, weights_scorer
from matching.engine.state import KINDS, State, read_state
from matching.models import CareLeaver, Match, MatchRun, Outcome, ScoringModel

if TYPE_CHECKING:
    from sklearn.calibration import CalibratedClassifierCV

SUCCESS = {"placement_completed", "job_sustained_3m", "job_sustained_6m", "mentoring_sustained_6m"}
FAILURE = {"ended_early", "not_successful"}
MIN_LABELLED, MIN_PER_CLASS = 200, 30  # below this, the documented default weights are used
HELD_OUT = 0.25
# A new model is made current only if its held-out ROC AUC beats the current scorer's on the same rows by at
# least this much: less is within what the choice of held-out rows alone moves it (docs/matching.md, Retraining).
PROMOTION_MARGIN = 0.01
# What a stored model may contain; anything else in the file and it is not loaded.
# (skops trusts scikit-learn's public estimators itself; these are the parts it asks about.)
TRUSTED = ["numpy.dtype", "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration"]


@dataclass
class Labelled:
    state: State
    match_id: np.ndarray
    kind: np.ndarray
    pi: np.ndarray
    ti: np.ndarray
    label: np.ndarray

    def features(self) -> np.ndarray:
        """Model input for every labelled pair, kind by kind, in the original order."""
        out = np.zeros((len(self.label), len(council_settings.FEATURES) + 1))
        for kind in KINDS:
            rows = np.flatnonzero(self.kind == kind)
            out[rows] = model_input(kind, feature_matrix(self.state, kind, self.pi[rows], self.ti[rows]))
        return out


def labelled_matches(session: Session) -> tuple[list[sa.Row], dict[int, int]]:
    """Matches with a label (an outcome, or an adviser's rejection), and match id -> 1 for success."""
    m, o = Match.__table__.c, Outcome.__table__.c
    outcomes: dict[int, int] = {}
    for match_id, kind in session.execute(sa.select(o.match_id, o.kind).where(o.kind.in_(SUCCESS | FAILURE))):
        outcomes[match_id] = max(outcomes.get(match_id, 0), int(kind in SUCCESS))
    rows = session.execute(sa.select(m.id, m.care_leaver_id, m.kind, m.mentor_id, m.opportunity_id, m.state)
                           .where(m.id.in_(list(outcomes)) | (m.state == "rejected")).order_by(m.id)).all()
    return rows, outcomes


def labels_digest(rows: list[sa.Row], outcomes: dict[int, int]) -> str:
    """What the labels are, in a few characters: the same matches with the same labels, the same digest. A
    model's metrics keep it, so retraining can tell that nothing new was recorded since."""
    text = ",".join(f"{row.id}:{outcomes.get(row.id, 0)}" for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def current_labels(session: Session) -> str:
    return labels_digest(*labelled_matches(session))


def held_out(match_ids: np.ndarray) -> np.ndarray:
    """Which labelled matches are kept back for testing: a quarter, chosen by each match's id, so a match held
    out once is held out at every training and no model, current or new, has learned from the rows they are
    compared on."""
    buckets = [int.from_bytes(hashlib.sha256(f"held-out:{int(i)}".encode()).digest()[:4], "big") % 100
               for i in match_ids]
    return np.array(buckets, dtype=np.int64) < round(HELD_OUT * 100)


def labelled_pairs(session: Session, today: date) -> Labelled:
    rows, outcomes = labelled_matches(session)
    state = read_state(session.connection(), today, only=sorted({r.care_leaver_id for r in rows}))
    person_at = {int(i): n for n, i in enumerate(state.people.ids)}
    kept = [r for r in rows if (r.mentor_id or r.opportunity_id) in state.targets[r.kind].index]
    return Labelled(
        state=state, match_id=np.array([r.id for r in kept], dtype=np.int64), kind=np.array([r.kind for r in kept]),
        pi=np.array([person_at[r.care_leaver_id] for r in kept], dtype=np.int64),
        ti=np.array([state.targets[r.kind].index[r.mentor_id or r.opportunity_id] for r in kept], dtype=np.int64),
        label=np.array([outcomes.get(r.id, 0) for r in kept], dtype=np.int64))


def new_pipeline(seed: int) -> "CalibratedClassifierCV":
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    # Its form is what `learned_from` takes apart and `scoring.Learned` scores with: change one, change both.
    base = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=0.0)),
                     ("classify", LogisticRegression(max_iter=1000, random_state=seed))])
    return CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)


def enough(labels: np.ndarray) -> bool:
    return len(labels) >= MIN_LABELLED and min(labels.sum(), len(labels) - labels.sum()) >= MIN_PER_CLASS


def evaluate(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, roc_auc_score

    observed, predicted = calibration_curve(labels, scores, n_bins=5, strategy="quantile")
    return {"roc_auc": round(float(roc_auc_score(labels, scores)), 4),
            "brier": round(float(brier_score_loss(labels, scores)), 4),
            "calibration": [{"predicted": round(float(p), 3), "observed": round(float(o), 3)}
                            for p, o in zip(predicted, observed, strict=True)]}


def train(session: Session, *, today: date, models_dir: Path, actor_id: int | None, seed: int = 2026,
          promote: bool = True) -> ScoringModel | dict[str, Any]:
    """Train on the labelled outcomes outside the held-out quarter, and compare the new model with the current
    scorer on that quarter. A model better by PROMOTION_MARGIN is made current (`promote`) or kept as a
    `candidate` for a manager to make current; one that is not is kept as `declined`, with the reason. The
    model stored is the one measured. Returns its row, or why nothing was trained."""
    rows, outcomes = labelled_matches(session)
    data = labelled_pairs(session, today)
    test = held_out(data.match_id)
    if not enough(data.label) or not enough_held_out(data.label[test]):
        reason = (f"needs at least {MIN_LABELLED} labelled outcomes with {MIN_PER_CLASS} of each kind"
                  if not enough(data.label) else "needs both kinds of outcome among the quarter kept back for testing")
        return {"trained": False, "labelled": len(data.label), "successes": int(data.label.sum()), "reason": reason}
    X = data.features()
    model = new_pipeline(seed).fit(X[~test], data.label[~test])
    candidate = evaluate(model.predict_proba(X[test])[:, 1], data.label[test])
    current = current_scorer(session, council_settings.load(session, MatchingSettings), learned=True)
    baseline = evaluate(_scores(current, X[test], data.kind[test]), data.label[test])
    gain = round(candidate["roc_auc"] - baseline["roc_auc"], 4)
    better = gain >= PROMOTION_MARGIN
    status = ("current" if promote else "candidate") if better else "declined"
    decision = (f"its held-out ROC AUC {candidate['roc_auc']:.3f} was {gain:+.3f} against the "
                f"{baseline['roc_auc']:.3f} of {current.version} on the same rows; at least "
                f"{PROMOTION_MARGIN:+.3f} is needed")
    return _store(session, model, models_dir, actor_id, status=status, rows=int((~test).sum()),
                  metrics={"held_out": candidate, "current_on_same_rows": {**baseline, "version": current.version},
                           "labelled": len(X), "held_out_rows": int(test.sum()), "gain": gain,
                           "margin": PROMOTION_MARGIN, "decision": decision,
                           "labels": labels_digest(rows, outcomes)})


def enough_held_out(labels: np.ndarray) -> bool:
    """ROC AUC needs both kinds of outcome among the rows kept back."""
    return len(labels) > 0 and 0 < labels.sum() < len(labels)


def _scores(scorer: Scorer, X: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    out = np.zeros(len(X))
    for kind in KINDS:
        rows = np.flatnonzero(kinds == kind)
        out[rows] = scorer.score(kind, X[rows, :-1])
    return out


def _store(session: Session, model: Any, models_dir: Path, actor_id: int | None, *, status: str,
           metrics: dict[str, Any], rows: int) -> ScoringModel:
    import skops.io as sio

    learned = learned_from(model)  # first: a model of another form is refused before anything is written
    models_dir.mkdir(parents=True, exist_ok=True)
    payload = sio.dumps(model)
    digest = hashlib.sha256(payload).hexdigest()
    # Two models trained in the same second with the same digest would share a name: the second gets a suffix.
    base = f"model-{utcnow():%Y%m%d%H%M%S}-{digest[:8]}"
    version = next(v for v in (base, *(f"{base}-{n}" for n in range(2, 1000))) if session.get(ScoringModel, v) is None)
    path = models_dir / f"{version}.skops"
    path.write_bytes(payload)
    if status == "current":
        for old in session.exec(select(ScoringModel).where(ScoringModel.status == "current")):
            old.status = "retired"
    row = ScoringModel(version=version, created_by_id=actor_id, path=str(path), sha256=digest, status=status,
                       training_rows=rows, metrics=metrics, parameters=learned.as_json())
    session.add(row)
    session.flush()
    return row


def current_scorer(session: Session, settings: MatchingSettings, *, learned: bool | None = None) -> Scorer:
    """The current learned model when there is one and the manager allows it; the weights otherwise."""
    use_model = settings.use_learned_model if learned is None else learned
    row = session.exec(select(ScoringModel).where(ScoringModel.status == "current")).first() if use_model else None
    if row is None:
        return weights_scorer(settings)
    return Scorer(version=row.version, learned=learned_of(row))


def learned_of(row: ScoringModel) -> Learned:
    """The numbers a model scores with. A model trained since revision 0018 keeps them on its row, so no file
    is read (the row also holds the digest that guarded the file: the numbers are as trusted as it was).
    A model trained before has only its file: it is loaded as before (digest and trusted types checked,
    cached per process by `load_model`) and the numbers are taken from it in memory. They are not written
    back: this is called from reads (`match explain`, alternatives) that should not write, and the weekly
    retraining soon replaces such a model with one that has them."""
    if row.parameters:
        return Learned.from_json(row.version, row.parameters)
    return learned_from(load_model(row.path, row.sha256))


def learned_from(model: Any) -> Learned:
    """The numbers inside a model `new_pipeline` made and fitted: the logistic regression's coefficients and
    intercept (fitted on all the training rows, as ensemble=False does) and the sigmoid calibration's a and b.
    Anything of another shape is refused, so a changed pipeline fails here, not as different scores."""
    from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    def expect(holds: bool, what: str) -> None:
        if not holds:
            raise ModelRefused(f"the model is not the calibrated pipeline learning.new_pipeline makes: {what}")

    expect(isinstance(model, CalibratedClassifierCV) and model.method == "sigmoid"
           and len(getattr(model, "calibrated_classifiers_", [])) == 1, "one sigmoid calibration (ensemble=False)")
    expect(np.array_equal(model.classes_, [0, 1]), "the classes must be 0 and 1")
    calibrated = model.calibrated_classifiers_[0]
    pipeline = calibrated.estimator
    expect(calibrated.method == "sigmoid" and len(calibrated.calibrators) == 1
           and type(calibrated.calibrators[0]) is _SigmoidCalibration, "one sigmoid calibrator")
    expect(isinstance(pipeline, Pipeline) and len(pipeline.steps) == 2, "an imputer then a classifier")
    impute, classify = pipeline[0], pipeline[-1]
    expect(type(impute) is SimpleImputer and impute.strategy == "constant" and impute.fill_value == 0.0
           and not impute.add_indicator and isinstance(impute.missing_values, float)
           and np.isnan(impute.missing_values), "a missing value (NaN) imputed as 0")
    expect(type(classify) is LogisticRegression and classify.coef_.shape == (1, len(INPUTS))
           and np.array_equal(classify.classes_, [0, 1]), f"a logistic regression over {len(INPUTS)} inputs")
    calibrator = calibrated.calibrators[0]
    return Learned(coef=np.array(classify.coef_[0], dtype=np.float64), intercept=float(classify.intercept_[0]),
                   a=float(calibrator.a_), b=float(calibrator.b_))


@lru_cache(maxsize=4)
def load_model(path: str, sha256: str) -> Any:
    """A stored model's file, refused when it is not the file recorded or holds types not trusted."""
    import skops.io as sio

    payload = Path(path).read_bytes()
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise ModelRefused(f"the model file {Path(path).name} does not match its recorded digest; it was "
                           f"not loaded (retrain, or restore the file)")
    untrusted = set(sio.get_untrusted_types(data=payload)) - set(TRUSTED)
    if untrusted:
        raise ModelRefused(f"the model file holds types that are not trusted: {sorted(untrusted)}")
    return sio.loads(payload, trusted=TRUSTED)


ETHNIC_GROUPS = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "C": "Other", "O": "Other"}


def group_of(column: str, value: Any) -> str:
    if column == "ethnicity":
        return "Not known" if value in {None, "REFU", "NOBT"} else ETHNIC_GROUPS.get(value[0], "Other")
    if column == "sex":
        return {"1": "Male", "2": "Female"}.get(value, "Not known")
    if column == "former_uasc":
        return "Former UASC" if value else "Not former UASC"
    return str(value or "not_known")


def fairness(session: Session) -> dict[str, Any]:
    """Per group: labelled success rate, and exposure (share of open cases given a proposal in the last run)."""
    c = CareLeaver.__table__.c
    people = {r.id: r for r in session.execute(sa.select(c.id, c.sex, c.ethnicity, c.disability, c.former_uasc,
                                                         c.case_status))}
    rows, outcomes = labelled_matches(session)  # the labels only: no profiles or criteria needed here
    last_run = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()
    proposed: set[int] = set()
    if last_run:
        proposed = set(session.exec(select(Match.care_leaver_id).where(Match.run_id == last_run.id)))
    report: dict[str, Any] = {"run_id": last_run.id if last_run else None, "groups": {}}
    for column in ("sex", "ethnicity", "disability", "former_uasc"):
        groups: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry = groups.setdefault(group_of(column, getattr(people[row.care_leaver_id], column)), _empty())
            entry["labelled"] += 1
            entry["successes"] += outcomes.get(row.id, 0)
        for person in people.values():
            if person.case_status == "open":
                entry = groups.setdefault(group_of(column, getattr(person, column)), _empty())
                entry["open_cases"] += 1
                entry["proposed_in_last_run"] += int(person.id in proposed)
        for entry in groups.values():
            entry["success_rate"] = round(entry["successes"] / entry["labelled"], 3) if entry["labelled"] else None
            entry["exposure"] = round(entry["proposed_in_last_run"] / entry["open_cases"], 3) \
                if entry["open_cases"] else None
        report["groups"][column] = dict(sorted(groups.items()))
    return report


def _empty() -> dict[str, Any]:
    return {"labelled": 0, "successes": 0, "open_cases": 0, "proposed_in_last_run": 0}
