"""The administrator's pages over HTTP: people (invite, role, deactivate and re-activate, unlock, password
links), departments and API tokens; each form's errors, the audit rows, who may use them, and a deactivated
person's open sessions refused at once; and the `springboard users` commands."""

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlmodel import select

from api import cli
from api.app import create_app
from matching import accounts, db
from matching.clock import CLOCK, utcnow
from matching.errors import Conflict
from matching.models import ApiToken, AuditEvent, Department, Notification, StoredValue, User
from matching.services.users import MAX_FAILED_LOGINS
from matching.settings import get_settings
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in


def _token(client, path: str = "/people") -> str:
    return csrf(client.get(path).text)


def _user(engine, email: str) -> User:
    with db.session_scope(engine) as session:
        return session.exec(select(User).where(User.email == email)).one()


SIGNING_IN = ("sign_in", "sign_in_fail", "locked_out")


def _audits(engine, entity: str, entity_id: int) -> list[tuple[str, int | None, str]]:
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id,
                                                     AuditEvent.action.notin_(SIGNING_IN))  # tests/test_sign_in_hardening
                            .order_by(AuditEvent.id))
        return [(row.action, row.actor_id, row.route) for row in rows]


def _link(engine, user_id: int) -> str:
    """The set-password link in the newest notice to `user_id` (the path, from the e-mail's body)."""
    with db.session_scope(engine) as session:
        notice = session.exec(select(Notification).where(Notification.user_id == user_id)
                              .order_by(Notification.id.desc())).first()
    return re.search(r"http://[^/\s]+(/set-password/\S+)", notice.body).group(1)


def _invite(browser, **fields):
    data = {"full_name": "Nadia Okafor", "email": "Nadia.Okafor@test.example.gov.uk", "role": "adviser"} | fields
    return browser.post("/people/invite", data={**data, "_csrf_token": _token(browser, "/people/invite")},
                        follow_redirects=False)


# --- Who may use the pages ----------------------------------------------------------------------------------

def test_only_administrators_reach_the_admin_pages(browser, people):
    sign_in(browser, "manager")
    for path in ("/people", "/people/invite", f"/people/{people['adviser'].id}", "/departments", "/tokens"):
        assert browser.get(path, follow_redirects=False).status_code == 403, path
    token = _token(browser, "/overview")
    refused = browser.post(f"/people/{people['adviser'].id}/deactivate", data={"_csrf_token": token})
    assert refused.status_code == 403
    browser.cookies.clear()
    sign_in(browser, "admin")
    assert browser.get("/people/999999").status_code == 404
    assert browser.get("/tokens/999999/revoke").status_code == 404


# --- The list -------------------------------------------------------------------------------------------------

def test_the_people_list_shows_each_person_and_filters_by_role_status_and_search(browser, people, engine):
    with db.session_scope(db.writer(engine)) as session:
        session.get(User, people["other_adviser"].id).active = False
    sign_in(browser, "admin")
    listing = browser.get("/people")
    assert listing.status_code == 200 and "Showing 1 to 7 of 7 people" in listing.text
    assert "Test adviser" in listing.text and "Personal adviser" in listing.text and "Parks" in listing.text
    advisers = browser.get("/people", params={"role": "adviser"}).text
    assert "Showing 1 to 2 of 2 people" in advisers and "Test manager" not in advisers
    gone = browser.get("/people", params={"status": "deactivated"}).text
    assert "Showing 1 to 1 of 1 person" in gone and "Test other_adviser" in gone
    found = browser.get("/people", params={"q": "MENTOR@test"}).text
    assert "Showing 1 to 1 of 1 person" in found and 'value="MENTOR@test"' in found
    assert "Nobody matches these filters" in browser.get("/people", params={"q": "%"}).text  # no wildcards
    bad = browser.get("/people", params={"role": "wizard"})
    assert bad.status_code == 400 and "Select role from the list" in bad.text


# --- Inviting ---------------------------------------------------------------------------------------------------

def test_an_invitation_with_mistakes_says_what_to_fix_and_keeps_what_was_typed(browser, people, engine):
    sign_in(browser, "admin")
    empty = _invite(browser, full_name="", email="not an address", role="")
    assert empty.status_code == 400 and "Error: Invite someone" in empty.text
    assert 'class="govuk-error-summary"' in empty.text and 'href="#full_name"' in empty.text
    assert "Enter full name" in empty.text and "Select their role" in empty.text
    assert "Enter an email address in the correct format" in empty.text and 'value="not an address"' in empty.text
    no_department = _invite(browser, role="department")
    assert no_department.status_code == 400 and "Select the department they work for" in no_department.text
    assert 'value="Nadia Okafor"' in no_department.text
    taken = _invite(browser, email="adviser@test.example.gov.uk")
    assert taken.status_code == 400 and "already has an account" in taken.text
    mentor = _invite(browser, role="mentor")
    assert mentor.status_code == 400 and "Select role from the list" in mentor.text  # mentors sign up themselves
    with db.session_scope(engine) as session:
        assert session.exec(select(User).where(User.full_name == "Nadia Okafor")).first() is None
        assert session.exec(select(Notification)).first() is None


def test_an_invited_person_chooses_their_password_once_through_the_link(browser, people, engine, settings):
    sign_in(browser, "admin")
    invited = _invite(browser, role="department", department_id=str(people["department"].department_id))
    assert invited.status_code == 303
    shown = browser.get(invited.headers["location"])
    assert "Nadia Okafor was invited" in shown.text and "Invited" in shown.text
    user = _user(engine, "nadia.okafor@test.example.gov.uk")
    assert (user.role, user.department_id, user.password_hash) == ("department", people["department"].department_id,
                                                                   None)
    assert _audits(engine, "user", user.id) == [("invite", people["admin"].id, "POST /people/invite")]
    link = _link(engine, user.id)
    with db.session_scope(engine) as session:
        notice = session.exec(select(Notification).where(Notification.user_id == user.id)).one()
        stored = session.exec(select(StoredValue).where(StoredValue.key == f"set-password:{user.id}")).one()
    assert notice.to_address == user.email and link.split("-", 1)[1].encode() not in stored.value  # a digest only
    with TestClient(app=create_app(settings)) as invitee:
        form = invitee.get(link)
        assert form.status_code == 200 and user.email in form.text
        token = csrf(form.text)
        different = invitee.post(link, data={"password": "a long enough one", "password_again": "another one",
                                             "_csrf_token": token})
        assert different.status_code == 400 and "Enter the same password in both boxes" in different.text
        assert "a long enough one" not in different.text  # a password is never typed back
        short = invitee.post(link, data={"password": "short", "password_again": "short", "_csrf_token": token})
        assert short.status_code == 400 and "must be 12 characters or more" in short.text
        saved = invitee.post(link, data={"password": "my own new password", "password_again": "my own new password",
                                         "_csrf_token": token}, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == "/sign-in"
        assert "Your password is set" in invitee.get("/sign-in").text
        assert invitee.get(link).status_code == 404  # once only
        signed = invitee.post("/sign-in", data={"email": user.email, "password": "my own new password",
                                                "_csrf_token": csrf(invitee.get("/sign-in").text)},
                              follow_redirects=False)
        assert signed.headers["location"] == "/referrals"
    assert [a[:2] for a in _audits(engine, "user", user.id)] == [("invite", people["admin"].id),
                                                                 ("set_password", user.id)]


def test_a_password_link_expires_and_a_newer_one_replaces_it(browser, people, engine):
    sign_in(browser, "admin")
    _invite(browser)
    user = _user(engine, "nadia.okafor@test.example.gov.uk")
    first = _link(engine, user.id)
    browser.post(f"/people/{user.id}/password-link", data={"_csrf_token": _token(browser)})
    second = _link(engine, user.id)
    with db.session_scope(engine) as session:
        kinds = [n.kind for n in session.exec(select(Notification).where(Notification.user_id == user.id))]
    assert kinds == ["password_invitation"] * 2  # no password chosen yet: the invitation again, not a reset
    assert first != second and browser.get(first).status_code == 404 and browser.get(second).status_code == 200
    assert browser.get(second[:-3] + "xyz").status_code == 404 and browser.get("/set-password/nothing").status_code == 404
    CLOCK.fix(TEST_TODAY + accounts.INVITATION_VALID + timedelta(days=1))
    expired = browser.get(second)
    assert expired.status_code == 404 and "This link has expired" in expired.text


# --- Role and department -----------------------------------------------------------------------------------

def test_changing_a_role_needs_a_department_for_department_contacts_and_is_audited(browser, people, engine):
    sign_in(browser, "admin")
    adviser = people["adviser"].id
    form = browser.get(f"/people/{adviser}/role")
    assert form.status_code == 200 and 'value="adviser" checked' in form.text
    token, stored = csrf(form.text), _user(engine, "adviser@test.example.gov.uk").version
    missing = browser.post(f"/people/{adviser}/role", data={"role": "department", "version": str(stored),
                                                            "_csrf_token": token})
    assert missing.status_code == 400 and "Select the department they work for" in missing.text
    assert 'value="department" checked' in missing.text
    parks = str(people["department"].department_id)
    changed = browser.post(f"/people/{adviser}/role", data={"role": "department", "department_id": parks,
                                                            "version": str(stored), "_csrf_token": token})
    assert "Test adviser is now: Department contact" in changed.text
    user = _user(engine, "adviser@test.example.gov.uk")
    assert (user.role, user.department_id) == ("department", int(parks))
    assert _audits(engine, "user", adviser) == [("change_role", people["admin"].id, f"POST /people/{adviser}/role")]
    stale = browser.post(f"/people/{adviser}/role", data={"role": "manager", "version": str(stored),
                                                          "_csrf_token": token})
    assert "someone changed this person" in stale.text and _user(engine, "adviser@test.example.gov.uk").role == "department"


def test_an_administrator_cannot_change_their_own_role_nor_leave_no_administrator(browser, people, engine):
    sign_in(browser, "admin")
    me = people["admin"].id
    version = _user(engine, "admin@test.example.gov.uk").version
    refused = browser.post(f"/people/{me}/role", data={"role": "manager", "version": str(version),
                                                       "_csrf_token": _token(browser)})
    assert refused.status_code == 400 and "You cannot change the role of yourself" in refused.text
    with db.session_scope(db.writer(engine)) as session:
        with pytest.raises(Conflict, match="only active administrator"):
            accounts.deactivate(session, me, actor_id=None)
        with pytest.raises(Conflict, match="only active administrator"):
            accounts.change_role(session, me, role="manager", department_id=None, version=version, actor_id=None)
    assert _user(engine, "admin@test.example.gov.uk").role == "admin"


# --- Deactivating and re-activating -------------------------------------------------------------------------

def test_deactivating_asks_first_then_ends_every_open_session_at_once(browser, people, engine, settings):
    adviser = people["adviser"].id
    with TestClient(app=create_app(settings)) as theirs, TestClient(app=create_app(settings)) as other_instance:
        sign_in(theirs, "adviser")
        other_instance.cookies.set("springboard_session", theirs.cookies.get("springboard_session"))
        assert theirs.get("/caseload").status_code == 200
        assert other_instance.get("/caseload").status_code == 200  # its identity cache now holds them
        sign_in(browser, "admin")
        confirm = browser.get(f"/people/{adviser}/deactivate")
        assert confirm.status_code == 200 and "Deactivate Test adviser?" in confirm.text
        assert _user(engine, "adviser@test.example.gov.uk").active  # asking changed nothing
        done = browser.post(f"/people/{adviser}/deactivate", data={"reason": "Left the council",
                                                                   "_csrf_token": csrf(confirm.text)})
        assert "Test adviser was deactivated and signed out everywhere" in done.text
        for client in (theirs, other_instance):
            refused = client.get("/caseload", follow_redirects=False)
            assert refused.status_code == 303 and refused.headers["location"].startswith("/sign-in")
        assert theirs.get("/api/v1/me", headers=people["adviser"].headers).status_code == 401
        assert sign_in(theirs, "adviser").status_code == 200  # no new session either
        user = _user(engine, "adviser@test.example.gov.uk")
        assert (user.active, user.closed_reason, user.closed_by_id) == (False, "Left the council", people["admin"].id)
        again = browser.post(f"/people/{adviser}/activate", data={"_csrf_token": _token(browser)})
        assert "Test adviser can sign in again" in again.text
        assert sign_in(theirs, "adviser").headers["location"] == "/caseload"
        assert theirs.get("/caseload").status_code == 200
    assert [a[:2] for a in _audits(engine, "user", adviser)] == [("deactivate", people["admin"].id),
                                                                 ("activate", people["admin"].id)]


def test_an_administrator_cannot_deactivate_themselves(browser, people, engine):
    sign_in(browser, "admin")
    me = people["admin"].id
    own = browser.get(f"/people/{me}").text
    assert "This is you" in own and f'href="/people/{me}/deactivate"' not in own and f"/people/{me}/role" not in own
    refused = browser.post(f"/people/{me}/deactivate", data={"_csrf_token": _token(browser)})
    assert "You cannot deactivate yourself" in refused.text and "govuk-notification-banner--success" not in refused.text
    assert _user(engine, "admin@test.example.gov.uk").active and _audits(engine, "user", me) == []
    twice = browser.post(f"/people/{people['manager'].id}/activate", data={"_csrf_token": _token(browser)})
    assert "Test manager is already active" in twice.text and "govuk-notification-banner--success" not in twice.text


# --- Lockout and password resets ----------------------------------------------------------------------------

def test_unlocking_lifts_a_lockout_from_wrong_passwords(browser, people, engine):
    for _ in range(MAX_FAILED_LOGINS):
        sign_in(browser, "manager", "wrong password!")
    assert sign_in(browser, "manager").status_code == 200  # locked
    sign_in(browser, "admin")
    manager = people["manager"].id
    assert "Locked" in browser.get("/people", params={"status": "locked"}).text
    shown = browser.get(f"/people/{manager}")
    assert "Unlock account" in shown.text
    unlocked = browser.post(f"/people/{manager}/unlock", data={"_csrf_token": csrf(shown.text)})
    assert "Test manager&#39;s account is unlocked" in unlocked.text
    assert _user(engine, "manager@test.example.gov.uk").locked_until is None
    assert _audits(engine, "user", manager)[0][:2] == ("unlock", people["admin"].id)
    browser.cookies.clear()
    assert sign_in(browser, "manager").headers["location"] == "/overview"


def test_a_password_reset_sends_a_link_and_never_shows_a_password(browser, people, engine, settings):
    sign_in(browser, "admin")
    mentor = people["mentor"].id
    sent = browser.post(f"/people/{mentor}/password-link", data={"_csrf_token": _token(browser)})
    assert "was sent an email with a new link" in sent.text and "/set-password/" not in sent.text
    link = _link(engine, mentor)
    with db.session_scope(engine) as session:
        notice = session.exec(select(Notification).where(Notification.user_id == mentor)).one()
    assert notice.kind == "password_reset" and "current password keeps working" in notice.body
    assert _audits(engine, "user", mentor)[0][:2] == ("reset_pw", people["admin"].id)
    with TestClient(app=create_app(settings)) as theirs:
        assert sign_in(theirs, "mentor").status_code == 303  # the old password works until the link is used
        token = csrf(theirs.get(link).text)
        theirs.post(link, data={"password": "a brand new password", "password_again": "a brand new password",
                                "_csrf_token": token})
        theirs.cookies.clear()
        assert sign_in(theirs, "mentor").status_code == 200
        assert sign_in(theirs, "mentor", "a brand new password").status_code == 303


# --- Departments ----------------------------------------------------------------------------------------------

def test_departments_are_added_renamed_and_deactivated_with_their_errors(browser, people, engine):
    sign_in(browser, "admin")
    token = _token(browser, "/departments/new")
    bad = browser.post("/departments/new", data={"name": "H", "code": "", "contact_email": "nope",
                                                 "_csrf_token": token})
    assert bad.status_code == 400 and "Name must be 2 characters or more" in bad.text and "Enter code" in bad.text
    assert 'value="nope"' in bad.text
    clash = browser.post("/departments/new", data={"name": "Housing", "code": "park", "_csrf_token": token})
    assert clash.status_code == 400 and "already used" in clash.text and 'value="Housing"' in clash.text
    added = browser.post("/departments/new", data={"name": "Housing", "code": "hous", "_csrf_token": token})
    assert "Housing was added" in added.text and "HOUS" in added.text
    with db.session_scope(engine) as session:
        housing = session.exec(select(Department).where(Department.code == "HOUS")).one()
    renamed = browser.post(f"/departments/{housing.id}/rename", data={"name": "Roads", "version": str(housing.version),
                                                                     "_csrf_token": token})
    assert renamed.status_code == 400 and "already used" in renamed.text
    renamed = browser.post(f"/departments/{housing.id}/rename", data={"name": "Housing Services",
                                                                     "version": str(housing.version),
                                                                     "_csrf_token": token})
    assert "Housing is now called Housing Services" in renamed.text
    parks = people["department"].department_id
    busy = browser.post(f"/departments/{parks}/deactivate", data={"reason": "Merged", "version": "1",
                                                                  "_csrf_token": token})
    assert busy.status_code == 400 and "still has 2 active people" in busy.text
    no_reason = browser.post(f"/departments/{housing.id}/deactivate", data={"version": "2", "_csrf_token": token})
    assert no_reason.status_code == 400 and "Enter why it is closing" in no_reason.text
    closed = browser.post(f"/departments/{housing.id}/deactivate", data={"reason": "Merged into Environment",
                                                                        "version": "2", "_csrf_token": token})
    assert "Housing Services was deactivated" in closed.text
    with db.session_scope(engine) as session:
        assert session.get(Department, housing.id).status == "closed"
    assert [a[:2] for a in _audits(engine, "department", housing.id)] == [
        ("create", people["admin"].id), ("rename", people["admin"].id), ("deactivate", people["admin"].id)]
    invite = browser.get("/people/invite").text
    assert "Housing Services" not in invite and "Parks" in invite  # only active departments are offered


# --- API tokens -----------------------------------------------------------------------------------------------

def test_an_api_token_is_shown_once_and_revoked_after_asking(browser, people, engine):
    sign_in(browser, "admin")
    token = _token(browser, "/tokens/new")
    bad = browser.post("/tokens/new", data={"name": "x", "_csrf_token": token})
    assert bad.status_code == 400 and "Select whose token it is" in bad.text and "What will use it must be 3" in bad.text
    created = browser.post("/tokens/new", data={"name": "Case system export", "_csrf_token": token,
                                                "user_id": str(people["manager"].id)})
    secret = re.search(r'id="token" type="text" value="(sb_[^"]+)"', created.text).group(1)
    assert "It is shown only once" in created.text
    assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["id"] == people["manager"].id
    listing = browser.get("/tokens").text
    assert "Case system export" in listing and secret not in listing
    with db.session_scope(engine) as session:
        record = session.exec(select(ApiToken).where(ApiToken.name == "Case system export")).one()
    confirm = browser.get(f"/tokens/{record.id}/revoke")
    assert "Revoke the token “Case system export”?" in confirm.text
    with db.session_scope(engine) as session:
        assert session.get(ApiToken, record.id).revoked_at is None  # asking revoked nothing
    revoked = browser.post(f"/tokens/{record.id}/revoke", data={"_csrf_token": csrf(confirm.text)})
    assert "was revoked" in revoked.text
    assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    again = browser.post(f"/tokens/{record.id}/revoke", data={"_csrf_token": csrf(confirm.text)})
    assert "already revoked" in again.text and "govuk-notification-banner--success" not in again.text
    assert [a[:2] for a in _audits(engine, "api_token", record.id)] == [("create", people["admin"].id),
                                                                        ("revoke", people["admin"].id)]


# --- The command ----------------------------------------------------------------------------------------------

@pytest.fixture
def command(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli.main, ["users", *args])
    get_settings.cache_clear()


def test_the_users_command_deactivates_activates_and_unlocks(command, people, engine):
    assert command("deactivate", "adviser@test.example.gov.uk").output == "Test adviser is deactivated.\n"
    assert not _user(engine, "adviser@test.example.gov.uk").active
    assert command("activate", "ADVISER@test.example.gov.uk").output == "Test adviser is active again.\n"
    with db.session_scope(db.writer(engine)) as session:
        session.get(User, people["manager"].id).locked_until = utcnow() + timedelta(minutes=10)
    assert command("unlock", "manager@test.example.gov.uk").output == "Test manager is unlocked.\n"
    assert _user(engine, "manager@test.example.gov.uk").locked_until is None
    assert [a[0] for a in _audits(engine, "user", people["adviser"].id)] == ["deactivate", "activate"]
    assert _audits(engine, "user", people["adviser"].id)[0][2] == "springboard users deactivate"


def test_the_users_command_says_what_is_wrong_in_one_line(command, people, engine):
    for args in (("deactivate", "nobody@test.example.gov.uk"), ("activate", "nobody@x.y"), ("unlock", "x")):
        result = command(*args)  # bad input: click's usage line, then the one line that says why (exit 2)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.output.strip().splitlines()[-1].startswith("Error: Invalid value for EMAIL: no user has"), \
            result.output
    last = command("deactivate", "admin@test.example.gov.uk")
    assert last.exit_code == 1 and "only active administrator" in last.output
    assert command("unlock", "manager@test.example.gov.uk").output.strip() == \
        "Error: Test manager's account is not locked"


def test_the_users_command_invites_by_email(command, people, engine):
    result = command("invite", "new.person@test.example.gov.uk", "--role", "manager", "--name", "New Person")
    assert result.exit_code == 0 and "An invitation is waiting in the outbox" in result.output
    user = _user(engine, "new.person@test.example.gov.uk")
    assert user.password_hash is None and "/set-password/" in _link(engine, user.id)
    clash = command("invite", "new.person@test.example.gov.uk", "--role", "manager")  # bad input: exit 2
    assert clash.exit_code == 2 and "already has an account" in clash.output.strip().splitlines()[-1]
    assert command("invite", "x@y.z", "--role", "department").output.strip().splitlines()[-1] == \
        "Error: department_id: select the department they work for"
