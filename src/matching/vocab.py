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
# What councils' files write for each code (the DfE guide's wording, case-system descriptions). Aliases are
# compared without case, spaces or punctuation, so "Yes – in touch" and "YES-IN TOUCH" are one alias.
IN_TOUCH_ALIASES = {
    "in touch": "YES", "yes": "YES", "y": "YES", "not in touch": "NO", "no": "NO", "n": "NO",
    "died": "DIED", "refuses contact": "REFU", "refused": "REFU", "refused contact": "REFU",
    "no longer requires services": "NREQ", "young person no longer requires services": "NREQ",
    "returned home": "RHOM", "young person returned to live with parents or someone with parental "
    "responsibility for a continuous period of 6 months or more": "RHOM",
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
# The DfE's own wording (903 guide, OC3 ACTIV) and its older and shortened forms.
ACTIVITY_ALIASES = {
    "Full time in higher education (e.g. studies beyond A level)": "F1",
    "Part time in higher education (e.g. studies beyond A level)": "P1",
    "Young person engaged full time in an apprenticeship": "F4",
    "Young person engaged part time in an apprenticeship": "P4",
    "Young person engaged full time in training or employment (not apprenticeship)": "F5",
    "Young person engaged part time in training or employment (not apprenticeship)": "P5",
    "Full time in training or employment": "F5", "Part time in training or employment": "P5",
    "Not in education training or employment, owing to illness or disability": "G4",
    "Not in education training or employment, owing to other reasons": "G5",
    "Not in education training or employment, owing to pregnancy or parenting": "G6",
    "NEET - illness or disability": "G4", "NEET - other reasons": "G5", "NEET - other": "G5",
    "NEET - pregnancy or parenting": "G6",
    "Not in touch": "0", "Activity unknown": "0", "Not known": "0",
}

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
# The DfE guide's longer descriptions of the accommodation types (903 OC3 ACCOM).
ACCOMMODATION_TYPE_ALIASES = {
    "With parents or relatives": "B", "With parent or relative": "B",
    "Community home or other form of residential care": "C", "Residential care": "C",
    "Semi-independent transitional accommodation": "D", "Semi independent living": "D",
    "Supported lodgings": "E", "Ordinary lodgings": "K", "No fixed abode": "S", "Homeless": "S",
    "Foyer": "T", "Foyers": "T", "Emergency accommodation": "V", "B&B": "W", "Bed and breakfast": "W",
    "Custody": "X", "In custody": "X", "Other": "Y", "With former foster carers": "Z", "Staying put": "Z",
}
# The second character of an ACCOM code, as SSD extracts and case systems describe it.
SUITABILITY = {"1": "Accommodation considered suitable", "2": "Accommodation considered unsuitable"}
SUITABILITY_ALIASES = {
    "suitable": "1", "considered suitable": "1", "yes": "1", "y": "1", "true": "1",
    "unsuitable": "2", "not suitable": "2", "considered unsuitable": "2", "no": "2", "n": "2", "false": "2",
}
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
SEX_ALIASES = {"m": "1", "f": "2", "male": "1", "female": "2", "man": "1", "woman": "2"}
# Written for "not known" (ISO 5218 0 and 9, the SSD's U): stored as no value, since 903 SEX has no code for it.
SEX_NOT_KNOWN = frozenset({"u", "unknown", "not known", "notknown", "0", "9", "not stated", "indeterminate",
                           "not recorded", "prefer not to say"})

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


def _census_wording() -> dict[str, str]:
    """The 2011 and 2021 census wording ("Black or Black British - African", "Asian/Asian British: Indian"):
    every way the census and case systems name a group, followed by every way they name its entries."""
    groups = {
        ("white",): {"british": "WBRI", "english welsh scottish northern irish or british": "WBRI",
                     "english welsh scottish northern irish british": "WBRI", "irish": "WIRI",
                     "irish traveller": "WIRT", "traveller of irish heritage": "WIRT", "roma": "WROM",
                     "gypsy": "WROM", "gypsy roma": "WROM", "gypsy or roma": "WROM", "other": "WOTH",
                     "any other white background": "WOTH", "other white": "WOTH", "other white background": "WOTH"},
        ("mixed", "mixed multiple ethnic groups", "mixed or multiple ethnic groups", "mixed dual background"): {
            "white and black caribbean": "MWBC", "white and black african": "MWBA", "white and asian": "MWAS",
            "other": "MOTH", "any other mixed background": "MOTH", "other mixed": "MOTH",
            "any other mixed multiple ethnic background": "MOTH", "other mixed background": "MOTH"},
        ("asian", "asian or asian british", "asian asian british", "asian asian british or asian welsh"): {
            "indian": "AIND", "pakistani": "APKN", "bangladeshi": "ABAN", "chinese": "CHNE", "other": "AOTH",
            "any other asian background": "AOTH", "other asian": "AOTH", "other asian background": "AOTH"},
        ("black", "black or black british", "black black british", "black black british caribbean or african",
         "black african caribbean or black british", "black black welsh black british caribbean or african"): {
            "african": "BAFR", "caribbean": "BCRB", "other": "BOTH", "any other black background": "BOTH",
            "other black": "BOTH", "other black background": "BOTH",
            "any other black african or caribbean background": "BOTH",
            "any other black black british or caribbean background": "BOTH"},
        ("other ethnic group", "other ethnic groups", "chinese or other ethnic group", "other"): {
            "chinese": "CHNE", "arab": "OOTH", "any other ethnic group": "OOTH", "other": "OOTH"},
    }
    wording = {f"{group} {entry}": code for names, entries in groups.items()
               for group in names for entry, code in entries.items()}
    return wording | {
        "Chinese": "CHNE", "Arab": "OOTH", "Refused": "REFU", "Information refused": "REFU", "Not stated": "REFU",
        "Prefer not to say": "REFU", "Declined": "REFU", "Not known": "NOBT", "Unknown": "NOBT",
        "Not yet obtained": "NOBT", "Not recorded": "NOBT",
    }


ETHNICITY_ALIASES = _census_wording()


def ethnic_group(code: str) -> str:
    return "Not known" if code in {"REFU", "NOBT"} else ETHNIC_GROUPS[code[0]]


DISABILITY = {"yes": "Disabled", "no": "Not disabled", "not_known": "Not known"}
DISABILITY_ALIASES = {
    "y": "yes", "true": "yes", "1": "yes", "disabled": "yes", "has a disability": "yes",
    "n": "no", "false": "no", "0": "no", "none": "no", "not disabled": "no", "no disability": "no",
    "unknown": "not_known", "not recorded": "not_known", "not stated": "not_known", "nk": "not_known",
    "prefer not to say": "not_known", "information not yet obtained": "not_known",
}
# Yes-no columns: what stands for yes, for no, and for "we don't know" (which leaves the value as it is).
YES_WORDS = frozenset({"yes", "y", "true", "t", "1"})
NO_WORDS = frozenset({"no", "n", "false", "f", "0"})
NOT_KNOWN_WORDS = frozenset({"not known", "notknown", "unknown", "nk", "not recorded", "not stated"})


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


# Housing register applications (matching/models/housing.py). Councils' schemes differ; these are the common
# banded scheme's bands, highest priority first, and what can come of an application.
HOUSING_BANDS = {"A": "Band A (urgent need)", "B": "Band B (high need)", "C": "Band C (some need)",
                 "D": "Band D (no identified need)"}
HOUSING_OUTCOMES = {"waiting": "On the register, waiting", "offered": "Offered a home", "housed": "Housed",
                    "refused": "Application refused", "withdrawn": "Withdrawn or closed"}


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
HousingBand = code(HOUSING_BANDS, "housing register band")
HousingOutcome = code(HOUSING_OUTCOMES, "housing register outcome")
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
