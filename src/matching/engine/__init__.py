"""The matching engine: hard rules, explained scores, an exact solver under capacity, learning from outcomes.

Callable alike from the API, the jobs, the CLI and notebooks: everything takes an engine or a session.
"""

from matching.engine.learning import fairness, train
from matching.engine.runs import alternatives, run

__all__ = ["alternatives", "fairness", "run", "train"]
