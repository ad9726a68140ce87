"""What the matching engine keeps: its runs, its scoring models, and the settings a manager changes."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from matching.clock import utcnow
from matching.coltypes import UTCDateTime
from matching.models.base import code_field


class MatchRun(SQLModel, table=True):
    """One whole run of the engine: written in the same transaction as its proposals, or not at all."""

    __tablename__ = "match_runs"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    source: str = code_field(10, description="cli, api or job")
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    model_version: str = Field(default="", max_length=40)
    duration_ms: int = 0
    # A run asked for from a page or the API is queued to the worker; its row is written first, so the page can
    # show where it is. A run that fails keeps its row, with the reason (never personal data).
    status: str = code_field(10, default="finished", description="queued, running, finished or failed")
    progress: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    error: str = Field(default="", max_length=400)


class PassedOver(SQLModel, table=True):
    """How many runs in a row a young person was eligible for a kind of match and proposed none: the engine
    raises their priority with it, and a proposal (or a live match) of that kind starts it again at 0."""

    __tablename__ = "passed_over"
    care_leaver_id: int = Field(foreign_key="care_leavers.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=12)
    runs: int = 0
    last_run_id: int | None = Field(default=None, foreign_key="match_runs.id")


class ScoringModel(SQLModel, table=True):
    """A trained model: its file, the file's digest (checked before loading), its held-out metrics, and the
    numbers it scores with (`parameters`, scoring.Learned), so scoring never loads the file. A model trained
    before those were kept has {} there and is scored from its file (learning.learned_of)."""

    __tablename__ = "scoring_models"
    version: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    path: str = Field(max_length=400)
    sha256: str = Field(max_length=64)
    status: str = code_field(10, description="current, candidate, retired or declined")
    training_rows: int = 0
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class Setting(SQLModel, table=True):
    """A group of settings a manager changes (matching weights, follow-up intervals), stored as JSON."""

    __tablename__ = "settings"
    key: str = Field(primary_key=True, max_length=40)
    value: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")
