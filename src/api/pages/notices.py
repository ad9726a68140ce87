"""Placeholder: built in this wave."""

ROUTES: list = []
