"""The council's local offer to care leavers, and where each young person stands with each entitlement."""

import re
from datetime import datetime

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from matching.clock import utcnow
from matching.coltypes import UTCDateTime
from matching.models.base import code_field


class OfferItemBase(SQLModel):
    code: str = Field(min_length=3, max_length=40, unique=True, description="lower_case_with_underscores")
    label: str = Field(min_length=3, max_length=120)
    rule: str = Field(min_length=3, max_length=500, description="Who is eligible, in words")
    min_age: int = Field(default=16, ge=16, le=25)
    max_age: int = Field(default=25, ge=16, le=25, description="Eligible until this birthday")

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]+", value):
            raise ValueError("use lower-case letters, digits and underscores, starting with a letter")
        return value


class OfferItem(OfferItemBase, table=True):
    """An entitlement. Built-in ones also have a rule in code (matching/offer.py); the council's own
    are decided by age alone."""

    __tablename__ = "offer_items"
    id: int | None = Field(default=None, primary_key=True)
    active: bool = True


class OfferItemCreate(OfferItemBase):
    pass


class Entitlement(SQLModel, table=True):
    """Where one young person stands with one entitlement (told, applied, taken up, not eligible)."""

    __tablename__ = "entitlements"
    __table_args__ = (sa.UniqueConstraint("care_leaver_id", "offer_code"),)
    id: int | None = Field(default=None, primary_key=True)
    care_leaver_id: int = Field(foreign_key="care_leavers.id", index=True)
    offer_code: str = Field(max_length=40)
    status: str = code_field(12)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")
