"""Every error the API returns is RFC 9457 problem details naming the field and the reason."""

from litestar.exceptions import NotFoundException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin

from matching.errors import Conflict, DatabaseBusy, InvalidInput, NotFound, StaleVersion


def _problem(status: int, title: str, detail: str, errors: list[dict] | None = None) -> ProblemDetailsException:
    return ProblemDetailsException(status_code=status, title=title, detail=detail,
                                   extra={"errors": errors} if errors else None)


def _validation(exc: ValidationException) -> ProblemDetailsException:
    errors = [
        {"field": item.get("key") or item.get("source") or "body", "reason": item.get("message", "")}
        for item in (exc.extra if isinstance(exc.extra, list) else [])
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or str(exc.detail)
    return _problem(400, "Invalid request", detail, errors)


def _invalid(exc: InvalidInput) -> ProblemDetailsException:
    return _problem(422, "Invalid value", str(exc), [{"field": exc.field, "reason": exc.reason}])


MAP = {
    ValidationException: _validation,
    InvalidInput: _invalid,
    NotFound: lambda exc: _problem(404, "Not found", str(exc)),
    NotFoundException: lambda exc: _problem(404, "Not found", str(exc.detail)),
    StaleVersion: lambda exc: _problem(409, "Changed by someone else", str(exc)),
    Conflict: lambda exc: _problem(409, "Conflict", str(exc)) if not hasattr(exc, "allowed") else
    ProblemDetailsException(status_code=409, title="Not allowed from this state", detail=str(exc),
                            extra={"allowed_next": exc.allowed}),
    DatabaseBusy: lambda exc: _problem(503, "Busy", str(exc)),
}

problem_details = ProblemDetailsPlugin(
    ProblemDetailsConfig(enable_for_all_http_exceptions=True, exception_to_problem_detail_map=MAP)
)
