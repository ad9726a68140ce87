"""Domain errors. The API maps each to an HTTP status; the CLI prints them."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(DomainError):
    def __init__(self, entity: str, key: object):
        super().__init__(f"{entity} {key} not found")
        self.entity, self.key = entity, key


class StaleVersion(DomainError):
    def __init__(self, entity: str, key: object, expected: int, actual: int):
        super().__init__(
            f"{entity} {key} has changed since you read it (you sent version {expected}, it is now "
            f"version {actual}); read it again and reapply your change"
        )
        self.expected, self.actual = expected, actual


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a domain rule; names the field and the reason."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Conflict(DomainError):
    """The request clashes with the record's current state (e.g. closing something already closed)."""


class DatabaseBusy(DomainError):
    """The database could not take this write in time; nothing was written."""
