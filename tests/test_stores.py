"""The database store behind page sessions and the sign-in rate limit, under requests that race."""

import threading
from datetime import UTC, datetime, timedelta

import anyio
from sqlmodel import select

from api.stores import DatabaseStore
from matching import db
from matching.clock import CLOCK
from matching.models import StoredValue
from tests.test_pages import sign_in


def test_requests_of_one_session_writing_it_at_once_all_succeed(engine):
    store = DatabaseStore(engine, "session")
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for round_ in range(10):
                anyio.run(store.set, "same-browser", f"value {n}.{round_}", 3600)
        except BaseException as error:  # noqa: BLE001 (every failure is the finding)
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert anyio.run(store.get, "same-browser").decode().startswith("value ")
    assert 3500 < anyio.run(store.expires_in, "same-browser") <= 3600


def _session_rows(engine) -> dict[str, object]:
    with db.session_scope(engine) as session:
        return {row.key: row.expires_at for row in session.exec(select(StoredValue).where(
            StoredValue.key.startswith("session:")))}


def test_browsing_signed_out_writes_no_session_row(browser, engine):
    for path in ("/sign-in", "/sign-in", "/mentors/sign-up"):
        assert browser.get(path).status_code == 200
    assert _session_rows(engine) == {}


def test_a_signed_in_page_view_writes_its_session_only_when_it_changed_or_is_a_minute_older(browser, engine):
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)):
        assert sign_in(browser, "adviser").status_code == 303
    (key, signed_in_until), = _session_rows(engine).items()
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, 59, tzinfo=UTC)):
        assert browser.get("/caseload").status_code == 200
    assert _session_rows(engine) == {key: signed_in_until}  # under a minute: nothing written
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 1, tzinfo=UTC)):
        page = browser.get("/caseload")
    assert page.status_code == 200 and "springboard_session=" in page.headers.get("set-cookie", "")
    renewed = _session_rows(engine)[key]
    assert timedelta(seconds=60) <= renewed - signed_in_until < timedelta(seconds=62)  # slides from this view


def test_a_session_idle_past_its_timeout_is_signed_out(browser, engine):
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)):
        assert sign_in(browser, "adviser").status_code == 303
    with CLOCK.fixed(datetime(2026, 11, 23, 16, 59, tzinfo=UTC)):
        assert browser.get("/caseload", follow_redirects=False).status_code == 200
    with CLOCK.fixed(datetime(2026, 11, 24, 1, 0, tzinfo=UTC)):
        assert browser.get("/caseload", follow_redirects=False).headers["location"].startswith("/sign-in")
