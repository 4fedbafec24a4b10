"""CLI commands: codings (stub, being implemented)."""

from __future__ import annotations

from vbhc_code.cli.app import app, command  # noqa: F401
