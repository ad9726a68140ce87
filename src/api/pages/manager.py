"""A manager's pages: the overview (who needs attention, each count a link to the named list behind it, with a
CSV download; charts of the last twelve months), matching runs and the council's settings."""

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import select

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.adviser import ADVISERS
from api.pages.common import done, page, pagination, query_of, roles, tell, today, version
from api.pages.reports import attachment, audit_download
from api.records import audit_care_leaver_reads
from jobs.matching import ask_worker
from matching import council_settings, dashboard, match_runs, vocab
from matching.errors import DomainError
from matching.models import MatchRun
from matching.reports import charts, export

MANAGERS = roles("manager")
YOUNG_PERSON_PAGE_ROLES = ADVISERS["roles"]  # who may open /young-people/{id} (api/pages/adviser.py)


@get("/overview", sync_to_thread=True, opt=MANAGERS)
def overview(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    """How many need attention, each count a link to its list, and the charts of the last twelve months."""
    with uow.read() as session:
        made = dashboard.recent_counts(session, today())
        last_run = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()
        shown_run = match_runs.show(session, last_run) if last_run else None
        failed = failed_jobs(session)
    return page(request, "overview.html", "Overview", counts=made.counts, counted_at=made.counted_at,
                last_run=shown_run, failed_jobs=failed, charts=_drawn(made))


_DRAWN: dict[str, tuple] = {}  # the overview's charts last drawn in this process, with what they were drawn from


def _drawn(made: dashboard.Overview) -> list[dict[str, Any]]:
    """The charts of `made`, drawn once: the overview's figures are kept for a minute, and drawing their SVG and
    their tables of links again on every view was half the page's time."""
    drawn_from, charts = _DRAWN.get("last", (None, None))
    if drawn_from is not made:
        charts = _charts(made)
        _DRAWN["last"] = (made, charts)  # one assignment: a concurrent view sees both or neither
    return charts


def failed_jobs(session) -> list[dict[str, Any]]:
    """The jobs whose last run failed (`jobs.runner.last_runs`, as `springboard jobs list` and the weekly
    digest read them), each with its name in words, what it does and when it failed."""
    from jobs import registry, runner

    declared = registry.all_jobs()
    return [{"name": name.replace("_", " ").capitalize(), "does": declared[name].description if name in declared
             else "", "at": run.finished_at or run.started_at, "run": run, "matching": name in MATCHING_JOBS}
            for name, run in sorted(runner.last_runs(session).items()) if run.result == "failed"]


MATCHING_JOBS = {"nightly_matching", "run_queued_matching"}  # their failures are on the runs' own pages


def _month(day: date) -> str:
    return f"{day:%B %Y}"


def _figure(value: float | None, empty: str) -> str:
    return empty if value is None else f"{value:g}"


def _cell(value: int, figure: dashboard.Figure | None, about: str) -> dict[str, str]:
    """A table's figure: a count is a link to the list of the people behind it (`about` says which, for a
    screen reader); a zero stays text, as there is nobody to list."""
    if not value or figure is None:
        return {"text": str(value)}
    return {"text": str(value), "about": about,
            "href": f"/overview/charts/{figure.chart}?{urlencode(figure.query())}"}


def _monthly_chart(key: str, title: str, monthly: dashboard.Monthly, empty: str = "0",
                   counts: bool = True) -> dict[str, Any]:
    """A line chart of figures by month, and the table it pictures (months down, series across); each count in
    the table links to its list (`counts`: False for medians, which are not counts)."""
    first, last = _month(monthly.months[0]), _month(monthly.months[-1])
    svg = charts.line_chart(f"chart-{key}", title, f"Line chart from {first} to {last}; the table below it gives "
                            "each month's figures.", [f"{day:%b}" for day in monthly.months],
                            list(monthly.series.items()))

    def cell(value: float | None, series: str, day: date) -> dict[str, str]:
        if not counts or value is None:
            return {"text": _figure(value, empty)}
        return _cell(int(value), dashboard.Figure(key, month=day, series=series),
                     f"{series.lower()}, {_month(day)}: see the list")

    rows = [[{"text": _month(day)}, *(cell(values[index], series, day) for series, values in monthly.series.items())]
            for index, day in enumerate(monthly.months)]
    return {"key": key, "title": title, "svg": svg, "head": ["Month", *monthly.series], "rows": rows}


def _charts(made: dashboard.Overview) -> list[dict[str, Any]]:
    """Each chart of the overview as SVG with the table of its figures (for screen readers, and exact)."""
    places = [(row.department, [row.offered, row.filled]) for row in made.places]
    outcomes = [(kind, vocab.OUTCOME_KINDS.get(kind, kind), count) for kind, count in made.outcomes.items()]
    title = "Places offered and filled, by department"
    outcome_title = "Outcomes recorded in the last 12 months, by kind"
    return [
        _monthly_chart("by-state", "Matches reaching each stage, by month", made.by_state),
        _monthly_chart("times", "Median days from proposal to decision, and from approval to start", made.times,
                       empty="None that month", counts=False),
        {"key": "places", "title": title, "head": ["Department", "Places offered", "Places filled"],
         # Places offered are places in opportunities, not people: only the filled ones have a list behind them.
         "rows": [[{"text": row.department}, {"text": str(row.offered)},
                   _cell(row.filled, dashboard.Figure("places", department_id=row.department_id, series="Filled"),
                         f"places filled, {row.department}: see the list")] for row in made.places],
         "svg": charts.grouped_bar_chart("chart-places", title, "Bar chart of places offered and filled in each "
                                         "department; the table below it gives the figures.",
                                         ["Places offered", "Places filled"], places)},
        {"key": "outcomes", "title": outcome_title, "head": ["Outcome", "Number"],
         "rows": [[{"text": words}, _cell(count, dashboard.Figure("outcomes", kind=kind) if kind in vocab.OUTCOME_KINDS
                                          else None, f"{words.lower()}: see the list")]
                  for kind, words, count in outcomes],
         "svg": charts.bar_chart("chart-outcomes", outcome_title, "Bar chart of the outcomes recorded; the table "
                                 "below it gives the figures.", [(words, count) for _, words, count in outcomes])},
        _monthly_chart("attention", "Not in touch and check-ins overdue, at the end of each month", made.attention),
    ]


class ListPage(BaseModel):
    page: int = Field(1, ge=1, le=100_000, title="Page")


def _ids(found: dashboard.NamedList) -> list[int]:
    """Each young person once (a list may name someone twice: two entitlements missed, two check-ins late)."""
    return sorted({row.care_leaver_id for row in found.found.rows})


def _named_list_page(request: Request, uow: UnitOfWork, slug: str) -> Template:
    """The named list behind one overview count, a page at a time; reading it is a read of each person shown."""
    form = forms.read(ListPage, {key: request.query_params.getall(key) for key in request.query_params})
    with uow.read() as session:
        kept = dashboard.recent_lists(session, today())
        found = dashboard.named_list(session, slug, today(), page=form.model.page if form.ok else 1,
                                     rows=kept.lists[slug])
        audit_care_leaver_reads(request, uow, session, _ids(found), "list")
    return page(request, "manager/list.html", found.title, form=form, found=found, counted_at=kept.counted_at,
                download=f"{request.url.path}/csv",
                pagination=pagination(request.url.path, {}, found.found.page, found.found.pages, "Pages of the list"),
                can_open=request.user.role in YOUNG_PERSON_PAGE_ROLES, back=("/overview", "Back to the overview"))


def _named_list_csv(request: Request, uow: UnitOfWork, slug: str) -> Response:
    """The same list, every row, as CSV; the download is audited (the report, and each young person in it)."""
    with uow.read() as session:
        found = dashboard.named_list(session, slug, today(), page=None,
                                     rows=dashboard.recent_lists(session, today()).lists[slug])
    audit_download(request, uow, slug, _ids(found))
    return attachment(export.csv_text(dashboard.csv_rows(found)), export.CSV_TYPE, f"{slug}-{today().isoformat()}.csv")


def _figure_asked(request: Request, session, chart: str) -> tuple[dashboard.Figure | None, dict[str, str]]:
    """The chart figure the link names (404 for no such chart), or the problems with its query."""
    asked = {key: values[-1] for key, values in query_of(request).items() if values}
    figure, errors = dashboard.read_figure(session, chart, asked, today())
    if figure is None and not errors:
        raise NotFoundException()
    return figure, errors


def _figure_refused(request: Request, errors: dict[str, str]) -> Template:
    """A link to a chart's list that the overview does not make: a GOV.UK error page (400) naming each field."""
    return page(request, "manager/list.html", "This list cannot be shown", errors=errors, found=None,
                back=("/overview", "Back to the overview"))


@get("/overview/charts/{chart:str}", sync_to_thread=True, opt=MANAGERS, name="chart_list")
def chart_list(request: Request, uow: NamedDependency[UnitOfWork], chart: FromPath[str]) -> Template:
    """The young people behind one figure of a chart's table, a page at a time; an audited read of each shown."""
    form = forms.read(ListPage, query_of(request))
    with uow.read() as session:
        figure, errors = _figure_asked(request, session, chart)
        if errors:
            return _figure_refused(request, errors)
        found = dashboard.chart_list(session, figure, today(), page=form.model.page if form.ok else 1)
        audit_care_leaver_reads(request, uow, session, _ids(found), "list")
    return page(request, "manager/list.html", found.title, form=form, found=found, counted_at=found.counted_at,
                download=f"{request.url.path}/csv?{urlencode(figure.query())}",
                pagination=pagination(request.url.path, figure.query(), found.found.page, found.found.pages,
                                      "Pages of the list"),
                can_open=request.user.role in YOUNG_PERSON_PAGE_ROLES, back=("/overview", "Back to the overview"))


@get("/overview/charts/{chart:str}/csv", sync_to_thread=True, opt=MANAGERS, name="chart_list_csv")
def chart_list_csv(request: Request, uow: NamedDependency[UnitOfWork], chart: FromPath[str]) -> Response | Template:
    """The same list, every row, as CSV; audited as the attention lists' downloads are."""
    with uow.read() as session:
        figure, errors = _figure_asked(request, session, chart)
        if errors:
            return _figure_refused(request, errors)
        found = dashboard.chart_list(session, figure, today(), page=None)
    audit_download(request, uow, f"chart_{chart}", _ids(found))
    name = "-".join([chart, *figure.query().values(), today().isoformat()])
    return attachment(export.csv_text(dashboard.csv_rows(found)), export.CSV_TYPE, f"{name}.csv")


def _list_routes(listing: dashboard.Listing) -> list[HTTPRouteHandler]:
    """A list's page and its CSV, at fixed addresses (/overview/not-in-touch and /overview/not-in-touch/csv)."""
    path, name = f"/overview/{listing.slug}", listing.slug.replace("-", "_")

    @get(path, sync_to_thread=True, opt=MANAGERS, name=f"list_{name}")
    def named_list(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
        return _named_list_page(request, uow, listing.slug)

    @get(f"{path}/csv", sync_to_thread=True, opt=MANAGERS, name=f"list_{name}_csv")
    def named_list_csv(request: Request, uow: NamedDependency[UnitOfWork]) -> Response:
        return _named_list_csv(request, uow, listing.slug)

    return [named_list, named_list_csv]


@post("/match-runs", sync_to_thread=True, opt=roles("manager"))
def run_matching(request: Request, uow: NamedDependency[UnitOfWork]) -> Redirect:
    """Queue a run for the worker and show its page: the request never runs the engine (on SQLite it would
    hold the only writer for the whole run)."""
    with uow.read() as session:  # refused without a write, so a run holding SQLite's writer cannot make it wait
        reason = match_runs.refusal(session)
        waiting = match_runs.pending(session) if reason else None
    if reason:  # said by the run's page: a notice kept in the session would be a write, waiting for the run
        return Redirect(f"/match-runs/{waiting.id}", query_params={"refused": "yes"}, status_code=303)
    try:
        with uow.write() as session:
            run = match_runs.queue(session, actor_id(request), "page")
    except DomainError as error:
        return tell(request, "/match-runs", str(error))
    asked = ask_worker(request.app.state.settings.db_url, run.id)
    return done(request, f"/match-runs/{run.id}", f"Matching run {run.id} is queued") if asked else \
        tell(request, f"/match-runs/{run.id}", asked_too_late(run.id))


def asked_too_late(run_id: int) -> str:
    return (f"Matching run {run_id} is queued, but the worker could not be asked to start it now; it starts at the "
            "worker's next hourly look.")


NUMBERS = [("referrals_per_place", "Proposals per free place of an opportunity"),
           ("opportunities_per_person", "New opportunity proposals per young person per run"),
           ("max_distance_km", "Never propose anything further than (km)"),
           ("coverage_bonus", "Total score a run may give up to give one more young person a first proposal (0 to 1; "
                              "each run they are passed over adds as much again; 0: the best pairs only)"),
           ("not_in_touch_weeks", "Not in touch after (weeks without contact)"),
           ("waiting_weeks", "Waiting too long after (weeks without an approved match)"),
           ("no_meeting_days", "Flag mentoring with no meeting for (days)"),
           ("pathway_due_within_days", "List pathway reviews due within (days)"),
           ("no_next_step_days", "Follow up an approved match not yet referred or introduced after (days)"),
           ("check_ins_due_within_days", "List check-ins and waiting matches from this many days before they are due")]
MATCHING, FOLLOW_UP = council_settings.MatchingSettings, council_settings.FollowUpSettings
COUNCIL = council_settings.CouncilSettings


def _settings_page(request: Request, session, errors: dict[str, str], typed: dict[str, Any] | None = None) -> Template:
    """The settings as stored, or as typed when they were refused (every answer given back as it was)."""
    matching, follow_up = council_settings.load(session, MATCHING), council_settings.load(session, FOLLOW_UP)
    council = council_settings.load(session, COUNCIL)
    current = {**matching.model_dump(), **follow_up.model_dump(),
               "borough_districts": ", ".join(council.borough_districts)}
    shown = typed or {**current, **{f"weight-{name}": value for name, value in matching.weights.items()},
                      "must_have": matching.must_have}
    return page(request, "settings.html", "Settings", status_code=400 if errors else 200, errors=errors,
                features=council_settings.FEATURES, numbers=NUMBERS, values=shown,
                matching_version=council_settings.version_of(session, MATCHING),
                follow_up_version=council_settings.version_of(session, FOLLOW_UP),
                council_version=council_settings.version_of(session, COUNCIL))


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
    return {**answers, "must_have": [name for name in council_settings.FEATURES if data.get(f"must-{name}")],
            "borough_districts": _answer(data.get("borough_districts"))}


def _districts(typed: str, errors: dict[str, str]):
    """The borough's postcode districts as typed (commas or spaces between them), or None with the problem."""
    districts = [part for part in typed.replace(",", " ").split() if part]
    if not districts:
        errors["borough_districts"] = "Enter the postcode districts inside the borough, for example E8, E9"
        return None
    try:
        return COUNCIL(borough_districts=districts)
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        errors["borough_districts"] = message[:1].upper() + message[1:]
        return None


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
        new_council = _districts(typed["borough_districts"], errors)
        if errors:
            return _settings_page(request, session, errors, typed)
        try:
            council_settings.save(session, new_matching, version=version(data, "matching_version"),
                                  actor_id=actor_id(request))
            council_settings.save(session, new_follow_up, version=version(data, "follow_up_version"),
                                  actor_id=actor_id(request))
            council_settings.save(session, new_council, version=version(data, "council_version"),
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


@get("/fairness", sync_to_thread=False, opt=roles("manager"), status_code=301)
def fairness_moved() -> Redirect:
    """The fairness report is counted over a chosen period beside the models now (pages/oversight.py)."""
    return Redirect("/models/fairness", status_code=301)


LIST_ROUTES = [route for listing in dashboard.LISTINGS for route in _list_routes(listing)]
ROUTES = [overview, *LIST_ROUTES, chart_list, chart_list_csv, run_matching, settings_form, save_settings,
          fairness_moved]
