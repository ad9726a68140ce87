"""Turning a cell's text into a value, or a reason a person can act on.

Councils' files hold what their case systems export: descriptions rather than codes, census wording,
SQL Server datetimes, "Not known". Each converter accepts every wording the DfE, the census or the SSD uses
for a value (the aliases live beside the code lists in matching/vocab.py) and, when it refuses a value,
says what it accepts."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from matching import clock, dates, vocab


class _NotGiven:
    """A cell that says "we don't know" (`Not known` in a yes-no column): read as an empty cell."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = _NotGiven()


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def accepted(choices: dict[str, str], limit: int = 300) -> str:
    """'accepted: F1 (Full time in higher education), …', shortened to about `limit` characters."""
    listed = ", ".join(f"{code} ({label})" if _key(code) != _key(label) else code for code, label in choices.items())
    if len(listed) > limit:
        listed = listed[:limit].rsplit(", ", 1)[0] + ", … (every value is listed in docs/imports.md)"
    return f"accepted: {listed}"


def boolean(text: str) -> bool | _NotGiven:
    key = " ".join(text.lower().split())
    if key in vocab.YES_WORDS:
        return True
    if key in vocab.NO_WORDS:
        return False
    if key in vocab.NOT_KNOWN_WORDS:
        return NOT_GIVEN
    raise ValueError(f"'{text}' is not yes or no (accepted: yes, no, y, n, true, false, 1, 0, not known)")


# --- Dates ------------------------------------------------------------------------------------------------

# Day first (English files), then the SQL Server and ISO forms that fromisoformat does not cover.
_DATE_PATTERNS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%y", "%d.%m.%Y", "%d.%m.%y", "%d %b %Y", "%d %B %Y",
                  "%d-%b-%Y", "%d-%b-%y", "%d %b %y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%b-%Y %H:%M:%S")
_SSD_NONE = date(1900, 1, 1)  # what SSD extracts write for "no date" (SQL Server's zero date)


# An Excel date is a count of days (the time of day as a fraction) in the 1900 date system. Excel copies
# Lotus 1-2-3 in counting a 29 February 1900 (serial 60), a day that never was: serials before it count from
# 31 December 1899, those after it from 30 December 1899. A sheet shows the number when the cell's format
# is "General" or text, or when an export has lost the format.
_EXCEL_SERIAL = re.compile(r"^\d{1,6}(?:\.\d+)?$")
_EXCEL_LEAP_BUG = 60
EXCEL_LAST = date(2099, 12, 31)  # later than any date a record holds: a bigger number is not a date


def excel_day(text: str) -> date:
    serial = int(float(text))  # the time of day, if any, is not kept
    if serial < 1:
        raise ValueError(f"'{text}' read as an Excel date is before 1900: is it the right column?")
    if serial == _EXCEL_LEAP_BUG:
        raise ValueError(f"'{text}' is Excel's 29 February 1900, a day that did not exist: type the date")
    when = date(1899, 12, 31 if serial < _EXCEL_LEAP_BUG else 30) + timedelta(days=serial)
    if when > EXCEL_LAST:
        raise ValueError(f"'{text}' read as an Excel date is {when:%d %B %Y}, after {EXCEL_LAST.year}: "
                         "is it the right column?")
    return when


def day(text: str) -> date:
    text = " ".join(text.split())
    if _EXCEL_SERIAL.match(text):
        return excel_day(text)
    try:  # 2026-11-01, 2026-11-01T09:30:00Z, 2026-11-01 00:00:00.000 (SQL Server datetime)
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    for pattern in _DATE_PATTERNS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date (accepted: 2005-03-04, 04/03/2005, 04/03/05, 4 Mar 2005, "
                     "04-Mar-2005, 04.03.2005, an Excel date number such as 38415)")


def past_day(text: str) -> date:
    """A date something happened on (a contact, a check): not after today."""
    when = day(text)
    if when > clock.today():
        raise ValueError(f"'{text}' is in the future")
    return when


def review_day(text: str) -> date | None:
    """A review date; the SSD's 1900-01-01 means there has been none."""
    when = day(text)
    return None if when == _SSD_NONE else when


EARLIEST_BIRTH = date(1990, 1, 1)
YOUNGEST_AGE = 14  # the leaving-care duties begin at 16; 14 allows for records opened early


def birth_day(text: str) -> date:
    born = day(text)
    today = clock.today()
    if born > today:
        raise ValueError(f"'{text}' is in the future: a date of birth has passed")
    if born < EARLIEST_BIRTH:
        raise ValueError(f"'{text}' is before {EARLIEST_BIRTH.year}: no care leaver was born then "
                         "(is it a placeholder such as 1900-01-01?)")
    if dates.birthday(born, YOUNGEST_AGE) > today:
        raise ValueError(f"'{text}' makes them younger than {YOUNGEST_AGE}: is the year right?")
    return born


# --- Lists, days, numbers ---------------------------------------------------------------------------------

def tags(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]


_DAY_ORDER = list(vocab.DAYS)
_DAY_RANGE = re.compile(r"^([a-z]+)\s*(?:-|–|—|to|until)\s*([a-z]+)$")
_DAY_WORDS = {"weekdays": _DAY_ORDER[:5], "weekends": _DAY_ORDER[5:], "weekend": _DAY_ORDER[5:],
              "every day": _DAY_ORDER, "any day": _DAY_ORDER, "all week": _DAY_ORDER}


def _one_day(word: str) -> str:
    short = word[:3]
    if short not in vocab.DAYS or not vocab.DAYS[short].lower().startswith(word):
        raise ValueError(f"'{word}' is not a day of the week (accepted: Mon, Tuesday, Mon-Fri, weekdays)")
    return short


def days(text: str) -> list[str]:
    """'Mon, Wed', 'Mon-Fri', 'Monday to Friday', 'weekdays'; in the week's order, each day once."""
    found: list[str] = []
    for part in tags(text.replace(",", ";").replace("/", ";").replace("&", ";").replace(" and ", ";")):
        part = " ".join(part.lower().split()).rstrip(".")
        if part in _DAY_WORDS:
            found += _DAY_WORDS[part]
        elif match := _DAY_RANGE.match(part):
            first, last = _DAY_ORDER.index(_one_day(match[1])), _DAY_ORDER.index(_one_day(match[2]))
            if last < first:
                raise ValueError(f"'{part}' ends before it starts")
            found += _DAY_ORDER[first:last + 1]
        else:
            found.append(_one_day(part))
    return [d for d in _DAY_ORDER if d in found]


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number") from None


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None


def pence(text: str) -> int:
    try:
        return int((Decimal(text.lstrip("£")) * 100).to_integral_value())
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount in pounds, e.g. 12.60") from None


# --- Codes ------------------------------------------------------------------------------------------------

def lookup(vocabulary: dict[str, str], name: str, aliases: dict[str, str] | None = None):
    """Accepts a code, its label, the start of its label or an alias; case and punctuation don't matter.

    Case systems export descriptions rather than codes (SSD extracts from Eclipse and Mosaic do)."""
    by_key = {_key(code): code for code in vocabulary}
    by_label = {_key(label): code for code, label in vocabulary.items()}
    by_alias = {_key(alias): code for alias, code in (aliases or {}).items()}
    refusal = accepted(vocabulary)

    def convert(text: str) -> str:
        key = _key(text)
        found = by_key.get(key) or by_label.get(key) or by_alias.get(key)
        if found:
            return found
        starts = {code for label, code in by_label.items() if key and label.startswith(key)}
        if len(starts) == 1:
            return starts.pop()
        raise ValueError(f"'{text}' is not a known {name}; {refusal}")

    return convert


leaving_care_category = lookup(vocab.LEAVING_CARE_CATEGORIES, "leaving-care category", {
    "former relevant": "former_relevant", "former relevant child": "former_relevant", "frc": "former_relevant",
    "relevant": "relevant", "relevant child": "relevant", "eligible": "eligible", "eligible child": "eligible",
    "qualifying": "qualifying", "qualifying care leaver": "qualifying",
})
in_touch = lookup(vocab.IN_TOUCH, "903 in-touch code", vocab.IN_TOUCH_ALIASES)
activity = lookup(vocab.ACTIVITY, "903 activity code", vocab.ACTIVITY_ALIASES)
accommodation_type = lookup(vocab.ACCOMMODATION_TYPES, "903 accommodation type", vocab.ACCOMMODATION_TYPE_ALIASES)
_accommodation_code = lookup(vocab.ACCOMMODATION, "903 accommodation code")
suitability = lookup(vocab.SUITABILITY, "suitability of accommodation", vocab.SUITABILITY_ALIASES)
ethnicity = lookup(vocab.ETHNICITY, "903 ethnicity code", vocab.ETHNICITY_ALIASES)
disability = lookup(vocab.DISABILITY, "disability answer", vocab.DISABILITY_ALIASES)
opportunity_kind = lookup(vocab.OPPORTUNITY_KINDS, "opportunity kind")
_sex = lookup(vocab.SEX, "903 sex code", vocab.SEX_ALIASES)


def sex(text: str) -> str | None:
    """903 SEX has 1 and 2 only; "U" (unknown, as the SSD writes it) is stored as no value."""
    if " ".join(text.lower().split()) in vocab.SEX_NOT_KNOWN:
        return None
    return _sex(text)


def accommodation(text: str, suitable: str = "") -> str:
    """A 903 ACCOM code from a code ('U1', 'Independent living (suitable)'), or a type ('U', 'Independent
    living') plus its suitability: '1' or '2', as `suitability` read it from its own column."""
    if text.upper() in vocab.ACCOMMODATION:
        return text.upper()
    if len(_key(text)) > 2:  # a description with its suitability; a one-letter type is never one
        try:
            return _accommodation_code(text)
        except ValueError:
            pass
    letter = accommodation_type(text)
    if not suitable:
        raise ValueError(f"'{text}' needs its suitability (in accommodation_suitable: suitable or unsuitable)")
    code = letter + suitable
    if code not in vocab.ACCOMMODATION:
        raise ValueError(f"{vocab.ACCOMMODATION_TYPES[letter]} is always recorded as unsuitable")
    return code
