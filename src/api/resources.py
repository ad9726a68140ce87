"""One controller shape for every core record: create, read, update, list, close. Never delete."""

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody
from sqlmodel import Session

from api.access import POLICIES, ensure_changes_allowed, ensure_in_scope, ensure_values_in_scope, scope_of
from api.deps import UnitOfWork, actor_id
from matching.errors import InvalidInput
from matching.models import CloseRequest
from matching.models.base import MAX_INT
from matching.services import records
from matching.services.records import Resource

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
# Numbers a query compares with a column are bounded by what the column can hold (models/base.MAX_INT).
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_INT, description="Rows to skip")]
IdFilter = Annotated[int | None, QueryParameter(ge=1, le=MAX_INT, description="Only those with this id")]
Text = Annotated[str | None, QueryParameter(description="Text search", max_length=100)]
Sort = Annotated[str, QueryParameter(description="Field to sort by; prefix with - for descending")]
# Told of every record a caller sees or changes, in a transaction that commits before the response is sent:
# (request, session, ids, action). For reads, see `audited_read`.
Audit = Callable[[Request, Session, list[int], str], None]


def audited_read(audit: Audit, request: Request, uow: UnitOfWork, session: Session, ids: list[int],
                 action: str) -> None:
    """Called as a read's unit of work (`session`) ends, so its audit rows are committed before the data is
    sent: a read whose audit cannot be written fails. The read's transaction ends first (it wrote nothing,
    so it costs no flush and holds no lock), then the rows are committed with those of concurrent reads
    (`db.GroupCommit`): one audited read had been one writing unit of work, on SQLite a turn on its single
    writer lock, on PostgreSQL a WAL flush, and audited lists served a quarter of what unaudited ones did.
    Inside a writing unit of work the rows join it: waiting there for a batch would wait on its own lock."""
    if session.get_bind().get_execution_options().get("writer"):
        audit(request, session, ids, action)
        return
    session.commit()
    if ids:
        uow.audit_rows.write(lambda writing: audit(request, writing, ids, action))


def resource_controller(resource: Resource, path: str, filters: Callable[..., dict[str, Any]],
                        *, audit: Audit | None = None, audit_changes: Audit | None = None) -> type[Controller]:
    """A controller for `resource` at `path`. `filters` is a dependency whose query parameters are the
    resource's own filters (so they appear in OpenAPI). With `audit`, a change is audited in the unit of work
    that makes it, and a read as it ends (`audited_read`); with `audit_changes`, only changes are."""
    Create, Update, Public, Summary = resource.create, resource.update, resource.public, resource.summary  # noqa: N806
    policy = POLICIES[resource.name]

    def observe(request: Request, session: Session, ids: list[int], action: str) -> None:
        for told in (audit, audit_changes):
            if told:
                told(request, session, ids, action)

    def observe_read(request: Request, uow: UnitOfWork, session: Session, ids: list[int], action: str) -> None:
        if audit:
            audited_read(audit, request, uow, session, ids, action)

    def rule(action: str) -> dict[str, Any]:
        return {"policy": policy, "action": action}

    fixed = frozenset(Create.model_fields) - frozenset(Update.model_fields)

    def _refuse_fixed_fields(record: Any, body: bytes) -> None:
        """A field set when the record was made and never changed by an update (a mentor's account) is refused
        by name when sent with another value, rather than silently dropped."""
        sent = msgspec.json.decode(body) if body else {}
        for name in sorted(fixed & set(sent if isinstance(sent, dict) else ())):
            if sent[name] != getattr(record, name):
                raise InvalidInput(name, "cannot be changed once the record exists")

    def scoped_get(request: Request, session: Session, record_id: int) -> Any:
        record = records.get(session, resource, record_id)
        ensure_in_scope(record, scope_of(request, policy), resource.title, record_id)
        return record

    class ResourceController(Controller):
        tags = [resource.title.capitalize() + "s"]

        @post("/", sync_to_thread=True, summary=f"Create a {resource.title}", opt=rule("create"))
        def create(self, request: Request, uow: NamedDependency[UnitOfWork], data: JSONBody[Create]) -> Public:
            scope = scope_of(request, policy)
            values = data.model_dump() | {k: v for k, v in scope.items() if getattr(data, k, None) is None}
            ensure_values_in_scope(values, scope)
            with uow.write() as session:
                record = records.create(session, resource, Create.model_validate(values))
                observe(request, session, [record.id], "create")
                return Public.of(record)

        @get("/{record_id:int}", sync_to_thread=True, summary=f"Read a {resource.title}", opt=rule("read"))
        def read(self, request: Request, uow: NamedDependency[UnitOfWork], record_id: FromPath[int]) -> Public:
            with uow.read() as session:
                found = Public.of(scoped_get(request, session, record_id))
                observe_read(request, uow, session, [record_id], "read")
            return found

        @patch("/{record_id:int}", sync_to_thread=True, summary=f"Update a {resource.title}", opt=rule("update"))
        def update(self, request: Request, uow: NamedDependency[UnitOfWork], record_id: FromPath[int],
                   data: JSONBody[Update], body: RawBody) -> Public:
            changes = data.model_dump(exclude_unset=True)
            ensure_values_in_scope(changes, scope_of(request, policy))
            with uow.write() as session:
                record = scoped_get(request, session, record_id)
                _refuse_fixed_fields(record, body)
                ensure_changes_allowed(request, policy, record, changes)
                record = records.update(session, resource, record_id, data)
                observe(request, session, [record_id], "update")
                return Public.of(record)

        @get("/", sync_to_thread=True, dependencies={"filters": Provide(filters, sync_to_thread=False)},
             summary=f"List {resource.title}s", opt=rule("list"))
        def list_records(self, request: Request, filters: NamedDependency[dict[str, Any]], q: Text = None,
                         sort: Sort = "id", limit: Limit = 20, offset: Offset = 0) -> OffsetPagination[Summary]:
            # The unit of work is not injected here: Litestar resolves two independent dependencies in an
            # anyio task group, which cost a fifth of a list request's CPU.
            uow: UnitOfWork = request.app.state.uow
            with uow.read() as session:
                page = records.list_records(session, resource, filters=filters | scope_of(request, policy), q=q,
                                            sort=sort, limit=limit, offset=offset)
                observe_read(request, uow, session, [item["id"] for item in page.items], "list")
            # Items are dicts in the documented Summary shape (built in records.list_records).
            return OffsetPagination[Summary](items=page.items, limit=limit, offset=offset,  # type: ignore[arg-type]
                                             total=page.total)

    if resource.closed_status is not None:
        @post("/{record_id:int}/close", sync_to_thread=True, status_code=200,
              summary=f"Close a {resource.title} (nothing is deleted)", opt=rule("close"))
        def close(self, request: Request, uow: NamedDependency[UnitOfWork], record_id: FromPath[int],
                  data: JSONBody[CloseRequest]) -> Public:
            with uow.write() as session:
                scoped_get(request, session, record_id)
                record = records.close(session, resource, record_id, version=data.version, reason=data.reason,
                                       actor_id=actor_id(request))
                observe(request, session, [record_id], "close")
                return Public.of(record)

        ResourceController.close = close

    ResourceController.path = path
    ResourceController.__name__ = f"{resource.name.title().replace('_', '')}Controller"
    return ResourceController
