"""Small pieces the command modules share."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """Who ran the command, for the audit log: ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"
