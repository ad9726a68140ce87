"""Turning criteria into one score in [0, 1], and the score back into reasons.

Two scorers share one interface: the manager's weights (documented defaults until changed), and a learned
model once one has beaten the weights on held-out outcomes. Both are linear in the criteria, so every
score splits into per-criterion contributions, and the largest of those become the proposal's reasons.
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

assert tuple(FEATURE_FUNCTIONS) == FEATURES, "the settings and the engine must list the same criteria"
TOP_REASONS = 4


def model_input(kind: str, features: np.ndarray) -> np.ndarray:
    """What a learned model sees: the criteria plus whether the pair is an opportunity."""
    return np.column_stack([features, np.full(len(features), float(kind == "opportunity"))])


@dataclass
class Scorer:
    version: str
    weights: np.ndarray | None = None
    model: Any = None  # a fitted, calibrated scikit-learn estimator (see learning.py)

    def score(self, kind: str, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0)
        if self.model is not None:
            return self.model.predict_proba(model_input(kind, features))[:, 1]
        weights = self.weights * APPLIES[kind]
        return features @ weights / weights.sum() if weights.sum() else np.zeros(len(features))

    def contributions(self, kind: str, features: np.ndarray) -> np.ndarray:
        if self.model is not None:
            return features * coefficients(self.model)[: features.shape[1]]
        return features * (self.weights * APPLIES[kind])


def coefficients(model: Any) -> np.ndarray:
    """The linear weights inside a calibrated pipeline (the base estimator fitted on all the data)."""
    return model.calibrated_classifiers_[0].estimator[-1].coef_[0]


def weights_scorer(settings: MatchingSettings) -> Scorer:
    weights = np.array([settings.weights[name] for name in FEATURES], dtype=np.float64)
    digest = hashlib.sha256(json.dumps(settings.weights, sort_keys=True).encode()).hexdigest()[:8]
    return Scorer(version=f"weights-{digest}", weights=weights)


def reasons(state: State, kind: str, pi: np.ndarray, ti: np.ndarray, contributions: np.ndarray) -> list[list[str]]:
    """For each pair, the criteria that added most to its score, as sentences that are true of the pair."""
    return top_reasons(state, kind, pi, ti, contributions, TOP_REASONS)
