"""Matching runs for managers: the recent runs, and one run's page (its progress while queued or running, then
its result or why it failed). A run is started by POST /match-runs (`manager.run_matching`), which only
queues it for the worker (`matching.match_runs`)."""

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from api.deps import UnitOfWork
from api.pages.common import page, roles
from matching import match_runs
from matching.models import MatchRun

MANAGERS = roles("manager")
REFRESH_SECONDS = 5
STATUSES = {"queued": ("Queued", "govuk-tag--grey"), "running": ("Running", "govuk-tag--blue"),
            "finished": ("Finished", "govuk-tag--green"), "failed": ("Failed", "govuk-tag--red")}


@get("/match-runs", sync_to_thread=True, opt=MANAGERS)
def recent_runs(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        shown = match_runs.recent(session)
    return page(request, "match_runs/list.html", "Matching runs", runs=shown, statuses=STATUSES)


@get("/match-runs/{run_id:int}", sync_to_thread=True, opt=MANAGERS)
def one_run(request: Request, uow: NamedDependency[UnitOfWork], run_id: FromPath[int],
            follow: FromQuery[str] = "", refused: FromQuery[str] = "") -> Template:
    """A reload the person did not ask for moves a screen reader back to the top of the page (WCAG 2.2.1,
    failure F41), so the page refreshes itself only when asked to (`?follow=yes`), and only while the run
    is queued or running; the "Refresh this page" link needs nothing but a click."""
    with uow.read() as session:
        run = session.get(MatchRun, run_id)
        if run is None:
            raise NotFoundException("No such matching run")
        shown = match_runs.show(session, run)
    following = follow == "yes" and shown.active
    said = {"notice": {"kind": "important", "text": refusal_notice(shown)}} if refused == "yes" else {}
    response = page(request, "match_runs/run.html", f"Matching run {run_id}", shown=shown, statuses=STATUSES,
                    refresh=REFRESH_SECONDS, following=following, **said)
    if following:  # the browser reloads the page itself, no script needed
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def refusal_notice(shown: match_runs.Shown) -> str:
    """Why POST /match-runs sent the person here instead of starting a run."""
    state = shown.run.status if shown.active else "under way"
    return (f"A matching run was not started: run {shown.run.id} was already {state} "
            f"(asked for {match_runs.when(shown.run.started_at)}).")


ROUTES = [recent_runs, one_run]
