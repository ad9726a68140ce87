"""Readiness: the service is up and its database answers."""

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy.exc import SQLAlchemyError

from api.errors import LOST, database_fault
from matching import db


@get("/health", sync_to_thread=True, tags=["Service"], summary="Readiness, including the database")
def health(state: State) -> Response[dict[str, str]]:
    try:
        db.ping(state.engine)
    except SQLAlchemyError as error:
        reason, wait = database_fault(error) or LOST
        return Response({"status": "unavailable", "database": "unreachable", "reason": reason}, status_code=503,
                        headers={"Retry-After": str(wait)})
    return Response({"status": "ok", "database": "ok"})
