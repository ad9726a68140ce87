"""Validated vocabularies: the national code lists (SSDA903, DfE census) and Springboard's own.

Sources are cited in docs/vocabularies.md. Codes are stored as strings (vocabularies grow); each
vocabulary is a mapping code -> label, and `Code[...]` types validate input against it.
"""

from typing import Annotated, Literal

from pydantic import AfterValidator

# Children Act 1989 leaving-care categories (s.19B Sch 2, s.23A, s.23C, s.24).
LEAVING_CARE_CATEGORIES = {
    "eligible": "Eligible child (16-17, still looked after)",
    "relevant": "Relevant child (16-17, no longer looked after)",
    "former_relevant": "Former relevant child (18-25)",
    "qualifying": "Qualifying for advice and assistance (16-21)",
}

# SSDA903 OC3 IN_TOUCH.
IN_TOUCH = {
    "YES": "Yes - in touch",
    "NO": "No - not in touch",
    "DIED": "Died after leaving care",
    "REFU": "Young person refuses contact",
    "NREQ": "Young person no longer requires children's social care services",
    "RHOM": "Returned to live with parents for 6 months or more",
}

# SSDA903 OC3 ACTIV (F3/P3 superseded and not valid).
ACTIVITY = {
    "F1": "Full time in higher education",
    "P1": "Part time in higher education",
    "F2": "Full time in education other than higher education",
    "P2": "Part time in education other than higher education",
    "F4": "Full time in an apprenticeship",
    "P4": "Part time in an apprenticeship",
    "F5": "Full time in training or employment (not apprenticeship)",
    "P5": "Part time in training or employment (not apprenticeship)",
    "G4": "NEET because of illness or disability",
    "G5": "NEET: other circumstances",
    "G6": "NEET due to pregnancy or parenting",
    "0": "Not in touch and activity unknown, or died, or returned home",
}
NEET_ACTIVITIES = frozenset({"G4", "G5", "G6"})

# SSDA903 OC3 ACCOM: a type letter, then 1 (suitable) or 2 (unsuitable); "0" unknown.
ACCOMMODATION_TYPES = {
    "B": "With parent(s) or relative(s)",
    "C": "Community home or other residential care",
    "D": "Semi-independent, transitional accommodation",
    "E": "Supported lodgings",
    "G": "Gone abroad",
    "H": "Deported",
    "K": "Ordinary lodgings, without formal support",
    "R": "Residence not known",
    "S": "No fixed abode / homeless",
    "T": "Foyers and similar",
    "U": "Independent living",
    "V": "Emergency accommodation",
    "W": "Bed and breakfast",
    "X": "In custody",
    "Y": "Other accommodation",
    "Z": "With former foster carer(s)",
}
_ALWAYS_UNSUITABLE = {"S", "X"}  # rule 133: S and X only with suffix 2
ACCOMMODATION = {"0": "Not in touch and accommodation unknown, or died, or returned home"} | {
    f"{letter}{digit}": f"{label} ({'suitable' if digit == '1' else 'unsuitable'})"
    for letter, label in ACCOMMODATION_TYPES.items()
    for digit in "12"
    if not (letter in _ALWAYS_UNSUITABLE and digit == "1")
}



def accommodation_suitable(code: str | None) -> bool | None:
    """A 903 ACCOM code carries suitability in its second character (1 suitable, 2 not); 0 is unknown."""
    return None if code in {None, "0"} else code.endswith("1")


# SSDA903 header SEX.
SEX = {"1": "Male", "2": "Female"}

# DfE census ethnicity codes (SSDA903 header ETHNIC).
ETHNICITY = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WOTH": "Any other White background",
    "WIRT": "Traveller of Irish heritage",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}
ETHNIC_GROUPS = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "C": "Other", "O": "Other"}


def ethnic_group(code: str) -> str:
    return "Not known" if code in {"REFU", "NOBT"} else ETHNIC_GROUPS[code[0]]


# Springboard's own vocabularies.
ROLES = {
    "admin": "Administrator",
    "manager": "Manager (Head of Corporate Parenting)",
    "adviser": "Personal adviser",
    "mentor": "Mentor",
    "department": "Department contact",
}
CASE_STATUSES = {"open": "Open", "closed": "Closed"}
RECORD_STATUSES = {"active": "Active", "closed": "Closed"}
# A mentor who signed up is "pending" until a manager records their DBS check and safeguarding training.
MENTOR_STATUSES = {"pending": "Waiting for vetting", "active": "Active", "paused": "Paused", "withdrawn": "Withdrawn"}
OPPORTUNITY_KINDS = {
    "job": "Job",
    "apprenticeship": "Apprenticeship",
    "work_placement": "Work placement",
    "work_experience": "Work experience",
    "internship": "Internship",
}
OPPORTUNITY_STATUSES = {"draft": "Draft", "open": "Open", "paused": "Paused", "closed": "Closed",
                        "withdrawn": "Withdrawn"}
DAYS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
        "sat": "Saturday", "sun": "Sunday"}
CONTACT_KINDS = {"visit": "Visit", "call": "Call", "message": "Message", "other": "Other"}
MEETING_KINDS = {"in_person": "In person", "video": "Video call", "call": "Phone call", "message": "Messages"}
# RQF levels: 0 = entry level or none; 2 = GCSE grades 9-4; 3 = A level; 6 = degree; 8 = doctorate.
RQF_LEVELS = range(0, 9)


def _member_of(vocabulary: dict[str, str], name: str):
    def check(value: str | None) -> str | None:
        if value is not None and value not in vocabulary:
            allowed = ", ".join(vocabulary)
            raise ValueError(f"'{value}' is not a valid {name} code; expected one of: {allowed}")
        return value

    return check


def code(vocabulary: dict[str, str], name: str):
    """A str type that accepts only the vocabulary's codes, with an error that lists them."""
    return Annotated[str, AfterValidator(_member_of(vocabulary, name))]


LeavingCareCategory = code(LEAVING_CARE_CATEGORIES, "leaving-care category")
InTouch = code(IN_TOUCH, "903 IN_TOUCH")
Activity = code(ACTIVITY, "903 ACTIV")
Accommodation = code(ACCOMMODATION, "903 ACCOM")
Sex = code(SEX, "903 SEX")
Ethnicity = code(ETHNICITY, "903 ETHNIC")
Role = code(ROLES, "role")
CaseStatus = code(CASE_STATUSES, "case status")
RecordStatus = code(RECORD_STATUSES, "status")
MentorStatus = code(MENTOR_STATUSES, "mentor status")
OpportunityKind = code(OPPORTUNITY_KINDS, "opportunity kind")
OpportunityStatus = code(OPPORTUNITY_STATUSES, "opportunity status")
Day = code(DAYS, "day")
ContactKind = code(CONTACT_KINDS, "contact kind")
MeetingKind = code(MEETING_KINDS, "meeting kind")
Disability = Literal["yes", "no", "not_known"]

# Match states (the allowed transitions between them live in matching/lifecycle.py).
MATCH_KINDS = {"mentoring": "Mentoring", "opportunity": "Opportunity"}
MENTORING_STATES = {
    "proposed": "Proposed", "approved": "Approved", "rejected": "Rejected", "introduced": "Introduced",
    "active": "Active", "completed": "Completed", "ended_early": "Ended early", "withdrawn": "Withdrawn",
}
OPPORTUNITY_STATES = {
    "proposed": "Proposed", "approved": "Approved", "rejected": "Rejected", "referred": "Referred",
    "interviewed": "Interviewed", "offered": "Offered", "started": "Started", "completed": "Completed",
    "sustained_3m": "Sustained 3 months", "sustained_6m": "Sustained 6 months",
    "not_successful": "Not successful", "ended_early": "Ended early", "withdrawn": "Withdrawn",
}
OUTCOME_KINDS = {
    "placement_completed": "Placement completed",
    "job_sustained_3m": "Job sustained 3 months",
    "job_sustained_6m": "Job sustained 6 months",
    "mentoring_sustained_6m": "Mentoring sustained 6 months",
    "ended_early": "Ended early",
    "not_successful": "Not successful",
}
SUCCESS_OUTCOMES = frozenset({"placement_completed", "job_sustained_3m", "job_sustained_6m",
                              "mentoring_sustained_6m"})
