"""What the worker did (`job_runs`) and what the service has to tell people (`notifications`, the outbox)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from matching.clock import utcnow
from matching.coltypes import UTCDateTime


class JobRun(SQLModel, table=True):
    """One run of a scheduled job: started, finished (empty while running, or when the worker died), result."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.Index("ix_job_runs_job_started_at", "job", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=80)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: str = Field(default="running", sa_type=sa.String(16), description="running, ok or failed")
    # What the job reports ("3 notices written") or the kind of error; never personal data.
    summary: str = Field(default="", max_length=500)


class Notification(SQLModel, table=True):
    """A notice waiting to be sent, or sent. Written in the unit of work of the change that causes it, so a
    notice exists exactly when its cause was committed; `key` names the notice (what, about which record, for
    whom, for which day), so writing the same notice twice keeps one row."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(sa_type=sa.String(40))
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = Field(default="pending", sa_type=sa.String(16), description="pending, sending, sent or failed")
    attempts: int = Field(default=0)
    # When it may next be tried: after a failure, the back-off; while `sending`, the end of the sender's claim.
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
