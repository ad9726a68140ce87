"""A manager's pages: who needs attention, matching runs, the fairness report and the council's settings."""

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel import select

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, tell, today, version
from matching import council_settings, dashboard, engine
from matching.errors import DomainError
from matching.models import MatchRun


@get("/overview", sync_to_thread=True, opt=roles("manager"))
def overview(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    """How many need attention, by the intervals the manager set (matching.dashboard)."""
    with uow.read() as session:
        counts = dashboard.recent_counts(session, today())
        last_run = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()
    return page(request, "overview.html", "Overview", counts=counts.rows, counted_at=counts.counted_at,
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
           ("pathway_due_within_days", "List pathway reviews due within (days)"),
           ("no_next_step_days", "Follow up an approved match not yet referred or introduced after (days)"),
           ("check_ins_due_within_days", "List check-ins and waiting matches from this many days before they are due")]
MATCHING, FOLLOW_UP = council_settings.MatchingSettings, council_settings.FollowUpSettings


def _settings_page(request: Request, session, errors: dict[str, str], typed: dict[str, Any] | None = None) -> Template:
    """The settings as stored, or as typed when they were refused (every answer given back as it was)."""
    matching, follow_up = council_settings.load(session, MATCHING), council_settings.load(session, FOLLOW_UP)
    current = {**matching.model_dump(), **follow_up.model_dump()}
    shown = typed or {**current, **{f"weight-{name}": value for name, value in matching.weights.items()},
                      "must_have": matching.must_have}
    return page(request, "settings.html", "Settings", status_code=400 if errors else 200, errors=errors,
                features=council_settings.FEATURES, numbers=NUMBERS, values=shown,
                matching_version=council_settings.version_of(session, MATCHING),
                follow_up_version=council_settings.version_of(session, FOLLOW_UP))


@get("/settings", sync_to_thread=True, opt=roles("manager"))
def settings_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        return _settings_page(request, session, {})


def _answer(raw: Any) -> str:
    """One field's answer, trimmed (a repeated field gives its last value)."""
    raw = (raw[-1] if raw else "") if isinstance(raw, list) else raw
    return str(raw if raw is not None else "").strip()


def _typed(data: Posted) -> dict[str, Any]:
    """What the manager typed: each number, each weight (as `weight-NAME`) and the must-haves ticked."""
    answers = {name: _answer(data.get(name)) for name, _ in NUMBERS}
    answers |= {f"weight-{name}": _answer(data.get(f"weight-{name}")) for name in council_settings.FEATURES}
    return {**answers, "must_have": [name for name in council_settings.FEATURES if data.get(f"must-{name}")]}


@post("/settings", sync_to_thread=True, opt=roles("manager"))
def save_settings(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    typed = _typed(data)
    numbers = {name: typed[name] for name, _ in NUMBERS}
    weights = {name: typed[f"weight-{name}"] for name in council_settings.FEATURES}
    with uow.write() as session:
        matching = council_settings.load(session, MATCHING).model_dump()
        follow_up = council_settings.load(session, FOLLOW_UP).model_dump()
        errors: dict[str, str] = {}
        new_matching = _validated(MATCHING, errors, {
            **matching, "weights": weights, "must_have": typed["must_have"],
            **{k: v for k, v in numbers.items() if k in matching}})
        new_follow_up = _validated(FOLLOW_UP, errors, {
            **follow_up, **{k: v for k, v in numbers.items() if k in follow_up}})
        if errors:
            return _settings_page(request, session, errors, typed)
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
    """The settings if they are valid; otherwise None, with each problem added to `errors` by form field,
    worded as GOV.UK asks ("Days with no meeting must be 7 or more")."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        worded = forms.messages(model, error, values)
        for problem in error.errors():
            name = _field(problem["loc"])
            errors.setdefault(name, _number_message(model, name, values, worded) if name in model.model_fields
                              else _weight_message(problem))
        return None


def _number_message(model, name: str, values: dict[str, Any], worded: dict[str, str]) -> str:
    if values.get(name) == "":  # left empty (not a number typed wrongly)
        title = model.model_fields[name].title or name
        return f"Enter {title[:1].lower()}{title[1:]}"
    return worded[name]


def _weight_message(problem: dict[str, Any]) -> str:
    location = problem["loc"]
    if problem["type"] == "float_parsing" and len(location) > 1:
        return f"Weight for {str(location[1]).replace('_', ' ')} must be a number, from 0 to 10"
    message = problem["msg"].removeprefix("Value error, ")
    return message[:1].upper() + message[1:]


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
