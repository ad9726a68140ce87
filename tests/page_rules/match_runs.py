"""Matching runs' pages (api/pages/match_runs.py); POST /match-runs, which queues a run, is in manager.py."""

PAGES = {("GET", "/match-runs"): {"manager"}, ("GET", "/match-runs/{run_id:int}"): {"manager"}}
