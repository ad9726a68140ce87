"""The hard rules: a pair that breaks any of them is never proposed, whatever its score.

Each rule is a named function over arrays of pair positions (`pi` into people, `ti` into one kind of
target) returning True where the pair passes, so the same code checks one pair for an explanation and
millions in a run. `RULES` is the one list, in the order an explanation names the first rule broken.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matching.council_settings import MatchingSettings
from matching.engine.features import FEATURE_FUNCTIONS, distance_km
from matching.engine.state import State

Check = Callable[[State, str, np.ndarray, np.ndarray, MatchingSettings], np.ndarray]


@dataclass(frozen=True)
class Rule:
    name: str
    says: str        # what breaking it means, in words
    scope: str       # person, target or pair: lets a run filter rows and columns before pairs
    kinds: tuple[str, ...]
    check: Check
    # The words for one pair, naming what broke the rule (a refusal shows them); `says` when None.
    detail: Callable[[State, str, int, int], str] | None = None

    def words(self, state: State, kind: str, p: int, t: int) -> str:
        return self.detail(state, kind, p, t) if self.detail else self.says


def _person(column: str) -> Check:
    return lambda state, kind, pi, ti, settings: getattr(state.people, column)[pi]


def consent_to_share(state, kind, pi, ti, settings):
    return state.people.consent[kind][pi]


def no_live_match_of_kind(state, kind, pi, ti, settings):
    return ~state.people.busy[kind][pi]


def target_status(state, kind, pi, ti, settings):
    return state.targets[kind].status_ok[ti]


def _vetted(name: str) -> Check:
    return lambda state, kind, pi, ti, settings: state.targets[kind].vetted[name][ti]


def has_room(state, kind, pi, ti, settings):
    return state.targets[kind].remaining[ti] > 0


def within_age_range(state, kind, pi, ti, settings):
    side, age = state.targets[kind], state.people.age[pi]
    return (age >= side.min_age[ti]) & (age <= side.max_age[ti])


def meets_qualification(state, kind, pi, ti, settings):
    return state.people.qualification[pi] >= state.targets[kind].qualification[ti]


def right_to_work(state, kind, pi, ti, settings):
    return ~state.targets[kind].paid[ti] | state.people.right_to_work[pi]


def within_travel(state, kind, pi, ti, settings):
    # An unknown district cannot prove a pair too far; the distance feature then scores it as neutral.
    distance = distance_km(state, kind, pi, ti)
    limit = np.minimum(state.people.travel_km[pi], settings.max_distance_km)
    return ~(distance > limit)


def _not_in(keys_of: str) -> Check:
    def check(state, kind, pi, ti, settings):
        history = state.history[kind]
        keys = getattr(history, keys_of)
        passes = np.ones(len(pi), dtype=bool)
        if len(keys) == 0:
            return passes
        # Only the few people with such a history need the (slower) key lookup.
        involved = np.zeros(len(state.people), dtype=bool)
        involved[keys // history.width] = True
        some = np.flatnonzero(involved[pi])
        passes[some] = ~np.isin(pi[some].astype(np.int64) * history.width + ti[some], keys)
        return passes
    return check


def _must_have(feature: str) -> Check:
    def check(state, kind, pi, ti, settings):
        values = FEATURE_FUNCTIONS[feature](state, kind, pi, ti)
        return np.nan_to_num(values, nan=0.0) > 0
    return check


BOTH = ("mentoring", "opportunity")
RULES: list[Rule] = [
    Rule("case_open", "the young person's case is closed", "person", BOTH, _person("case_open")),
    Rule("consent_to_share", "the young person has not agreed to share their profile", "person", BOTH,
         consent_to_share),
    Rule("no_live_match_of_kind", "the young person already has a match (or a proposed mentor) of this kind",
         "person", BOTH, no_live_match_of_kind),
    Rule("mentor_active", "the mentor is not active", "target", ("mentoring",), target_status,
         lambda state, kind, p, t: f"the mentor is not taking mentees now (their status is "
                                   f"{state.targets[kind].statuses[t]})"),
    Rule("mentor_dbs_checked", "the mentor has no DBS check in the last 3 years", "target", ("mentoring",),
         _vetted("mentor_dbs_checked")),
    Rule("mentor_safeguarding_trained", "the mentor has no safeguarding training in the last 3 years", "target",
         ("mentoring",),
         _vetted("mentor_safeguarding_trained")),
    Rule("mentor_has_capacity", "the mentor has no capacity left", "target", ("mentoring",), has_room),
    Rule("opportunity_open", "the opportunity is not open", "target", ("opportunity",), target_status,
         lambda state, kind, p, t: f"the opportunity “{state.targets[kind].labels[t]}” is "
                                   f"{state.targets[kind].statuses[t]}, not open"),
    Rule("opportunity_not_past_closing", "the opportunity is past its closing date", "target", ("opportunity",),
         _vetted("opportunity_not_past_closing")),
    Rule("opportunity_has_places", "the opportunity is full", "target", ("opportunity",), has_room),
    Rule("within_travel", "further than the young person will travel", "pair", BOTH, within_travel),
    Rule("within_age_range", "the young person is outside the opportunity's age range", "pair", ("opportunity",),
         within_age_range),
    Rule("meets_qualification", "the young person is below the qualification it requires", "pair",
         ("opportunity",), meets_qualification),
    Rule("right_to_work", "paid work needs a confirmed, unexpired right to work", "pair", ("opportunity",),
         right_to_work),
    Rule("not_rejected_before", "an adviser rejected this pair before", "pair", BOTH, _not_in("rejected")),
    Rule("not_already_proposed", "this pair is already proposed and waiting for a decision", "pair", BOTH,
         _not_in("pending")),
    *[Rule(f"must_have_{feature}", f"a manager made '{feature}' a must-have and this pair lacks it", "pair", BOTH,
           _must_have(feature)) for feature in FEATURE_FUNCTIONS],
]
BY_NAME = {rule.name: rule for rule in RULES}


def rules_for(kind: str, settings: MatchingSettings, scope: str | None = None) -> list[Rule]:
    """The rules that apply: for this kind, in this scope, and only the must-haves the manager set."""
    return [rule for rule in RULES if kind in rule.kinds and (scope is None or rule.scope == scope)
            and (not rule.name.startswith("must_have_") or rule.name.removeprefix("must_have_") in settings.must_have)]


def passing(state: State, kind: str, pi: np.ndarray, ti: np.ndarray, settings: MatchingSettings,
            scope: str | None = None, applied: frozenset[str] = frozenset()) -> np.ndarray:
    """Positions of the pairs that break no rule. Each rule sees only the pairs the rules before it let
    through, so the selective ones (distance first) make the rest cheap. `applied`: rules the caller has
    already applied to these pairs."""
    keep = np.arange(len(pi))
    for rule in rules_for(kind, settings, scope):
        if rule.name in applied:
            continue
        keep = keep[rule.check(state, kind, pi[keep], ti[keep], settings)]
        if len(keep) == 0:
            break
    return keep


def broken_by(state: State, kind: str, p: int, t: int, settings: MatchingSettings,
              names: frozenset[str] | None = None) -> Rule | None:
    """The first rule (of `names`, or all that apply) that one pair breaks, or None."""
    pi, ti = np.array([p]), np.array([t])
    return next((rule for rule in rules_for(kind, settings) if (names is None or rule.name in names)
                 and not rule.check(state, kind, pi, ti, settings)[0]), None)


def first_broken(state: State, kind: str, pi: np.ndarray, ti: np.ndarray,
                 settings: MatchingSettings) -> np.ndarray:
    """For each pair, the name of the first rule it breaks, or '' when it is eligible."""
    broken = np.full(len(pi), "", dtype=object)
    for rule in rules_for(kind, settings):
        fails = (broken == "") & ~rule.check(state, kind, pi, ti, settings)
        broken[fails] = rule.name
    return broken
