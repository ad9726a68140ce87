"""Signing in, hardened (issue 15): a refusal costs the same hasher work whatever the reason, every attempt on
a known account is audited, old password hashes are upgraded, the single sign-on callback signs nobody out
when single sign-on is off, and forwarded headers are believed only from the proxies named."""

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlmodel import select

from api.cli import main
from matching import db
from matching.models import AuditEvent, User, UserCreate
from matching.services import users
from tests.test_pages import sign_in

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _pat(engine) -> int:
    with db.session_scope(db.writer(engine)) as session:
        return users.create_user(session, UserCreate(email="pat@x.gov.uk", full_name="Pat", role="adviser",
                                                     password="correct horse battery")).id


def test_a_locked_account_is_refused_after_the_same_hasher_work_as_a_wrong_password(engine, monkeypatch):
    _pat(engine)
    work, real = [], users.hasher

    class Counting:  # the service's hasher, noting each piece of work it is asked for
        def verify(self, *args):
            work.append("verify")
            return real.verify(*args)

        def hash(self, *args):
            work.append("hash")
            return real.hash(*args)

        def check_needs_rehash(self, *args):
            return real.check_needs_rehash(*args)

    monkeypatch.setattr(users, "hasher", Counting())
    with db.session_scope(db.writer(engine)) as session:
        for minute in range(users.MAX_FAILED_LOGINS):
            users.authenticate(session, "pat@x.gov.uk", "wrong", now=START + timedelta(minutes=minute))
        work.clear()
        locked = START + timedelta(minutes=users.MAX_FAILED_LOGINS)
        assert users.authenticate(session, "pat@x.gov.uk", "correct horse battery", now=locked) is None
        assert work == ["verify"]  # the lock is not a short cut: the password is checked all the same
        work.clear()
        assert users.authenticate(session, "nobody@x.gov.uk", "whatever", now=locked) is None
        assert work == ["hash"]


def test_each_attempt_on_a_known_account_is_audited_and_a_lockout_too(engine):
    pat = _pat(engine)
    with db.session_scope(db.writer(engine)) as session:
        for minute in range(users.MAX_FAILED_LOGINS):
            users.authenticate(session, "pat@x.gov.uk", "wrong", now=START + timedelta(minutes=minute),
                               route="POST /sign-in", client="192.0.2.7")
        later = START + users.LOCKOUT + timedelta(hours=1)
        users.authenticate(session, "pat@x.gov.uk", "correct horse battery", now=later, route="POST /sign-in")
        users.authenticate(session, "nobody@x.gov.uk", "wrong", now=later)  # no account: nothing to name
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    expected = ["sign_in_fail"] * (users.MAX_FAILED_LOGINS - 1) + ["locked_out", "sign_in"]
    assert [(r.action, r.entity, r.entity_id, r.actor_id) for r in rows] == [(a, "user", pat, pat) for a in expected]
    assert rows[0].client == "192.0.2.7" and rows[0].route == "POST /sign-in"
    assert not any("wrong" in str(r.model_dump()) or "correct horse" in str(r.model_dump()) for r in rows)


def test_a_password_hashed_with_older_parameters_is_hashed_again_on_sign_in(engine):
    pat = _pat(engine)
    old = PasswordHasher(time_cost=1, memory_cost=8192).hash("correct horse battery")
    with db.session_scope(db.writer(engine)) as session:
        session.get(User, pat).password_hash = old
    with db.session_scope(db.writer(engine)) as session:
        assert users.authenticate(session, "pat@x.gov.uk", "correct horse battery", now=START).id == pat
    with db.session_scope(engine) as session:
        upgraded = session.get(User, pat).password_hash
    assert upgraded != old and not users.hasher.check_needs_rehash(upgraded)
    assert users.hasher.verify(upgraded, "correct horse battery")


def test_the_sign_in_page_audits_the_person_who_signed_in(browser, people, engine):
    assert sign_in(browser, "adviser").status_code == 303
    with db.session_scope(engine) as session:
        row = session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in")).one()
    assert (row.entity_id, row.route) == (people["adviser"].id, "POST /sign-in")


def test_the_single_sign_on_callback_signs_nobody_out_when_single_sign_on_is_off(browser):
    sign_in(browser, "adviser")
    assert browser.get("/sign-in/oidc/callback?code=x&state=y", follow_redirects=False).status_code == 404
    assert browser.get("/caseload", follow_redirects=False).status_code == 200  # still signed in


@pytest.mark.parametrize("proxies,believed", [("", False), ("10.0.0.5", True), (" 10.0.0.5,10.0.0.6 ", True)])
def test_forwarded_headers_are_believed_only_from_the_proxies_named(proxies, believed, monkeypatch):
    import uvicorn

    from matching.settings import get_settings

    ran = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: ran.update(kwargs))
    monkeypatch.setenv("TRUSTED_PROXIES", proxies)
    get_settings.cache_clear()
    try:
        assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    finally:
        get_settings.cache_clear()
    assert ran["proxy_headers"] is believed
    assert ran["forwarded_allow_ips"] == (proxies.strip() or None)
