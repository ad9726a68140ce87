"""GOV.UK Notify as the outbox's channel, through the official client (notifications-python-client), against a
real local HTTP server on 127.0.0.1 pretending to be Notify: the request's body and its JWT, a Notify that is
down or failing (retried with back-off, nothing lost), one that refuses the notice itself (failed at once, the
reason kept), and a worker killed between Notify's acceptance and marking the notice sent (looked up by its
reference, so not sent again)."""

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from sqlmodel import select

from jobs import runner
from matching import db, notifications
from matching.clock import CLOCK, ZONE, utcnow
from matching.models import Notification, User
from tests.conftest import TEST_TODAY
from tests.test_notifications import KILLED_AFTER_SENDING, ROOT, _free_port

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"springboard_test-{SERVICE_ID}-{SECRET}"
TEMPLATE = str(uuid.uuid4())


class FakeNotify(BaseHTTPRequestHandler):
    """Notify's two endpoints the outbox uses, keeping every request; `answer` forces a status for sends."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(("POST", self.path, self.headers.get("Authorization"), body))
        if self.path != "/v2/notifications/email":
            return self._json(404, {"errors": [{"error": "NotFound", "message": "Not found"}]})
        if self.server.answer != 201:
            return self._json(self.server.answer, {"status_code": self.server.answer, "errors": [
                {"error": "BadRequestError" if self.server.answer == 400 else "Error",
                 "message": f"Template not found for {body['email_address']}"}]})
        sent = {"id": str(uuid.uuid4()), "reference": body.get("reference"), "template": {"id": TEMPLATE}}
        self.server.accepted.append(body)
        return self._json(201, sent)

    def do_GET(self):  # noqa: N802
        url = urlparse(self.path)
        self.server.requests.append(("GET", url.path, self.headers.get("Authorization"), parse_qs(url.query)))
        wanted = parse_qs(url.query).get("reference", [None])[0]
        found = [{"id": "x", "reference": b["reference"], "status": "delivered"} for b in self.server.accepted
                 if b.get("reference") == wanted]
        return self._json(200, {"notifications": found, "links": {"current": self.path}})

    def _json(self, status: int, data: dict):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # quiet: addresses are not for test logs either
        pass


@pytest.fixture
def notify_port():
    return _free_port()


def _start(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), FakeNotify)
    server.requests, server.accepted, server.answer = [], [], 201
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def notify(notify_port):
    server = _start(notify_port)
    yield server
    server.shutdown()
    server.server_close()


def _channel(port: int) -> notifications.NotifyChannel:
    return notifications.NotifyChannel.from_settings(SimpleNamespace(
        notify_api_key=API_KEY, notify_template_id=TEMPLATE, notify_base_url=f"http://127.0.0.1:{port}",
        notify_timeout_seconds=5))


def _user(engine, name="Ann Adviser", notices="immediate") -> User:
    with db.session_scope(db.writer(engine)) as session:
        user = User(email=f"{name.split()[0].lower()}@example.gov.uk", full_name=name, role="adviser",
                    notices=notices, last_login_at=utcnow())
        session.add(user)
        session.flush()
        return user


def _notify(engine, user: User, key: str) -> None:
    with db.session_scope(db.writer(engine)) as session:
        notifications.notify(session, key=key, kind="test", user=user, subject=f"Springboard: {key}",
                             lines=["Something is waiting for you."], url="https://springboard.example/caseload")


def _notices(engine) -> dict[str, Notification]:
    with db.session_scope(engine) as session:
        return {n.key: n for n in session.exec(select(Notification).order_by(Notification.id))}


def test_a_notice_goes_to_notify_with_its_key_as_reference_and_a_signed_token(engine, notify, notify_port):
    ann = _user(engine)
    _notify(engine, ann, "test:1")
    assert notifications.send_due(engine, _channel(notify_port)) == {"sent": 1}
    ((method, path, authorization, body),) = notify.requests
    assert (method, path) == ("POST", "/v2/notifications/email")
    notice = _notices(engine)["test:1"]
    assert body == {"email_address": "ann@example.gov.uk", "template_id": TEMPLATE, "reference": "test:1",
                    "personalisation": {"subject": "Springboard: test:1", "body": notice.body}}
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer" and jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "HS256"}
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])  # signed with the key's secret, never sending it
    assert claims["iss"] == SERVICE_ID and isinstance(claims["iat"], int) and SECRET not in authorization
    assert (notice.status, notice.attempts) == ("sent", 1)
    assert notifications.send_due(engine, _channel(notify_port)) == {}


def test_notify_down_then_failing_then_back_is_retried_with_back_off_and_sends_each_once(engine, notify_port, caplog):
    ann = _user(engine)
    _notify(engine, ann, "test:1")
    _notify(engine, ann, "test:2")
    assert notifications.send_due(engine, _channel(notify_port)) == {"retrying": 1}  # nothing listens: refused
    first, second = _notices(engine).values()
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "Notify 503")
    assert (second.status, second.attempts) == ("pending", 0)  # the batch stopped: Notify is away
    # backed off by the first step (a minute), not left claimed (ten)
    assert timedelta(minutes=1) <= first.next_attempt_at - first.created_at < notifications.CLAIM
    server = _start(notify_port)
    try:
        server.answer = 500
        CLOCK.fix(first.next_attempt_at)
        assert notifications.send_due(engine, _channel(notify_port)) == {"retrying": 1}  # a 5xx: away again
        assert _notices(engine)["test:2"].last_error == "Notify 500 Error: Template not found for [address]"
        assert "ann@example.gov.uk" not in caplog.text  # nor the client's own log lines
        server.answer = 201
        CLOCK.fix(utcnow() + timedelta(minutes=2))
        assert notifications.send_due(engine, _channel(notify_port)) == {"sent": 2}
        assert sorted(b["reference"] for b in server.accepted) == ["test:1", "test:2"]
        # each was tried before, so looked up by its reference first (an earlier answer may have been lost)
        assert sorted(q["reference"][0] for m, p, _, q in server.requests if m == "GET") == ["test:1", "test:2"]
        assert {k: (n.status, n.attempts) for k, n in _notices(engine).items()} == {
            "test:1": ("sent", 2), "test:2": ("sent", 2)}
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("answer", "status"), [(400, "failed"), (403, "pending"), (429, "pending")])
def test_a_refusal_of_the_notice_itself_fails_at_once_with_the_reason_kept(engine, notify, notify_port, answer,
                                                                             status):
    ann = _user(engine)
    _notify(engine, ann, "test:1")
    notify.answer = answer
    counted = notifications.send_due(engine, _channel(notify_port))
    assert counted == ({"failed": 1} if status == "failed" else {"retrying": 1})
    notice = _notices(engine)["test:1"]
    assert notice.status == status and notice.last_error.startswith(f"Notify {answer} ")
    assert "ann@example.gov.uk" not in notice.last_error
    if status == "failed":
        assert notice.last_error == "Notify 400 BadRequestError: Template not found for [address]"
        CLOCK.fix(utcnow() + timedelta(days=5))
        assert notifications.send_due(engine, _channel(notify_port)) == {}  # never tried again


def test_a_worker_killed_after_notify_accepted_does_not_send_again(engine, database_url, settings, notify,
                                                                   notify_port, tmp_path):
    """Notify keeps the reference, so the retry after the claim ran out asks first and finds it: one send."""
    ann = _user(engine)
    with CLOCK.fixed(datetime.combine(TEST_TODAY, datetime.min.time().replace(hour=11), ZONE)):
        _notify(engine, ann, "test:1")
    env = os.environ | {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "NOTIFY_API_KEY": API_KEY,
                        "NOTIFY_TEMPLATE_ID": TEMPLATE, "NOTIFY_BASE_URL": f"http://127.0.0.1:{notify_port}",
                        "SPRINGBOARD_TODAY": TEST_TODAY.isoformat(), "SMTP_HOST": ""}
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_SENDING], env=env, cwd=ROOT, capture_output=True,
                            timeout=60)
    assert killed.returncode == -signal.SIGKILL and len(notify.accepted) == 1
    notice = _notices(engine)["test:1"]
    assert (notice.status, notice.attempts) == ("sending", 1)
    assert notifications.send_due(engine, _channel(notify_port)) == {}  # still claimed
    CLOCK.fix(notice.next_attempt_at)
    run = runner.run_job("send_notifications", settings.model_copy(update={
        "notify_api_key": API_KEY, "notify_template_id": TEMPLATE, "notify_base_url": f"http://127.0.0.1:{notify_port}"}))
    assert run.summary == "0 sent, 0 retrying, 0 failed, 0 skipped, 1 found already sent"
    assert len(notify.accepted) == 1 and [(n.status, n.attempts) for n in _notices(engine).values()] == [("sent", 2)]


def test_a_daily_digest_goes_through_notify_as_one_email_with_its_own_reference(engine, notify, notify_port):
    dee = _user(engine, "Dee Daily", notices="daily")
    _notify(engine, dee, "test:1")
    _notify(engine, dee, "test:2")
    CLOCK.fix(datetime.combine(TEST_TODAY + timedelta(days=1), datetime.min.time().replace(hour=7), ZONE))
    assert notifications.send_due(engine, _channel(notify_port)) == {"sent": 1}
    (body,) = notify.accepted
    assert body["reference"].startswith(f"daily:{dee.id}:") and body["email_address"] == "dee@example.gov.uk"
    assert body["personalisation"]["subject"] == "Springboard: your daily digest (2 notices)"
    assert "1. test:1" in body["personalisation"]["body"] and "2. test:2" in body["personalisation"]["body"]


def test_the_channel_is_chosen_by_the_settings(settings):
    assert notifications.channel_from(settings) is None
    smtp = notifications.channel_from(settings.model_copy(update={"smtp_host": "mail.example"}))
    assert isinstance(smtp, notifications.SmtpChannel) and smtp.mailer.host == "mail.example"
    both = settings.model_copy(update={"smtp_host": "mail.example", "notify_api_key": API_KEY,
                                       "notify_template_id": TEMPLATE})
    chosen = notifications.channel_from(both)
    assert isinstance(chosen, notifications.NotifyChannel) and chosen.template_id == TEMPLATE
    assert chosen.client.service_id == SERVICE_ID and chosen.client.base_url == settings.notify_base_url
