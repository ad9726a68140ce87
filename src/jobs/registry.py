"""Every scheduled job, declared beside its area (`jobs/<area>.py`, as Netflix Dispatch's `scheduled.py`)
with the `scheduled` decorator, and gathered here for the worker and `springboard jobs`."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from matching.settings import Settings

# The modules that declare jobs; importing them registers their jobs.
AREAS = ("jobs.housekeeping", "jobs.vetting", "jobs.reminders", "jobs.outbox", "jobs.matching", "jobs.opportunities",
         "jobs.digests", "jobs.birthdays", "jobs.models")


@dataclass(frozen=True)
class JobContext:
    """What a job is given: its unit of work (None for a job that keeps its own transactions), a writing
    engine, the settings, and the service clock's day and moment when the run started."""

    session: Session | None
    engine: sa.Engine
    settings: Settings
    today: date
    now: datetime


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], str]  # returns a one-line summary, never personal data
    description: str
    cron: dict[str, Any] = field(default_factory=dict)  # APScheduler CronTrigger fields, Europe/London
    own_transactions: bool = False


JOBS: dict[str, Job] = {}


def scheduled(name: str, description: str, *, own_transactions: bool = False, **cron: Any):
    """Declare a job: `@scheduled("purge_expired", "…", hour=3, minute=10)`."""
    def declare(function: Callable[[JobContext], str]) -> Callable[[JobContext], str]:
        if name in JOBS and JOBS[name].run is not function:
            raise ValueError(f"two jobs are called {name}")
        JOBS[name] = Job(name, function, description, cron, own_transactions)
        return function
    return declare


def all_jobs() -> dict[str, Job]:
    for module in AREAS:
        importlib.import_module(module)
    return JOBS


def get(name: str) -> Job:
    jobs = all_jobs()
    if name not in jobs:
        raise LookupError(f"there is no job called {name!r}; the jobs are {', '.join(sorted(jobs))}")
    return jobs[name]
