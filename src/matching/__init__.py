"""Springboard's domain: tables, vocabularies, services and the matching engine. Knows nothing of HTTP."""
