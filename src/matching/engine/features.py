"""What makes a pair a good one: each criterion as a number in [0, 1] per pair (its words: reasons.py).

Like the rules, each feature works on arrays of pair positions, so runs, explanations and training all
compute them with the same code. `APPLIES` says which kinds a criterion means anything for; scores are
normalised over those only, so a mentor is not marked down for having no closing date.
"""

import numpy as np

from matching.engine.state import State, bitsets, tfidf

FULL_DAYS_SHARED = 2       # two shared free days make a mentoring pair easy to arrange
HOURS_PER_DAY = 7.5
WAITING_FULL_WEEKS = 26    # after six months of waiting, the waiting criterion is at its strongest
DENSE_CELLS = 20_000_000   # largest people-by-targets similarity block computed densely (160 MB)


def distance_km(state: State, kind: str, pi: np.ndarray, ti: np.ndarray) -> np.ndarray:
    """Straight-line km between the districts' centroids; NaN when either is unknown. Works on a grid too
    (pi a column, ti a row), as candidate generation uses it."""
    people, targets = state.people.xy, state.targets[kind].xy
    dx = people[:, 0][pi] - targets[:, 0][ti]
    dy = people[:, 1][pi] - targets[:, 1][ti]
    return np.sqrt(dx * dx + dy * dy)


def _positions(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for small non-negative ints, without sorting."""
    present = np.zeros(size, dtype=bool)
    present[values] = True
    return np.flatnonzero(present), (np.cumsum(present) - 1)[values]


def interests(state: State, kind: str, pi: np.ndarray, ti: np.ndarray) -> np.ndarray:
    """Cosine similarity of tf-idf vectors: interests, skills and goals against expertise or the job."""
    vectors = tfidf(state, kind)
    if vectors is None or len(pi) == 0:
        return np.zeros(len(pi))
    people, targets = vectors
    rows, r = _positions(pi, people.shape[0])
    if len(rows) == 1:  # one young person (their alternatives): their words against each target's, in numpy
        out = targets.dot_row(people, int(rows[0]))[ti]
        return np.clip(out, 0.0, 1.0)
    people, targets = people.csr(), targets.csr()
    cols, c = _positions(ti, targets.shape[0])
    if len(rows) * len(cols) <= DENSE_CELLS:  # a block of pairs (a run's chunk): one product
        out = (people[rows] @ targets[cols].T).toarray()[r, c]
    else:  # scattered pairs (training): row by row
        out = np.asarray(people[pi].multiply(targets[ti]).sum(axis=1)).ravel()
    return np.clip(out, 0.0, 1.0)


def _overlap(state: State, kind: str, pi: np.ndarray, ti: np.ndarray, attribute: str) -> np.ndarray:
    people, targets = bitsets(state, kind, attribute)
    return (np.bitwise_and(people[pi], targets[ti]) != 0).any(axis=1).astype(np.float64)


def sector(state, kind, pi, ti):
    return _overlap(state, kind, pi, ti, "sectors")


def languages(state, kind, pi, ti):
    return _overlap(state, kind, pi, ti, "languages")


def distance(state, kind, pi, ti):
    """1 next door, 0 at the furthest the young person will travel; 0 when a district is unknown."""
    closeness = 1.0 - distance_km(state, kind, pi, ti) / np.maximum(state.people.travel_km[pi], 1.0)
    return np.clip(np.nan_to_num(closeness, nan=0.0), 0.0, 1.0)


def days(state, kind, pi, ti):
    free = state.people.days[pi]
    if kind == "mentoring":
        return np.minimum(1.0, np.bitwise_count(free & state.targets[kind].days[ti]) / FULL_DAYS_SHARED)
    free = np.bitwise_count(free)
    needed = np.ceil(state.targets[kind].hours[ti] / HOURS_PER_DAY)
    return np.where(needed > 0, np.minimum(1.0, free / np.maximum(needed, 1)), 1.0)


def qualification(state, kind, pi, ti):
    """1 when the young person has what is asked, fading when far over-qualified (it may not stretch them)."""
    if kind == "mentoring":
        return np.zeros(len(pi))
    over = state.people.qualification[pi].astype(np.float64) - state.targets[kind].qualification[ti]
    return np.clip(1.0 - np.maximum(over - 2, 0) * 0.25, 0.0, 1.0)


def ring_fenced(state, kind, pi, ti):
    return state.targets[kind].ring_fenced[ti].astype(np.float64)


def guaranteed_interview(state, kind, pi, ti):
    return state.targets[kind].guaranteed_interview[ti].astype(np.float64)


def waiting(state, kind, pi, ti):
    return np.minimum(1.0, state.people.waiting_weeks[kind][pi] / WAITING_FULL_WEEKS)


FEATURE_FUNCTIONS = {"interests": interests, "sector": sector, "distance": distance, "days": days,
                     "languages": languages, "qualification": qualification, "ring_fenced": ring_fenced,
                     "guaranteed_interview": guaranteed_interview, "waiting": waiting}
OPPORTUNITY_ONLY = {"qualification", "ring_fenced", "guaranteed_interview"}
APPLIES = {kind: np.array([kind == "opportunity" or name not in OPPORTUNITY_ONLY for name in FEATURE_FUNCTIONS])
           for kind in ("mentoring", "opportunity")}


def prepare(state: State, kind: str) -> None:
    """Build the lazily cached arrays now, before threads share the state."""
    if (vectors := tfidf(state, kind)) is not None:
        for rows in vectors:
            rows.csr()
    for attribute in ("sectors", "languages"):
        bitsets(state, kind, attribute)


def feature_matrix(state: State, kind: str, pi: np.ndarray, ti: np.ndarray) -> np.ndarray:
    """(pairs, features) in the order of FEATURE_FUNCTIONS."""
    matrix = np.empty((len(pi), len(FEATURE_FUNCTIONS)), order="F")  # filled column by column
    for column, feature in enumerate(FEATURE_FUNCTIONS.values()):
        if len(pi):
            matrix[:, column] = feature(state, kind, pi, ti)
    return matrix
