"""Calendar arithmetic the rules need: birthdays (Family Law Reform Act 1969 s.9) and months ahead."""

import calendar
from datetime import date


def birthday(born: date, years: int) -> date:
    """The day someone attains an age; a 29 February birthday falls on 1 March in other years."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def born_by(today: date, years: int) -> date:
    """The last date of birth that has reached `years` by `today` (birthday(born, years) <= today exactly
    when born <= born_by(today, years)): age windows become date ranges, compared once per person."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February and that year has none: born on the 28th has had the birthday
        return date(today.year - years, 2, 28)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 August + 6 months = end of February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def in_words(day: date) -> str:
    """"15 June 2026", as GOV.UK writes dates (and the rules and notices quote them)."""
    return f"{day.day} {day:%B %Y}"
