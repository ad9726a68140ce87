"""The database store behind page sessions and the sign-in rate limit, under requests that race."""

import threading

import anyio

from api.stores import DatabaseStore


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
