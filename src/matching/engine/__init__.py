"""The matching engine: hard rules, explained scores, an exact solver under capacity, learning from outcomes.

Callable alike from the API, the jobs, the CLI and notebooks: everything takes an engine or a session.
The entry points are loaded on first use: scikit-learn, skops and OR-Tools take seconds to import, and
`matching.engine.geo` (used by the fixtures) needs none of them.
"""

from importlib import import_module

_WHERE = {"alternatives": "explain", "run": "runs", "fairness": "learning", "train": "learning"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'matching.engine' has no attribute {name!r}")
    return getattr(import_module(f"matching.engine.{_WHERE[name]}"), name)
