"""Themes: counts per code and group, representative quotes, Methods text, and the published tables."""
