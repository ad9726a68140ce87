"""Turning a cell's text into a value, or a reason a person can act on."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from matching import vocab

_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}


def boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"'{text}' is not yes or no")


def day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def tags(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]


def days(text: str) -> list[str]:
    values = [part[:3].lower() for part in tags(text.replace(",", ";"))]
    unknown = [v for v in values if v not in vocab.DAYS]
    if unknown:
        raise ValueError(f"'{unknown[0]}' is not a day of the week")
    return values


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


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def lookup(vocabulary: dict[str, str], name: str, aliases: dict[str, str] | None = None):
    """Accepts a code, its label, the start of its label or an alias; case and punctuation don't matter.

    Case systems export descriptions rather than codes (SSD extracts from Eclipse and Mosaic do)."""
    by_key = {_key(code): code for code in vocabulary}
    by_label = {_key(label): code for code, label in vocabulary.items()}
    by_alias = {_key(alias): code for alias, code in (aliases or {}).items()}

    def convert(text: str) -> str:
        key = _key(text)
        found = by_key.get(key) or by_label.get(key) or by_alias.get(key)
        if found:
            return found
        starts = {code for label, code in by_label.items() if key and label.startswith(key)}
        if len(starts) == 1:
            return starts.pop()
        raise ValueError(f"'{text}' is not a known {name}")

    return convert


leaving_care_category = lookup(vocab.LEAVING_CARE_CATEGORIES, "leaving-care category", {
    "former relevant": "former_relevant", "former relevant child": "former_relevant", "frc": "former_relevant",
    "relevant": "relevant", "relevant child": "relevant", "eligible": "eligible", "eligible child": "eligible",
    "qualifying": "qualifying", "qualifying care leaver": "qualifying",
})
in_touch = lookup(vocab.IN_TOUCH, "903 in-touch code", {
    "in touch": "YES", "not in touch": "NO", "refuses contact": "REFU", "refused": "REFU", "died": "DIED",
    "no longer requires services": "NREQ", "returned home": "RHOM",
})
activity = lookup(vocab.ACTIVITY, "903 activity code")
accommodation_type = lookup(vocab.ACCOMMODATION_TYPES, "903 accommodation type")
ethnicity = lookup(vocab.ETHNICITY, "903 ethnicity code")
sex = lookup(vocab.SEX, "903 sex code", {"m": "1", "f": "2", "male": "1", "female": "2"})
opportunity_kind = lookup(vocab.OPPORTUNITY_KINDS, "opportunity kind")


def accommodation(text: str, suitable: str = "") -> str:
    """A 903 ACCOM code from a code ('U1'), a type ('U' or 'Independent living') plus suitability."""
    if text.upper() in vocab.ACCOMMODATION:
        return text.upper()
    letter = accommodation_type(text)
    if not suitable:
        raise ValueError(f"'{text}' needs its suitability (suitable or unsuitable)")
    digit = {"suitable": "1", "1": "1", "yes": "1", "unsuitable": "2", "2": "2", "no": "2"}.get(_key(suitable))
    if digit is None:
        raise ValueError(f"'{suitable}' is not suitable or unsuitable")
    code = letter + digit
    if code not in vocab.ACCOMMODATION:
        raise ValueError(f"{vocab.ACCOMMODATION_TYPES[letter]} is always recorded as unsuitable")
    return code
