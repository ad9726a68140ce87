"""One young person's alternatives of each kind, ranked with their reasons, and why the rest were excluded.

Apart from a run (runs.py), so what explains one person loads neither OR-Tools nor the candidate generation:
`springboard match explain` answers in a fresh process, where every import counts (issue 16: under 1 s).
"""

from datetime import date
from typing import Any

import numpy as np
from sqlmodel import Session

from matching import council_settings
from matching.council_settings import MatchingSettings
from matching.engine import learning
from matching.engine.features import feature_matrix
from matching.engine.rules import BY_NAME, first_broken
from matching.engine.scoring import Scorer, reasons
from matching.engine.state import KINDS, State, read_state
from matching.errors import NotFound


def alternatives(session: Session, care_leaver_id: int, *, today: date, limit: int = 10) -> dict[str, Any]:
    """One young person's ranked alternatives of each kind with reasons, and why the rest were excluded."""
    settings = council_settings.load(session, MatchingSettings)
    state = read_state(session.connection(), today, referrals_per_place=settings.referrals_per_place,
                       only=[care_leaver_id], reuse_targets=True)
    if len(state.people) == 0:
        raise NotFound("care leaver", care_leaver_id)
    scorer = learning.current_scorer(session, settings)
    found: dict[str, Any] = {"care_leaver_id": care_leaver_id, "case_reference": state.people.references[0],
                             "model_version": scorer.version}
    for kind in KINDS:
        found[kind] = _alternatives_of_kind(state, kind, settings, scorer, limit)
    return found


def _alternatives_of_kind(state: State, kind: str, settings: MatchingSettings, scorer: Scorer,
                          limit: int) -> dict[str, Any]:
    side = state.targets[kind]
    ti = np.arange(len(side))
    pi = np.zeros(len(side), dtype=np.int64)
    broken = first_broken(state, kind, pi, ti, settings)
    ok = np.flatnonzero(broken == "")
    features = feature_matrix(state, kind, pi[ok], ok)
    scores, parts = scorer.score(kind, features), scorer.contributions(kind, features)
    ranked = np.lexsort((ok, -scores))[:limit]
    excluded: dict[str, int] = {}
    for name in broken[broken != ""]:
        excluded[name] = excluded.get(name, 0) + 1
    return {
        "eligible": len(ok),
        "ranked": [{"id": int(side.ids[ok[i]]), "label": side.labels[ok[i]], "score": round(float(scores[i]), 4),
                    "reasons": said} for i, said in zip(ranked, reasons(state, kind, pi[ok][ranked], ok[ranked],
                                                                        parts[ranked]), strict=True)],
        "excluded": [{"rule": name, "says": BY_NAME[name].says, "count": count}
                     for name, count in sorted(excluded.items(), key=lambda item: -item[1])],
    }
