"""Recording a care leaver's housing register applications and what came of them."""

from datetime import date

from sqlmodel import Session, select

from matching.errors import InvalidInput, NotFound, StaleVersion
from matching.models import CareLeaver
from matching.models.housing import HousingApplication, HousingApplicationBase


def applications(session: Session, care_leaver_id: int) -> list[HousingApplication]:
    """Newest first."""
    return list(session.exec(select(HousingApplication).where(HousingApplication.care_leaver_id == care_leaver_id)
                             .order_by(HousingApplication.applied_on.desc(), HousingApplication.id.desc())))


def _not_in_the_future(details: HousingApplicationBase, today: date) -> None:
    for name in ("applied_on", "housed_on"):
        if (day := getattr(details, name)) and day > today:
            raise InvalidInput(name, "must be today or in the past")


def record(session: Session, care_leaver_id: int, details: HousingApplicationBase, *, today: date,
           actor_id: int | None) -> HousingApplication:
    if session.get(CareLeaver, care_leaver_id) is None:
        raise NotFound("care leaver", care_leaver_id)
    _not_in_the_future(details, today)
    application = HousingApplication(**details.model_dump(), care_leaver_id=care_leaver_id, recorded_by_id=actor_id)
    session.add(application)
    session.flush()
    return application


def change(session: Session, application_id: int, details: HousingApplicationBase, *, version: int, today: date,
           actor_id: int | None) -> HousingApplication:
    application = session.get(HousingApplication, application_id)
    if application is None:
        raise NotFound("housing application", application_id)
    if application.version != version:
        raise StaleVersion("housing application", application_id, version, application.version)
    _not_in_the_future(details, today)
    for name, value in details.model_dump().items():
        setattr(application, name, value)
    application.recorded_by_id = actor_id
    session.flush()
    return application
