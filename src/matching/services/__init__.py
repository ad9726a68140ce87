"""Services: plain functions taking a Session, called alike by the API, jobs, CLI, notebooks and tests."""
