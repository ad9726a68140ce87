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


def test_a_page_view_does_not_wait_for_a_long_write_to_renew_its_session(browser, engine, database_url):
    """A matching run can hold SQLite's only writer for a minute: a view then goes ahead without renewing its
    session (a later one renews it), instead of queueing behind the run. PostgreSQL has no single writer."""
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)):
        assert sign_in(browser, "adviser").status_code == 303
    (key, signed_in_until), = _session_rows(engine).items()
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with db.session_scope(db.writer(engine)):
            holding.set()
            release.wait(timeout=60)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(timeout=30)
        with CLOCK.fixed(datetime(2026, 11, 23, 9, 5, tzinfo=UTC)):
            assert browser.get("/caseload").status_code == 200
    finally:
        release.set()
        writer.join()
    if database_url.startswith("sqlite"):
        assert _session_rows(engine) == {key: signed_in_until}  # not renewed while the writer was busy
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 6, tzinfo=UTC)):
        assert browser.get("/caseload").status_code == 200
    assert _session_rows(engine)[key] > signed_in_until  # the next view renews it
