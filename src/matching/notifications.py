"""The outbox: notices written in the unit of work of the change that causes them, delivered later by SMTP
or GOV.UK Notify, one by one or, for a person who chose it, held and sent together as one daily digest.

Writing (`notify`) happens inside the caller's transaction: if the change rolls back, so does its notice,
and if it commits, the notice is there to be sent however long the mail server is away. Each notice has
a key naming it (what, about which record, for whom, for which day); writing the same key again keeps the
one row, which is what makes the jobs that write notices safe to run twice.

Delivering (`send_due`) takes one notice at a time through three short transactions of its own, so no
transaction (on SQLite, no write lock) is held while a mail server is talked to:

1. claim it: `pending` (or a `sending` whose claim has run out) becomes `sending`, counted as an attempt,
   with the claim running to `next_attempt_at`; a conditional UPDATE, so two senders never both claim it;
2. hand it to the mail server;
3. mark it `sent`, or on failure put it back to `pending` with an exponential back-off (or `failed`, kept
   for people to see, after MAX_ATTEMPTS).

Exactly once is not possible over SMTP, which has no idempotent submission: if the process dies after the
server accepted a message and before step 3 commits, nothing can tell whether it went. Springboard then
chooses at least once: when the claim runs out the notice is sent again, with the same Message-ID (made
from its key) so mail systems and people can see it is the same notice. Losing a safeguarding reminder is
worse than a duplicate; the window is the few milliseconds between the server's "250 OK" and a commit.
Through Notify the key is also the notification's `reference`, and a notice tried before is first looked
up by it, so a notice Notify accepted is not sent again (see docs/jobs.md for what that does and does not
promise).

States: `pending` → `sending` → `sent` (or back to `pending`, or `failed`); for a daily digest, `held` until
the digest hour → `digesting` (bundled into one e-mail, kept bundled through its retries) → `sent`/`failed`.
"""

import hashlib
import logging
import re
import smtplib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from matching import db
from matching.clock import ZONE, today, utcnow
from matching.errors import InvalidInput, NotFound
from matching.models import Match, Mentor, Notification, Opportunity, User
from matching.settings import get_settings

TABLE = Notification.__table__
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 20  # with the back-off above, about four days of trying before a notice is marked failed
# How long a sender's claim lasts; past it, a notice left `sending` (its sender died) is tried again.
CLAIM = timedelta(minutes=10)


# --- Writing notices ---------------------------------------------------------------------------------

def first_name(user: User) -> str:
    return user.full_name.split()[0] if user.full_name.strip() else "there"


def link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


# --- How each person is told: straight away, or held for one digest a day ----------------------------

CHOICES = {"immediate": "Straight away, one email for each", "daily": "Once a day, one email with everything"}
DIGEST_AT = time(7, 0)  # Europe/London: the held notices of a person who chose "daily" go out together then


@dataclass(frozen=True)
class NoticeKind:
    name: str
    # A notice that is no use late (a set-password link that expires, an invitation) goes straight away
    # whatever the person chose.
    never_waits: bool = False


KINDS = {kind.name: kind for kind in (NoticeKind("password_invitation", never_waits=True),
                                      NoticeKind("password_reset", never_waits=True))}


def kind_of(name: str) -> NoticeKind:
    return KINDS.get(name) or NoticeKind(name)


def waits_for_digest(user: User, kind: str) -> bool:
    """Held for the daily digest: the person chose it, the kind may wait, and they have signed in at least
    once (someone who never has is being invited, and cannot have chosen)."""
    return user.notices == "daily" and user.last_login_at is not None and not kind_of(kind).never_waits


def next_digest_at(moment: datetime) -> datetime:
    """The first DIGEST_AT in London after `moment` (a notice written at 07:00 itself waits for tomorrow's)."""
    local = moment.astimezone(ZONE)
    at = datetime.combine(local.date(), DIGEST_AT, ZONE)
    return at if at > local else datetime.combine(local.date() + timedelta(days=1), DIGEST_AT, ZONE)


def choice(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user.notices


def set_choice(session: Session, user_id: int, chosen: str) -> int:
    """Record how `user_id` is told (CHOICES); returns how many held notices were released to go now.

    Going back to "immediate" releases what was being held, so nothing waits for a digest that will no
    longer be sent by choice; notices already bundled into a digest being sent stay with it."""
    if chosen not in CHOICES:
        raise InvalidInput("notices", "Select how we tell you")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    user.notices = chosen
    session.add(user)
    if chosen != "immediate":
        return 0
    released = session.execute(sa.update(TABLE).where(TABLE.c.user_id == user_id, TABLE.c.status == "held")
                               .values(status="pending", next_attempt_at=utcnow()))
    return released.rowcount


# --- Writing notices (continued) ------------------------------------------------------------------------

def notify(session: Session, *, key: str, kind: str, user: User, subject: str, lines: Iterable[str],
           url: str) -> bool:
    """Add a notice to `user` in the caller's transaction, unless one with `key` exists; True if added.

    The text greets them by first name and ends with a link into the service: nothing sensitive goes into
    an e-mail, which leaves the council's systems. For someone who chose a daily digest it is `held` until
    the next DIGEST_AT, unless its kind never waits."""
    body = "\n".join([f"Hello {first_name(user)},", "", *lines, "", url, "", "Springboard"]) + "\n"
    now = utcnow()
    held = waits_for_digest(user, kind)
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(TABLE)
    added = session.execute(insert.values(key=key, kind=kind, user_id=user.id, to_address=user.email,
                                          subject=subject, body=body, created_at=now,
                                          status="held" if held else "pending", attempts=0,
                                          next_attempt_at=next_digest_at(now) if held else now)
                            .on_conflict_do_nothing(index_elements=[TABLE.c.key]).returning(TABLE.c.id))
    return added.scalar() is not None


def active_managers(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.role == "manager", User.active, User.closed_at.is_(None))
                             .order_by(User.id)))


def department_contacts(session: Session, department_id: int) -> list[User]:
    """The department's own signed-in contacts who are still with it (the people a department's notice is for)."""
    return list(session.exec(select(User).where(User.role == "department", User.department_id == department_id,
                                                User.active, User.closed_at.is_(None)).order_by(User.id)))


def _still_here(user: User | None) -> bool:
    return user is not None and user.active and user.closed_at is None


# --- Notices caused by a match's change (lifecycle.TELLS: written in the change's unit of work) ----------
# Each key names the match and its version after the change, so a match referred, withdrawn and referred
# again tells people each time, and the one change never twice.

def referral_arrived(session: Session, match: Match) -> int:
    """A young person was referred to one of a department's opportunities: its contacts are told."""
    job = session.get(Opportunity, match.opportunity_id)
    base, written = get_settings().service_url, 0
    for user in department_contacts(session, job.department_id) if job else ():
        written += notify(session, key=f"referral:{match.id}:{match.version}:{user.id}", kind="referral",
                          user=user, subject="Springboard: a referral has arrived",
                          lines=["A young person has been referred to one of your opportunities. "
                                 "Please record what happens next on the referral's page."],
                          url=link(base, f"/referrals/{match.id}"))
    return written


def caseload_released(session: Session, adviser_id: int, count: int) -> int:
    """An adviser left and their young people are on nobody's caseload: every manager is told at once, how many
    (never who), with a link to the list to allocate them from."""
    base, written, day = get_settings().service_url, 0, today()
    for manager in active_managers(session):
        written += notify(session, key=f"released:{adviser_id}:{day}:{manager.id}", kind="unallocated",
                          user=manager, subject="Springboard: young people need a new personal adviser",
                          lines=[f"An adviser has left, and {count} young "
                                 f"{'person is' if count == 1 else 'people are'} now on nobody's caseload. "
                                 "Please allocate them a personal adviser."],
                          url=link(base, "/overview/unallocated"))
    return written


def mentee_approved(session: Session, match: Match) -> int:
    """A mentoring match was approved: the mentor is told they have a new mentee (never who, by e-mail)."""
    mentor = session.get(Mentor, match.mentor_id)
    user = session.get(User, mentor.user_id) if mentor else None
    if not _still_here(user):
        return 0
    return int(notify(session, key=f"mentee-approved:{match.id}:{match.version}:{user.id}", kind="mentee_approved",
                      user=user, subject="Springboard: you have a new mentee",
                      lines=["A young person has been matched with you for mentoring. Their adviser will be in "
                             "touch to arrange an introduction; you can see the match in Springboard."],
                      url=link(get_settings().service_url, "/mentees")))


# --- Delivering them ---------------------------------------------------------------------------------
# A channel hands one e-mail over: SMTP (SmtpChannel) or GOV.UK Notify's API (NotifyChannel). The sender
# below is the same for both: claim, deliver, mark; only what a failure means differs (`failure`).

@dataclass(frozen=True)
class Outgoing:
    key: str  # the idempotency key: the Message-ID is made from it, and it is Notify's `reference`
    to_address: str
    subject: str
    body: str


@dataclass(frozen=True)
class Failure:
    reason: str  # recorded in `last_error`: the kind of failure and its code, never an address
    retry: bool = True  # False: this notice can never go as it is (a bad template): failed at once
    server_away: bool = False  # the server itself is away: the rest of the batch waits for the next run


class Channel(Protocol):
    def deliver(self, outgoing: Outgoing) -> None: ...

    def delivered_before(self, key: str) -> bool:
        """Whether an earlier attempt at `key` was accepted after all (a crash, or an answer lost)."""

    def failure(self, error: Exception) -> Failure | None:
        """What `error` means for the notice; None: not a delivery failure (a bug), raised."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """SMTP from the environment's settings: plain, STARTTLS or TLS from the start, with optional sign-in."""

    host: str
    port: int
    tls: str = "none"
    user: str = ""
    password: str = ""
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings) -> "SmtpMailer":
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_user,
                   settings.smtp_password, settings.smtp_timeout_seconds)

    def send(self, message: EmailMessage) -> None:
        connect = smtplib.SMTP_SSL if self.tls == "ssl" else smtplib.SMTP
        with connect(self.host, self.port, timeout=self.timeout) as server:
            if self.tls == "starttls":
                server.starttls()
            if self.user:
                server.login(self.user, self.password)
            server.send_message(message)


def message_id(key: str, from_address: str) -> str:
    """The same for every attempt at one notice, so a resend after a crash is recognisably the same mail."""
    domain = from_address.rpartition("@")[2] or "springboard.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def as_email(outgoing: Outgoing, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = from_address, outgoing.to_address, outgoing.subject
    message["Message-ID"] = message_id(outgoing.key, from_address)
    message.set_content(outgoing.body)
    return message


def describe(error: Exception) -> str:
    """The kind of failure and the server's code, never its words (they can quote the address)."""
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()), (None,))[0]
    return f"{type(error).__name__}{f' {code}' if code else ''}"[:300]


# Failures of the server itself rather than of one message.
SERVER_AWAY = (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError)


@dataclass(frozen=True)
class SmtpChannel:
    """SMTP has no way to ask whether a message went: a resend after a crash is possible (at least once)."""

    mailer: Mailer
    from_address: str

    def deliver(self, outgoing: Outgoing) -> None:
        self.mailer.send(as_email(outgoing, self.from_address))

    def delivered_before(self, key: str) -> bool:
        return False

    def failure(self, error: Exception) -> Failure | None:
        if not isinstance(error, (smtplib.SMTPException, OSError)):
            return None
        return Failure(describe(error), retry=True, server_away=isinstance(error, SERVER_AWAY))


# Notify's answers that are worth trying again: it is down or overloaded (5xx, or no answer at all, which the
# client reports as 503), it is limiting us (429), or the key is refused (403: fixed by the council, not by
# changing the notice). Any other 4xx (a bad template id, a missing personalisation) will never succeed.
NOTIFY_RETRY = frozenset({403, 429})
EMAIL_LIKE = re.compile(r"\S+@\S+")


@dataclass
class NotifyChannel:
    """GOV.UK Notify through its official client (notifications-python-client): one generic email template
    whose subject is ((subject)) and message ((body)), and the notice's key as Notify's `reference`, which
    `delivered_before` looks up so that a notice Notify already accepted is not sent again."""

    client: Any
    template_id: str

    @classmethod
    def from_settings(cls, settings) -> "NotifyChannel":
        from notifications_python_client.notifications import NotificationsAPIClient

        # The client logs Notify's error messages as warnings, and they can quote an address: nothing
        # personal in our logs, and the reason (addresses removed) is kept on the notice instead.
        logging.getLogger("notifications_python_client").setLevel(logging.ERROR)

        return cls(NotificationsAPIClient(settings.notify_api_key, base_url=settings.notify_base_url,
                                          timeout=settings.notify_timeout_seconds), settings.notify_template_id)

    def deliver(self, outgoing: Outgoing) -> None:
        self.client.send_email_notification(email_address=outgoing.to_address, template_id=self.template_id,
                                            personalisation={"subject": outgoing.subject, "body": outgoing.body},
                                            reference=outgoing.key)

    def delivered_before(self, key: str) -> bool:
        return bool(self.client.get_all_notifications(reference=key).get("notifications"))

    def failure(self, error: Exception) -> Failure | None:
        from notifications_python_client.errors import APIError, InvalidResponse

        if not isinstance(error, APIError):
            return None
        status = error.status_code
        away = error.response is None or status >= 500
        # An answer we could not read may follow an acceptance: retried, and `delivered_before` then tells.
        retry = away or status in NOTIFY_RETRY or isinstance(error, InvalidResponse)
        return Failure(f"Notify {status}{notify_errors(error)}"[:300], retry=retry, server_away=away)


def notify_errors(error: Exception) -> str:
    """Notify's own error names and messages ("BadRequestError: Template not found"), addresses removed."""
    found = getattr(error, "message", None)
    if not isinstance(found, list):
        return ""
    said = "; ".join(f"{item.get('error', '')}: {item.get('message', '')}" for item in found if isinstance(item, dict))
    return f" {EMAIL_LIKE.sub('[address]', said)}" if said else ""


def channel_from(settings) -> Channel | None:
    """Notify when the council set NOTIFY_API_KEY, else SMTP when SMTP_HOST is set; None: notices wait."""
    if settings.notify_api_key:
        return NotifyChannel.from_settings(settings)
    if settings.smtp_host:
        return SmtpChannel(SmtpMailer.from_settings(settings), settings.smtp_from)
    return None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed attempt, at most six hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


# --- The sender: one notice at a time, then each daily digest ---------------------------------------------
# A batch is what one e-mail carries: one notice, or a person's held notices bundled into their digest.
# `claimed` is its state while a sender holds it and while it waits to be retried after a failure:
# `sending` goes back to `pending`; a digest's notices stay `digesting`, so a retry is the same e-mail, with
# the same key, and new notices held meanwhile wait for the next digest.

@dataclass(frozen=True)
class Batch:
    ids: tuple[int, ...]
    attempts: int
    outgoing: Outgoing
    claimed: str  # "sending" or "digesting"
    retry_as: str  # "pending" or "digesting"


def due_ids(engine: sa.Engine, *, now: datetime, limit: int = 500) -> list[int]:
    with db.session_scope(engine) as session:
        return list(session.execute(sa.select(TABLE.c.id).where(TABLE.c.status.in_(("pending", "sending")),
                                                                TABLE.c.next_attempt_at <= now)
                                    .order_by(TABLE.c.next_attempt_at, TABLE.c.id).limit(limit)).scalars())


def claim(engine: sa.Engine, notice_id: int, *, now: datetime) -> dict | None:
    """The notice, if this sender won it (its own transaction); None if another sender has it or it is done."""
    with db.session_scope(db.writer(engine)) as session:
        won = session.execute(sa.update(TABLE).where(TABLE.c.id == notice_id,
                                                     TABLE.c.status.in_(("pending", "sending")),
                                                     TABLE.c.next_attempt_at <= now)
                              .values(status="sending", attempts=TABLE.c.attempts + 1, next_attempt_at=now + CLAIM))
        if won.rowcount != 1:
            return None
        return dict(session.execute(sa.select(TABLE).where(TABLE.c.id == notice_id)).one()._mapping)


def single(notice: dict) -> Batch:
    return Batch((notice["id"],), notice["attempts"], Outgoing(notice["key"], notice["to_address"],
                                                               notice["subject"], notice["body"]),
                 claimed="sending", retry_as="pending")


def digest_due(engine: sa.Engine, *, now: datetime, limit: int = 500) -> list[int]:
    """The people with held notices whose digest hour has come, or a digest due to be tried again."""
    with db.session_scope(engine) as session:
        return list(session.execute(sa.select(TABLE.c.user_id).where(TABLE.c.status.in_(("held", "digesting")),
                                                                     TABLE.c.next_attempt_at <= now)
                                    .group_by(TABLE.c.user_id).order_by(TABLE.c.user_id).limit(limit)).scalars())


def claim_digest(engine: sa.Engine, user_id: int, *, now: datetime) -> Batch | None:
    """A person's digest, if this sender won it: the notices already bundled (a retry, or a claim that ran
    out after a crash), else every held notice that is due, bundled now. One transaction; None if lost."""
    mine = sa.and_(TABLE.c.user_id == user_id, TABLE.c.next_attempt_at <= now)
    claimed = dict(status="digesting", attempts=TABLE.c.attempts + 1, next_attempt_at=now + CLAIM)
    with db.session_scope(db.writer(engine)) as session:
        bundled = session.execute(sa.select(sa.func.count()).where(TABLE.c.user_id == user_id,
                                                                   TABLE.c.status == "digesting")).scalar()
        was = "digesting" if bundled else "held"
        if session.execute(sa.update(TABLE).where(mine, TABLE.c.status == was).values(**claimed)).rowcount == 0:
            return None
        rows = [dict(row._mapping) for row in session.execute(
            sa.select(TABLE).where(TABLE.c.user_id == user_id, TABLE.c.status == "digesting").order_by(TABLE.c.id))]
    return Batch(tuple(row["id"] for row in rows), max(row["attempts"] for row in rows), digest_of(rows),
                 claimed="digesting", retry_as="digesting")


def digest_of(rows: list[dict]) -> Outgoing:
    """One e-mail listing each held notice's text and link. Its key names the person and exactly which
    notices it carries, so every attempt at it is the same e-mail to SMTP and to Notify."""
    keys = "\n".join(row["key"] for row in rows)
    key = f"daily:{rows[0]['user_id']}:{hashlib.sha256(keys.encode()).hexdigest()[:24]}"
    greeting = rows[0]["body"].splitlines()[0] if rows[0]["body"].startswith("Hello ") else "Hello,"
    count = f"{len(rows)} notice{'s' if len(rows) != 1 else ''}"
    parts = [greeting, "", f"Here is your daily Springboard digest: {count}.", ""]
    for number, row in enumerate(rows, 1):
        parts += [f"{number}. {row['subject'].removeprefix('Springboard: ')}", *inner(row["body"]), ""]
    parts += ["You chose one email a day. To change how we tell you:",
              link(get_settings().service_url, "/notices"), "", "Springboard"]
    return Outgoing(key, rows[-1]["to_address"], f"Springboard: your daily digest ({count})", "\n".join(parts) + "\n")


def inner(body: str) -> list[str]:
    """A notice's text and link without its greeting and sign-off (see `notify`)."""
    lines = body.rstrip("\n").splitlines()
    if lines[:1] and lines[0].startswith("Hello "):
        lines = lines[2:]
    if lines[-1:] == ["Springboard"]:
        lines = lines[:-2]
    return lines


def mark_sent(engine: sa.Engine, batch: Batch, *, now: datetime) -> None:
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(TABLE).where(TABLE.c.id.in_(batch.ids), TABLE.c.status == batch.claimed)
                        .values(status="sent", sent_at=now, last_error=None))


def mark_failed(engine: sa.Engine, batch: Batch, failure: Failure, *, now: datetime) -> str:
    """Back to waiting after a back-off, or `failed` for good (a refusal that will not change, or after
    MAX_ATTEMPTS); returns which state it is in."""
    status = batch.retry_as if failure.retry and batch.attempts < MAX_ATTEMPTS else "failed"
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(TABLE).where(TABLE.c.id.in_(batch.ids), TABLE.c.status == batch.claimed)
                        .values(status=status, next_attempt_at=now + backoff(batch.attempts),
                                last_error=failure.reason))
    return status


def deliver(engine: sa.Engine, channel: Channel, batch: Batch) -> tuple[str, bool]:
    """Hand a claimed batch to the channel and record what happened: (sent, found, retrying or failed;
    whether the server is away). A batch tried before is first looked for, where the channel can tell."""
    try:
        found = batch.attempts > 1 and channel.delivered_before(batch.outgoing.key)
        if not found:
            channel.deliver(batch.outgoing)
    except Exception as error:
        failure = channel.failure(error)
        if failure is None:
            raise
        status = mark_failed(engine, batch, failure, now=utcnow())
        return ("failed" if status == "failed" else "retrying"), failure.server_away
    mark_sent(engine, batch, now=utcnow())
    return ("found" if found else "sent"), False


def send_due(engine: sa.Engine, channel: Channel | Mailer, *, from_address: str | None = None,
             limit: int = 500) -> Counter:
    """Send every notice that is due, one by one, then each digest that is due; counts of sent, found (an
    earlier attempt had been accepted after all), retrying, failed (given up) and skipped. A bare Mailer
    with `from_address` is sent through by SMTP."""
    if from_address is not None:
        channel = SmtpChannel(channel, from_address)
    counts: Counter = Counter()
    claims = [lambda notice_id=notice_id: _single_claim(engine, notice_id)
              for notice_id in due_ids(engine, now=utcnow(), limit=limit)]
    claims += [lambda user_id=user_id: claim_digest(engine, user_id, now=utcnow())
               for user_id in digest_due(engine, now=utcnow(), limit=limit)]
    for take in claims:
        batch = take()
        if batch is None:
            counts["skipped"] += 1
            continue
        outcome, away = deliver(engine, channel, batch)
        counts[outcome] += 1
        if away:
            break  # the rest wait, unclaimed, for the next run rather than each timing out in turn
    return counts


def _single_claim(engine: sa.Engine, notice_id: int) -> Batch | None:
    notice = claim(engine, notice_id, now=utcnow())
    return single(notice) if notice is not None else None


def waiting(session: Session) -> dict[str, int]:
    """How many notices are in each state (for `springboard jobs list` and the sender's summary)."""
    return dict(session.execute(sa.select(TABLE.c.status, sa.func.count()).group_by(TABLE.c.status)).all())
