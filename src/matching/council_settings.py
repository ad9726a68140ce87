"""Settings a manager changes through the service (not the environment): matching weights, follow-up intervals and
the council's own borough (its postcode districts).

Each group is a pydantic model with documented defaults, stored as one JSON row in `settings` with a
version, so two managers editing at once get a 409 rather than a silent overwrite.
"""

from typing import Any, TypeVar

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from matching.clock import utcnow
from matching.errors import StaleVersion
from matching.models import Setting
from matching.models.base import Outcode

FEATURES = ("interests", "sector", "distance", "days", "languages", "qualification", "ring_fenced",
            "guaranteed_interview", "waiting")
# The documented default weights, used until a learned model has beaten them on held-out outcomes.
DEFAULT_WEIGHTS = {"interests": 0.30, "sector": 0.20, "distance": 0.15, "days": 0.10, "languages": 0.05,
                   "qualification": 0.05, "ring_fenced": 0.05, "guaranteed_interview": 0.05, "waiting": 0.05}


class MatchingSettings(BaseModel):
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS),
                                      description="Relative weight of each criterion (0 turns it off)")
    must_have: list[str] = Field(default_factory=list,
                                 description="Criteria a pair must meet at all (e.g. sector) to be proposed")
    use_learned_model: bool = Field(True, description="Score with the current learned model when there is one")
    referrals_per_place: int = Field(3, ge=1, le=10, title="Proposals per free place",
                                     description="Proposals per free place of an opportunity")
    opportunities_per_person: int = Field(3, ge=0, le=10, title="New opportunity proposals per young person",
                                          description="New opportunity proposals per person per run")
    candidates_per_person: int = Field(40, ge=5, le=500,
                                       description="Best eligible pairs per person and kind kept for the solver")
    max_distance_km: float = Field(30.0, gt=0, le=200, title="The furthest distance",
                                   description="Nobody is proposed anything further than this (km)")
    coverage_bonus: float = Field(0.1, ge=0, le=1, title="Score traded for a first proposal",
                                  description="Total score (a proposal scores 0 to 1) a run may give up to give one "
                                              "more young person a first proposal; each run they were passed over "
                                              "adds as much again. 0: the best total score only")

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        if unknown := set(weights) - set(FEATURES):
            raise ValueError(f"unknown criteria {sorted(unknown)}; known: {', '.join(FEATURES)}")
        if any(w < 0 or w > 10 for w in weights.values()):
            raise ValueError("each weight must be between 0 and 10")
        merged = {**dict.fromkeys(FEATURES, 0.0), **weights}
        if not any(merged.values()):
            raise ValueError("at least one weight must be above 0")
        return merged

    @field_validator("must_have")
    @classmethod
    def _known_must_haves(cls, must_have: list[str]) -> list[str]:
        if unknown := set(must_have) - set(FEATURES):
            raise ValueError(f"unknown criteria {sorted(unknown)}; known: {', '.join(FEATURES)}")
        return sorted(set(must_have))


class FollowUpSettings(BaseModel):
    """When someone needs following up: local standards a manager sets (titles name them in error messages)."""

    not_in_touch_weeks: int = Field(8, ge=1, le=52, title="Weeks without contact",
                                    description="No contact for longer than this: not in touch")
    waiting_weeks: int = Field(8, ge=1, le=104, title="Weeks without an approved match",
                               description="No approved match for longer than this: waiting")
    no_meeting_days: int = Field(90, ge=7, le=365, title="Days with no meeting",
                                 description="A mentoring match with no meeting logged for this long")
    pathway_due_within_days: int = Field(28, ge=0, le=180, title="Days ahead for pathway reviews",
                                         description="List pathway reviews due within this many days")
    no_next_step_days: int = Field(14, ge=1, le=90, title="Days an approved match may wait",
                                   description="An approved match not yet referred (an opportunity) or introduced "
                                               "(a mentor) this many days after approval is overdue")
    check_ins_due_within_days: int = Field(14, ge=0, le=60, title="Days ahead for check-ins and next steps",
                                           description="List check-ins, and approved matches waiting for their "
                                                       "next step, from this many days before they are due")


# The demo council's borough (Northbridge, fictional: fixtures/words.HOME_AREAS); a council sets its own.
DEFAULT_BOROUGH_DISTRICTS = ("E1", "E2", "E3", "E5", "E8", "E9", "E10", "E14", "E15", "E17", "N1", "N4", "N5", "N7",
                             "N15", "N16", "N17", "N19")


class CouncilSettings(BaseModel):
    """The council itself: which young people live inside the borough (the local offer report counts council tax
    exemptions inside and outside it)."""

    borough_districts: list[Outcode] = Field(default_factory=lambda: list(DEFAULT_BOROUGH_DISTRICTS),
                                             title="The borough's postcode districts",
                                             description="Postcode districts (e.g. E8) inside the borough")


GROUPS: dict[str, type[BaseModel]] = {"matching": MatchingSettings, "follow_up": FollowUpSettings,
                                      "council": CouncilSettings}
Model = TypeVar("Model", bound=BaseModel)


def load(session: Session, model: type[Model]) -> Model:
    row = session.get(Setting, _key(model))
    return model.model_validate(row.value) if row else model()


def version_of(session: Session, model: type[BaseModel]) -> int:
    row = session.get(Setting, _key(model))
    return row.version if row else 0


def save(session: Session, value: BaseModel, *, version: int, actor_id: int | None) -> int:
    """Store a whole group; `version` is what the manager read (0 for never saved). Returns the new version."""
    key = _key(type(value))
    row = session.get(Setting, key)
    current = row.version if row else 0
    if version != current:
        raise StaleVersion("settings", key, version, current)
    data: dict[str, Any] = value.model_dump(mode="json")
    if row is None:
        row = Setting(key=key, value=data, version=1, updated_by_id=actor_id)
        session.add(row)
    else:
        row.value, row.version, row.updated_at, row.updated_by_id = data, current + 1, utcnow(), actor_id
    session.flush()
    return row.version


def _key(model: type[BaseModel]) -> str:
    return next(key for key, group in GROUPS.items() if group is model)
