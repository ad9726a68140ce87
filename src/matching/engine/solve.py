"""The exact choice of proposals: a maximum-weight b-matching, solved as a min-cost flow with OR-Tools.

source -> person (capacity: proposals a person may get) -> target (capacity 1 per pair) -> sink
(capacity: the target's free slots or referrals). A zero-cost arc straight from source to sink lets any
unit of supply go unused, so the flow takes an edge only when it adds value: the cheapest flow is then
exactly the set of proposals with the greatest total score under every capacity.

Coverage: each person's supply arrives on two arcs, the first unit carrying the person's bonus (a negative
cost) and the rest none. A cheaper arc is always used first, so the objective is the total score plus each
person's bonus once if they are proposed anything: the solver gives up up to `bonus` of total score to give
someone a first proposal rather than give another person a better or a further one.
"""

import numpy as np
from ortools.graph.python import min_cost_flow

SCALE = 1_000_000  # scores are costs in millionths: OR-Tools needs integers


class SolverFailed(RuntimeError):
    pass


def assign(pi: np.ndarray, ti: np.ndarray, score: np.ndarray, person_limit: np.ndarray | int,
           target_limit: np.ndarray, first_bonus: np.ndarray | None = None) -> np.ndarray:
    """A mask over the edges: True for the chosen ones. `target_limit` is indexed by target position;
    `person_limit` by person position, or one number for everyone; `first_bonus` (by person position, in
    score units) is added once for each person proposed anything."""
    if len(pi) == 0:
        return np.zeros(0, dtype=bool)
    people, p_node = np.unique(pi, return_inverse=True)
    targets, t_node = np.unique(ti, return_inverse=True)
    n, source, sink = len(people), 0, 1
    p_node, t_node = p_node + 2, t_node + 2 + n
    p_cap = np.broadcast_to(np.asarray(person_limit), people.shape) if np.ndim(person_limit) == 0 \
        else np.asarray(person_limit)[people]
    p_cap = p_cap.astype(np.int64)
    first = np.minimum(p_cap, 1)
    bonus = np.zeros(n) if first_bonus is None else np.asarray(first_bonus, dtype=np.float64)[people]
    t_cap = np.asarray(target_limit)[targets]
    supply = int(p_cap.sum())
    person_nodes = 2 + np.arange(n)
    tails = np.concatenate([[source], np.full(2 * n, source), p_node, 2 + n + np.arange(len(targets))])
    heads = np.concatenate([[sink], person_nodes, person_nodes, t_node, np.full(len(targets), sink)])
    capacity = np.concatenate([[supply], first, p_cap - first, np.ones(len(pi), dtype=np.int64),
                               t_cap]).astype(np.int64)
    cost = np.concatenate([[0], -np.rint(bonus * SCALE), np.zeros(n), -np.rint(score * SCALE),
                           np.zeros(len(targets))]).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacity, cost)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status}")
    edge_arcs = arcs[1 + 2 * n: 1 + 2 * n + len(pi)]
    return flow.flows(edge_arcs) > 0


def total(score: np.ndarray, chosen: np.ndarray) -> int:
    """The total score in the solver's integer units, for comparing solutions exactly."""
    return int(np.rint(score[chosen] * SCALE).sum())


def objective(pi: np.ndarray, score: np.ndarray, chosen: np.ndarray, first_bonus: np.ndarray | None = None) -> int:
    """What `assign` maximises, in its integer units: the total score plus the bonus of each person proposed."""
    covered = np.unique(pi[chosen])
    bonus = 0 if first_bonus is None or len(covered) == 0 else int(np.rint(first_bonus[covered] * SCALE).sum())
    return total(score, chosen) + bonus
