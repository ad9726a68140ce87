"""The service imports its own packages, and the `springboard` command works end to end."""

import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import fixtures
import httpx
import pytest
from click.testing import CliRunner

import api
import jobs
import matching
from api.cli import main
from matching.settings import Settings
from tests.conftest import TEST_TODAY

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", [matching, api, jobs])
def test_packages_are_ours_not_pypi_namesakes(package):
    assert Path(package.__file__).resolve().is_relative_to(ROOT / "src")


def test_fixtures_package_is_ours():
    assert Path(fixtures.__file__).resolve().is_relative_to(ROOT / "fixtures")


def test_distribution_is_private_and_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "Private :: Do Not Upload" in project["classifiers"]
    assert not {"matching", "api"} & {d.split(">")[0].split("[")[0].strip() for d in project["dependencies"]}
    pinned = (ROOT / "constraints.txt").read_text()
    assert "\nlitestar==" in pinned and "\nmatching==" not in pinned and "\napi==" not in pinned


def test_settings_default_to_sqlite_in_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert Settings().db_url == f"sqlite:///{tmp_path / 'springboard.sqlite3'}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_db_upgrade_demo_and_serve_from_the_command_line(tmp_path):
    env = os.environ | {"DATA_DIR": str(tmp_path), "DATABASE_URL": "", "SPRINGBOARD_TODAY": TEST_TODAY.isoformat()}
    command = [sys.executable, "-m", "api"]
    upgraded = subprocess.run([*command, "db", "upgrade"], env=env, capture_output=True, text=True, check=True)
    assert "up to date" in upgraded.stdout
    demo = subprocess.run([*command, "demo"], env=env, capture_output=True, text=True, check=True)
    assert "care leavers: 300" in demo.stdout
    created = subprocess.run([*command, "users", "create", "--role", "manager", "--name", "Hana Head",
                              "--password-stdin", "head@example.gov.uk"], input="a long enough password\n",
                             env=env, capture_output=True, text=True, check=True)
    assert "Created manager head@example.gov.uk" in created.stdout
    issued = subprocess.run([*command, "tokens", "create", "--name", "test", "head@example.gov.uk"], env=env,
                            capture_output=True, text=True, check=True)
    token = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # up to a minute: the suite keeps both cores busy while the server starts
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.json() == {"status": "ok", "database": "ok"}
        url = f"http://127.0.0.1:{port}/api/v1/opportunities?limit=1"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json()["total"] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    from litestar.testing import TestClient

    from api.app import create_app

    settings = Settings(database_url="postgresql+psycopg://nobody:x@127.0.0.1:1/none", data_dir=tmp_path)
    with TestClient(app=create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_help_lists_the_subcommands():
    output = CliRunner().invoke(main, ["--help"]).output
    assert all(word in output for word in ("serve", "db", "demo", "import"))


def test_serve_gives_workers_time_to_start(monkeypatch):
    """uvicorn restarts a worker that misses its health check; ours take over ten seconds to import
    scikit-learn, and at uvicorn's default of five they were killed over and over while others served."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    assert CliRunner().invoke(main, ["serve", "--workers", "2"]).exit_code == 0
    assert calls[0]["workers"] == 2 and calls[0]["timeout_worker_healthcheck"] >= 60
    assert calls[0]["access_log"] is False  # query strings can carry names
