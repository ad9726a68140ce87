"""Issue 14's acceptance simulation: a seeded cohort of a few hundred over two simulated years, with every kind
of failure the issue found injected at seeded random days, driven through the JSON API (tokens of the right
roles) where the API offers the step, and through the domain and the scheduled jobs where it is time passing
(a DBS check growing old, an adviser's account deactivated by the administrator's own step).

Each injected failure becomes one `Outcome`: it passes when the service refused it quoting its rule, or when,
within a day, it was on the named adviser's list *and* the manager's (with the adviser's id and days overdue)
*and* a notice in the outbox was addressed to that adviser (for the unallocated list, to the manager). A
daily reminder counts: its line must give exactly the number on the adviser's own list that day, so a line
that any other overdue item would satisfy is not enough. Where a list has a boundary day, the day before it
is checked too (not listed early). Problems are words, so a failing kind says what is missing.

Time: the clock moves to each day that matters. On a day something is checked, the day's scheduled jobs run
first (every job `jobs.registry` declares for that day, weekly ones on their weekday, in the order of their
times, but those in NOT_RUN), through `jobs.runner.run_job` as the scheduler runs them; then the day's
checks, then its injections. Days with injections alone, and the day before a boundary, run no jobs; the
jobs also run at least every 28 days, so the birthdays job (which catches up 31 days) never misses one.
Matching runs once at the start: its proposals are what advisers approve.

The cohort is the fixtures generator's (300 young people, 40 mentors, 60 opportunities) without its past
matches, check-ins and meetings (HISTORY): nobody acts on them in the simulation, so over two years they
would all fall overdue and every daily job would walk thousands of items, which costs minutes and tests
nothing the injected failures do not.
"""

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from fixtures import demo
from fixtures.synthetic import Scale
from litestar.testing import TestClient
from sqlmodel import select

from api.app import create_app
from jobs import registry, reminders, runner
from matching import accounts, cases, council_settings, db, mentoring, pipeline
from matching.clock import CLOCK, ZONE
from matching.dates import add_months, birthday
from matching.models import ApiTokenCreate, CareLeaver, CaseEvent, Match, Mentor, Notification, Opportunity, User
from matching.services.users import create_token
from tests import factories

SEED = 14
COHORT = Scale(300, 40, 60)
YEARS = 2
HISTORY = False  # the cohort's past matches, check-ins and meetings: see the module's docstring
DAY = timedelta(days=1)
# The scheduled jobs a simulated day does not run, and why; every other job the registry declares runs on its
# days (daily, or on its weekday), in the order of its time of day, as the worker would run them.
NOT_RUN = {"nightly_matching": "runs once at the start: the engine's run costs seconds, and its proposals are "
                               "what the advisers approve",
           "send_notifications": "with no SMTP_HOST the notices wait in the outbox, which is what is checked",
           "run_queued_matching": "nothing is queued: no matching run is started from a page"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONGEST_GAP = 28  # the birthdays job catches up 31 days at most
S23CZB = "s.23CZB"
DAYS_KEYS = ("days_overdue", "days_since_contact", "days_since", "days_unallocated")
# Each vetting check: the mentor's column, the rule that says whether it still counts, and its words.
VETTING = {"dbs": ("dbs_checked_on", mentoring.dbs_current, "DBS check"),
           "safeguarding": ("safeguarding_trained_on", mentoring.safeguarding_current, "safeguarding training")}
UNALLOCATED_WORDS = re.compile(r"no (personal )?adviser|nobody|unallocated", re.IGNORECASE)


@dataclass
class Outcome:
    kind: str
    subject: str
    day: date
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} on {self.day}: {'; '.join(self.problems) or 'ok'}"


@dataclass
class Listed:
    """One list as one person sees it: its name (for the words), and how to read it."""

    name: str
    read: Callable[[int], list[dict]]  # user id -> the items that person sees


class Simulation:
    def __init__(self, database_url: str, settings: Any, seed: int = SEED, start: date | None = None):
        self.url, self.settings, self.rng = database_url, settings, random.Random(seed)
        self.start = start or CLOCK.today()
        self.end = self.start + timedelta(days=365 * YEARS)
        self.engine = db.engine_for(database_url)
        self.agenda: dict[date, list[tuple[int, Callable[[], None]]]] = defaultdict(list)
        self.outcomes: list[Outcome] = []
        self.samples: dict[str, dict] = {}  # the first item seen on each list (for the test of its columns)
        self.job_days: set[date] = set()
        self.days_run = 0

    # --- setting up -----------------------------------------------------------------------------------

    def seed(self) -> None:
        CLOCK.fix(self.start)
        demo.load(self.engine, seed=SEED, scale=COHORT, today=self.start, history=HISTORY)
        with db.session_scope(db.writer(self.engine)) as session:
            users = list(session.exec(select(User).where(User.active).order_by(User.id)))
            self.tokens = {u.id: create_token(session, ApiTokenCreate(user_id=u.id, name="simulation"),
                                              created_by_id=None)[1] for u in users if u.role in {"manager", "adviser"}}
            self.roles = {u.id: u.role for u in users}
            self.mentor_users = {m.id: m.user_id for m in session.exec(select(Mentor))}
        self.manager = next(i for i, role in self.roles.items() if role == "manager")
        self.admin = next(i for i, role in self.roles.items() if role == "admin")
        self.advisers = sorted(i for i, role in self.roles.items() if role == "adviser")
        self._run_job("nightly_matching")  # the engine's proposals, which advisers approve below
        self.client = TestClient(app=create_app(self.settings))
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)

    # --- the API ------------------------------------------------------------------------------------------

    def api(self, method: str, path: str, who: int, **kwargs) -> Any:
        return self.client.request(method, f"/api/v1{path}", headers={"Authorization": f"Bearer {self.tokens[who]}"},
                                   **kwargs)

    def listing(self, path: str) -> Listed:
        def read(who: int) -> list[dict]:
            response = self.api("GET", f"/attention/{path}", who)
            assert response.status_code == 200, response.text
            return response.json()
        return Listed(path, read)

    def domain_listing(self, name: str, listing: Callable[..., list[dict]]) -> Listed:
        def read(who: int) -> list[dict]:
            with db.session_scope(self.engine) as session:
                follow_up = council_settings.load(session, council_settings.FollowUpSettings)
                adviser = who if self.roles[who] == "adviser" else None
                return cases.attention(session, listing, today=CLOCK.today(), follow_up=follow_up, adviser_id=adviser)
        return Listed(name, read)

    def person(self, care_leaver_id: int) -> dict:
        return self.api("GET", f"/care-leavers/{care_leaver_id}", self.manager).json()

    def follow_up(self):
        with db.session_scope(self.engine) as session:
            return council_settings.load(session, council_settings.FollowUpSettings)

    # --- the days -----------------------------------------------------------------------------------------

    def at(self, day: date, action: Callable[[], None], *, jobs: bool = True) -> None:
        """Do `action` on `day`; `jobs`: the day's scheduled jobs must have run first (a check of what the
        worker did). Injections and checks of a list alone need none."""
        assert self.start < day <= self.end + 3 * DAY, f"{day} is outside the simulated years"
        self.agenda[day].append((0, action))
        if jobs:
            self.job_days.add(day)

    def inject(self, day: date, action: Callable[[], None]) -> None:
        """Inject a failure on `day`, after that day's checks (which read what the jobs did that morning)."""
        assert self.start < day <= self.end, f"{day} is outside the simulated years"
        self.agenda[day].append((1, action))

    def run(self) -> None:
        worked = self.start  # the last day the worker's jobs ran
        while self.agenda or worked < self.end:
            tick = min(worked + timedelta(days=LONGEST_GAP), self.end)
            day = min(min(self.agenda), tick) if self.agenda else tick
            CLOCK.fix(day)
            if day in self.job_days or day == tick:
                self._daily_jobs(day)
                worked = day
            for _, action in sorted(self.agenda.pop(day, []), key=lambda entry: entry[0]):
                action()
        CLOCK.fix(self.start)

    def _daily_jobs(self, day: date) -> None:
        self.days_run += 1
        for name in due_jobs(day):
            self._run_job(name)

    def _run_job(self, name: str) -> None:
        run = runner.run_job(name, self.settings)
        if run.result != "ok":
            self.outcomes.append(Outcome("jobs_run", name, CLOCK.today(), [f"the job failed: {run.summary}"]))

    # --- what a check asks ------------------------------------------------------------------------------

    def on_lists(self, outcome: Outcome, listed: Listed, adviser: int | None, matches: Callable[[dict], bool],
                 expect: Callable[[dict], list[str]] = lambda item: []) -> None:
        """On the adviser's list (when there is a named adviser) and the manager's, with who and days."""
        for who, whose in ((adviser, "adviser's"), (self.manager, "manager's")):
            if who is None:
                continue
            items = listed.read(who)
            if items:
                self.samples.setdefault(listed.name, items[0])
            found = [item for item in items if matches(item)]
            if not found:
                outcome.problems.append(f"not on the {whose} {listed.name} list")
                continue
            item = found[0]
            if adviser is not None and item.get("personal_adviser_id") != adviser:
                outcome.problems.append(f"the {whose} {listed.name} list names adviser "
                                        f"{item.get('personal_adviser_id')}, not {adviser}")
            if not any(isinstance(item.get(key), int) for key in DAYS_KEYS):
                outcome.problems.append(f"the {whose} {listed.name} list gives no days overdue")
            outcome.problems += expect(item)

    def off_list(self, outcome: Outcome, listed: Listed, matches: Callable[[dict], bool], why: str) -> None:
        if any(matches(item) for item in listed.read(self.manager)):
            outcome.problems.append(f"on the {listed.name} list {why}")

    def notified(self, outcome: Outcome, user_id: int, since: date, *, kind: str | None = None,
                 words: str | re.Pattern | None = None, whom: str = "the adviser") -> None:
        """A notice in the outbox to `user_id`, written from `since` to today (within a day), saying `words`."""
        with db.session_scope(self.engine) as session:
            notices = session.exec(select(Notification).where(Notification.user_id == user_id)).all()
        for notice in notices:
            written = notice.created_at.astimezone(ZONE).date()
            if not since <= written <= CLOCK.today() or (kind and notice.kind != kind):
                continue
            text = f"{notice.subject}\n{notice.body}"
            if words is None or (words.search(text) if isinstance(words, re.Pattern) else words in text):
                return
        what = f" saying {words.pattern if isinstance(words, re.Pattern) else words!r}" if words else ""
        outcome.problems.append(f"no notice to {whom} (user {user_id}){what} from {since} to {CLOCK.today()}")

    def reminded(self, outcome: Outcome, adviser: int, listing: Callable[..., list[dict]], since: date) -> None:
        """Today's overdue reminder to the adviser counts this list's items of theirs, this one included: its
        line gives exactly the number on the adviser's own list (a line that any other overdue item would
        satisfy is not enough)."""
        reminder = next((r for r in reminders.REMINDERS if r.listing is listing), None)
        if reminder is None:
            outcome.problems.append(f"no daily reminder tells advisers of the {listing.__name__} list "
                                    "(jobs/reminders.py REMINDERS)")
            return
        with db.session_scope(self.engine) as session:
            follow_up = council_settings.load(session, council_settings.FollowUpSettings)
            theirs = cases.attention(session, listing, today=CLOCK.today(), follow_up=follow_up, adviser_id=adviser)
        counted = sum(1 for item in theirs if reminder.counts(item))
        line = "- " + reminder.words.format(n=counted, interval=cases.interval_of(listing, follow_up))
        self.notified(outcome, adviser, since, kind="overdue", words=line)

    def expect(self, outcome: Outcome, response, status: int, *words: str) -> None:
        if response.status_code != status:
            outcome.problems.append(f"answered {response.status_code}, not {status}: {response.text[:300]}")
            return
        missing = [w for w in words if w not in response.text]
        if missing:
            outcome.problems.append(f"the refusal does not say {missing}: {response.text[:300]}")

    def outcome(self, kind: str, subject: str) -> Outcome:
        found = Outcome(kind, subject, CLOCK.today())
        self.outcomes.append(found)
        return found


def due_jobs(day: date) -> list[str]:
    """The registry's jobs that run on `day` (daily ones, and weekly ones on their weekday), by time of day."""
    due = [job for job in registry.all_jobs().values() if job.name not in NOT_RUN and "hour" in job.cron
           and job.cron.get("day_of_week", WEEKDAYS[day.weekday()]) == WEEKDAYS[day.weekday()]]
    return [job.name for job in sorted(due, key=lambda job: (int(job.cron["hour"]), int(job.cron.get("minute", 0))))]


def reminder_listing(*names: str) -> Callable[..., list[dict]] | None:
    """A reminder's list whose function name has one of `names` (the lists of stale matches and lapsed
    vetting, being added to the reminders), or None."""
    for reminder in reminders.REMINDERS:
        if any(name in reminder.listing.__name__ for name in names):
            return reminder.listing
    return None


# --- the cohort: who each failure is injected on -------------------------------------------------------

@dataclass(frozen=True)
class Young:
    id: int
    born: date
    adviser: int | None
    category: str
    in_touch: str


class Pool:
    """The open cases, each used by one injected failure at most (so one does not hide another)."""

    def __init__(self, sim: Simulation, excluded_advisers: Iterable[int]):
        with db.session_scope(sim.engine) as session:
            rows = session.exec(select(CareLeaver).where(CareLeaver.case_status == "open",
                                                         CareLeaver.personal_adviser_id.is_not(None))).all()
            self.people = [Young(p.id, p.date_of_birth, p.personal_adviser_id, p.leaving_care_category, p.in_touch)
                           for p in rows if p.personal_adviser_id not in set(excluded_advisers)]
        sim.rng.shuffle(self.people)
        self.used: set[int] = set()

    def take(self, n: int, fits: Callable[[Young], bool]) -> list[Young]:
        found = [p for p in self.people if p.id not in self.used and fits(p)][:n]
        self.used |= {p.id for p in found}
        return found

    def use(self, care_leaver_id: int) -> bool:
        if care_leaver_id in self.used:
            return False
        self.used.add(care_leaver_id)
        return True


def under_25_until(day: date) -> Callable[[Young], bool]:
    return lambda p: birthday(p.born, 25) > day + 3 * DAY


# --- the failures -------------------------------------------------------------------------------------

class Injections:
    """Each `plan_*` schedules one kind of failure at seeded days; its checks record an Outcome each."""

    def __init__(self, sim: Simulation):
        self.sim, self.rng = sim, sim.rng
        self.leaving = sim.rng.choice(sim.advisers)  # the adviser who leaves, mid-way
        self.pool = Pool(sim, [self.leaving])
        self.follow_up = sim.follow_up()

    def day(self, lo: int, hi: int) -> date:
        """A seeded day from `lo` to `hi` days after the start, on the start's weekday: failures are injected
        in weekly steps, so the checks a fixed time after them fall on shared days and the jobs run less often."""
        return self.sim.start + timedelta(weeks=self.rng.randint(-(-lo // 7), hi // 7))

    def plan_all(self) -> None:
        for age in (18, 21, 25):
            self.plan_birthdays(age, 5)
        self.plan_declined_closures(6)
        self.plan_903_status(6)
        self.plan_not_contacted(6)
        self.plan_pathway_reviews(5)
        self.plan_mentoring(check_ins=4, lapsed_live={"dbs": 3, "safeguarding": 2},
                            lapsed_approval={"dbs": 2, "safeguarding": 2})
        self.plan_opportunities(stale=5, placements=3)
        self.plan_adviser_leaves()

    # Birthdays: an event on the record, a task for the adviser, the adviser told; at 25 off the contact lists.
    def plan_birthdays(self, age: int, n: int) -> None:
        sim = self.sim
        for person in self.pool.take(n, lambda p: sim.start + 2 * DAY < birthday(p.born, age) <= sim.end - 3 * DAY):
            sim.at(birthday(person.born, age), lambda p=person: self.check_birthday(p, age))

    def check_birthday(self, person: Young, age: int) -> None:
        sim, today = self.sim, CLOCK.today()
        outcome = sim.outcome(f"birthday_{age}", f"care leaver {person.id}")
        with db.session_scope(sim.engine) as session:
            events = session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == person.id,
                                                          CaseEvent.action == f"birthday_{age}")).all()
        if [e.at.astimezone(ZONE).date() for e in events] != [today]:
            outcome.problems.append(f"the record has birthday_{age} events on "
                                    f"{[e.at.astimezone(ZONE).date() for e in events]}, not once on {today}")
        sim.on_lists(outcome, sim.listing("birthdays"), person.adviser,
                     lambda item: (item["care_leaver_id"], item.get("age")) == (person.id, age))
        sim.notified(outcome, person.adviser, today, kind="birthdays")
        record = sim.person(person.id)
        if age == 18 and person.category in ("eligible", "relevant") and record["leaving_care_category"] != "former_relevant":
            outcome.problems.append(f"at 18 the category is still {record['leaving_care_category']}")
        if age == 25:
            for path in ("not-in-touch", "pathway-reviews"):
                sim.off_list(outcome, sim.listing(path), lambda item: item["care_leaver_id"] == person.id,
                             "from the 25th birthday")

    # 21-25: a "declined" closure must answer an offer made from the 21st birthday and after the last request.
    def plan_declined_closures(self, n: int) -> None:
        sim = self.sim
        for i in range(n):
            on = self.day(30, 700)
            found = self.pool.take(1, lambda p, on=on: birthday(p.born, 21) + timedelta(days=60) < on < birthday(p.born, 25))
            if found:
                sim.inject(on, lambda p=found[0], asked=i % 2 == 1: self.try_closure(p, asked))

    def try_closure(self, person: Young, asked: bool) -> None:
        sim, today = self.sim, CLOCK.today()
        turns_21 = birthday(person.born, 21)
        outcome = sim.outcome("declined_closure_refused", f"care leaver {person.id}")
        record = sim.person(person.id)
        if asked:  # asked for support after 21; an offer made before the request is not what was declined
            asked_on = turns_21 + timedelta(days=self.rng.randint(30, (today - turns_21).days))
            sim.expect(outcome, sim.api("POST", f"/care-leavers/{person.id}/support-requests", person.adviser,
                                        json={"asked_on": asked_on.isoformat(), "note": "Rang about housing"}), 201)
            offered = asked_on - timedelta(days=self.rng.randint(1, (asked_on - turns_21).days))
        else:  # an offer made at 19 or 20
            offered = turns_21 - timedelta(days=self.rng.randint(1, 700))
        close = {"version": record["version"], "reason_code": "support_declined",
                 "support_offered_on": offered.isoformat()}
        refused = sim.api("POST", f"/care-leavers/{person.id}/close", person.adviser, json=close)
        sim.expect(outcome, refused, 409, S23CZB, *(["last asked for support"] if asked else ["21st birthday"]))
        if sim.person(person.id)["case_status"] != "open":
            outcome.problems.append("the case was closed")

    # 903 NO/REFU: on the not-in-touch list at once, and a later contact keeps the status.
    def plan_903_status(self, n: int) -> None:
        for i in range(n):
            on = self.day(5, 700)
            for person in self.pool.take(1, under_25_until(on + 3 * DAY)):
                self.sim.inject(on, lambda p=person, status=("NO", "REFU")[i % 2]: self.record_status(p, status))

    def record_status(self, person: Young, status: str) -> None:
        sim, today = self.sim, CLOCK.today()
        outcome = sim.outcome("903_status_listed", f"care leaver {person.id} ({status})")
        sim.expect(outcome, sim.api("POST", f"/care-leavers/{person.id}/contacts", person.adviser, json={
            "contact_on": today.isoformat(), "kind": "visit", "in_touch": status}), 201)
        is_them = lambda item: item["care_leaver_id"] == person.id  # noqa: E731
        has_status = lambda item: [] if item.get("in_touch") == status else [  # noqa: E731
            f"listed with status {item.get('in_touch')}, not {status}"]
        sim.on_lists(outcome, sim.listing("not-in-touch"), person.adviser, is_them, has_status)  # at once

        def next_day() -> None:
            sim.on_lists(outcome, sim.listing("not-in-touch"), person.adviser, is_them, has_status)
            sim.reminded(outcome, person.adviser, cases.not_in_touch, today + DAY)
            later = sim.outcome("903_status_kept_after_contact", f"care leaver {person.id} ({status})")
            sim.expect(later, sim.api("POST", f"/care-leavers/{person.id}/contacts", person.adviser, json={
                "contact_on": CLOCK.today().isoformat(), "kind": "message", "note": "Left a message"}), 201)
            sim.at(CLOCK.today() + DAY, lambda: (
                sim.on_lists(later, sim.listing("not-in-touch"), person.adviser, is_them, has_status),
                sim.reminded(later, person.adviser, cases.not_in_touch, CLOCK.today())))
        sim.at(today + DAY, next_day)

    # Not contacted for longer than the interval: listed on the first day past it, not the day before.
    def plan_not_contacted(self, n: int) -> None:
        weeks = self.follow_up.not_in_touch_weeks
        for _ in range(n):
            on = self.day(5, 600)
            due = on + timedelta(weeks=weeks) + DAY
            for person in self.pool.take(1, under_25_until(due)):
                self.sim.inject(on, lambda p=person, d=due: self.contact_then_silence(p, d))

    def contact_then_silence(self, person: Young, due: date) -> None:
        sim = self.sim
        outcome = sim.outcome("not_contacted", f"care leaver {person.id}")
        sim.expect(outcome, sim.api("POST", f"/care-leavers/{person.id}/contacts", person.adviser, json={
            "contact_on": CLOCK.today().isoformat(), "kind": "visit", "in_touch": "YES"}), 201)
        is_them = lambda item: item["care_leaver_id"] == person.id  # noqa: E731
        sim.at(due - DAY, lambda: sim.off_list(outcome, sim.listing("not-in-touch"), is_them, "a day early"),
               jobs=False)
        sim.at(due, lambda: (sim.on_lists(outcome, sim.listing("not-in-touch"), person.adviser, is_them),
                             sim.reminded(outcome, person.adviser, cases.not_in_touch, due)))

    # A pathway plan reviewed, then not again for six months: overdue the day after it is due.
    def plan_pathway_reviews(self, n: int) -> None:
        for _ in range(n):
            on = self.day(5, 500)
            overdue = add_months(on, 6) + DAY
            for person in self.pool.take(1, under_25_until(overdue)):
                self.sim.inject(on, lambda p=person, d=overdue: self.review_then_forget(p, d))

    def review_then_forget(self, person: Young, overdue: date) -> None:
        sim = self.sim
        outcome = sim.outcome("pathway_review_overdue", f"care leaver {person.id}")
        record = sim.person(person.id)
        sim.expect(outcome, sim.api("PATCH", f"/care-leavers/{person.id}", person.adviser, json={
            "version": record["version"], "pathway_plan_reviewed_on": CLOCK.today().isoformat()}), 200)
        is_them = lambda item: item["care_leaver_id"] == person.id and item.get("overdue") is True  # noqa: E731
        sim.at(overdue - DAY, lambda: sim.off_list(outcome, sim.listing("pathway-reviews"), is_them,
                                                  "as overdue on the day it is due"), jobs=False)
        sim.at(overdue, lambda: (sim.on_lists(outcome, sim.listing("pathway-reviews"), person.adviser, is_them),
                                 sim.reminded(outcome, person.adviser, cases.pathway_reviews, overdue)))

    # Mentoring: approved matches whose check-ins and meetings are forgotten, and mentors whose DBS lapses.
    def proposals(self, kind: str) -> list[Match]:
        with db.session_scope(self.sim.engine) as session:
            found = session.exec(select(Match).where(Match.kind == kind, Match.state == "proposed")
                                 .order_by(Match.id)).all()
        found = list(found)
        self.rng.shuffle(found)
        return found

    def plan_mentoring(self, *, check_ins: int, lapsed_live: dict[str, int], lapsed_approval: dict[str, int]) -> None:
        mentors: set[int] = set()
        plans = [self.forgotten_mentoring] * check_ins
        for check in VETTING:
            plans += [partial(self.lapsed_live, check=check)] * lapsed_live[check]
            plans += [partial(self.lapsed_approval, check=check)] * lapsed_approval[check]
        young = {p.id: p for p in self.pool.people}
        for match in self.proposals("mentoring"):
            if not plans:
                break
            person = young.get(match.care_leaver_id)
            if person is None or match.mentor_id in mentors or not self.pool.use(person.id):
                continue
            mentors.add(match.mentor_id)
            plan = plans.pop(0)
            self.sim.inject(self.day(3, 20), lambda m=match, p=person, plan=plan: plan(m, p))
        self.short = len(plans)  # proposals the run did not give: reported by the test of the kinds' counts

    def approve(self, outcome: Outcome, match_id: int, adviser: int) -> bool:
        version = self.sim.api("GET", f"/matches/{match_id}", adviser).json()["version"]
        response = self.sim.api("POST", f"/matches/{match_id}/transitions", adviser,
                                json={"to": "approved", "version": version})
        if response.status_code != 200:
            outcome.problems.append(f"setting up: approving match {match_id} answered {response.status_code}: "
                                    f"{response.text[:300]}")
        return response.status_code == 200

    def forgotten_mentoring(self, match: Match, person: Young) -> None:
        sim, approved = self.sim, CLOCK.today()
        outcome = sim.outcome("check_in_overdue", f"match {match.id}")
        quiet = sim.outcome("mentoring_no_meeting", f"match {match.id}")
        if not self.approve(outcome, match.id, person.adviser):
            quiet.problems += outcome.problems
            return
        due = approved + timedelta(weeks=2) + DAY  # the 2-week check-in, the day after it was due
        is_check = lambda item: item.get("match_id") == match.id and item.get("label") == "2 weeks"  # noqa: E731
        sim.at(due - DAY, lambda: sim.off_list(outcome, sim.listing("check-ins"), is_check, "on the day it is due"),
               jobs=False)
        sim.at(due, lambda: (sim.on_lists(outcome, sim.listing("check-ins"), person.adviser, is_check),
                             sim.reminded(outcome, person.adviser, cases.overdue_check_ins, due)))
        silent = approved + timedelta(days=self.follow_up.no_meeting_days + 1)
        is_match = lambda item: item.get("match_id") == match.id  # noqa: E731
        sim.at(silent, lambda: (sim.on_lists(quiet, sim.listing("no-meetings"), person.adviser, is_match),
                                sim.reminded(quiet, person.adviser, cases.no_recent_meeting, silent)))

    def lapse(self, outcome: Outcome, mentor_id: int, check: str, lapses_on: date) -> bool:
        """The mentor's check was done so long ago that it stops counting on `lapses_on` (time passing: the
        check's date is the mentor's record, set as if recorded years before); False if it never stops."""
        column, current, _ = VETTING[check]
        done = next((day for day in (lapses_on - timedelta(days=k) for k in range(1, 366 * 5))
                     if current(day, lapses_on - DAY) and not current(day, lapses_on)), None)
        if done is None:
            outcome.problems.append(f"a mentor's {check} check never stops counting (mentoring.{current.__name__})")
            return False
        with db.session_scope(db.writer(self.sim.engine)) as session:
            setattr(session.get(Mentor, mentor_id), column, done)
        return True

    def lapsed_live(self, match: Match, person: Young, check: str) -> None:
        sim, today = self.sim, CLOCK.today()
        outcome = sim.outcome(f"{check}_lapsed_live_mentoring", f"match {match.id}")
        warned = sim.outcome(f"{check}_warning_30_days", f"mentor {match.mentor_id}")
        lapses = today + timedelta(days=self.rng.randint(35, 60))
        if not self.approve(outcome, match.id, person.adviser) or not self.lapse(outcome, match.mentor_id, check,
                                                                                   lapses):
            warned.problems += outcome.problems
            return

        def warning() -> None:  # 30 days ahead, to the mentor and the manager
            sim.notified(warned, sim.mentor_users[match.mentor_id], today, kind="vetting_expiry", whom="the mentor",
                         words=VETTING[check][2])
            sim.notified(warned, sim.manager, today, kind="vetting_expiry", whom="the manager", words=VETTING[check][2])
        sim.at(lapses - timedelta(days=30), warning)

        def lapsed() -> None:
            listing = reminder_listing("vetting", "lapsed")
            if listing is None:
                outcome.problems.append("no list of live mentoring whose mentor's checks have lapsed is in the daily "
                                        "reminders (jobs/reminders.py REMINDERS)")
                return
            sim.on_lists(outcome, sim.domain_listing(listing.__name__, listing), person.adviser,
                         lambda item: item.get("match_id") == match.id and item.get("check", check) == check)
            sim.reminded(outcome, person.adviser, listing, lapses)
        sim.at(lapses, lapsed)

    def lapsed_approval(self, match: Match, person: Young, check: str) -> None:
        sim = self.sim
        outcome = sim.outcome(f"{check}_lapsed_approval_refused", f"match {match.id}")
        lapses = CLOCK.today() + timedelta(days=self.rng.randint(2, 10))
        if not self.lapse(outcome, match.mentor_id, check, lapses):
            return

        def approve() -> None:
            version = sim.api("GET", f"/matches/{match.id}", person.adviser).json()["version"]
            refused = sim.api("POST", f"/matches/{match.id}/transitions", person.adviser,
                              json={"to": "approved", "version": version})
            sim.expect(outcome, refused, 409, VETTING[check][2])
            if sim.api("GET", f"/matches/{match.id}", person.adviser).json()["state"] != "proposed":
                outcome.problems.append("the match was approved")
        sim.inject(lapses, approve)

    # Stale: an approved opportunity never referred, past the manager's interval.
    def plan_opportunities(self, *, stale: int, placements: int) -> None:
        plans = [self.approve_and_forget] * stale + [self.placement_without_outcome] * placements
        young = {p.id: p for p in self.pool.people}
        open_long_enough = self.sim.start + timedelta(days=self.follow_up.no_next_step_days + 20)
        with db.session_scope(self.sim.engine) as session:
            lasting = set(session.exec(select(Opportunity.id).where(
                Opportunity.closes_on.is_(None) | (Opportunity.closes_on > open_long_enough))))
        for match in self.proposals("opportunity"):
            if not plans:
                break
            person = young.get(match.care_leaver_id)
            if person is None or match.opportunity_id not in lasting or not self.pool.use(person.id):
                continue
            plan = plans.pop(0)
            self.sim.inject(self.day(7, 14), lambda m=match, p=person, plan=plan: plan(m, p))
        self.short += len(plans)

    def placement_without_outcome(self, match: Match, person: Young) -> None:
        """Referred, interviewed, offered and started on one day (the department records its steps), then
        nothing: the outcome (sustained or ended) is due three months and the manager's interval later."""
        sim = self.sim
        outcome = sim.outcome("placement_no_outcome", f"match {match.id}")
        if not self.approve(outcome, match.id, person.adviser):
            return
        department = self.department_of(match)
        for to, who in (("referred", person.adviser), ("interviewed", department), ("offered", department),
                        ("started", department)):
            version = sim.api("GET", f"/matches/{match.id}", person.adviser).json()["version"]
            moved = sim.api("POST", f"/matches/{match.id}/transitions", who, json={"to": to, "version": version})
            if moved.status_code != 200:
                outcome.problems.append(f"setting up: {to} answered {moved.status_code}: {moved.text[:300]}")
                return
        sim.notified(outcome, department, CLOCK.today(), kind="referral", whom="the department")
        due = add_months(CLOCK.today(), 3) + timedelta(days=self.follow_up.no_next_step_days)
        listing = reminder_listing("stale", "next_step")
        is_match = lambda item: item.get("match_id") == match.id and item.get("kind") == "no_outcome"  # noqa: E731

        def check() -> None:
            if listing is None:
                outcome.problems.append("no list of placements with no outcome is in the daily reminders")
                return
            sim.on_lists(outcome, sim.domain_listing(listing.__name__, listing), person.adviser, is_match)
            sim.reminded(outcome, person.adviser, listing, due + DAY)
        if listing is not None:
            sim.at(due, lambda: sim.off_list(outcome, sim.domain_listing(listing.__name__, listing), is_match,
                                             "on the last day the outcome may wait"), jobs=False)
        sim.at(due + DAY, check)

    def department_of(self, match: Match) -> int:
        """The department contact who records the steps after a referral (a token of their own)."""
        with db.session_scope(db.writer(self.sim.engine)) as session:
            department_id = session.get(Opportunity, match.opportunity_id).department_id
            user = session.exec(select(User).where(User.role == "department", User.active,
                                                   User.department_id == department_id).order_by(User.id)).first()
            if user.id not in self.sim.tokens:
                self.sim.tokens[user.id] = create_token(session, ApiTokenCreate(user_id=user.id, name="simulation"),
                                                        created_by_id=None)[1]
                self.sim.roles[user.id] = "department"
            return user.id

    def approve_and_forget(self, match: Match, person: Young) -> None:
        sim = self.sim
        outcome = sim.outcome("stale_match", f"match {match.id}")
        if not self.approve(outcome, match.id, person.adviser):
            return
        due = CLOCK.today() + timedelta(days=self.follow_up.no_next_step_days + 1)

        def check() -> None:
            listing = reminder_listing("stale", "next_step")
            is_match = lambda item: item.get("match_id") == match.id  # noqa: E731
            if listing is not None:
                sim.on_lists(outcome, sim.domain_listing(listing.__name__, listing), person.adviser, is_match)
            else:  # the follow-ups page's list, until the reminders have their own
                sim.on_lists(outcome, Listed("follow-ups", lambda who: self.follow_ups(who)), person.adviser, is_match)
                outcome.problems.append("no daily reminder tells advisers of approved matches with no next step "
                                        "(jobs/reminders.py REMINDERS)")
                return
            sim.reminded(outcome, person.adviser, listing, due)
        sim.at(due, check)

    def follow_ups(self, who: int) -> list[dict]:
        viewer = _Viewer(who, self.sim.roles[who], None)
        with db.session_scope(self.sim.engine) as session:
            items = pipeline.follow_ups(session, viewer, today=CLOCK.today())
        return [{"match_id": item["match"].id, "care_leaver_id": item["match"].care_leaver_id,
                 "personal_adviser_id": item["person"]["personal_adviser_id"],
                 "days_overdue": item["days_overdue"], "name": item["person"]["name"]}
                for item in items if item["kind"] == "no_next_step" and item["days_overdue"] > 0]

    # An adviser leaves: their caseload on the manager's unallocated list, the manager told; no allocation
    # to someone who is not an active adviser.
    def plan_adviser_leaves(self) -> None:
        sim = self.sim
        leaves = self.day(200, 400)
        sim.inject(leaves, self.adviser_leaves)
        for offset in (1, 30, 200):
            sim.inject(leaves + timedelta(days=offset), self.allocate_to_inactive)
        sim.inject(self.day(10, 700), self.new_without_adviser)

    def adviser_leaves(self) -> None:
        sim, today = self.sim, CLOCK.today()
        with db.session_scope(db.writer(sim.engine)) as session:  # the administrator's step (pages and CLI)
            caseload = session.exec(select(CareLeaver.id).where(CareLeaver.personal_adviser_id == self.leaving,
                                                                CareLeaver.case_status == "open")).all()
            accounts.deactivate(session, self.leaving, actor_id=sim.admin, reason="Left the council")
        outcome = sim.outcome("adviser_left", f"adviser {self.leaving} ({len(caseload)} young people)")
        if not caseload:
            outcome.problems.append("setting up: the adviser who leaves has no open cases")

        def listed() -> None:
            unallocated = sim.listing("unallocated")
            for care_leaver_id in caseload:
                sim.on_lists(outcome, unallocated, None, lambda item, i=care_leaver_id: item["care_leaver_id"] == i)
        listed()  # at once
        sim.at(today + DAY, lambda: (listed(), sim.notified(outcome, sim.manager, today, words=UNALLOCATED_WORDS,
                                                            whom="the manager")))

    def allocate_to_inactive(self) -> None:
        sim = self.sim
        person = self.pool.take(1, lambda p: True)[0]
        outcome = sim.outcome("allocation_refused", f"care leaver {person.id}")
        for who in (self.leaving, sim.manager):
            record = sim.person(person.id)
            moved = sim.api("PATCH", f"/care-leavers/{person.id}", sim.manager,
                            json={"version": record["version"], "personal_adviser_id": who})
            sim.expect(outcome, moved, 422, "personal_adviser_id", "not an active personal adviser")
        created = sim.api("POST", "/care-leavers", sim.manager, json=factories.care_leaver(
            personal_adviser_id=self.leaving))
        sim.expect(outcome, created, 422, "personal_adviser_id", "not an active personal adviser")
        if sim.person(person.id)["personal_adviser_id"] != person.adviser:
            outcome.problems.append("the young person's adviser changed")

    def new_without_adviser(self) -> None:
        sim, today = self.sim, CLOCK.today()
        outcome = sim.outcome("no_adviser", "a new case")
        created = sim.api("POST", "/care-leavers", sim.manager, json=factories.care_leaver())
        sim.expect(outcome, created, 201)
        if created.status_code != 201:
            return
        new_id = created.json()["id"]
        is_them = lambda item: item["care_leaver_id"] == new_id  # noqa: E731
        sim.on_lists(outcome, sim.listing("unallocated"), None, is_them)
        sim.at(today + DAY, lambda: (sim.on_lists(outcome, sim.listing("unallocated"), None, is_them),
                                     sim.notified(outcome, sim.manager, today, words=UNALLOCATED_WORDS,
                                                  whom="the manager")))


@dataclass(frozen=True)
class _Viewer:
    id: int
    role: str
    department_id: int | None


def simulate(database_url: str, settings: Any) -> Simulation:
    sim = Simulation(database_url, settings)
    sim.seed()
    try:
        injections = Injections(sim)
        injections.plan_all()
        sim.short = injections.short
        sim.run()
    finally:
        sim.close()
    return sim


def kinds_of(sim: Simulation) -> dict[str, list[Outcome]]:
    found: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in sim.outcomes:
        found[outcome.kind].append(outcome)
    return dict(found)


__all__ = ["KINDS", "Outcome", "Simulation", "kinds_of", "simulate"]

KINDS = ("birthday_18", "birthday_21", "birthday_25", "declined_closure_refused", "903_status_listed",
         "903_status_kept_after_contact", "not_contacted", "pathway_review_overdue", "check_in_overdue",
         "mentoring_no_meeting", *(f"{check}_{what}" for check in VETTING
                                   for what in ("warning_30_days", "lapsed_live_mentoring", "lapsed_approval_refused")),
         "stale_match", "placement_no_outcome", "adviser_left", "allocation_refused", "no_adviser")
