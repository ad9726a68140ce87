"""Turning criteria into one score in [0, 1], and the score back into reasons.

Two scorers share one interface: the manager's weights (documented defaults until changed), and a learned
model once one has beaten the weights on held-out outcomes. Both are linear in the criteria, so every
score splits into per-criterion contributions, and the largest of those become the proposal's reasons.

A learned model scores here as the plain numbers training took from it (`Learned`, stored on its
`scoring_models` row), with numpy alone: scoring, and so `match explain` and every run, never imports
scikit-learn or skops, which take seconds to load. Only training, evaluating and checking a model's file do
(learning.py).
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.council_settings import FEATURES, MatchingSettings
from matching.engine.features import APPLIES, FEATURE_FUNCTIONS
from matching.engine.reasons import top_reasons
from matching.engine.state import State
from matching.errors import Conflict

assert tuple(FEATURE_FUNCTIONS) == FEATURES, "the settings and the engine must list the same criteria"
TOP_REASONS = 4


def model_input(kind: str, features: np.ndarray) -> np.ndarray:
    """What a learned model sees: the criteria plus whether the pair is an opportunity."""
    return np.column_stack([features, np.full(len(features), float(kind == "opportunity"))])


INPUTS = (*FEATURES, "is_opportunity")  # what a learned model sees, in order (model_input)
LEARNED_FORM = "calibrated-logistic-1"  # the only form of learned model there is (learning.new_pipeline)


class ModelRefused(Conflict):
    pass


def _imputed(values: np.ndarray) -> np.ndarray:
    """A missing value (NaN) as 0, as the learned pipeline's imputer takes it."""
    return np.where(np.isnan(values), 0.0, values)


@dataclass(frozen=True)
class Learned:
    """A calibrated logistic regression as numbers: P(success) = 1 / (1 + exp(a * f + b)), where the
    decision f = x . coef + intercept over the model input x with a missing value (NaN) taken as 0, as the
    pipeline's imputer does. Equal to the fitted pipeline's `predict_proba(x)[:, 1]` (tests/test_learned_scorer)."""

    coef: np.ndarray  # one per INPUTS
    intercept: float
    a: float
    b: float

    def decision(self, inputs: np.ndarray) -> np.ndarray:
        return _imputed(inputs) @ self.coef + self.intercept

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Each criterion's part of the decision (a criterion not known adds nothing, as it is 0 to the model)."""
        return _imputed(features) * self.coef[: features.shape[1]]

    def probability(self, inputs: np.ndarray) -> np.ndarray:
        # 1 / (1 + e^z) as e^-log(1 + e^z): no overflow however far from the boundary a pair is
        return np.exp(-np.logaddexp(0.0, self.a * self.decision(inputs) + self.b))

    def as_json(self) -> dict[str, Any]:
        return {"form": LEARNED_FORM, "inputs": list(INPUTS), "coef": [float(c) for c in self.coef],
                "intercept": float(self.intercept), "calibration": {"a": float(self.a), "b": float(self.b)}}

    @classmethod
    def from_json(cls, version: str, data: dict[str, Any]) -> "Learned":
        """The numbers stored for `version`, refused (never guessed at) when they are not of the one form
        there is or were learned over other criteria than today's."""
        if data.get("form") != LEARNED_FORM or data.get("inputs") != list(INPUTS):
            raise ModelRefused(f"the scoring model {version} was stored in another form or over other criteria "
                               f"than {', '.join(INPUTS)}; retrain it")
        try:
            learned = cls(coef=np.array(data["coef"], dtype=np.float64), intercept=float(data["intercept"]),
                          a=float(data["calibration"]["a"]), b=float(data["calibration"]["b"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelRefused(f"the stored numbers of the scoring model {version} are incomplete; retrain "
                               f"it") from error
        numbers = np.array([*learned.coef, learned.intercept, learned.a, learned.b])
        if learned.coef.shape != (len(INPUTS),) or not np.isfinite(numbers).all():
            raise ModelRefused(f"the stored numbers of the scoring model {version} are not one finite number "
                               f"per criterion; retrain it")
        return learned


@dataclass
class Scorer:
    version: str
    weights: np.ndarray | None = None
    learned: Learned | None = None

    def score(self, kind: str, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0)
        if self.learned is not None:
            return self.learned.probability(model_input(kind, features))
        weights = self.weights * APPLIES[kind]
        return features @ weights / weights.sum() if weights.sum() else np.zeros(len(features))

    def contributions(self, kind: str, features: np.ndarray) -> np.ndarray:
        if self.learned is not None:
            return self.learned.contributions(features)
        return features * (self.weights * APPLIES[kind])


def coefficients(model: Any) -> np.ndarray:
    """The linear weights inside a fitted, calibrated pipeline (for notebooks that hold the model itself)."""
    from matching.engine.learning import learned_from  # scikit-learn's objects: only given one of them

    return learned_from(model).coef


def weights_scorer(settings: MatchingSettings) -> Scorer:
    weights = np.array([settings.weights[name] for name in FEATURES], dtype=np.float64)
    digest = hashlib.sha256(json.dumps(settings.weights, sort_keys=True).encode()).hexdigest()[:8]
    return Scorer(version=f"weights-{digest}", weights=weights)


def reasons(state: State, kind: str, pi: np.ndarray, ti: np.ndarray, contributions: np.ndarray) -> list[list[str]]:
    """For each pair, the criteria that added most to its score, as sentences that are true of the pair."""
    return top_reasons(state, kind, pi, ti, contributions, TOP_REASONS)
