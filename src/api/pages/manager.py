"""A manager's pages: who needs attention, matching runs, the fairness report and the council's settings."""

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel import select

from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, tell, today, version
from matching import cases, council_settings, engine, offer
from matching.errors import DomainError
from matching.models import MatchRun


@get("/overview", sync_to_thread=True, opt=roles("manager"))
def overview(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    day = today()
    with uow.read() as session:
        lists = {"Not in touch": cases.not_in_touch(session, today=day),
                 "Pathway reviews due or overdue": cases.pathway_reviews(session, today=day),
                 "Check-ins overdue": cases.overdue_check_ins(session, today=day),
                 "Mentoring with no meeting for 90 days": cases.no_recent_meeting(session, today=day),
                 "Waiting with no approved match": cases.waiting(session, today=day),
                 "Entitlements not told or not applied": offer.missed(session, today=day)}
        last_run = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()
    return page(request, "overview.html", "Overview", counts={name: len(found) for name, found in lists.items()},
                last_run=last_run)


@post("/match-runs", sync_to_thread=True, opt=roles("manager"))
def run_matching(request: Request) -> Redirect:
    try:
        run = engine.run(request.app.state.engine, today=today(), actor_id=actor_id(request), source="api")
    except DomainError as error:
        return tell(request, "/overview", f"The run did not start: {error}")
    made = run.counts["mentoring"]["proposals"] + run.counts["opportunity"]["proposals"]
    return done(request, "/overview", f"Matching run {run.id} made {made} proposals")


NUMBERS = [("referrals_per_place", "Proposals per free place of an opportunity"),
           ("opportunities_per_person", "New opportunity proposals per young person per run"),
           ("max_distance_km", "Never propose anything further than (km)"),
           ("not_in_touch_weeks", "Not in touch after (weeks without contact)"),
           ("waiting_weeks", "Waiting too long after (weeks without an approved match)"),
           ("no_meeting_days", "Flag mentoring with no meeting for (days)"),
           ("pathway_due_within_days", "List pathway reviews due within (days)")]


def _settings_page(request: Request, session, errors: dict[str, str], values: dict[str, Any] | None = None) -> Template:
    matching = council_settings.load(session, council_settings.MatchingSettings)
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    current = {**matching.model_dump(), **follow_up.model_dump()}
    return page(request, "settings.html", "Settings", status_code=400 if errors else 200, errors=errors,
                matching=matching, features=council_settings.FEATURES, numbers=NUMBERS,
                values={name: (values or current).get(name, current[name]) for name, _ in NUMBERS},
                matching_version=council_settings.version_of(session, council_settings.MatchingSettings),
                follow_up_version=council_settings.version_of(session, council_settings.FollowUpSettings))


@get("/settings", sync_to_thread=True, opt=roles("manager"))
def settings_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        return _settings_page(request, session, {})


@post("/settings", sync_to_thread=True, opt=roles("manager"))
def save_settings(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    fields = {name: data.get(name, "") for name, _ in NUMBERS}
    weights = {name: data.get(f"weight-{name}", "") for name in council_settings.FEATURES}
    must = [name for name in council_settings.FEATURES if data.get(f"must-{name}")]
    with uow.write() as session:
        matching = council_settings.load(session, council_settings.MatchingSettings).model_dump()
        follow_up = council_settings.load(session, council_settings.FollowUpSettings).model_dump()
        errors: dict[str, str] = {}
        new_matching = _validated(council_settings.MatchingSettings, errors, {
            **matching, "weights": weights, "must_have": must, **{k: v for k, v in fields.items() if k in matching}})
        new_follow_up = _validated(council_settings.FollowUpSettings, errors, {
            **follow_up, **{k: v for k, v in fields.items() if k in follow_up}})
        if errors:
            return _settings_page(request, session, errors, {**fields})
        try:
            council_settings.save(session, new_matching, version=version(data, "matching_version"),
                                  actor_id=actor_id(request))
            council_settings.save(session, new_follow_up, version=version(data, "follow_up_version"),
                                  actor_id=actor_id(request))
        except DomainError as error:
            session.rollback()
            return tell(request, "/settings", f"Nothing was saved: {error}")
    return done(request, "/settings", "Settings saved")


def _validated(model, errors: dict[str, str], values: dict[str, Any]):
    """The settings if they are valid; otherwise None, with each problem added to `errors` by form field."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        errors.update({_field(problem["loc"]): problem["msg"].removeprefix("Value error, ")
                       for problem in error.errors()})
        return None


def _field(location: tuple) -> str:
    """The form field a validation error belongs to, so the error summary can link to it."""
    if location and location[0] == "weights":
        return f"weight-{location[1]}" if len(location) > 1 else f"weight-{council_settings.FEATURES[0]}"
    return str(location[0]) if location else "referrals_per_place"


@get("/fairness", sync_to_thread=True, opt=roles("manager"))
def fairness_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        report = engine.fairness(session)
    return page(request, "fairness.html", "Fairness of matching", report=report)



ROUTES = [overview, run_matching, settings_form, save_settings, fairness_report]
