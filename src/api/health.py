"""Readiness: the service is up and its database answers."""

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy.exc import SQLAlchemyError

from matching import db


@get("/health", sync_to_thread=True, tags=["Service"], summary="Readiness, including the database")
def health(state: State) -> Response[dict[str, str]]:
    try:
        db.ping(state.engine)
    except SQLAlchemyError:
        return Response({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
