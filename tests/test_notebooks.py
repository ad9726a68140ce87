"""The notebooks run, start to end, on fresh data (they are analysis, so they must keep working)."""

import runpy
from pathlib import Path

import pytest

FOLDER = Path(__file__).parents[1] / "notebooks"


def test_every_notebook_is_listed_here():
    assert {path.name for path in FOLDER.glob("*.py")} == {"matching_report.py"}


@pytest.mark.parametrize("name", ["matching_report.py"])
def test_notebook_runs(name, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'notebook.sqlite3'}")
    namespace = runpy.run_path(str(FOLDER / name))
    assert namespace["run"].counts["people"] > 0 and namespace["report"]["groups"]
