"""The weekly digest: each active adviser gets the counts of their young people on each attention list and of
proposals waiting for them, and each manager the overview's counts and the jobs whose last run failed, each
count with a link to its list.

The lists are the overview's own (`dashboard.LISTINGS`, built with the manager's intervals through
`cases.attention`), built once for everyone: a manager's counts are the overview's,
and an adviser's are the same rows of their own young people. Counts and links only, never who. The key
names the week and the person, so running the job twice in a week does no harm.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlmodel import Session, select

from jobs import runner
from jobs.matching import waiting_by_adviser
from jobs.registry import JobContext, scheduled
from matching import council_settings, dashboard, notifications
from matching.models import User

# Where an adviser finds each list's young people among their own pages (the overview's are for managers).
ADVISER_PAGES = {"check-ins": "/follow-ups"}
ADVISER_HOME = "/caseload"


def week_of(day: date) -> date:
    """The Monday of the week `day` falls in (the digest's week)."""
    return day - timedelta(days=day.weekday())


def lists_by_adviser(session: Session, today: date) -> tuple[dict[str, int], dict[int | None, Counter]]:
    """Each overview list's length, and per adviser id (None: no adviser) how many of its rows are theirs."""
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    totals, mine = {}, defaultdict(Counter)
    for listing in dashboard.LISTINGS:
        rows = listing.rows(session, today, follow_up)
        totals[listing.slug] = len(rows)
        for row in rows:
            mine[row["personal_adviser_id"]][listing.slug] += 1
    return totals, dict(mine)


def _titles(session: Session) -> dict[str, str]:
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    return {listing.slug: listing.title(follow_up) for listing in dashboard.LISTINGS}


def adviser_lines(counts: Counter, titles: dict[str, str], waiting: int, base_url: str) -> list[str]:
    lines = [f"- {titles[slug]}: {counts[slug]} "
             f"({notifications.link(base_url, ADVISER_PAGES.get(slug, ADVISER_HOME))})"
             for slug in titles if counts[slug]]
    if waiting:
        lines.append(f"- Proposals waiting for your decision: {waiting} ({notifications.link(base_url, '/proposals')})")
    return ["This week on your lists:", *lines] if lines else ["Nothing is on your lists this week."]


def manager_lines(totals: dict[str, int], titles: dict[str, str], failed: list[str], base_url: str) -> list[str]:
    lines = ["This week across the service:",
             *[f"- {titles[slug]}: {totals[slug]} ({notifications.link(base_url, f'/overview/{slug}')})"
               for slug in titles]]
    if failed:
        lines.append(f"Scheduled jobs whose last run failed: {', '.join(failed)} (`springboard jobs list` says more).")
    return lines


def _advisers(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.role == "adviser", User.active, User.closed_at.is_(None))
                             .order_by(User.id)))


@scheduled("weekly_digest", "Send each adviser and manager the week's counts of their lists, with links",
           day_of_week="mon", hour=7, minute=0)
def weekly_digest(context: JobContext) -> str:
    session, base, week = context.session, context.settings.service_url, week_of(context.today)
    totals, mine = lists_by_adviser(session, context.today)
    titles, waiting = _titles(session), waiting_by_adviser(session)
    failed = sorted(name for name, run in runner.last_runs(session).items() if run.result == "failed")
    written = 0
    for adviser in _advisers(session):
        proposals = waiting[adviser.id].total if adviser.id in waiting else 0
        written += notifications.notify(
            session, key=f"digest:{week}:{adviser.id}", kind="digest", user=adviser,
            subject="Springboard: your week", lines=adviser_lines(mine.get(adviser.id, Counter()), titles,
                                                                  proposals, base),
            url=notifications.link(base, ADVISER_HOME))
    for manager in notifications.active_managers(session):
        written += notifications.notify(
            session, key=f"digest:{week}:{manager.id}", kind="digest", user=manager,
            subject="Springboard: the week's overview", lines=manager_lines(totals, titles, failed, base),
            url=notifications.link(base, "/overview"))
    return f"{written} digests written"
