"""Mixins every table and schema family shares, and the generator of `Update` (partial) models."""

import re
from datetime import datetime
from typing import Annotated, Any, Optional

import sqlalchemy as sa
from pydantic import AfterValidator, create_model
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from matching.clock import utcnow
from matching.coltypes import UTCDateTime

# Named constraints, so migrations can alter them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Each model's validator and serializer are built when first used, not when its class is made: building all of
# them was 0.07 s of every command's start (`springboard match explain` validates none of them; issue 16).
SQLModel.model_config["defer_build"] = True

# Every id and every whole number is kept in an INTEGER column, 32 bits on PostgreSQL (SQLite's hold 64): a
# value outside this range can never be stored or match a row, and the databases refuse to compare with it.
MIN_INT, MAX_INT = -(2**31), 2**31 - 1

_OUTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def _outcode(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if not _OUTCODE.match(value):
        raise ValueError(f"'{value}' is not a postcode district (the part before the space, e.g. E8 or SW1A)")
    return value


Outcode = Annotated[str, AfterValidator(_outcode)]


def _clean_list(values: list[str] | None) -> list[str] | None:
    """Trimmed, lower-cased, de-duplicated, order kept: tags compare equal however they were typed."""
    if values is None:
        return None
    seen = dict.fromkeys(v.strip().lower() for v in values if v and v.strip())
    return list(seen)


Tags = Annotated[list[str], AfterValidator(_clean_list)]


def json_list(**kw: Any):
    return Field(default_factory=list, sa_type=sa.JSON, **kw)


def code_field(length: int = 16, **kw: Any):
    return Field(sa_type=sa.String(length), **kw)


def list_indexes(table: str, *columns: str) -> tuple[sa.Index, ...]:
    """An index for each column a list filters or sorts by, ending in id (the order's tie-break): a filtered
    page walks one index in order, and a deep page skips index entries rather than rows (records.list_records).
    SQLite's indexes end in the rowid anyway; PostgreSQL's must be told."""
    return tuple(sa.Index(f"ix_{table}_{column}", column, "id") for column in columns)


class Record(SQLModel):
    """Identity, timestamps and an optimistic-lock version (SQLAlchemy bumps it on every UPDATE)."""

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=1, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, sa_column_kwargs={"onupdate": utcnow}
    )

    @declared_attr
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


class Closable(SQLModel):
    """Nothing is deleted: records are closed or withdrawn, and we keep who and why."""

    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="users.id")
    closed_reason: str | None = Field(default=None, max_length=500)


class RecordPublic(SQLModel):
    """The documented shape of a record in responses.

    `of` builds that shape as a plain dict from a stored record. Rows were validated on the way in, and
    re-validating them into models on every response (e-mail syntax above all) cost more than the query
    itself; msgspec encodes the dicts directly (bench/RESULTS.md)."""

    id: int
    version: int
    created_at: datetime
    updated_at: datetime


    @classmethod
    def of(cls, record: Any) -> dict[str, Any]:
        return values_of(record, cls.model_fields)


def values_of(record: Any, names: Any) -> dict[str, Any]:
    """`names` of an ORM record (getattr loads anything expired). List pages build theirs from Core rows
    (services/records.list_records)."""
    return {name: getattr(record, name, None) for name in names}


class ClosablePublic(SQLModel):
    closed_at: datetime | None = None
    closed_by_id: int | None = None
    closed_reason: str | None = None


def partial_model(base: type[SQLModel], name: str, *, exclude: frozenset[str] = frozenset()) -> type[SQLModel]:
    """`name`: every field of `base` optional, plus the `version` the client read (for the 409 check).

    Validators and constraints carry over (they let None through), so an update is checked exactly as a
    create is, field by field.
    """
    fields: dict[str, Any] = {
        field: (Optional[info.annotation], _optional_field(info))  # noqa: UP045
        for field, info in base.model_fields.items()
        if field not in exclude
    }
    fields["version"] = (int, Field(description="The version you read; a stale one is refused with 409."))
    return create_model(name, __base__=SQLModel, **fields)


def _optional_field(info: Any) -> Any:
    field = Field(default=None, description=info.description)
    field.metadata = list(info.metadata)
    return field


class CloseRequest(SQLModel):
    """Body of every close/withdraw action."""

    reason: str = Field(min_length=3, max_length=500, description="Why it is being closed, in words.")
    version: int = Field(description="The version you read; a stale one is refused with 409.")
