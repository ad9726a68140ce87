"""Scheduled work (nightly matching, follow-ups, statutory alerts, notifications). Calls `matching`."""
