"""Housekeeping: what expires is deleted (web sessions, sign-in rate-limit counters, old job records)."""

from datetime import timedelta

import sqlalchemy as sa

from jobs.registry import JobContext, scheduled
from matching.models import JobRun, StoredValue

KEEP_JOB_RUNS = timedelta(days=90)  # the sender runs every two minutes: a year of its runs is no use to anyone


@scheduled("purge_expired", "Delete expired web sessions, sign-in rate-limit counters and job runs over 90 days old",
           hour=3, minute=10)
def purge_expired(context: JobContext) -> str:
    # Expired exactly as the session store reads it (api/stores.py): at or past `expires_at`. A row with no
    # expiry never expires.
    values = context.session.execute(sa.delete(StoredValue).where(StoredValue.expires_at <= context.now)).rowcount
    runs = context.session.execute(sa.delete(JobRun).where(JobRun.finished_at.is_not(None),
                                                           JobRun.started_at < context.now - KEEP_JOB_RUNS)).rowcount
    return f"{values} expired sessions and counters deleted, {runs} old job runs deleted"
