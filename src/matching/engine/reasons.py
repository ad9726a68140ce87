"""Reasons in words, each written from the fact it states, so a reason is true by construction.

For every criterion, `facts` works out, per pair, the one fact its reason would state (the shared days,
the districts, the hours against the days free, the words both sides share...) from the same arrays the
rules and features read, or None when there is nothing true and positive to say. `words` then turns a
fact, and only the fact, into a sentence. A criterion that adds to a score but has no true sentence
(six free days asked of someone free on two) gives no reason, and the next criterion speaks instead.
`tests/test_reasons_true.py` recomputes every stored reason's claim from the records.
"""

from collections.abc import Callable
from math import ceil

import numpy as np

from matching.council_settings import FEATURES
from matching.engine.features import HOURS_PER_DAY, distance_km
from matching.engine.state import State
from matching.vocab import DAYS

# Tags are stored lower-cased (models.base.Tags); these words are shown as the acronyms they are.
ACRONYMS = frozenset({"it", "ict", "hr", "nhs", "cscs", "dbs", "gcse", "hgv", "cctv", "sen", "send", "pr", "ui",
                      "ux", "sql", "seo", "cad", "bsl", "esol", "lgv", "pcv", "sia", "cv"})
SAME_DISTRICT = "same"  # the distance fact when both sides give the same postcode district
MOST_SHARED_WORDS = 3   # "both interested in a, b and c": more reads as a list, not a reason
DAY_NAMES = list(DAYS.values())


def shown(phrase: str) -> str:
    """A stored (lower-case) tag as a person would write it: 'it and digital' -> 'IT and digital'."""
    return " ".join(word.upper() if word in ACRONYMS else word for word in phrase.split(" "))


def listed(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c', in the order given. With more than one item, an item that itself holds
    'and' or a comma is quoted, so 'IT and digital' and 'health' never read as three things."""
    if len(items) == 1:
        return items[0]
    items = [f"‘{item}’" if " and " in item or "," in item else item for item in items]
    return f"{', '.join(items[:-1])} and {items[-1]}"


# Facts are tuples of plain values (sorted words, not sets): the garbage collector stops tracking those, so
# tens of thousands of them do not set off full collections of the run's large heap.

def _shared(mine: list[set[str]], theirs: list[set[str]], pairs) -> list[tuple[str, ...] | None]:
    return [tuple(sorted(both)) if (both := mine[p] & theirs[t]) else None for p, t in pairs]


def _interests(state, kind, pi, ti, pairs):
    # Every pair whose interests criterion scores has a reason: the tags both sides name, if any
    # (() when the similarity comes from other words they share: aspirations, titles).
    return [tuple(sorted(state.people.tags[p] & state.targets[kind].tags[t])) for p, t in pairs]


def _sector(state, kind, pi, ti, pairs):
    return _shared(state.people.sectors, state.targets[kind].sectors, pairs)


def _languages(state, kind, pi, ti, pairs):
    return _shared(state.people.languages, state.targets[kind].languages, pairs)


def _distance(state, kind, pi, ti, pairs):
    same = state.people.areas[pi] == state.targets[kind].areas[ti]
    same &= state.people.areas[pi] != ""
    # NaN (a district unknown: the distance criterion then scores nothing either) becomes None.
    kms = np.where(same, -1.0, np.round(distance_km(state, kind, pi, ti), 1)).tolist()
    return [SAME_DISTRICT if km == -1.0 else None if km != km else km for km in kms]


def _days(state, kind, pi, ti, pairs):
    free = state.people.days[pi]
    if kind == "mentoring":
        return [both or None for both in (free & state.targets[kind].days[ti]).tolist()]
    counts = np.bitwise_count(free).tolist()
    return [(hours, days) if hours > 0 and days >= ceil(hours / HOURS_PER_DAY) else None
            for hours, days in zip(state.targets[kind].hours[ti].tolist(), counts, strict=True)]


def _qualification(state, kind, pi, ti, pairs):
    have, asked = state.people.qualification[pi].tolist(), state.targets[kind].qualification[ti].tolist()
    return [level if mine >= level else None for mine, level in zip(have, asked, strict=True)]


def _flag(name: str):
    def fact(state, kind, pi, ti, pairs):
        return [True if on else None for on in getattr(state.targets[kind], name)[ti].tolist()]
    return fact


def _waiting(state, kind, pi, ti, pairs):
    return [int(weeks) or None for weeks in state.people.waiting_weeks[kind][pi].tolist()]


FACTS: dict[str, Callable] = {
    "interests": _interests, "sector": _sector, "distance": _distance, "days": _days, "languages": _languages,
    "qualification": _qualification, "ring_fenced": _flag("ring_fenced"),
    "guaranteed_interview": _flag("guaranteed_interview"), "waiting": _waiting}


def facts(state: State, kind: str, pi: np.ndarray, ti: np.ndarray, criteria: list[str]) -> dict[str, list]:
    """For each criterion, the fact each pair's reason would state, or None where nothing true is to be said."""
    pairs = list(zip(pi.tolist(), ti.tolist(), strict=True))
    return {criterion: FACTS[criterion](state, kind, pi, ti, pairs) for criterion in criteria}


def _say_distance(fact) -> str:
    if fact == SAME_DISTRICT:
        return "in the same postcode district"
    return "less than 0.1 km away" if fact == 0 else f"{fact:.1f} km away"


def _say_days(fact, kind: str) -> str:
    if kind == "mentoring":
        return f"both free on {listed([name for bit, name in enumerate(DAY_NAMES) if fact >> bit & 1])}"
    hours, days = fact
    return f"{hours:g} hours a week fits the {days} day{'s' if days > 1 else ''} a week they are free"


def _say_interests(fact: tuple[str, ...]) -> str:
    if not fact:
        return "similar interests and goals"
    return f"both interested in {listed([shown(word) for word in fact[:MOST_SHARED_WORDS]])}"


SAY: dict[str, Callable] = {
    "interests": lambda fact, kind: _say_interests(fact),
    "sector": lambda fact, kind: f"wants to work in {listed([shown(word) for word in fact])}",
    "distance": lambda fact, kind: _say_distance(fact),
    "days": _say_days,
    "languages": lambda fact, kind: f"speaks {listed([word.title() for word in fact])}",
    "qualification": lambda fact, kind: (f"meets the level {fact} qualification it asks for" if fact
                                         else "no qualification needed"),
    "ring_fenced": lambda fact, kind: "ring-fenced for care leavers",
    "guaranteed_interview": lambda fact, kind: "guaranteed interview",
    "waiting": lambda fact, kind: f"waiting {fact} week{'s' if fact > 1 else ''}",
}


def passed_over_words(runs: int) -> str:
    """Not a criterion's reason but the run's: the person had a candidate and was proposed nothing in the `runs`
    runs before this one (engine.runs.passed_over_after), which raised their priority."""
    return f"passed over in {runs} earlier run{'s' if runs > 1 else ''}"


def words(criterion: str, fact, kind: str) -> str:
    """The sentence stating exactly this fact."""
    return SAY[criterion](fact, kind)


def describe(state: State, kind: str, p: int, t: int, criterion: str) -> str | None:
    """One pair's reason for one criterion, or None."""
    fact = facts(state, kind, np.array([p]), np.array([t]), [criterion])[criterion][0]
    return None if fact is None else words(criterion, fact, kind)


class _Sentences(dict):
    def __init__(self, criterion: str, kind: str):
        super().__init__()
        self.criterion, self.kind = criterion, kind

    def __missing__(self, fact):
        text = self[fact] = words(self.criterion, fact, self.kind)
        return text


def top_reasons(state: State, kind: str, pi: np.ndarray, ti: np.ndarray, contributions: np.ndarray,
                most: int) -> list[list[str]]:
    """For each pair, the sentences of the `most` criteria that added most to its score, the largest first.
    A criterion with nothing true to say (its fact is None) is passed over for the next one."""
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :most + 2]
    wanted = [FEATURES[column] for column in sorted(set(order.ravel().tolist()))]  # all that can make a top
    known = facts(state, kind, pi, ti, wanted)
    if "sector" in known and "interests" in known:
        # Where the sector criterion has something to say, it names the sectors: interests then does not.
        sectors = [fact if value > 0 else None
                   for fact, value in zip(known["sector"], contributions[:, FEATURES.index("sector")].tolist(),
                                          strict=True)]
        known["interests"] = [tuple(word for word in fact if word not in sector) if sector else fact
                              for fact, sector in zip(known["interests"], sectors, strict=True)]
    texts = {}
    for criterion, found in known.items():
        sentences = _Sentences(criterion, kind)  # most facts recur across pairs: each is put in words once
        texts[FEATURES.index(criterion)] = [None if fact is None else sentences[fact] for fact in found]
    return [[text for column in ranked if values[column] > 0 and (text := texts[column][row]) is not None][:most]
            for row, (ranked, values) in enumerate(zip(order.tolist(), contributions.tolist(), strict=True))]
