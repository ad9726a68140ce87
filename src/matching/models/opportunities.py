"""Jobs, apprenticeships, placements and the like that council departments offer."""

from datetime import date

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, SQLModel

from matching.models.base import (
    Closable,
    ClosablePublic,
    Outcode,
    Record,
    RecordPublic,
    Tags,
    code_field,
    json_list,
    list_indexes,
    partial_model,
)
from matching.vocab import OpportunityKind, OpportunityStatus

PAID_KINDS = frozenset({"job", "apprenticeship"})


class OpportunityBase(SQLModel):
    reference: str = Field(min_length=2, max_length=40, unique=True, index=True)
    department_id: int = Field(foreign_key="departments.id")
    kind: OpportunityKind = code_field(20)
    title: str = Field(min_length=3, max_length=160)
    description: str = Field(default="", max_length=5000)
    skills: Tags = json_list()
    sector: str = Field(default="", max_length=60, description="e.g. construction, social care")
    area: Outcode | None = code_field(4, default=None, description="Postcode district of the workplace")
    hours_per_week: float = Field(default=37.0, ge=0, le=60)
    pay_pence_per_hour: int | None = Field(default=None, ge=0, description="Empty when unpaid")
    places: int = Field(default=1, ge=1, le=500)
    min_age: int = Field(default=16, ge=16, le=25)
    max_age: int = Field(default=25, ge=16, le=25)
    qualification_required: int = Field(default=0, ge=0, le=8, description="Minimum RQF level")
    starts_on: date | None = None
    closes_on: date | None = Field(default=None, description="Last day to be referred")
    ring_fenced: bool = Field(default=False, description="Only care leavers may apply")
    guaranteed_interview: bool = False
    status: OpportunityStatus = code_field(default="open")

    @model_validator(mode="after")
    def _ranges(self):
        if self.min_age > self.max_age:
            raise ValueError("min_age must not be greater than max_age")
        if self.starts_on and self.closes_on and self.closes_on > self.starts_on:
            raise ValueError("closes_on must not be after starts_on")
        return self

    @property
    def paid(self) -> bool:
        return self.kind in PAID_KINDS or bool(self.pay_pence_per_hour)


class Opportunity(OpportunityBase, Record, Closable, table=True):
    __tablename__ = "opportunities"
    # The places index lets engine/state._fingerprint sum places taken from the index, not the table.
    __table_args__ = (*list_indexes("opportunities", "department_id", "kind", "status", "ring_fenced", "title",
                                    "closes_on", "starts_on", "updated_at"),
                      sa.Index("ix_opportunities_places_taken", "places_taken"))
    # Changed only by the match lifecycle, with a conditional UPDATE, so it never exceeds places.
    places_taken: int = Field(default=0, ge=0)


class OpportunityCreate(OpportunityBase):
    pass


OpportunityUpdate = partial_model(OpportunityBase, "OpportunityUpdate", exclude=frozenset({"reference"}))


class OpportunityPublic(OpportunityBase, RecordPublic, ClosablePublic):
    places_taken: int = 0


class OpportunitySummary(RecordPublic):
    """A line of an opportunity list; the description and skills are on the full record."""

    reference: str
    department_id: int
    kind: OpportunityKind
    title: str
    sector: str
    area: str | None
    hours_per_week: float
    pay_pence_per_hour: int | None
    places: int
    places_taken: int
    starts_on: date | None
    closes_on: date | None
    ring_fenced: bool
    guaranteed_interview: bool
    status: OpportunityStatus
