"""The outbox: notices written in the unit of work of the change that causes them, delivered by SMTP later.

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
"""

import hashlib
import smtplib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from matching import db
from matching.clock import utcnow
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


def notify(session: Session, *, key: str, kind: str, user: User, subject: str, lines: Iterable[str],
           url: str) -> bool:
    """Add a notice to `user` in the caller's transaction, unless one with `key` exists; True if added.

    The text greets them by first name and ends with a link into the service: nothing sensitive goes into
    an e-mail, which leaves the council's systems."""
    body = "\n".join([f"Hello {first_name(user)},", "", *lines, "", url, "", "Springboard"]) + "\n"
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(TABLE)
    added = session.execute(insert.values(key=key, kind=kind, user_id=user.id, to_address=user.email,
                                          subject=subject, body=body, created_at=utcnow(), status="pending",
                                          attempts=0, next_attempt_at=utcnow())
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


def as_email(notice: dict, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = from_address, notice["to_address"], notice["subject"]
    message["Message-ID"] = message_id(notice["key"], from_address)
    message.set_content(notice["body"])
    return message


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed attempt, at most six hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


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


def mark_sent(engine: sa.Engine, notice_id: int, *, now: datetime) -> None:
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(TABLE).where(TABLE.c.id == notice_id, TABLE.c.status == "sending")
                        .values(status="sent", sent_at=now, last_error=None))


def mark_failed(engine: sa.Engine, notice: dict, error: Exception, *, now: datetime) -> str:
    """Back to `pending` after a back-off, or `failed` for good after MAX_ATTEMPTS; returns which."""
    status = "failed" if notice["attempts"] >= MAX_ATTEMPTS else "pending"
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(TABLE).where(TABLE.c.id == notice["id"], TABLE.c.status == "sending")
                        .values(status=status, next_attempt_at=now + backoff(notice["attempts"]),
                                last_error=describe(error)))
    return status


def describe(error: Exception) -> str:
    """The kind of failure and the server's code, never its words (they can quote the address)."""
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()), (None,))[0]
    return f"{type(error).__name__}{f' {code}' if code else ''}"[:300]


# Failures of the server itself rather than of one message.
SERVER_AWAY = (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError)


def send_due(engine: sa.Engine, mailer: Mailer, *, from_address: str, limit: int = 500) -> Counter:
    """Send every notice that is due, one by one; counts of sent, retrying, failed (given up) and skipped."""
    counts: Counter = Counter()
    for notice_id in due_ids(engine, now=utcnow(), limit=limit):
        notice = claim(engine, notice_id, now=utcnow())
        if notice is None:
            counts["skipped"] += 1
            continue
        try:
            mailer.send(as_email(notice, from_address))
        except (smtplib.SMTPException, OSError) as error:
            counts["retrying" if mark_failed(engine, notice, error, now=utcnow()) == "pending" else "failed"] += 1
            if isinstance(error, SERVER_AWAY):
                break  # the rest wait, unclaimed, for the next run rather than each timing out in turn
            continue
        mark_sent(engine, notice_id, now=utcnow())
        counts["sent"] += 1
    return counts


def waiting(session: Session) -> dict[str, int]:
    """How many notices are in each state (for `springboard jobs list` and the sender's summary)."""
    return dict(session.execute(sa.select(TABLE.c.status, sa.func.count()).group_by(TABLE.c.status)).all())
