"""Passwords are refused when they are easy to guess, not only when short: on zxcvbn's list of breached
passwords (however padded, capitalised or dressed in leetspeak), the person's own name or e-mail name, a
character or a few repeated, a run of digits or letters. The rule is one function
(matching.passwords.refusal); here it is checked directly and through the set-password page."""

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from matching import accounts, db, passwords
from matching.errors import InvalidInput
from matching.models import User
from tests.test_admin_pages import _invite, _link, _user
from tests.test_pages import csrf, sign_in

NAME = {"email": "nadia.okafor@test.example.gov.uk", "full_name": "Nadia Okafor"}


@pytest.mark.parametrize("password", [
    "password1234", "Password1234", "P@ssw0rd2024!", "qwertyuiop12", "1qaz2wsx3edc", "football1234!!",
    "iloveyou2024", "passwordpassword", "  letmein123!! ", "sunshine-2025",
])
def test_a_listed_password_however_padded_is_refused_as_common(password):
    assert passwords.refusal(password, **NAME) == passwords.COMMON


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "abcabcabcabc", "121212121212", "123456789012",
                                      "987654321098", "abcdefghijkl", "ZYXWVUTSRQPO"])
def test_a_repeat_or_a_run_is_refused(password):
    assert passwords.refusal(password, **NAME) == passwords.SIMPLE


@pytest.mark.parametrize("password", ["nadia.okafor!!", "Okafor-in-Leeds-9", "my name is NADIA ok"])
def test_a_password_holding_the_persons_name_or_email_name_is_refused(password):
    assert passwords.refusal(password, **NAME) == passwords.NAMED
    assert passwords.refusal(password) is None  # the same password, for someone of another name


@pytest.mark.parametrize("password", ["correct horse battery", "a long enough password", "my own new password",
                                      "Tr0ub4dor&3xyz", "x83749265810", "ab12ab12ab12ab12!x", "kettle-orbit-plum"])
def test_a_password_that_is_hard_to_guess_is_allowed(password):
    assert passwords.refusal(password, **NAME) is None


def test_a_short_password_is_refused_before_any_list_is_read():
    assert passwords.refusal("Zq9!x", **NAME) == passwords.TOO_SHORT


def test_check_names_the_field_in_the_domains_invalid_input():
    with pytest.raises(InvalidInput) as refused:
        passwords.check("Password1234", field="new_password", **NAME)
    assert (refused.value.field, refused.value.reason) == ("new_password", passwords.COMMON)


def test_the_list_is_read_once_into_a_set():
    passwords.refusal("kettle-orbit-plum")
    listed = passwords._common()
    assert isinstance(listed, frozenset) and len(listed) > 20_000 and "password" in listed
    assert passwords._common() is listed


def test_setting_a_password_through_a_link_refuses_a_common_one_and_keeps_the_link(browser, people, engine,
                                                                                    settings):
    from api.app import create_app

    sign_in(browser, "admin")
    _invite(browser)
    user = _user(engine, NAME["email"])
    link = _link(engine, user.id)
    with TestClient(app=create_app(settings)) as invitee:
        token = csrf(invitee.get(link).text)
        for weak, reason in [("Password1234", passwords.COMMON), ("nadia-okafor-2026", passwords.NAMED)]:
            refused = invitee.post(link, data={"password": weak, "password_again": weak, "_csrf_token": token})
            assert refused.status_code == 400, refused.text
            assert "govuk-error-summary" in refused.text and reason in refused.text
            assert 'href="#password"' in refused.text and weak not in refused.text  # never typed back
        assert _user(engine, NAME["email"]).password_hash is None
        good = "kettle orbit plum tree"
        saved = invitee.post(link, data={"password": good, "password_again": good, "_csrf_token": token},
                             follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == "/sign-in"  # the link still worked
    assert _user(engine, NAME["email"]).password_hash is not None


def test_the_domain_refuses_a_common_password_for_a_link_and_changes_nothing(browser, people, engine):
    sign_in(browser, "admin")
    _invite(browser)
    user = _user(engine, NAME["email"])
    link = _link(engine, user.id).removeprefix("/set-password/")
    with db.session_scope(db.writer(engine)) as session, pytest.raises(InvalidInput) as refused:
        accounts.set_password(session, link, "qwertyuiop12")
    assert refused.value.field == "password" and refused.value.reason == passwords.COMMON
    with db.session_scope(engine) as session:
        assert session.exec(select(User).where(User.id == user.id)).one().password_hash is None
        assert accounts.link_holder(session, link) is not None


# --- Everywhere else a password is set: the JSON API, the command line, mentor sign-up ----------------------

def test_the_api_refuses_a_common_password_with_a_422_naming_the_field(client, people):
    person = {"email": "new.admin@test.example.gov.uk", "full_name": "New Admin", "role": "admin"}
    refused = client.post("/api/v1/users", json=person | {"password": "Password1234!"},
                          headers=people["admin"].headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [{"field": "password", "reason": passwords.COMMON}]
    named = client.post("/api/v1/users", json=person | {"password": "new.admin.2026"}, headers=people["admin"].headers)
    assert named.status_code == 422 and named.json()["errors"][0]["reason"] == passwords.NAMED
    made = client.post("/api/v1/users", json=person | {"password": "kettle orbit plum tree"},
                       headers=people["admin"].headers)
    assert made.status_code == 201, made.text


def test_the_command_line_refuses_a_common_password_with_one_line_and_status_2(database_url, engine, people,
                                                                                monkeypatch):
    from click.testing import CliRunner

    from api import cli

    monkeypatch.setattr(cli, "_url", lambda: database_url)
    result = CliRunner().invoke(cli.main, ["users", "create", "--role", "manager", "--password-stdin",
                                           "head@test.example.gov.uk"], input="qwertyuiop12\n")
    assert result.exit_code == 2, result.output
    said = result.output.strip().splitlines()
    assert said[-1].startswith("Error: ") and passwords.COMMON in said[-1] and "Traceback" not in result.output
    with db.session_scope(engine) as session:
        assert session.exec(select(User).where(User.email == "head@test.example.gov.uk")).first() is None


def test_mentor_sign_up_refuses_a_common_password_beside_the_box(browser):
    from tests.test_pages_mentor import GOOD, SIGN_UP, answer, summary_links

    about = GOOD["about-you"] | {"password": "Sunshine2025!", "password_again": "Sunshine2025!"}
    refused = answer(browser, "about-you", about)
    assert refused.status_code == 400 and passwords.COMMON in refused.text
    assert summary_links(refused.text) == ["password"] and "Sunshine2025!" not in refused.text
    assert answer(browser, "about-you", GOOD["about-you"]).headers["location"] == f"{SIGN_UP}/your-role"
