"""Every table, imported once so SQLModel.metadata (and Alembic) sees them all."""

from matching.models.base import CloseRequest
from matching.models.engine import MatchRun, PassedOver, ScoringModel, Setting
from matching.models.housing import HousingApplication  # noqa: F401  (reports/housing.py)
from matching.models.jobs import JobRun, Notification  # noqa: F401  (the worker's tables)
from matching.models.matches import (
    AuditEvent,
    AuditEventPublic,
    CaseEvent,
    CheckIn,
    Contact,
    Match,
    MatchEvent,
    Meeting,
    Outcome,
)
from matching.models.offer import Entitlement, OfferItem, OfferItemCreate
from matching.models.opportunities import (
    Opportunity,
    OpportunityCreate,
    OpportunityPublic,
    OpportunitySummary,
    OpportunityUpdate,
)
from matching.models.organisation import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenPublic,
    Department,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentUpdate,
    StoredValue,
    User,
    UserCreate,
    UserPublic,
)
from matching.models.people import (
    CareLeaver,
    CareLeaverCreate,
    CareLeaverPublic,
    CareLeaverStatus,
    CareLeaverSummary,
    CareLeaverUpdate,
    Mentor,
    MentorCreate,
    MentorPublic,
    MentorSummary,
    MentorUpdate,
)

__all__ = [
    "CheckIn", "Meeting", "StoredValue", "MatchRun", "PassedOver", "ScoringModel", "Setting", "Entitlement",
    "OfferItem",
    "OfferItemCreate", "CaseEvent", "ApiToken", "ApiTokenCreate", "ApiTokenPublic", "AuditEvent",
    "AuditEventPublic", "CareLeaver", "CareLeaverCreate", "CareLeaverPublic", "CareLeaverStatus", "CareLeaverSummary",
    "CareLeaverUpdate", "CloseRequest", "Contact", "Department", "DepartmentCreate", "DepartmentPublic",
    "DepartmentUpdate", "Match", "MatchEvent", "Mentor", "MentorCreate", "MentorPublic", "MentorSummary",
    "MentorUpdate", "Opportunity", "OpportunityCreate", "OpportunityPublic", "OpportunitySummary",
    "OpportunityUpdate", "Outcome", "User", "UserCreate", "UserPublic",
]
