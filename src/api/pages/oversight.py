"""A manager's oversight pages: the audit log with filters, the scoring models (train, compare, promote), the
fairness of matching over a chosen period, and uploading an import file with its row-numbered problems shown.

The queries and rules are in the domain (matching/oversight.py, matching/services/audit.py); these handlers
read the forms, call it and render.
"""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field, model_validator

from api import forms
from api.deps import UnitOfWork, actor_id, client_address
from api.forms import Form
from api.pages.common import (
    _csrf_token_from_cookie,
    done,
    error_page,
    page,
    pagination,
    query_of,
    roles,
    signed_in_visitor,
    tell,
    today,
)
from api.pages.mentor import needed
from api.records import audit_care_leaver_reads
from matching import council_settings, oversight
from matching.errors import DomainError, NotFound
from matching.models import AuditEvent
from matching.services.audit import EventFilter

MANAGERS = roles("manager")


def _in_order(model: BaseModel) -> BaseModel:
    if model.since and model.until and model.until < model.since:
        raise ValueError("The end date must be the same as or after the start date")
    return model


# The audit log --------------------------------------------------------------------------------------------

class AuditQuery(BaseModel):
    """The audit log's filters (a GET form): who, what, which kind of record, which days."""

    who: str = Field("", max_length=120, title="Name of the person who did it")
    action: Literal[tuple(oversight.ACTIONS)] | None = Field(None, title="What they did")  # type: ignore[valid-type]
    entity: Literal[tuple(oversight.ENTITIES)] | None = Field(None, title="Kind of record")  # type: ignore[valid-type]
    since: date | None = Field(None, title="The first day")
    until: date | None = Field(None, title="The last day")
    page: int = Field(1, ge=1, le=100_000, title="Page")

    _order = model_validator(mode="after")(_in_order)


@get("/audit-log", sync_to_thread=True, opt=MANAGERS)
def audit_log(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    data = query_of(request)
    form = forms.read(AuditQuery, data)
    query = form.model or AuditQuery()
    since, until = oversight.day_starts(query.since, query.until)
    wanted = EventFilter(actor_name=query.who or None, action=query.action, entity=query.entity, since=since,
                         until=until)
    with uow.read() as session:
        found = oversight.audit_log(session, wanted, page=query.page)
        # The log names young people: seeing it is itself a view of them.
        audit_care_leaver_reads(request, uow, session, found.care_leaver_ids, "list")
    filtered = any(data.get(name) not in (None, [""], []) for name in ("who", "action", "entity", "since-day",
                                                                        "until-day"))
    return page(request, "oversight/audit_log.html", "Audit log", form=form, found=found, filtered=filtered,
                actions=oversight.ACTIONS, entities=oversight.ENTITIES,
                pagination=pagination("/audit-log", data, found.page, found.pages, "Pages of the audit log"))


# Scoring models -------------------------------------------------------------------------------------------

class Comparison(BaseModel):
    first: Annotated[str | None, needed("Select the first model to compare")] = Field(
        None, title="First model", validate_default=True)
    second: Annotated[str | None, needed("Select the second model to compare")] = Field(
        None, title="Second model", validate_default=True)

    @model_validator(mode="after")
    def _two(self) -> "Comparison":
        if self.first and self.first == self.second:
            raise ValueError("Select two different models to compare")
        return self


def _choices(listed: list[dict[str, Any]]) -> dict[str, str]:
    return {m["version"]: f"{m['version']} ({m['status_words'].split(':')[0].lower()})" for m in listed}


def _models_page(request: Request, listed: list[dict[str, Any]], current: str | None, form: Form) -> Template:
    return page(request, "oversight/models.html", "Scoring models", form=form, models=listed, current=current,
                choices=_choices(listed))


@get("/models", sync_to_thread=True, opt=MANAGERS)
def models(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        listed, current = oversight.models(session), oversight.current_model(session)
    return _models_page(request, listed, current, Form())


@post("/models", sync_to_thread=True, opt=MANAGERS)
def train(request: Request, uow: NamedDependency[UnitOfWork]) -> Redirect:
    """Training runs in the request (seconds on a borough's outcomes, as the JSON API's); the banner says how long."""
    with uow.write() as session:
        trained = oversight.train(session, today=today(), actor_id=actor_id(request),
                                  models_dir=request.app.state.settings.data_dir / "models")
    took = _duration(trained.seconds)
    if trained.model is None:
        return tell(request, "/models", f"No model was trained ({took}). {trained.reason}")
    made = trained.model
    against = f"{oversight.percent(made['roc_auc'])} against {oversight.percent(made['baseline_roc_auc'])}"
    if made["status"] == "candidate":
        return done(request, "/models", f"{made['version']} was trained in {took}. On outcomes it had not learned "
                                        f"from it did better than the scoring in use ({against}). Make it current "
                                        f"to use it")
    return tell(request, "/models", f"{made['version']} was trained in {took} but is not in use: it did not do "
                                    f"better than the scoring in use by enough ({against}). You can compare it "
                                    f"and make it current yourself")


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{round(seconds)} second{'s' if round(seconds) != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


@get("/models/compare", sync_to_thread=True, opt=MANAGERS)
def compare(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    form = forms.read(Comparison, query_of(request))
    with uow.read() as session:
        listed, current = oversight.models(session), oversight.current_model(session)
    by_version = {m["version"]: m for m in listed}
    if form.ok:
        for name in ("first", "second"):
            if getattr(form.model, name) not in by_version:
                form.errors[name] = f"Select the {name} model from the list"
    if not form.ok:
        return _models_page(request, listed, current, form)
    pair = [by_version[form.model.first], by_version[form.model.second]]
    return page(request, "oversight/compare.html", "Compare two models", pair=pair, current=current,
                back=("/models", "Back to scoring models"))


def _model(session, version: str) -> dict[str, Any]:
    try:
        return oversight.model(session, version)
    except NotFound as error:
        raise NotFoundException("No such model") from error


@get("/models/{version:str}/promote", sync_to_thread=True, opt=MANAGERS)
def promote_form(request: Request, uow: NamedDependency[UnitOfWork], version: FromPath[str]) -> Template | Redirect:
    with uow.read() as session:
        chosen, current = _model(session, version), oversight.current_model(session)
        in_use = oversight.model(session, current) if current else None
        learned = council_settings.load(session, council_settings.MatchingSettings).use_learned_model
    if chosen["status"] == "current":
        return tell(request, "/models", f"{version} is already in use")
    return page(request, "oversight/promote.html", f"Make {version} current", model=chosen, in_use=in_use,
                learned=learned, back=("/models", "Back to scoring models"))


@post("/models/{version:str}/promote", sync_to_thread=True, opt=MANAGERS)
def promote(request: Request, uow: NamedDependency[UnitOfWork], version: FromPath[str]) -> Redirect:
    with uow.write() as session:
        _model(session, version)
        try:
            oversight.promote(session, version)
        except DomainError as error:
            session.rollback()
            return tell(request, "/models", f"Nothing was changed: {error}")
        # A model's key is its version, not a number: the audit row has no record id, and its route names it.
        session.add(AuditEvent(actor_id=actor_id(request), action="promote", entity="scoring_model",
                               route=f"{request.method} {request.url.path}"[:200], client=client_address(request)))
    return done(request, "/models", f"{version} is now in use: the next matching run scores with it")


# Fairness over a period -----------------------------------------------------------------------------------

class Period(BaseModel):
    since: Annotated[date | None, needed("Enter the first day of the period")] = Field(
        None, title="The first day", validate_default=True)
    until: Annotated[date | None, needed("Enter the last day of the period")] = Field(
        None, title="The last day", validate_default=True)

    _order = model_validator(mode="after")(_in_order)


def _default_period() -> dict[str, list[str]]:
    last = today()
    first = last - timedelta(days=364)
    return {f"{name}-{part}": [str(getattr(day, unit))] for name, day in (("since", first), ("until", last))
            for part, unit in (("day", "day"), ("month", "month"), ("year", "year"))}


@get("/models/fairness", sync_to_thread=True, opt=MANAGERS)
def fairness(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    data = query_of(request) or _default_period()  # the last twelve months until the manager chooses
    form = forms.read(Period, data)
    groupings = None
    if form.ok:
        with uow.read() as session:
            groupings = oversight.fairness_between(session, form.model.since, form.model.until)
    return page(request, "oversight/fairness.html", "Fairness of matching", form=form, groupings=groupings,
                period=form.model, back=("/models", "Back to scoring models"))


# Imports --------------------------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_WORDS = "5 MB"


class ImportForm(BaseModel):
    kind: Annotated[Literal[tuple(oversight.IMPORT_KINDS)] | None,  # type: ignore[valid-type]
                    needed("Select what the file holds")] = Field(None, title="What the file holds",
                                                                  validate_default=True)


def _imports_page(request: Request, form: Form, problems: list | None = None, filename: str = "",
                  status_code: int | None = None, **context: Any) -> Template:
    return page(request, "oversight/imports.html", "Import a file", form=form, problems=problems or [],
                filename=filename, kinds=oversight.IMPORT_KINDS, max_size=MAX_UPLOAD_WORDS,
                suffixes=oversight.IMPORT_SUFFIXES, status_code=status_code, **context)


@get("/imports", sync_to_thread=True, opt=MANAGERS)
def imports_form(request: Request) -> Template:
    return _imports_page(request, Form())


def _file_problem(upload: Any, content: bytes) -> str | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "Select a file to import"
    if not upload.filename.lower().endswith(oversight.IMPORT_SUFFIXES):
        return "The selected file must be a CSV or XLSX file"
    if len(content) > MAX_UPLOAD_BYTES:
        return f"The selected file must be smaller than {MAX_UPLOAD_WORDS}"
    if not content:
        return "The selected file is empty"
    return None


def _too_large(request: Request, _: RequestEntityTooLarge) -> Template:
    """A body over the limit is refused before the handler (or the sign-in check) runs: the form again, with
    why, for a manager; anyone else gets the page they would have had."""
    user = signed_in_visitor(request)
    if user is None or user.role != "manager":
        return error_page(request, 403, "You cannot see this page", "Your role does not give you access to this page.")
    _csrf_token_from_cookie(request)
    form = Form(errors={"file": f"The selected file must be smaller than {MAX_UPLOAD_WORDS}"})
    return _imports_page(request, form, status_code=413, user=user)


Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


@post("/imports", sync_to_thread=True, opt=MANAGERS, request_max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
      exception_handlers={RequestEntityTooLarge: _too_large})
def upload(request: Request, uow: NamedDependency[UnitOfWork], data: Upload) -> Template | Redirect:
    from matching.imports import ImportFailed

    form = forms.read(ImportForm, {"kind": data.get("kind") or ""})
    file = data.get("file")
    content = file.file.read(MAX_UPLOAD_BYTES + 1) if isinstance(file, UploadFile) else b""
    if problem := _file_problem(file, content):
        form.errors["file"] = problem
        form.model = None
    if not form.ok:
        return _imports_page(request, form)
    try:
        with uow.write() as session:
            report = oversight.import_upload(session, form.model.kind, file.filename, content,
                                             actor_id=actor_id(request))
    except ImportFailed as failure:  # the unit of work rolled back: nothing was stored
        count = len(failure.errors)
        form.errors["problems"] = (f"{file.filename} has {count} problem{'s' if count != 1 else ''}; nothing "
                                   f"was imported. Correct the file and upload it again")
        return _imports_page(request, form, problems=failure.errors, filename=file.filename)
    kind = oversight.IMPORT_KINDS[form.model.kind].lower()
    rows = f"{report.rows} row{'s' if report.rows != 1 else ''}"
    return done(request, "/imports", f"{file.filename} was imported ({kind}, {report.layout} layout): {rows}; "
                                     f"{report.created} added, {report.updated} updated, {report.unchanged} unchanged")


ROUTES = [audit_log, models, train, compare, promote_form, promote, fairness, imports_form, upload]
