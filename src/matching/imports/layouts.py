"""The column layouts Springboard accepts, per kind of record (documented in docs/imports.md)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from matching.imports import convert


@dataclass(frozen=True)
class Column:
    field: str
    parse: Callable[[str], object] = str


@dataclass(frozen=True)
class Layout:
    name: str
    columns: dict[str, Column]
    required: frozenset[str]
    ignored: frozenset[str] = frozenset()  # known columns Springboard does not use
    key_column: str = ""

    def canonical(self, name: str) -> str:
        """The column a header names: itself, or the adviser column spelt 'advisor' (the SSD's own spelling,
        which case systems carry into their other exports: `Personal Advisor Email`)."""
        if name in self.columns or name in self.ignored:
            return name
        respelt = name.replace("advisor", "adviser")
        return respelt if respelt in self.columns else name

    def column_of(self, field_name: str) -> str:
        """The column a person would fix for a problem with `field_name` (ids are looked up from codes)."""
        field_name = {"department_id": "department_code", "personal_adviser_id": "personal_adviser"}.get(
            field_name, field_name)
        return self._column_of_field.get(field_name, field_name)

    @cached_property
    def _column_of_field(self) -> dict[str, str]:
        """Each field's first column (asked for on every row that has an accommodation)."""
        found: dict[str, str] = {}
        for column, spec in self.columns.items():
            found.setdefault(spec.field, column)
        return found


def _cols(**spec: Callable[[str], object] | str | tuple[str, Callable[[str], object]]) -> dict[str, Column]:
    """column=parser (same field name), column="field" (renamed, text), or column=("field", parser)."""
    def column(name: str, how) -> Column:
        if isinstance(how, str):
            return Column(how)
        if isinstance(how, tuple):
            return Column(*how)
        return Column(name, how)

    return {name: column(name, how) for name, how in spec.items()}


CARE_LEAVERS = Layout(
    "springboard",
    _cols(case_reference=str, first_name=str, preferred_name=str, family_name=str, date_of_birth=convert.birth_day,
          sex=convert.sex, ethnicity=convert.ethnicity, disability=convert.disability,
          leaving_care_category=convert.leaving_care_category, former_uasc=convert.boolean,
          right_to_work_confirmed=convert.boolean, right_to_work_expires_on=convert.day,
          personal_adviser_email="personal_adviser", home_area=str, languages=convert.tags,
          interests=convert.tags, sector_preferences=convert.tags, aspirations=str, skills=convert.tags,
          qualification_level=convert.integer, days_available=convert.days, max_travel_km=convert.number,
          support_needs=str, accessibility_needs=str, consent_share_mentors=convert.boolean,
          consent_share_employers=convert.boolean, current_activity=convert.activity,
          accommodation="accommodation", accommodation_suitable=("accommodation_suitable", convert.suitability),
          in_touch=convert.in_touch, last_contact_on=convert.past_day, pathway_plan_reviewed_on=convert.review_day),
    required=frozenset({"case_reference"}),
    key_column="case_reference",
)

# The Standard Safeguarding Dataset's ssd_care_leavers extract, optionally joined to ssd_person and
# ssd_address (needed only for people Springboard does not know yet).
SSD_CARE_LEAVERS = Layout(
    "ssd",
    {
        "clea_person_id": Column("case_reference"),
        "clea_care_leaver_eligibility": Column("leaving_care_category", convert.leaving_care_category),
        "clea_care_leaver_in_touch": Column("in_touch", convert.in_touch),
        "clea_care_leaver_latest_contact": Column("last_contact_on", convert.past_day),
        "clea_care_leaver_accommodation": Column("accommodation"),
        "clea_care_leaver_accom_suitable": Column("accommodation_suitable", convert.suitability),
        "clea_care_leaver_activity": Column("current_activity", convert.activity),
        "clea_pathway_plan_review_date": Column("pathway_plan_reviewed_on", convert.review_day),
        "clea_care_leaver_personal_advisor": Column("personal_adviser"),
        "pers_forename": Column("first_name"),
        "pers_surname": Column("family_name"),
        "pers_dob": Column("date_of_birth", convert.birth_day),
        "pers_sex": Column("sex", convert.sex),
        "pers_gender": Column("sex", convert.sex),
        "pers_ethnicity": Column("ethnicity", convert.ethnicity),
        "addr_address_postcode": Column("home_area", lambda text: text.split()[0] if " " in text.strip()
                                        else text[:-3] if len(text) > 4 else text),
    },
    required=frozenset({"clea_person_id"}),
    ignored=frozenset({"clea_table_id", "clea_care_leaver_allocated_team",
                       "clea_care_leaver_allocated_team_name", "clea_care_leaver_worker_id",
                       "clea_care_leaver_worker_name", "pers_person_id"}),
    key_column="clea_person_id",
)

MENTORS = Layout(
    "springboard",
    _cols(email=str, full_name=str, department_code="department_code", job_title=str, expertise=convert.tags,
          interests=convert.tags, languages=convert.tags, capacity=convert.integer, availability=convert.days,
          office_area=str, dbs_checked_on=convert.past_day, safeguarding_trained_on=convert.past_day, status=str),
    required=frozenset({"email", "full_name", "department_code", "job_title"}),
    key_column="email",
)

OPPORTUNITIES = Layout(
    "springboard",
    _cols(reference=str, department_code="department_code", kind=convert.opportunity_kind, title=str,
          description=str, skills=convert.tags, sector=str, area=str, hours_per_week=convert.number,
          pay_per_hour=("pay_pence_per_hour", convert.pence), places=convert.integer,
          min_age=convert.integer, max_age=convert.integer,
          qualification_required=convert.integer, starts_on=convert.day, closes_on=convert.day,
          ring_fenced=convert.boolean, guaranteed_interview=convert.boolean, status=str),
    required=frozenset({"reference", "department_code", "kind", "title"}),
    key_column="reference",
)
