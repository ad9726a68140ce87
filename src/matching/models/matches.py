"""Matches, their append-only history, contacts, outcomes and the audit log."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from matching.clock import utcnow
from matching.coltypes import UTCDateTime
from matching.models.base import Record, code_field, json_list


class Match(Record, table=True):
    """A proposed or agreed pairing of a care leaver with a mentor or an opportunity."""

    __tablename__ = "matches"
    care_leaver_id: int = Field(foreign_key="care_leavers.id", index=True)
    mentor_id: int | None = Field(default=None, foreign_key="mentors.id", index=True)
    opportunity_id: int | None = Field(default=None, foreign_key="opportunities.id", index=True)
    kind: str = code_field(12, description="mentoring or opportunity")
    state: str = code_field(20, index=True)
    score: float = 0.0
    reasons: list[str] = json_list()
    model_version: str = Field(default="", max_length=40)
    run_id: int | None = Field(default=None, index=True)
    contact_arrangements: str = Field(default="", max_length=500,
                                      description="How a mentor and mentee agreed to keep in touch")
    __table_args__ = (
        sa.CheckConstraint("(mentor_id IS NULL) <> (opportunity_id IS NULL)", name="match_has_one_side"),
        # The latest change to any match, from the index alone: part of the fingerprint that tells the
        # young person's page when the engine's cached targets are still current (engine/state.py).
        sa.Index("ix_matches_updated_at", "updated_at"),
    )


class MatchEvent(SQLModel, table=True):
    """Append-only: one row per state change, never updated."""

    __tablename__ = "match_events"
    # From the indexes alone: a match's events in order, the events of a year by state (the overview's periods
    # in each state and its charts by month, dashboard.py), and when a match last reached a state.
    __table_args__ = (sa.Index("ix_match_events_match_id_at", "match_id", "at"),
                      sa.Index("ix_match_events_at_to_state", "at", "to_state"),
                      sa.Index("ix_match_events_match_id_to_state_at", "match_id", "to_state", "at"))
    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    from_state: str | None = code_field(20, default=None)
    to_state: str = code_field(20)
    reason: str = Field(default="", max_length=1000)


class Outcome(SQLModel, table=True):
    """What came of a match; these are the labels the engine learns from."""

    __tablename__ = "outcomes"
    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id", index=True)
    kind: str = code_field(30)
    recorded_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    # Who was contacted in a window of days, from the index alone (the overview's not-in-touch chart).
    __table_args__ = (sa.Index("ix_contacts_contact_on", "contact_on", "care_leaver_id"),)
    id: int | None = Field(default=None, primary_key=True)
    care_leaver_id: int = Field(foreign_key="care_leavers.id", index=True)
    contact_on: date
    kind: str = code_field(10)
    by_id: int | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEventPublic(SQLModel):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: int | None
    route: str
    client: str


class AuditEvent(SQLModel, table=True):
    """Who read or changed which care leaver's record, when and from where. Never the data itself."""

    __tablename__ = "audit_events"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    action: str = code_field(12)
    entity: str = code_field(30)
    entity_id: int | None = Field(default=None, index=True)
    route: str = Field(default="", max_length=200)
    client: str = Field(default="", max_length=64)


class CaseEvent(SQLModel, table=True):
    """Append-only: closures, re-openings and refused attempts on a care leaver's case, with the rule."""

    __tablename__ = "case_events"
    id: int | None = Field(default=None, primary_key=True)
    care_leaver_id: int = Field(foreign_key="care_leavers.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = code_field(20, description="closed, reopened, close_refused, reopen_refused")
    reason_code: str = Field(default="", max_length=30)
    note: str = Field(default="", max_length=1000)
    rule: str = Field(default="", max_length=500)


class CheckIn(SQLModel, table=True):
    """A follow-up due on a match: scheduled when it starts, done by the adviser (or department)."""

    __tablename__ = "check_ins"
    # Whether a check-in was due and not done on a day, read from the index alone (dashboard.py's overdue
    # check-ins at each month end, by day and by match).
    __table_args__ = (sa.Index("ix_check_ins_due_on_done_on", "due_on", "done_on", "match_id"),
                      sa.Index("ix_check_ins_match_id_due_on", "match_id", "due_on", "done_on"))
    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id")
    due_on: date
    label: str = Field(default="", max_length=60)
    done_on: date | None = None
    done_by_id: int | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", max_length=2000)


class Meeting(SQLModel, table=True):
    """A mentor's log of meeting their mentee; the newest one keeps a mentoring match off the 90-day list."""

    __tablename__ = "meetings"
    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id", index=True)
    met_on: date = Field(index=True)
    kind: str = code_field(10, description="in_person, video, call or message")
    note: str = Field(default="", max_length=2000, description="Kept short: no case notes here")
    logged_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
