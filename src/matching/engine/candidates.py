"""Sparse candidates: the best few eligible targets per person, without scoring every pair.

People are grouped into chunks of neighbours (a 5 km grid, then by how far they travel), and each chunk is only paired
with the targets inside its reach (its bounding box widened by the longest journey anyone in it will
make). Person-only and target-only rules drop rows and columns before any pair is formed; the pair rules
then run on the chunk's cross product, and each person keeps their `candidates_per_person` best pairs.
"""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from matching.council_settings import MatchingSettings
from matching.engine.features import feature_matrix, prepare
from matching.engine.rules import BY_NAME, passing
from matching.engine.scoring import Scorer
from matching.engine.state import State

NEAR = BY_NAME["within_travel"]
CHUNK = 128       # people per chunk: a chunk's cross product stays a few million pairs
GRID_KM = 5.0
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


def eligible_rows_and_columns(state: State, kind: str, settings: MatchingSettings,
                              room: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """People and targets that break no person or target rule. `room` (per person position): the proposals
    this run may still give them; those with none are dropped too, since no edge of theirs could be chosen
    (a target with no room left is dropped by its capacity rule)."""
    n, m = len(state.people), len(state.targets[kind])
    rows = passing(state, kind, np.arange(n), np.zeros(n, dtype=np.int64), settings, "person")
    cols = passing(state, kind, np.zeros(m, dtype=np.int64), np.arange(m), settings, "target")
    if room is not None:
        rows = rows[room[rows] > 0]
    return rows, cols


def generate(state: State, kind: str, settings: MatchingSettings, scorer: Scorer,
             progress: Progress | None = None, room: np.ndarray | None = None) -> Edges:
    """`room`: see `eligible_rows_and_columns`; None builds the edges of everyone eligible."""
    rows, cols = eligible_rows_and_columns(state, kind, settings, room)
    chunks = _chunks(state, rows)
    if not chunks:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(kind, empty, empty, np.zeros(0))
    prepare(state, kind)

    def one(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        return _chunk_candidates(state, kind, settings, scorer, chunk, cols)

    parts = []
    # numpy and scipy release the GIL in their loops, so chunks run side by side on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for number, part in enumerate(pool.map(one, chunks), 1):
            parts.append(part)
            if progress:
                progress(f"candidates ({kind})", number, len(chunks))
    pi, ti, score, considered = zip(*parts, strict=True)
    return Edges(kind, np.concatenate(pi), np.concatenate(ti), np.concatenate(score), sum(considered))


def _chunk_candidates(state: State, kind: str, settings: MatchingSettings, scorer: Scorer, chunk: np.ndarray,
                      cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    reach = _within_reach(state, kind, chunk, cols, settings)
    # Distance on the whole grid at once (broadcast, no gathers): it rules out most pairs.
    near = np.flatnonzero(NEAR.check(state, kind, chunk[:, None], reach[None, :], settings))
    pi, ti = chunk[near // len(reach)], reach[near % len(reach)]
    keep = passing(state, kind, pi, ti, settings, "pair", applied=frozenset({NEAR.name}))
    score = scorer.score(kind, feature_matrix(state, kind, pi[keep], ti[keep]))
    return (*_best_per_person(chunk, reach, near[keep], score, settings.candidates_per_person),
            len(chunk) * len(reach))


def _chunks(state: State, rows: np.ndarray) -> list[np.ndarray]:
    xy = state.people.xy[rows]
    cell = np.where(np.isnan(xy), -1, np.floor(np.nan_to_num(xy) / GRID_KM)).astype(np.int64)
    # Neighbours together, and within a cell those who travel alike, so each chunk's reach stays small.
    order = np.lexsort((rows, state.people.travel_km[rows], cell[:, 1], cell[:, 0]))
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


def _best_per_person(chunk: np.ndarray, reach: np.ndarray, eligible: np.ndarray, score: np.ndarray, keep: int):
    """Each person's `keep` best eligible pairs: a partial sort of each row of the chunk's score grid."""
    grid = np.full(len(chunk) * len(reach), -1.0)
    grid[eligible] = score
    grid = grid.reshape(len(chunk), len(reach))
    if len(reach) > keep:
        columns = np.argpartition(-grid, keep - 1, axis=1)[:, :keep]
    else:
        columns = np.broadcast_to(np.arange(len(reach)), (len(chunk), len(reach)))
    rows = np.repeat(np.arange(len(chunk)), columns.shape[1])
    picked = grid[rows, columns.ravel()]
    found = picked >= 0  # ineligible cells hold -1
    return chunk[rows[found]], reach[columns.ravel()[found]], picked[found]
