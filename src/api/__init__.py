"""Springboard's Litestar app: the JSON API, pages, sign-in and roles. Thin: it calls `matching`."""
