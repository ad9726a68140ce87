"""A learned model scores as the numbers training took from it (scoring.Learned, kept on its scoring_models row):
the same probabilities as the fitted scikit-learn pipeline, contributions that are its coefficients times the
criteria, no model file read and neither scikit-learn nor skops imported to score. A pipeline or stored numbers
of another form are refused; a model from before revision 0018 is scored from its (checked) file. Both
databases where a database is used."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from matching import council_settings, db, oversight
from matching.council_settings import FEATURES, MatchingSettings
from matching.engine import learning, scoring
from matching.engine.scoring import INPUTS, Learned, ModelRefused, Scorer, model_input
from matching.engine.state import KINDS
from matching.errors import Conflict
from matching.models import ScoringModel
from tests.conftest import TEST_TODAY
from tests.test_jobs_models import _outcomes

ROOT = Path(__file__).resolve().parents[1]


def _training_rows(rng: np.random.Generator, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs (criteria with some unknown, then whether an opportunity) and outcomes that depend on them."""
    X = _criteria(rng, n)
    X = np.column_stack([X, rng.integers(0, 2, n).astype(np.float64)])
    hidden = rng.normal(0, 2, X.shape[1])
    labels = (rng.random(n) < 1 / (1 + np.exp(-(np.nan_to_num(X) @ hidden - hidden.sum() / 2)))).astype(np.int64)
    labels[:10], labels[10:20] = 0, 1  # both outcomes, enough of each for the five calibration folds
    return X, labels


def _criteria(rng: np.random.Generator, n: int, missing: float = 0.15, spread: float = 1.0) -> np.ndarray:
    X = rng.uniform(-spread, 1 + spread, (n, len(FEATURES)))
    X[rng.random(X.shape) < missing] = np.nan
    return X


def _fitted(seed: int) -> CalibratedClassifierCV:
    rng = np.random.default_rng(seed)
    return learning.new_pipeline(seed).fit(*_training_rows(rng))


def _stored(learned: Learned) -> Learned:
    """Through JSON and back, as the row keeps it."""
    return Learned.from_json("stored", json.loads(json.dumps(learned.as_json())))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), missing=st.sampled_from([0.0, 0.2, 0.6]),
       spread=st.sampled_from([0.0, 1.0, 30.0]))
def test_the_stored_numbers_score_as_the_fitted_pipeline(seed, missing, spread):
    model = _fitted(seed)
    scorer = Scorer(version="learned", learned=_stored(learning.learned_from(model)))
    rng = np.random.default_rng(seed + 1)
    coef = scoring.coefficients(model)
    decision = model.calibrated_classifiers_[0].estimator.decision_function
    for kind in KINDS:
        features = _criteria(rng, 60, missing, spread)
        expected = model.predict_proba(model_input(kind, features))[:, 1]
        assert np.abs(scorer.score(kind, features) - expected).max() <= 1e-9
        parts = scorer.contributions(kind, features)
        assert np.array_equal(parts, np.nan_to_num(features, nan=0.0) * coef[:len(FEATURES)])
        known = ~np.isnan(features).any(axis=1)
        assert np.array_equal(parts[known], features[known] * coef[:len(FEATURES)])
        # the contributions, the opportunity term and the intercept are the model's whole decision
        rest = coef[-1] * float(kind == "opportunity") + scorer.learned.intercept
        assert np.allclose(parts.sum(axis=1) + rest, decision(model_input(kind, features)), rtol=0, atol=1e-9)
    assert scorer.score(KINDS[0], np.zeros((0, len(FEATURES)))).shape == (0,)


def _ensembled(seed):
    return CalibratedClassifierCV(learning.new_pipeline(seed).estimator, method="sigmoid", cv=5, ensemble=True)


def _isotonic(seed):
    return CalibratedClassifierCV(learning.new_pipeline(seed).estimator, method="isotonic", cv=5, ensemble=False)


def _imputed_by_mean(seed):
    base = Pipeline([("impute", SimpleImputer(strategy="mean")), ("classify", LogisticRegression())])
    return CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)


def _imputed_as_one(seed):
    base = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=1.0)), ("classify", LogisticRegression())])
    return CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)


def _uncalibrated(seed):
    return learning.new_pipeline(seed).estimator


@pytest.mark.parametrize("build", [_ensembled, _isotonic, _imputed_by_mean, _imputed_as_one, _uncalibrated])
def test_a_pipeline_of_another_form_is_refused_not_misread(build):
    model = build(1).fit(*_training_rows(np.random.default_rng(1)))
    with pytest.raises(ModelRefused, match="not the calibrated pipeline learning.new_pipeline makes"):
        learning.learned_from(model)


def test_a_pipeline_over_other_inputs_is_refused():
    X, labels = _training_rows(np.random.default_rng(2))
    with pytest.raises(ModelRefused, match=f"a logistic regression over {len(INPUTS)} inputs"):
        learning.learned_from(learning.new_pipeline(2).fit(X[:, 1:], labels))


@pytest.mark.parametrize("change", [
    lambda data: data.update(form="calibrated-logistic-0"),
    lambda data: data.update(inputs=data["inputs"][:-1]),
    lambda data: data.update(inputs=[*data["inputs"][1:], data["inputs"][0]]),
    lambda data: data.update(coef=data["coef"][:-1]),
    lambda data: data.update(intercept=float("nan")),
    lambda data: data.update(coef=[*data["coef"][:-1], "x"]),
    lambda data: data.pop("calibration"),
    lambda data: data["calibration"].update(a=float("inf")),
])
def test_stored_numbers_of_another_form_are_refused(change):
    data = learning.learned_from(_fitted(3)).as_json()
    assert Learned.from_json("model-x", json.loads(json.dumps(data))).coef.shape == (len(INPUTS),)
    change(data)
    with pytest.raises(ModelRefused, match="the scoring model model-x"):
        Learned.from_json("model-x", data)


def _train(engine, models_dir: Path, *, promote: bool = True) -> ScoringModel:
    with db.session_scope(db.writer(engine)) as session:
        row = learning.train(session, today=TEST_TODAY, models_dir=models_dir, actor_id=None, promote=promote)
    assert isinstance(row, ScoringModel), row
    return row


def _current_scorer(engine) -> Scorer:
    with db.session_scope(engine) as session:
        return learning.current_scorer(session, council_settings.load(session, MatchingSettings), learned=True)


def test_training_keeps_the_numbers_and_scoring_never_reads_the_file(engine, people, tmp_path):
    _outcomes(engine, people["department"].department_id, 240)
    learning.load_model.cache_clear()
    row = _train(engine, tmp_path)
    assert row.status == "current"
    model = learning.load_model(row.path, row.sha256)
    assert row.parameters == learning.learned_from(model).as_json()
    with db.session_scope(engine) as session:
        assert session.get(ScoringModel, row.version).parameters == row.parameters  # as stored, to the last digit
    rng = np.random.default_rng(4)
    features = {kind: _criteria(rng, 50) for kind in KINDS}
    expected = {kind: model.predict_proba(model_input(kind, features[kind]))[:, 1] for kind in KINDS}

    Path(row.path).unlink()  # scoring does not need the file at all now
    learning.load_model.cache_clear()
    scorer = _current_scorer(engine)
    assert scorer.version == row.version and scorer.learned is not None
    for kind in KINDS:
        assert np.abs(scorer.score(kind, features[kind]) - expected[kind]).max() <= 1e-9
        assert np.array_equal(scorer.contributions(kind, features[kind]),
                              np.nan_to_num(features[kind]) * scoring.coefficients(model)[:len(FEATURES)])

    # Making a model current still checks its file: a model trained now is declined, its file then swapped.
    declined = _train(engine, tmp_path, promote=False)
    assert declined.status == "declined" and declined.parameters
    Path(declined.path).write_bytes(Path(declined.path).read_bytes() + b"tampered")
    with db.session_scope(db.writer(engine)) as session, pytest.raises(Conflict, match="recorded digest"):
        oversight.promote(session, declined.version)
    Path(declined.path).unlink()
    with db.session_scope(db.writer(engine)) as session, pytest.raises(Conflict, match="cannot be read"):
        oversight.promote(session, declined.version)


def test_a_model_from_before_0018_gets_no_numbers_and_is_scored_from_its_checked_file(engine, database_url, people,
                                                                                        tmp_path):
    _outcomes(engine, people["department"].department_id, 240)
    learning.load_model.cache_clear()
    row = _train(engine, tmp_path)
    model = learning.load_model(row.path, row.sha256)
    config = db.alembic_config(database_url)
    try:
        command.downgrade(config, "0017")  # the column goes, as if the model had been trained before 0018
        with engine.connect() as conn:
            assert "parameters" not in {c["name"] for c in sa.inspect(conn).get_columns("scoring_models")}
    finally:
        db.upgrade(database_url)
    with db.session_scope(engine) as session:
        assert session.get(ScoringModel, row.version).parameters == {}

    learning.load_model.cache_clear()
    scorer = _current_scorer(engine)
    features = _criteria(np.random.default_rng(5), 50)
    for kind in KINDS:
        expected = model.predict_proba(model_input(kind, features))[:, 1]
        assert np.abs(scorer.score(kind, features) - expected).max() <= 1e-9
    assert learning.load_model.cache_info().misses == 1  # it did read the file

    Path(row.path).write_bytes(Path(row.path).read_bytes() + b"tampered")
    learning.load_model.cache_clear()
    with pytest.raises(ModelRefused, match="does not match its recorded digest"):
        _current_scorer(engine)


SCORE_IN_A_FRESH_PROCESS = """
import json, sys
import numpy as np
from matching import council_settings, db
from matching.engine import learning, runs
with db.session_scope(db.engine_for(sys.argv[1])) as session:
    settings = council_settings.load(session, council_settings.MatchingSettings)
    scorer = learning.current_scorer(session, settings, learned=True)
features = np.array(json.loads(sys.argv[2]), dtype=np.float64)
print(json.dumps({"version": scorer.version, "scores": {kind: scorer.score(kind, features).tolist()
                                                       for kind in runs.KINDS},
                  "loaded": sorted(name for name in ("sklearn", "skops") if name in sys.modules)}))
"""


def test_scoring_with_a_learned_model_imports_neither_scikit_learn_nor_skops(engine, database_url, tmp_path):
    model = _fitted(6)
    with db.session_scope(db.writer(engine)) as session:  # its file is not there: scoring must not need it
        session.add(ScoringModel(version="model-fresh", path=str(tmp_path / "absent.skops"), sha256="0" * 64,
                                 status="current", parameters=learning.learned_from(model).as_json()))
    features = _criteria(np.random.default_rng(7), 20, missing=0.3)
    done = subprocess.run([sys.executable, "-c", SCORE_IN_A_FRESH_PROCESS, database_url,
                           json.dumps(np.where(np.isnan(features), None, features).tolist())],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"] == "model-fresh" and result["loaded"] == []
    for kind in KINDS:
        expected = model.predict_proba(model_input(kind, features))[:, 1]
        assert np.abs(np.array(result["scores"][kind]) - expected).max() <= 1e-9


LOADED_BEFORE_AND_AFTER_A_FILE = """
import sys
from matching.engine import learning, runs
print(sorted(name for name in ("sklearn", "skops") if name in sys.modules))
try:
    learning.load_model(sys.argv[1], "0" * 64)
except OSError:
    pass
learning.new_pipeline(0)
print(sorted(name for name in ("sklearn", "skops") if name in sys.modules))
"""


def test_the_probe_sees_both_once_a_model_file_is_loaded(tmp_path):
    """The check above can fail: the same probe sees both libraries once a file is loaded or a model made."""
    done = subprocess.run([sys.executable, "-c", LOADED_BEFORE_AND_AFTER_A_FILE, str(tmp_path / "absent.skops")],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    before, after = (json.loads(line.replace("'", '"')) for line in done.stdout.strip().splitlines())
    assert before == [] and after == ["sklearn", "skops"]
