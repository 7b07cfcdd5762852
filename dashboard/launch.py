"""The ``streamlit run`` command line that starts the dashboard (the ``dashboard`` and
``demo`` commands, the tests and the browser benchmark start it this way)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
DEMO_MODE_ENV = "TAGDRAW_DASHBOARD_DEMO_MODE"


def dashboard_command(
    db_path: Path, *, host: str = "127.0.0.1", port: int = 8501, demo_mode: bool = False
) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment for the dashboard."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
    ]
    env = dict(os.environ)
    env["TAGDRAW_DB"] = str(db_path.resolve())
    env[DEMO_MODE_ENV] = "1" if demo_mode else "0"
    # The app imports the project's packages; make them importable from any directory.
    root = str(APP_PATH.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return cmd, env
