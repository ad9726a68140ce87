"""Sparse candidates: the best few eligible targets per person, without scoring every pair.

People are grouped into chunks of neighbours (a 10 km grid, then by id), and each chunk is only paired
with the targets inside its reach (its bounding box widened by the longest journey anyone in it will
make). Person-only and target-only rules drop rows and columns before any pair is formed; the pair rules
then run on the chunk's cross product, and each person keeps their `candidates_per_person` best pairs.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matching.council_settings import MatchingSettings
from matching.engine.features import feature_matrix
from matching.engine.rules import passing
from matching.engine.scoring import Scorer
from matching.engine.state import State

CHUNK = 256       # people per chunk: a chunk's cross product stays a few million pairs
GRID_KM = 10.0
Progress = Callable[[str, int, int], None]


@dataclass
class Edges:
    """Candidate pairs of one kind, as positions into the state's people and targets."""

    kind: str
    pi: np.ndarray
    ti: np.ndarray
    score: np.ndarray
    considered: int = 0  # pairs within reach that the pair rules looked at

    def __len__(self) -> int:
        return len(self.pi)


def eligible_rows_and_columns(state: State, kind: str, settings: MatchingSettings) -> tuple[np.ndarray, np.ndarray]:
    n, m = len(state.people), len(state.targets[kind])
    rows = np.flatnonzero(passing(state, kind, np.arange(n), np.zeros(n, dtype=np.int64), settings, "person"))
    cols = np.flatnonzero(passing(state, kind, np.zeros(m, dtype=np.int64), np.arange(m), settings, "target"))
    return rows, cols


def generate(state: State, kind: str, settings: MatchingSettings, scorer: Scorer,
             progress: Progress | None = None) -> Edges:
    rows, cols = eligible_rows_and_columns(state, kind, settings)
    parts, considered = [], 0
    chunks = _chunks(state, rows)
    for number, chunk in enumerate(chunks, 1):
        reach = _within_reach(state, kind, chunk, cols, settings)
        pi, ti = np.repeat(chunk, len(reach)), np.tile(reach, len(chunk))
        considered += len(pi)
        keep = passing(state, kind, pi, ti, settings, "pair")
        pi, ti = pi[keep], ti[keep]
        score = scorer.score(kind, feature_matrix(state, kind, pi, ti))
        parts.append(_best_per_person(pi, ti, score, settings.candidates_per_person))
        if progress:
            progress(f"candidates ({kind})", number, len(chunks))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(kind, empty, empty, np.zeros(0), considered)
    pi, ti, score = (np.concatenate(column) for column in zip(*parts, strict=True))
    return Edges(kind, pi, ti, score, considered)


def _chunks(state: State, rows: np.ndarray) -> list[np.ndarray]:
    xy = state.people.xy[rows]
    cell = np.where(np.isnan(xy), -1, np.floor(np.nan_to_num(xy) / GRID_KM)).astype(np.int64)
    order = np.lexsort((rows, cell[:, 1], cell[:, 0]))
    ordered = rows[order]
    return [ordered[start:start + CHUNK] for start in range(0, len(ordered), CHUNK)]


def _within_reach(state: State, kind: str, chunk: np.ndarray, cols: np.ndarray,
                  settings: MatchingSettings) -> np.ndarray:
    xy = state.people.xy[chunk]
    if np.isnan(xy).any() or len(cols) == 0:
        return cols  # someone's district is unknown: nothing can be ruled out by distance
    reach = min(float(state.people.travel_km[chunk].max()), settings.max_distance_km)
    low, high = xy.min(axis=0) - reach, xy.max(axis=0) + reach
    target = state.targets[kind].xy[cols]
    inside = np.isnan(target).any(axis=1) | ((target >= low) & (target <= high)).all(axis=1)
    return cols[inside]


def _best_per_person(pi: np.ndarray, ti: np.ndarray, score: np.ndarray, keep: int):
    order = np.lexsort((ti, -score, pi))  # by person, best first, ties broken by target for repeatability
    pi, ti, score = pi[order], ti[order], score[order]
    rank = np.arange(len(pi)) - np.searchsorted(pi, pi, side="left")
    best = rank < keep
    return pi[best], ti[best], score[best]
