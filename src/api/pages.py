"""Server-rendered pages (GOV.UK Design System patterns): sign-in, and each role's home with its actions.

Pages call the same domain functions as the JSON API, with the same role rules: a guard checks the role
each page names, queries are confined to the person's own caseload, mentees or department, and every
view of a young person is audited. Forms carry CSRF tokens (Litestar's CSRF middleware checks them).
"""

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel import select

from api import oidc
from api.auth import session_auth
from api.deps import UnitOfWork, actor_id
from api.matches import DEPARTMENT_STEPS
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from api.stores import rotate_session
from matching import cases, clock, council_settings, engine, lifecycle, offer
from matching.errors import DomainError
from matching.models import CareLeaver, Match, MatchRun, Mentor, Opportunity, User
from matching.services import users, views
from matching.vocab import MEETING_KINDS

MENUS = {
    "adviser": [("/caseload", "My caseload"), ("/proposals", "Proposals to review")],
    "mentor": [("/mentees", "My mentees")],
    "department": [("/referrals", "Referrals")],
    "manager": [("/overview", "Overview"), ("/proposals", "Proposals to review"), ("/fairness", "Fairness"),
                ("/settings", "Settings")],
    "admin": [("/people", "People")],
}
HOME = {role: items[0][0] for role, items in MENUS.items()}
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def roles(*allowed: str) -> dict[str, Any]:
    return {"roles": frozenset(allowed)}


async def require_role(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every page names the roles it is for; a page with no roles is refused (sign-in is public).
    Async because Litestar runs a sync guard on a worker thread: a hop that costs more than the check."""
    if handler.opt.get("public"):
        return
    allowed = handler.opt.get("roles")
    if allowed is None or connection.user.role not in allowed:
        raise PermissionDeniedException("Your role does not include this page")


def page(request: Request, template: str, title: str, status_code: int = 200, **context: Any) -> Template:
    user = request.scope.get("user")
    notice = request.session.pop("notice", None) if user and "session" in request.scope else None
    return Template(template_name=template, status_code=status_code, context={
        "title": title, "user": user, "menu": MENUS.get(user.role, []) if user else [],
        "oidc": oidc.enabled(request.app.state.settings),
        "here": request.url.path, "notice": notice, **context})


def done(request: Request, path: str, notice: str) -> Redirect:
    request.session["notice"] = notice
    return Redirect(path, status_code=303)


def _version(data: dict[str, str], field: str = "version") -> int:
    """The version a form was rendered with; anything else counts as stale (a 409 message, not a crash)."""
    value = data.get(field, "")
    return int(value) if value.isdigit() else -1


def today(request: Request) -> date:
    return clock.today()


@get("/sign-in", sync_to_thread=False, opt={"public": True})
def sign_in_form(request: Request) -> Template:
    return page(request, "sign_in.html", "Sign in", email="", errors={})


@post("/sign-in", sync_to_thread=True, status_code=200, opt={"public": True},
      middleware=[RateLimitConfig(("minute", 10), store="rate_limit").middleware])
def sign_in(request: Request, uow: NamedDependency[UnitOfWork], data: Form) -> Template | Redirect:
    email, password = data.get("email", "").strip(), data.get("password", "")
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    user = None
    if not errors:
        with uow.write() as session:  # failed attempts are counted, so this writes either way
            user = users.authenticate(session, email, password)
            found = (user.id, user.role) if user else None
        if found is None:
            errors["email"] = "The email address or password is not right, or the account is locked for a while"
    if errors:
        return page(request, "sign_in.html", "Sign in", email=email, errors=errors)
    rotate_session(request)
    request.set_session({"user_id": found[0]})
    return Redirect(HOME.get(found[1], "/"), status_code=303)


@get("/sign-in/oidc", sync_to_thread=True, opt={"public": True})
def sign_in_with_council_account(request: Request) -> Redirect:
    settings = request.app.state.settings
    if not oidc.enabled(settings):
        raise NotFoundException("Single sign-on is not set up")
    url, flow = oidc.authorization_url(request.app.state.http, settings)
    request.set_session({"oidc": flow})
    return Redirect(url, status_code=302)


@get("/sign-in/oidc/callback", sync_to_thread=True, opt={"public": True})
def council_account_callback(request: Request, uow: NamedDependency[UnitOfWork], code: FromQuery[str] = "",
                             returned: Annotated[str, QueryParameter(name="state")] = "") -> Template | Redirect:
    flow = request.session.get("oidc") or {}
    request.clear_session()
    try:
        if not oidc.enabled(request.app.state.settings):
            raise oidc.SignInFailed("single sign-on is not set up")
        email = oidc.verified_email(request.app.state.http, request.app.state.settings, flow, code, returned)
    except oidc.SignInFailed as failed:
        return page(request, "sign_in.html", "Sign in", email="", errors={"email": f"Single sign-on failed: {failed}"})
    with uow.read() as session:
        user = users.by_email(session, email)
        found = (user.id, user.role) if user and user.active else None
    if found is None:
        return page(request, "sign_in.html", "Sign in", email="", errors={
            "email": "Your council account has no Springboard access; ask an administrator"})
    rotate_session(request)
    request.set_session({"user_id": found[0]})
    return Redirect(HOME.get(found[1], "/"), status_code=303)


@post("/sign-out", status_code=303, sync_to_thread=False, opt=roles(*MENUS))
def sign_out(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/sign-in", status_code=303)


@get("/", sync_to_thread=False, opt=roles(*MENUS))
def home(request: Request) -> Redirect:
    return Redirect(HOME[request.user.role], status_code=303)


@get("/caseload", sync_to_thread=True, opt=roles("adviser"))
def caseload(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        people = session.exec(select(CareLeaver).where(CareLeaver.personal_adviser_id == request.user.id,
                                                       CareLeaver.case_status == "open")
                              .order_by(CareLeaver.last_contact_on.asc().nulls_first())).all()
        quiet = {item["care_leaver_id"] for item in cases.not_in_touch(session, today=today(request),
                                                                        adviser_id=request.user.id)}
        entitlements = offer.missed(session, today=today(request), adviser_id=request.user.id)
        audit_care_leaver_reads(request, uow, session, [p.id for p in people], "list")
    return page(request, "caseload.html", "My caseload", people=people, quiet=quiet,
                entitlements=len(entitlements))


def _proposals(session, user) -> list[dict[str, Any]]:
    query = (select(Match, CareLeaver).join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(Match.state == "proposed").order_by(CareLeaver.id, Match.kind, Match.score.desc()))
    if user.role == "adviser":
        query = query.where(CareLeaver.personal_adviser_id == user.id)
    rows = session.exec(query.limit(100)).all()
    mentors = {m.id: m.job_title for m in session.exec(select(Mentor).where(
        Mentor.id.in_([m.mentor_id for m, _ in rows if m.mentor_id])))}
    jobs = {o.id: o.title for o in session.exec(select(Opportunity).where(
        Opportunity.id.in_([m.opportunity_id for m, _ in rows if m.opportunity_id])))}
    return [{"match": m, "person": p, "what": f"Mentor: {mentors[m.mentor_id]}" if m.mentor_id
             else f"Opportunity: {jobs[m.opportunity_id]}"} for m, p in rows]


@get("/proposals", sync_to_thread=True, opt=roles("adviser", "manager"))
def proposals(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = _proposals(session, request.user)
        audit_care_leaver_reads(request, uow, session, sorted({item["person"].id for item in found}), "list")
    return page(request, "proposals.html", "Proposals to review", proposals=found,
                reasons=lifecycle.REJECTION_REASONS, errors={})


@post("/proposals/{match_id:int}", sync_to_thread=True, opt=roles("adviser", "manager"))
def decide(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int], data: Form) -> Redirect:
    approve = data.get("decision") == "approve"
    change = lifecycle.Change(to="approved" if approve else "rejected", version=_version(data),
                              reason=data.get("note", "") or ("" if approve else "Rejected on review"),
                              reason_code=None if approve else data.get("reason_code"))
    with uow.write() as session:
        match = session.get(Match, match_id)
        person = session.get(CareLeaver, match.care_leaver_id) if match else None
        if person is None or (request.user.role == "adviser" and person.personal_adviser_id != request.user.id):
            raise NotFoundException("No such proposal on your caseload")
        try:
            lifecycle.transition(session, match_id, change, actor_id=actor_id(request), today=today(request))
        except DomainError as error:
            session.rollback()
            return done(request, "/proposals", f"Nothing was changed: {error}")
        audit_care_leaver_access(request, session, [person.id], "update")
    return done(request, "/proposals", f"Proposal {'approved' if approve else 'rejected'}")


@get("/mentees", sync_to_thread=True, opt=roles("mentor"))
def mentees(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = views.mentees(session, request.user.id)
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    return page(request, "mentees.html", "My mentees", mentees=found, kinds=MEETING_KINDS, today=today(request))


@post("/mentees/{match_id:int}/meetings", sync_to_thread=True, opt=roles("mentor"))
def log_meeting(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int], data: Form) -> Redirect:
    try:
        met_on = date.fromisoformat(data.get("met_on", ""))
    except ValueError:
        return done(request, "/mentees", "Nothing was logged: enter the date you met, for example 2026-11-20")
    with uow.write() as session:
        mine = session.exec(select(Match.id).join(Mentor, Mentor.id == Match.mentor_id)
                            .where(Match.id == match_id, Mentor.user_id == request.user.id)).first()
        if mine is None:
            raise NotFoundException("No such mentee of yours")
        try:
            lifecycle.log_meeting(session, match_id, met_on=met_on, kind=data.get("kind", ""),
                                  note=data.get("note", "")[:2000], today=today(request), actor_id=actor_id(request))
        except DomainError as error:
            session.rollback()
            return done(request, "/mentees", f"Nothing was logged: {error}")
    return done(request, "/mentees", "Meeting logged")


@get("/referrals", sync_to_thread=True, opt=roles("department"))
def referrals(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = views.referrals(session, request.user.department_id)
        versions = dict(session.execute(sa.select(Match.id, Match.version).where(
            Match.id.in_([item["match_id"] for item in found]))).all())
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    for item in found:
        item["version"] = versions[item["match_id"]]
        item["next"] = sorted(set(lifecycle.OPPORTUNITY[item["state"]]) & DEPARTMENT_STEPS)
    return page(request, "referrals.html", "Referrals", referrals=found)


@post("/referrals/{match_id:int}", sync_to_thread=True, opt=roles("department"))
def record_outcome(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                   data: Form) -> Redirect:
    to = data.get("to", "")
    with uow.write() as session:
        match = session.get(Match, match_id)
        job = session.get(Opportunity, match.opportunity_id) if match and match.opportunity_id else None
        if job is None or job.department_id != request.user.department_id or to not in DEPARTMENT_STEPS:
            raise NotFoundException("No such referral to your department")
        try:
            lifecycle.transition(session, match_id, lifecycle.Change(to=to, version=_version(data),
                                                                     reason=data.get("note", "")),
                                 actor_id=actor_id(request), today=today(request))
        except DomainError as error:
            session.rollback()
            return done(request, "/referrals", f"Nothing was changed: {error}")
    return done(request, "/referrals", f"Recorded: {to.replace('_', ' ')}")


@get("/overview", sync_to_thread=True, opt=roles("manager"))
def overview(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    day = today(request)
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
        run = engine.run(request.app.state.engine, today=today(request), actor_id=actor_id(request), source="api")
    except DomainError as error:
        return done(request, "/overview", f"The run did not start: {error}")
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
def save_settings(request: Request, uow: NamedDependency[UnitOfWork], data: Form) -> Template | Redirect:
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
            council_settings.save(session, new_matching, version=_version(data, "matching_version"),
                                  actor_id=actor_id(request))
            council_settings.save(session, new_follow_up, version=_version(data, "follow_up_version"),
                                  actor_id=actor_id(request))
        except DomainError as error:
            session.rollback()
            return done(request, "/settings", f"Nothing was saved: {error}")
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


@get("/people", sync_to_thread=True, opt=roles("admin"))
def people_page(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        accounts = session.exec(select(User).order_by(User.role, User.email)).all()
    return page(request, "people.html", "People", accounts=accounts)


def not_signed_in(request: Request, _: NotAuthorizedException) -> Response:
    return Redirect("/sign-in", status_code=303)


def not_allowed(request: Request, _: PermissionDeniedException) -> Template:
    return page(request, "error.html", "You cannot see this page", status_code=403,
                message="Your role does not give you access to this page.")


def not_found(request: Request, _: NotFoundException) -> Template:
    # A record outside the person's own scope is "not found" too, so ids cannot be probed.
    return page(request, "error.html", "Page not found", status_code=404,
                message="There is nothing here, or it is not one of yours.")


def pages_router() -> Router:
    return Router(path="/", route_handlers=[sign_in_form, sign_in, sign_in_with_council_account,
                                            council_account_callback, sign_out, home, caseload, proposals, decide,
                                            mentees, log_meeting, referrals, record_outcome, overview,
                                            run_matching, settings_form, save_settings, fairness_report,
                                            people_page],
                  middleware=[session_auth], guards=[require_role],
                  exception_handlers={NotAuthorizedException: not_signed_in, PermissionDeniedException: not_allowed,
                                      NotFoundException: not_found})
