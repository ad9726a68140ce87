"""Care leavers and mentors: the two sides of every mentoring match."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, SQLModel

from matching import vocab
from matching.coltypes import UTCDateTime
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
    values_of,
)
from matching.vocab import (
    Accommodation,
    Activity,
    CaseStatus,
    Day,
    Disability,
    Ethnicity,
    InTouch,
    LeavingCareCategory,
    MentorStatus,
    Sex,
)


class CareLeaverBase(SQLModel):
    case_reference: str = Field(min_length=2, max_length=48, unique=True, index=True,
                                description="The case system's person id (SSD clea_person_id)")
    first_name: str = Field(min_length=1, max_length=80)
    preferred_name: str | None = Field(default=None, max_length=80)
    family_name: str | None = Field(default=None, max_length=80)
    date_of_birth: date
    sex: Sex | None = code_field(2, default=None, description="903 SEX code; fairness reporting only")
    ethnicity: Ethnicity | None = code_field(4, default=None, description="903 ETHNIC; fairness reporting only")
    disability: Disability = code_field(9, default="not_known", description="Fairness reporting only")
    leaving_care_category: LeavingCareCategory = code_field(20)
    former_uasc: bool = Field(default=False, description="Former unaccompanied asylum-seeking child")
    right_to_work_confirmed: bool = False
    right_to_work_expires_on: date | None = Field(default=None, description="Empty when not time-limited")
    personal_adviser_id: int | None = Field(default=None, foreign_key="users.id")
    home_area: Outcode | None = code_field(4, default=None, description="Home postcode district, e.g. E8")
    languages: Tags = json_list()
    interests: Tags = json_list()
    sector_preferences: Tags = json_list()
    aspirations: str = Field(default="", max_length=2000)
    skills: Tags = json_list()
    qualification_level: int = Field(default=0, ge=0, le=8, description="Highest RQF level, 0 = entry/none")
    days_available: list[Day] = json_list()
    max_travel_km: float = Field(default=10.0, ge=0, le=200)
    support_needs: str = Field(default="", max_length=2000)
    accessibility_needs: str = Field(default="", max_length=2000)
    consent_share_mentors: bool = False
    consent_share_employers: bool = False
    current_activity: Activity | None = code_field(2, default=None, description="903 ACTIV")
    accommodation: Accommodation | None = code_field(2, default=None,
                                                    description="903 ACCOM: type letter + 1 suitable / 2 not")
    in_touch: InTouch = code_field(4, default="YES", description="903 IN_TOUCH")
    last_contact_on: date | None = None
    pathway_plan_reviewed_on: date | None = None

    @model_validator(mode="after")
    def _status_codes_agree(self):
        # 903 rule 344: died or returned home means activity and accommodation are 0.
        if self.in_touch in {"DIED", "RHOM"} and {self.current_activity, self.accommodation} - {"0", None}:
            raise ValueError("in_touch DIED or RHOM requires current_activity and accommodation to be 0")
        return self


class CareLeaver(CareLeaverBase, Record, Closable, table=True):
    __tablename__ = "care_leavers"
    __table_args__ = list_indexes("care_leavers", "personal_adviser_id", "case_status", "in_touch",
                                  "leaving_care_category", "former_uasc", "first_name", "date_of_birth",
                                  "last_contact_on", "pathway_plan_reviewed_on", "updated_at")
    case_status: str = code_field(default="open")

    @property
    def accommodation_suitable(self) -> bool | None:
        return vocab.accommodation_suitable(self.accommodation)


class CareLeaverStatus(SQLModel, table=True):
    """The 903 fields of a care leaver as they stood from `valid_from` (the record's `updated_at`) until the next
    row: written by database triggers on every insert and on every change of these fields, by any path (pages,
    API, imports, jobs), so the statutory return can read each birthday's values (migration 0016)."""

    __tablename__ = "care_leaver_statuses"
    __table_args__ = (sa.Index("ix_care_leaver_statuses_person_from", "care_leaver_id", "valid_from"),)
    id: int | None = Field(default=None, primary_key=True)
    care_leaver_id: int = Field(foreign_key="care_leavers.id")
    valid_from: datetime = Field(sa_type=UTCDateTime)
    leaving_care_category: str = code_field(20)
    in_touch: str = code_field(4)
    current_activity: str | None = code_field(2, default=None)
    accommodation: str | None = code_field(2, default=None)


class CareLeaverCreate(CareLeaverBase):
    pass


CareLeaverUpdate = partial_model(CareLeaverBase, "CareLeaverUpdate", exclude=frozenset({"case_reference"}))


class CareLeaverPublic(CareLeaverBase, RecordPublic, ClosablePublic):
    case_status: CaseStatus
    accommodation_suitable: bool | None = Field(default=None, description="From the 903 ACCOM code")

    @classmethod
    def of(cls, record: Any) -> dict[str, Any]:
        data = values_of(record, cls.model_fields)
        data["accommodation_suitable"] = vocab.accommodation_suitable(data["accommodation"])
        return data


class CareLeaverSummary(RecordPublic):
    """A line of a care-leaver list: who, on whose caseload, and where their case stands. The rest of the
    record (needs, interests, the fairness codes) is read one person at a time."""

    case_reference: str
    first_name: str
    preferred_name: str | None
    family_name: str | None
    date_of_birth: date
    personal_adviser_id: int | None
    case_status: CaseStatus
    leaving_care_category: LeavingCareCategory
    former_uasc: bool
    in_touch: InTouch
    current_activity: Activity | None
    accommodation: Accommodation | None
    last_contact_on: date | None
    pathway_plan_reviewed_on: date | None


class MentorBase(SQLModel):
    user_id: int = Field(foreign_key="users.id", unique=True)
    department_id: int = Field(foreign_key="departments.id")
    job_title: str = Field(min_length=2, max_length=120)
    expertise: Tags = json_list()
    interests: Tags = json_list()
    languages: Tags = json_list()
    capacity: int = Field(default=1, ge=0, le=20, description="How many mentees at once")
    availability: list[Day] = json_list()
    office_area: Outcode | None = code_field(4, default=None)
    dbs_checked_on: date | None = Field(default=None, description="Date of the last enhanced DBS check")
    safeguarding_trained_on: date | None = None
    status: MentorStatus = code_field(default="active")


class Mentor(MentorBase, Record, Closable, table=True):
    __tablename__ = "mentors"
    # The slots index lets engine/state._fingerprint sum slots taken from the index, not the table.
    __table_args__ = (*list_indexes("mentors", "department_id", "status", "job_title", "capacity", "dbs_checked_on",
                                    "updated_at"), sa.Index("ix_mentors_slots_taken", "slots_taken"))
    # Changed only by the match lifecycle, with a conditional UPDATE, so it never exceeds capacity.
    slots_taken: int = Field(default=0, ge=0)


class MentorCreate(MentorBase):
    pass


MentorUpdate = partial_model(MentorBase, "MentorUpdate", exclude=frozenset({"user_id"}))


class MentorPublic(MentorBase, RecordPublic, ClosablePublic):
    slots_taken: int = 0


class MentorSummary(RecordPublic):
    """A line of a mentor list; interests, expertise and languages are on the full record."""

    user_id: int
    department_id: int
    job_title: str
    capacity: int
    slots_taken: int
    office_area: str | None
    dbs_checked_on: date | None
    safeguarding_trained_on: date | None
    status: MentorStatus
