"""The local offer: who is eligible for what, where each young person stands, and who has been missed.

Eligibility is the item's age range (up to, not including, the `max_age` birthday) plus, for the built-in
items whose rule depends on circumstances, the 903 code the rule names. Items the council adds are
decided by age. The rule's words live with the item in the database, for advisers and young people.
"""

from collections.abc import Callable
from datetime import date

from sqlmodel import Session, select

from matching.clock import utcnow
from matching.dates import birthday
from matching.errors import InvalidInput, NotFound
from matching.models import CareLeaver, Entitlement, OfferItem, OfferItemCreate

STATUSES = {"told": "Told about it", "applied": "Applied for", "taken_up": "Taken up",
            "not_eligible": "Checked: not eligible"}
CONDITIONS: dict[str, Callable[[CareLeaver], bool]] = {
    "rent_deposit": lambda p: (p.accommodation or "").startswith("U"),
    "setting_up_home": lambda p: (p.accommodation or "").startswith("U"),
    "higher_education_bursary": lambda p: p.current_activity in {"F1", "P1"},
    "apprenticeship_bursary": lambda p: p.current_activity in {"F4", "P4"},
}


def eligible(person: CareLeaver, item: OfferItem, today: date) -> bool:
    in_age = birthday(person.date_of_birth, item.min_age) <= today < birthday(person.date_of_birth, item.max_age)
    return in_age and CONDITIONS.get(item.code, lambda p: True)(person)


def standing(session: Session, person: CareLeaver, today: date) -> list[dict]:
    """Every active item of the offer, whether the young person is eligible, and what has been done."""
    mine = select(Entitlement).where(Entitlement.care_leaver_id == person.id)
    recorded = {e.offer_code: e for e in session.exec(mine)}
    return [{"code": item.code, "label": item.label, "rule": item.rule, "eligible": eligible(person, item, today),
             "status": recorded[item.code].status if item.code in recorded else None}
            for item in session.exec(select(OfferItem).where(OfferItem.active).order_by(OfferItem.id))]


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
    """Open cases eligible for an entitlement and not yet told about it, or told and not yet applied."""
    items = session.exec(select(OfferItem).where(OfferItem.active)).all()
    people = select(CareLeaver).where(CareLeaver.case_status == "open")
    if adviser_id:
        people = people.where(CareLeaver.personal_adviser_id == adviser_id)
    recorded = select(Entitlement).where(Entitlement.care_leaver_id.in_(people.with_only_columns(CareLeaver.id)))
    statuses = {(e.care_leaver_id, e.offer_code): e.status for e in session.exec(recorded)}
    found = []
    for person in session.exec(people.order_by(CareLeaver.id)):
        for item in items:
            status = statuses.get((person.id, item.code))
            if status in {None, "told"} and eligible(person, item, today):
                found.append({"care_leaver_id": person.id, "case_reference": person.case_reference,
                              "personal_adviser_id": person.personal_adviser_id, "code": item.code,
                              "missing": "not told" if status is None else "told, not applied"})
    return found


def add_item(session: Session, data: OfferItemCreate) -> OfferItem:
    data = OfferItemCreate.model_validate(data)
    if data.min_age > data.max_age:
        raise InvalidInput("min_age", "must not be greater than max_age")
    if session.exec(select(OfferItem).where(OfferItem.code == data.code)).first():
        raise InvalidInput("code", f"'{data.code}' is already in the offer")
    item = OfferItem(**data.model_dump())
    session.add(item)
    session.flush()
    return item
