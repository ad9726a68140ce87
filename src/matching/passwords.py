"""Whether a password is good enough to set: the one rule, checked wherever a password is chosen (an
invitation or reset link, the JSON API, the command line, mentor sign-up).

Length alone lets through `Password1234` and `qwertyuiop12`, which are among the first guesses of anyone who
tries passwords from breaches. So a password is also refused when, ignoring case and the digits and symbols
people pad a common password with, it is on zxcvbn's list of the 30,000 most used passwords (from real
breaches; the `zxcvbn` package, MIT licence), when it contains the person's own name or e-mail name, or when
it is a character or a few repeated, or a run such as 123456789012. The list is read into a set once, when
first needed, so each check is a few set lookups.
"""

import re
import string
from functools import cache
from itertools import pairwise

from matching.errors import InvalidInput

MIN_LENGTH = 12
# Leetspeak people use to dress up a listed word: p@ssw0rd is password.
UNLEET = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "1": "i", "!": "i", "$": "s", "5": "s", "7": "t"})
PADDING = string.digits + string.punctuation + string.whitespace
# Shorter pieces of a name (Jo, Li) would refuse too much; they are also guessed less.
SHORTEST_NAME_PART = 3
SHORTEST_LISTED_CORE = 4
LONGEST_REPEATED_UNIT = 3

COMMON = "Choose a password that is harder to guess: this one is on a list of commonly used passwords"
NAMED = "Choose a password that does not contain your name or your email address"
SIMPLE = "Choose a password that is harder to guess: not one character or a few repeated, nor a run like 123456789"
TOO_SHORT = f"Your password must be {MIN_LENGTH} characters or more"


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # 30,000 breached passwords; imported on first use

    return frozenset(FREQUENCY_LISTS["passwords"])


def _unit(password: str) -> str:
    """What the password repeats (abc for abcabcabcabc), or the password itself."""
    found = re.fullmatch(r"(.+?)\1+", password, flags=re.DOTALL)
    return found.group(1) if found else password


def _forms(password: str) -> set[str]:
    """The password as it would be found on the list: as typed, without padding, without leetspeak, and
    what it repeats (passwordpassword is password)."""
    forms = set()
    for typed in {password.lower(), _unit(password.lower())}:
        core = typed.strip(PADDING)
        forms |= {typed, typed.translate(UNLEET)}
        if len(core) >= SHORTEST_LISTED_CORE:
            forms |= {core, core.translate(UNLEET), typed.translate(UNLEET).strip(PADDING)}
    return {form for form in forms if form}


def _simple(password: str) -> bool:
    """A few characters over and over (aaaaaaaaaaaa, abcabcabcabc), or a run up or down the digits or the
    alphabet (123456789012, abcdefghijkl)."""
    if len(_unit(password)) <= LONGEST_REPEATED_UNIT:
        return True
    steps = {(ord(b) - ord(a)) % (10 if a.isdigit() and b.isdigit() else 26)
             for a, b in pairwise(password.lower())}
    return steps in ({1}, {10 - 1}, {26 - 1}) and (password.isdigit() or password.isalpha())


def _name_parts(email: str | None, full_name: str | None) -> set[str]:
    local = (email or "").lower().partition("@")[0]
    parts = set(re.split(r"[^\w]+|_", local)) | set(re.split(r"[^\w]+", (full_name or "").lower()))
    parts.add(local)
    return {part for part in parts if len(part) >= SHORTEST_NAME_PART}


def refusal(password: str, *, email: str | None = None, full_name: str | None = None) -> str | None:
    """Why `password` may not be set for this person, in words they understand; None when it may."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if _simple(password):
        return SIMPLE
    if not _forms(password).isdisjoint(_common()):
        return COMMON
    lowered = password.lower()
    if any(part in lowered for part in _name_parts(email, full_name)):
        return NAMED
    return None


def check(password: str, *, email: str | None = None, full_name: str | None = None, field: str = "password") -> None:
    """`refusal` as the domain's InvalidInput naming the field, for code that sets a password."""
    reason = refusal(password, email=email, full_name=full_name)
    if reason is not None:
        raise InvalidInput(field, reason)
