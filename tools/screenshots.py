"""Screenshots of the main pages, for docs/screenshots/ and the README.

Starts the service on the demo borough exactly as `make run` does (and as tests/test_browser.py's `service`
fixture does: a fresh SQLite database in a temporary directory, `db upgrade`, `demo`, `match run`, `serve`),
signs in as each demo account in Debian's Chromium through Playwright, and saves a PNG of each main page.
A page the service does not have yet is skipped with a line saying so.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots] [--today YYYY-MM-DD]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PASSWORD = "springboard-demo"
WIDTH, TALLEST = 1280, 2400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(data: Path, today: str | None) -> tuple[subprocess.Popen, str]:
    env = os.environ | {"DATA_DIR": str(data), "DATABASE_URL": "", "SECURE_COOKIES": "false"}
    command = [sys.executable, "-m", "api", *(["--today", today] if today else [])]
    for step in (["db", "upgrade"], ["demo"], ["match", "run"]):
        subprocess.run([*command, *step], env=env, check=True, capture_output=True, cwd=ROOT)
    port = _free_port()
    server = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/health", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the service did not answer within a minute")


def sign_in(tab: Page, who: str) -> None:
    tab.goto("/sign-in")
    tab.get_by_label("Email address").fill(f"{who}@northbridge.example.gov.uk")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_load_state()


def visit(path: str) -> Callable[[Page], bool]:
    def go(tab: Page) -> bool:
        response = tab.goto(path)
        return response is not None and response.status < 400
    return go


def follow(start: str, selector: str) -> Callable[[Page], bool]:
    """Open `start`, then the first link matching `selector` (so no record id is typed in here)."""
    def go(tab: Page) -> bool:
        tab.goto(start)
        link = tab.locator(selector).first
        if link.count() == 0:
            return False
        response = tab.goto(link.get_attribute("href"))
        return response is not None and response.status < 400
    return go


def mentor_sign_up(tab: Page) -> bool:
    tab.goto("/sign-in")
    link = tab.get_by_role("link", name="mentor", exact=False).first
    if link.count() == 0:
        return False
    link.click()
    tab.wait_for_load_state()
    return "sign-in" not in tab.url


# (who signs in, or None; file name; how to get there)
SHOTS: list[tuple[str | None, str, Callable[[Page], bool]]] = [
    (None, "sign-in", visit("/sign-in")),
    (None, "mentor-sign-up", mentor_sign_up),
    ("adviser", "caseload", visit("/caseload")),
    ("adviser", "young-person", follow("/caseload", 'a[href^="/young-people/"]')),
    ("adviser", "proposals", visit("/proposals")),
    ("adviser", "match", follow("/proposals", 'a[href^="/matches/"]')),
    ("adviser", "follow-ups", visit("/follow-ups")),
    ("department", "referrals", visit("/referrals")),
    ("department", "opportunities", visit("/opportunities")),
    ("mentor", "mentees", visit("/mentees")),
    ("mentor", "profile", visit("/profile")),
    ("manager", "pending-mentors", visit("/mentors/pending")),
    ("manager", "overview", visit("/overview")),
    ("adviser", "page-not-found", lambda tab: tab.goto("/no-such-page") is not None),
]


def shoot(tab: Page, path: Path) -> None:
    height = tab.evaluate("document.documentElement.scrollHeight")
    tab.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH,
                                                         "height": min(height, TALLEST)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--today", help="run the service as if today were this day (YYYY-MM-DD)")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        server, base = start_service(Path(data), options.today)
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                contexts = {}
                for who, name, go in SHOTS:
                    if who not in contexts:
                        contexts[who] = chromium.new_context(base_url=base, viewport={"width": WIDTH, "height": 900})
                        tab = contexts[who].new_page()
                        if who:
                            sign_in(tab, who)
                    tab = contexts[who].pages[0]
                    if not go(tab):
                        print(f"skipped {name}: the page is not there yet ({tab.url})")
                        continue
                    tab.wait_for_load_state()
                    shoot(tab, options.out / f"{name}.png")
                    print(f"saved {options.out.relative_to(ROOT) if options.out.is_relative_to(ROOT) else options.out}"
                          f"/{name}.png ({who or 'signed out'})")
                chromium.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
