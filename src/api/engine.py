"""The matching engine over HTTP: runs, one young person's alternatives, models, fairness, and settings."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import select

from api.access import Access
from api.cases import _in_scope, today
from api.cases import rule as case_rule
from api.deps import UnitOfWork, actor_id
from api.records import audit_care_leaver_reads
from jobs.matching import ask_worker
from matching import council_settings, engine, match_runs
from matching.errors import Conflict, InvalidInput, NotFound
from matching.models import MatchRun, ScoringModel

MANAGER = {"manager": Access(frozenset({"list", "read", "create", "update"}))}


def manager(action: str) -> dict[str, Any]:
    return {"policy": MANAGER, "action": action}


class MatchRunController(Controller):
    path = "/match-runs"
    tags = ["Matching"]

    @post("/", sync_to_thread=True, opt=manager("create"), status_code=202,
          summary="Queue a matching run for the worker (202, Location: the run); 409 if one is queued or running",
          description="The run is carried out by the worker, not in this request: follow the Location header "
                      "(GET /api/v1/match-runs/{id}) until its status is `finished` (with its counts) or `failed` "
                      "(with `error`). While it runs, `progress` gives its stage and how far it has gone.",
          response_headers=[ResponseHeader(name="Location", description="The queued run", documentation_only=True)])
    def start(self, request: Request, uow: NamedDependency[UnitOfWork]) -> Response[dict[str, Any]]:
        with uow.read() as session:  # refused without a write: a run holding SQLite's writer would make it wait
            reason = match_runs.refusal(session)
        if reason:
            raise Conflict(f"A matching run was not started: {reason}")
        with uow.write() as session:
            run = match_runs.queue(session, actor_id(request), "api")
        ask_worker(request.app.state.settings.db_url, run.id)
        return Response(run.model_dump(), status_code=202, headers={"Location": f"/api/v1/match-runs/{run.id}"})

    @get("/", sync_to_thread=True, opt=manager("list"), summary="Recent runs, newest first")
    def recent(self, uow: NamedDependency[UnitOfWork]) -> list[dict[str, Any]]:
        with uow.read() as session:
            return [_run(shown) for shown in match_runs.recent(session)]

    @get("/{run_id:int}", sync_to_thread=True, opt=manager("read"),
         summary="One run: who, when, status (queued, running, finished or failed), progress, counts, timings")
    def read(self, uow: NamedDependency[UnitOfWork], run_id: FromPath[int]) -> dict[str, Any]:
        with uow.read() as session:
            run = session.get(MatchRun, run_id)
            if run is None:
                raise NotFound("match run", run_id)
            return _run(match_runs.show(session, run))


def _run(shown: match_runs.Shown) -> dict[str, Any]:
    """The stored run, with its live progress while it runs."""
    return {**shown.run.model_dump(), "progress": shown.progress}


class AlternativesController(Controller):
    path = "/care-leavers/{care_leaver_id:int}/alternatives"
    tags = ["Matching"]

    @get("/", sync_to_thread=True, opt=case_rule("read"),
         summary="Ranked mentors and opportunities for one young person, with reasons, and the rules that "
                 "excluded the rest")
    def alternatives(self, request: Request, uow: NamedDependency[UnitOfWork],
                     care_leaver_id: FromPath[int],
                     limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10) -> dict[str, Any]:
        with uow.read() as session:
            _in_scope(request, session, care_leaver_id)
            found = engine.alternatives(session, care_leaver_id, today=today(request), limit=limit)
            audit_care_leaver_reads(request, uow, session, [care_leaver_id], "read")
        return found


class ModelController(Controller):
    path = "/match-models"
    tags = ["Matching"]

    @get("/", sync_to_thread=True, opt=manager("list"), summary="Trained models, their held-out metrics and status")
    def models(self, uow: NamedDependency[UnitOfWork]) -> list[dict[str, Any]]:
        with uow.read() as session:
            rows = session.exec(select(ScoringModel).order_by(ScoringModel.created_at.desc())).all()
            return [row.model_dump(exclude={"path", "sha256"}) for row in rows]

    @post("/", sync_to_thread=True, opt=manager("create"),
          summary="Retrain on recorded outcomes; the new model becomes current only if it does better held out")
    def train(self, request: Request, uow: NamedDependency[UnitOfWork]) -> dict[str, Any]:
        with uow.write() as session:
            result = engine.train(session, today=today(request), actor_id=actor_id(request),
                                  models_dir=request.app.state.settings.data_dir / "models")
            return result if isinstance(result, dict) else result.model_dump(exclude={"path", "sha256"})

    @get("/fairness", sync_to_thread=True, opt=manager("read"),
         summary="Success rate and exposure per group (sex, ethnicity, disability, former UASC)")
    def fairness(self, uow: NamedDependency[UnitOfWork]) -> dict[str, Any]:
        with uow.read() as session:
            return engine.fairness(session)


class SettingsUpdate(BaseModel):
    version: int = Field(description="The version you read (0 if never saved); a stale one is refused with 409")
    value: dict[str, Any]


class SettingsController(Controller):
    path = "/settings/{group:str}"
    tags = ["Settings"]

    @get("/", sync_to_thread=True, opt=manager("read"), summary="Matching or follow-up settings, with defaults")
    def read(self, uow: NamedDependency[UnitOfWork], group: FromPath[str]) -> dict[str, Any]:
        model = _group(group)
        with uow.read() as session:
            return {"group": group, "version": council_settings.version_of(session, model),
                    "value": council_settings.load(session, model).model_dump(mode="json")}

    @put("/", sync_to_thread=True, opt=manager("update"), summary="Change settings (all of a group at once)")
    def update(self, request: Request, uow: NamedDependency[UnitOfWork], group: FromPath[str],
               data: JSONBody[SettingsUpdate]) -> dict[str, Any]:
        model = _group(group)
        try:
            value = model.model_validate(data.value)
        except ValidationError as error:
            first = error.errors()[0]
            raise InvalidInput(".".join(["value", *map(str, first["loc"])]), first["msg"]) from error
        with uow.write() as session:
            version = council_settings.save(session, value, version=data.version, actor_id=actor_id(request))
        return {"group": group, "version": version, "value": value.model_dump(mode="json")}


def _group(group: str) -> type[BaseModel]:
    if group not in council_settings.GROUPS:
        raise NotFound("settings group", group)
    return council_settings.GROUPS[group]


controllers = [MatchRunController, AlternativesController, ModelController, SettingsController]
