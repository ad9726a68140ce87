"""One controller shape for every core record: create, read, update, list, close. Never delete."""

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel import Session

from api.deps import actor_id
from matching.models import CloseRequest
from matching.services import records
from matching.services.records import Resource

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, description="Rows to skip")]
Text = Annotated[str | None, QueryParameter(description="Text search", max_length=100)]
Sort = Annotated[str, QueryParameter(description="Field to sort by; prefix with - for descending")]


def resource_controller(resource: Resource, path: str, filters: Callable[..., dict[str, Any]],
                        *, on_read: Callable[..., None] | None = None) -> type[Controller]:
    """A controller for `resource` at `path`. `filters` is a dependency whose query parameters are the
    resource's own filters (so they appear in OpenAPI); `on_read` is told of every record a caller sees."""
    Create, Update, Public = resource.create, resource.update, resource.public  # noqa: N806
    closable = resource.closed_status is not None
    noticed = on_read or (lambda request, session, ids, action: None)

    class ResourceController(Controller):
        tags = [resource.title.capitalize() + "s"]

        @post("/", sync_to_thread=True, summary=f"Create a {resource.title}")
        def create(self, request: Request, db: NamedDependency[Session], data: JSONBody[Create]) -> Public:
            record = records.create(db, resource, data)
            noticed(request, db, [record.id], action="create")
            return Public.model_validate(record)

        @get("/{record_id:int}", sync_to_thread=True, summary=f"Read a {resource.title}")
        def read(self, request: Request, db: NamedDependency[Session], record_id: FromPath[int]) -> Public:
            record = records.get(db, resource, record_id)
            noticed(request, db, [record.id], action="read")
            return Public.model_validate(record)

        @patch("/{record_id:int}", sync_to_thread=True, summary=f"Update a {resource.title}")
        def update(self, request: Request, db: NamedDependency[Session], record_id: FromPath[int],
                   data: JSONBody[Update]) -> Public:
            record = records.update(db, resource, record_id, data)
            noticed(request, db, [record.id], action="update")
            return Public.model_validate(record)

        @get("/", sync_to_thread=True, dependencies={"filters": Provide(filters, sync_to_thread=False)},
             summary=f"List {resource.title}s")
        def list_records(self, request: Request, db: NamedDependency[Session],
                         filters: NamedDependency[dict[str, Any]], q: Text = None, sort: Sort = "id",
                         limit: Limit = 50, offset: Offset = 0) -> OffsetPagination[Public]:
            page = records.list_records(db, resource, filters=filters, q=q, sort=sort, limit=limit,
                                        offset=offset)
            noticed(request, db, [r.id for r in page.items], action="list")
            return OffsetPagination[Public](items=[Public.model_validate(r) for r in page.items],
                                            limit=limit, offset=offset, total=page.total)

    if closable:
        @post("/{record_id:int}/close", sync_to_thread=True, status_code=200,
              summary=f"Close a {resource.title} (nothing is deleted)")
        def close(self, request: Request, db: NamedDependency[Session], record_id: FromPath[int],
                  data: JSONBody[CloseRequest]) -> Public:
            record = records.close(db, resource, record_id, version=data.version, reason=data.reason,
                                   actor_id=actor_id(request))
            return Public.model_validate(record)

        ResourceController.close = close

    ResourceController.path = path
    ResourceController.__name__ = f"{resource.name.title().replace('_', '')}Controller"
    return ResourceController
