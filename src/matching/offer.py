"""The local offer: who is eligible for what, where each young person stands, and who has been missed.

Eligibility is the item's age range (up to, not including, the `max_age` birthday) plus, for the built-in
items whose rule depends on circumstances, the 903 code the rule names. Items the council adds are
decided by age. The rule's words live with the item in the database, for advisers and young people.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching.clock import utcnow
from matching.dates import born_by
from matching.errors import InvalidInput, NotFound
from matching.models import CareLeaver, Entitlement, OfferItem, OfferItemCreate

STATUSES = {"told": "Told about it", "applied": "Applied for", "taken_up": "Taken up",
            "not_eligible": "Checked: not eligible"}


@dataclass(frozen=True)
class Condition:
    """A circumstance an item's rule names: a 903 code column starting with a prefix or among some codes.
    Declared once, it is both checked on a record and written as SQL, so the list and its count agree."""
    column: str
    prefix: str | None = None
    codes: frozenset[str] = frozenset()

    def holds(self, person: Any) -> bool:
        value = getattr(person, self.column) or ""
        return value.startswith(self.prefix) if self.prefix else value in self.codes

    def sql(self) -> Any:
        column = getattr(CareLeaver, self.column)
        return column.startswith(self.prefix) if self.prefix else column.in_(sorted(self.codes))


CONDITIONS: dict[str, Condition] = {
    "rent_deposit": Condition("accommodation", prefix="U"),  # unsuitable accommodation
    "setting_up_home": Condition("accommodation", prefix="U"),
    "higher_education_bursary": Condition("current_activity", codes=frozenset({"F1", "P1"})),
    "apprenticeship_bursary": Condition("current_activity", codes=frozenset({"F4", "P4"})),
}
DONE = ("applied", "taken_up", "not_eligible")  # nothing is missing once an item is at one of these


def age_window(item: OfferItem, today: date) -> tuple[date, date]:
    """Born after the first day and on or before the second: at least `min_age` today and not yet `max_age`."""
    return born_by(today, item.max_age), born_by(today, item.min_age)


def eligible(person: CareLeaver, item: OfferItem, today: date) -> bool:
    after, by = age_window(item, today)
    return after < person.date_of_birth <= by and (item.code not in CONDITIONS or CONDITIONS[item.code].holds(person))


def standing(session: Session, person: CareLeaver, today: date) -> list[dict]:
    """Every active item of the offer, whether the young person is eligible, and what has been done."""
    mine = select(Entitlement).where(Entitlement.care_leaver_id == person.id)
    recorded = {e.offer_code: e for e in session.exec(mine)}
    return [{"code": item.code, "label": item.label, "rule": item.rule, "eligible": eligible(person, item, today),
             "status": recorded[item.code].status if item.code in recorded else None}
            for item in active_items(session)]


def record(session: Session, care_leaver_id: int, code: str, status: str, *, actor_id: int | None) -> Entitlement:
    if status not in STATUSES:
        raise InvalidInput("status", f"choose one of: {', '.join(STATUSES)}")
    if session.exec(select(OfferItem).where(OfferItem.code == code)).first() is None:
        raise NotFound("entitlement", code)
    if session.get(CareLeaver, care_leaver_id) is None:
        raise NotFound("care leaver", care_leaver_id)
    entry = session.exec(select(Entitlement).where(Entitlement.care_leaver_id == care_leaver_id,
                                                   Entitlement.offer_code == code)).first()
    entry = entry or Entitlement(care_leaver_id=care_leaver_id, offer_code=code, status=status)
    entry.status, entry.updated_at, entry.updated_by_id = status, utcnow(), actor_id
    session.add(entry)
    session.flush()
    return entry


def missed(session: Session, *, today: date, adviser_id: int | None = None) -> list[dict]:
    """Open cases eligible for an entitlement and not yet told about it, or told and not yet applied: by young
    person, then in the offer's order."""
    found = []
    for order, item in enumerate(active_items(session)):
        rows = session.execute(_missing(item, today, adviser_id, CareLeaver.id, CareLeaver.case_reference,
                                        CareLeaver.personal_adviser_id, Entitlement.status))
        code = item.code  # read once: an ORM attribute per row cost a third of the list's time
        found += [(person_id, order, {"care_leaver_id": person_id, "case_reference": reference,
                                      "personal_adviser_id": adviser, "code": code,
                                      "missing": "not told" if status is None else "told, not applied"})
                  for person_id, reference, adviser, status in rows]
    return [row for _, _, row in sorted(found, key=lambda found: found[:2])]


def missed_count(session: Session, *, today: date, adviser_id: int | None = None) -> int:
    """len(missed(...)), counted in the database: the managers' overview needs the number, not 25,000 rows."""
    return sum(session.execute(_missing(item, today, adviser_id, sa.func.count())).scalar_one()
               for item in active_items(session))


def _missing(item: OfferItem, today: date, adviser_id: int | None, *columns: Any) -> Any:
    """`columns` of the open cases eligible for `item` today with nothing done about it (not told, or told only):
    the missed list names them and its count counts them, from this one query (checking each of 10,000 people in
    Python cost most of the list's time)."""
    after, by = age_window(item, today)
    query = (sa.select(*columns).select_from(CareLeaver)
             .outerjoin(Entitlement, (Entitlement.care_leaver_id == CareLeaver.id)
                        & (Entitlement.offer_code == item.code))  # one row at most: unique by person and item
             .where(CareLeaver.case_status == "open", CareLeaver.date_of_birth > after,
                    CareLeaver.date_of_birth <= by, Entitlement.status.is_(None) | Entitlement.status.not_in(DONE)))
    if item.code in CONDITIONS:
        query = query.where(CONDITIONS[item.code].sql())
    if adviser_id:
        query = query.where(CareLeaver.personal_adviser_id == adviser_id)
    return query


def active_items(session: Session) -> list[OfferItem]:
    """The offer as it stands: the items not retired, in the order they were added."""
    return list(session.exec(select(OfferItem).where(OfferItem.active).order_by(OfferItem.id)))


def _check_ages(data: OfferItemCreate) -> None:
    """`max_age` is the birthday eligibility ends on, so an item open to nobody (max_age <= min_age) is refused."""
    if data.min_age >= data.max_age:
        raise InvalidInput("max_age", "must be more than min_age: the item ends on that birthday")


def add_item(session: Session, data: OfferItemCreate) -> OfferItem:
    data = OfferItemCreate.model_validate(data)
    _check_ages(data)
    if session.exec(select(OfferItem).where(OfferItem.code == data.code)).first():
        raise InvalidInput("code", f"'{data.code}' is already in the offer")
    item = OfferItem(**data.model_dump())
    session.add(item)
    session.flush()
    return item


EDITABLE = ("label", "rule", "min_age", "max_age")  # never the code: entitlements name it


def change_item(session: Session, item_id: int, changes: dict[str, Any]) -> OfferItem:
    """Change an item's words and ages (never its code: entitlements recorded for young people name it)."""
    item = session.get(OfferItem, item_id)
    if item is None:
        raise NotFound("offer item", item_id)
    merged = OfferItemCreate.model_validate({**item.model_dump(), **{k: changes[k] for k in EDITABLE if k in changes}})
    _check_ages(merged)
    for name in EDITABLE:
        setattr(item, name, getattr(merged, name))
    session.add(item)
    session.flush()
    return item


def set_item_active(session: Session, item_id: int, active: bool) -> OfferItem:
    """Retire an item (it leaves the public page, `standing` and `missed`) or bring it back; nothing is deleted."""
    item = session.get(OfferItem, item_id)
    if item is None:
        raise NotFound("offer item", item_id)
    item.active = active
    session.add(item)
    session.flush()
    return item
