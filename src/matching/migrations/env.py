"""Alembic environment: the models' metadata, batch mode for SQLite, APScheduler's table left alone."""

from contextlib import nullcontext

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import matching.models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata
SCHEDULER_TABLES = {"apscheduler_jobs"}
SEARCHED_TABLES = ("departments", "mentors", "opportunities", "care_leavers")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    # Left alone: APScheduler's table, and the text-search indexes (migration 0011), which SQLAlchemy's
    # metadata cannot describe (an FTS5 table and its shadow tables; pg_trgm GIN indexes).
    if type_ == "table":
        return name not in SCHEDULER_TABLES and not (reflected and name.startswith(
            tuple(f"{table}_text" for table in SEARCHED_TABLES)))
    return not (type_ == "index" and reflected and name.endswith("_trgm"))


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    engine = None if given else sa.create_engine(config.get_main_option("sqlalchemy.url"), poolclass=sa.pool.NullPool)
    with nullcontext(given) if given else engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
