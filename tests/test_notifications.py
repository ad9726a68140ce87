"""The outbox: notices written with their cause, delivered by SMTP to a real local server (aiosmtpd on
127.0.0.1), retried with back-off when the server refuses or is away, and what happens when the sender is
killed between the server accepting a message and the notice being marked sent."""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlmodel import select

from jobs import runner
from matching import db, notifications
from matching.clock import CLOCK, ZONE, utcnow
from matching.models import Department, JobRun, Notification, User
from tests.conftest import TEST_TODAY

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it accepts; while `refusing`, it answers 451 (try again later)."""

    def __init__(self) -> None:
        self.messages, self.refusing = [], False

    async def handle_DATA(self, server, session, envelope):
        if self.refusing:
            return "451 4.3.0 Mail server busy, try again later"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def mailer(smtp) -> notifications.SmtpMailer:
    return notifications.SmtpMailer("127.0.0.1", smtp.port)


def _users(engine, *names: str) -> list[User]:
    with db.session_scope(db.writer(engine)) as session:
        users = [User(email=f"{name.split()[0].lower()}@example.gov.uk", full_name=name, role="adviser")
                 for name in names]
        session.add_all(users)
        session.flush()
        return users


def _notify(engine, user: User, key: str = "test:1") -> bool:
    with db.session_scope(db.writer(engine)) as session:
        return notifications.notify(session, key=key, kind="test", user=user, subject="Springboard: a test",
                                    lines=["Something is waiting for you."], url="https://springboard.example/caseload")


def _notices(engine) -> list[Notification]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(Notification).order_by(Notification.id)))


def _send(engine, mailer):
    return notifications.send_due(engine, mailer, from_address="springboard@council.example")


def test_a_notice_is_written_in_the_transaction_of_its_cause_and_only_once(engine):
    (ann,) = _users(engine, "Ann Adviser")
    with pytest.raises(RuntimeError), db.session_scope(db.writer(engine)) as session:
        session.add(Department(name="Parks", code="PARK"))
        notifications.notify(session, key="k", kind="test", user=ann, subject="s", lines=[], url="u")
        raise RuntimeError("the change failed")
    assert _notices(engine) == []  # rolled back with its cause
    assert _notify(engine, ann) is True and _notify(engine, ann) is False
    (notice,) = _notices(engine)
    assert (notice.status, notice.attempts, notice.to_address) == ("pending", 0, "ann@example.gov.uk")
    assert notice.body.startswith("Hello Ann,\n") and "https://springboard.example/caseload" in notice.body


def test_due_notices_are_delivered_by_smtp_and_never_sent_twice(engine, smtp, mailer):
    ann, bo = _users(engine, "Ann Adviser", "Bo Manager")
    _notify(engine, ann, "test:ann")
    _notify(engine, bo, "test:bo")
    assert _send(engine, mailer)["sent"] == 2
    assert _send(engine, mailer)["sent"] == 0 and len(smtp.messages) == 2
    first = smtp.messages[0]
    assert (first["To"], first["From"], first["Subject"]) == ("ann@example.gov.uk", "springboard@council.example",
                                                             "Springboard: a test")
    assert first["Message-ID"] == notifications.message_id("test:ann", "springboard@council.example")
    assert first.get_payload().startswith("Hello Ann,")
    assert [(n.status, n.attempts, n.sent_at is not None) for n in _notices(engine)] == [("sent", 1, True)] * 2


def test_a_refusing_server_is_retried_with_back_off_until_it_recovers(engine, smtp, mailer):
    (ann,) = _users(engine, "Ann Adviser")
    _notify(engine, ann)
    smtp.refusing = True
    start = utcnow()
    assert _send(engine, mailer)["retrying"] == 1
    (notice,) = _notices(engine)
    assert (notice.status, notice.attempts, notice.last_error) == ("pending", 1, "SMTPDataError 451")
    assert timedelta(seconds=59) < notice.next_attempt_at - start < timedelta(seconds=61)
    assert sum(_send(engine, mailer).values()) == 0  # not due yet: nothing is tried
    CLOCK.fix(notice.next_attempt_at)
    assert _send(engine, mailer)["retrying"] == 1
    (notice,) = _notices(engine)
    assert notice.attempts == 2
    assert timedelta(minutes=1, seconds=59) < notice.next_attempt_at - utcnow() <= timedelta(minutes=2)
    smtp.refusing = False
    CLOCK.fix(notice.next_attempt_at)
    assert _send(engine, mailer)["sent"] == 1 and len(smtp.messages) == 1
    assert _notices(engine)[0].status == "sent"


def test_a_mail_server_that_is_down_loses_nothing(engine, smtp):
    ann, bo = _users(engine, "Ann Adviser", "Bo Manager")
    _notify(engine, ann, "test:ann")
    _notify(engine, bo, "test:bo")
    away = notifications.SmtpMailer("127.0.0.1", _free_port(), timeout=2)  # nothing listens there
    assert _send(engine, away) == {"retrying": 1}  # the rest wait untried rather than each failing in turn
    assert [(n.status, n.attempts) for n in _notices(engine)] == [("pending", 1), ("pending", 0)]
    assert _notices(engine)[0].last_error == "ConnectionRefusedError"
    CLOCK.fix(utcnow() + timedelta(minutes=2))
    assert _send(engine, notifications.SmtpMailer("127.0.0.1", smtp.port))["sent"] == 2
    assert sorted(m["To"] for m in smtp.messages) == ["ann@example.gov.uk", "bo@example.gov.uk"]


def test_back_off_doubles_to_six_hours_and_a_notice_fails_for_good_after_the_last_attempt(engine, smtp, mailer):
    assert [notifications.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 9, 10, 20)] == [
        1, 2, 4, 8, 256, 360, 360]
    (ann,) = _users(engine, "Ann Adviser")
    _notify(engine, ann)
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(Notification).values(attempts=notifications.MAX_ATTEMPTS - 1))
    smtp.refusing = True
    assert _send(engine, mailer) == {"failed": 1}
    CLOCK.fix(utcnow() + timedelta(days=1))
    assert sum(_send(engine, mailer).values()) == 0  # kept, for people to see, but no longer tried
    assert _notices(engine)[0].status == "failed"


def test_two_senders_never_both_claim_a_notice(engine):
    (ann,) = _users(engine, "Ann Adviser")
    _notify(engine, ann)
    (notice,) = _notices(engine)
    assert notifications.claim(engine, notice.id, now=utcnow())["status"] == "sending"
    assert notifications.claim(engine, notice.id, now=utcnow()) is None


def test_an_error_is_described_without_the_servers_words():
    refused = smtplib.SMTPRecipientsRefused({"jayden@example.com": (550, b"no mailbox jayden@example.com")})
    assert notifications.describe(refused) == "SMTPRecipientsRefused 550"
    assert notifications.describe(smtplib.SMTPDataError(451, b"busy for jayden")) == "SMTPDataError 451"


KILLED_AFTER_SENDING = textwrap.dedent("""
    import os, signal
    from jobs import runner
    from matching import notifications

    def die(*args, **kwargs):  # the server has accepted the message; the worker dies before marking it sent
        os.kill(os.getpid(), signal.SIGKILL)

    notifications.mark_sent = die
    runner.run_job("send_notifications")
""")


def test_a_sender_killed_between_sending_and_marking_sent_sends_again_once_with_the_same_message_id(
        engine, database_url, smtp, tmp_path):
    """At least once: the notice stays claimed until the claim runs out, then goes again, recognisably the
    same message; it is then marked sent and never sent a third time."""
    (ann,) = _users(engine, "Ann Adviser")
    with CLOCK.fixed(datetime.combine(TEST_TODAY, datetime.min.time().replace(hour=11), ZONE)):
        _notify(engine, ann)  # due before the sender's clock (noon on the suite's day) starts
    env = os.environ | {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "SMTP_HOST": "127.0.0.1",
                        "SMTP_PORT": str(smtp.port), "SMTP_FROM": "springboard@council.example",
                        "SPRINGBOARD_TODAY": TEST_TODAY.isoformat()}
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_SENDING], env=env, cwd=ROOT, capture_output=True,
                            timeout=60)
    assert killed.returncode == -signal.SIGKILL and len(smtp.messages) == 1
    (notice,) = _notices(engine)
    assert (notice.status, notice.attempts, notice.sent_at) == ("sending", 1, None)
    with db.session_scope(engine) as session:
        (run,) = session.exec(select(JobRun)).all()
    assert (run.job, run.result, run.finished_at) == ("send_notifications", "running", None)  # died mid-run

    mailer = notifications.SmtpMailer("127.0.0.1", smtp.port)
    assert sum(_send(engine, mailer).values()) == 0  # still claimed: not sent again at once
    CLOCK.fix(notice.next_attempt_at)  # the claim has run out
    assert _send(engine, mailer)["sent"] == 1
    assert _send(engine, mailer)["sent"] == 0
    first, again = smtp.messages
    assert first["Message-ID"] == again["Message-ID"] and first.get_payload() == again.get_payload()
    assert [(n.status, n.attempts) for n in _notices(engine)] == [("sent", 2)]


def test_the_sender_job_sends_through_the_configured_server(engine, settings, smtp):
    (ann,) = _users(engine, "Ann Adviser")
    _notify(engine, ann)
    unset = runner.run_job("send_notifications", settings)
    assert (unset.result, unset.summary) == ("ok", "no mail server is set (SMTP_HOST): 1 notices wait")
    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port})
    run = runner.run_job("send_notifications", configured)
    assert (run.result, run.summary) == ("ok", "1 sent, 0 retrying, 0 failed, 0 skipped")
    assert smtp.messages[0]["From"] == configured.smtp_from


def test_a_server_asking_for_a_password_is_signed_in_to(engine):
    from aiosmtpd.smtp import AuthResult

    def authenticate(server, session, envelope, mechanism, secret):
        return AuthResult(success=(secret.login, secret.password) == (b"springboard", b"right"), handled=False)

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)  # plain text only on 127.0.0.1, for the test
    controller.start()
    try:
        (ann,) = _users(engine, "Ann Adviser")
        _notify(engine, ann)
        wrong = notifications.SmtpMailer("127.0.0.1", port, user="springboard", password="wrong")
        assert _send(engine, wrong) == {"retrying": 1}
        assert _notices(engine)[0].last_error == "SMTPAuthenticationError 535"
        CLOCK.fix(utcnow() + timedelta(minutes=2))
        right = notifications.SmtpMailer("127.0.0.1", port, user="springboard", password="right")
        assert _send(engine, right) == {"sent": 1} and len(inbox.messages) == 1
    finally:
        controller.stop()
