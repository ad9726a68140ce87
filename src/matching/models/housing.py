"""Housing register applications: the council's housing list, and what came of each care leaver's application
(committee and the annual report follow them: several councils' action plans promise to publish them)."""

from datetime import date

from pydantic import ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from matching.models.base import Record, code_field
from matching.vocab import HousingBand, HousingOutcome


class HousingApplicationBase(SQLModel):
    applied_on: date = Field(title="Date of the application",
                             description="The day the application reached the housing register")
    band: HousingBand | None = code_field(8, default=None, title="Band",
                                          description="The register's priority band, once given")
    outcome: HousingOutcome = code_field(12, default="waiting", title="What has come of it")
    housed_on: date | None = Field(default=None, title="Date they moved in", schema_extra={"validate_default": True})
    note: str = Field(default="", max_length=1000, title="Note")

    @field_validator("housed_on", mode="after")
    @classmethod
    def _housed_with_a_date(cls, housed_on: date | None, info: ValidationInfo) -> date | None:
        outcome, applied_on = info.data.get("outcome"), info.data.get("applied_on")
        if outcome == "housed" and housed_on is None:
            raise ValueError("Enter the date they moved in")
        if outcome != "housed" and housed_on is not None:
            raise ValueError("Leave the date they moved in empty unless they have been housed")
        if housed_on and applied_on and housed_on < applied_on:
            raise ValueError("The date they moved in must be on or after the date of the application")
        return housed_on


class HousingApplication(HousingApplicationBase, Record, table=True):
    __tablename__ = "housing_applications"
    care_leaver_id: int = Field(foreign_key="care_leavers.id", index=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
