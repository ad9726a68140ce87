"""Departments of the council, and the people who sign in."""

from datetime import datetime

import sqlalchemy as sa
from pydantic import EmailStr, field_validator
from sqlmodel import Field, SQLModel

from matching.clock import utcnow
from matching.coltypes import UTCDateTime
from matching.models.base import (
    Closable,
    ClosablePublic,
    Record,
    RecordPublic,
    code_field,
    list_indexes,
    partial_model,
)
from matching.vocab import RecordStatus, Role


class DepartmentBase(SQLModel):
    name: str = Field(min_length=2, max_length=120, unique=True, description="e.g. Housing, Parks and Open Spaces")
    code: str = Field(min_length=2, max_length=16, unique=True, description="Short unique code, e.g. HOUS")
    contact_email: EmailStr | None = Field(default=None, max_length=254)

    @field_validator("code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class Department(DepartmentBase, Record, Closable, table=True):
    __tablename__ = "departments"
    __table_args__ = list_indexes("departments", "status", "name", "updated_at")
    status: str = code_field(default="active")


class DepartmentCreate(DepartmentBase):
    pass


DepartmentUpdate = partial_model(DepartmentBase, "DepartmentUpdate")


class DepartmentPublic(DepartmentBase, RecordPublic, ClosablePublic):
    status: RecordStatus


class UserBase(SQLModel):
    email: EmailStr = Field(max_length=254)
    full_name: str = Field(min_length=2, max_length=120)
    role: Role
    department_id: int | None = Field(default=None, description="For department contacts and mentors")

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


class User(Record, Closable, table=True):
    __tablename__ = "users"
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=120)
    role: str = code_field(index=True)
    # use_alter: departments and users refer to each other, so this key is added after both tables exist.
    department_id: int | None = Field(
        default=None, index=True, sa_column_args=[sa.ForeignKey("departments.id", use_alter=True)]
    )
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notices: str = code_field(10, default="immediate", description="immediate or daily (one digest a day)")


class UserCreate(UserBase):
    password: str | None = Field(default=None, min_length=12, max_length=200)


class UserPublic(UserBase, RecordPublic):
    active: bool




class ApiToken(SQLModel, table=True):
    """A bearer token for a system. Only a hash is stored; the token is shown once, when created."""

    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=120, description="What uses it, e.g. 'case system nightly export'")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="users.id")


class ApiTokenCreate(SQLModel):
    user_id: int
    name: str = Field(min_length=3, max_length=120)


class ApiTokenPublic(SQLModel):
    id: int
    user_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


class StoredValue(SQLModel, table=True):
    """Server-side web sessions and sign-in rate-limit counters, shared by every instance of the service.

    Values are opaque bytes written by the web layer (a session holds the user's id and nothing personal)."""

    __tablename__ = "stored_values"
    key: str = Field(primary_key=True, max_length=200)
    value: bytes = Field(sa_type=sa.LargeBinary)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
