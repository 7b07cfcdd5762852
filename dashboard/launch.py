"""The ``streamlit run`` command line that starts the dashboard, the wait for it to answer,
and the wait for a page's run to finish (the ``dashboard`` and ``demo`` commands, the tests
and the browser benchmark start it and drive it this way)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

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


class DashboardDidNotStart(RuntimeError):
    """The dashboard process exited, or did not answer its health check in time."""


def wait_until_healthy(url: str, proc: subprocess.Popen[Any], timeout_s: float = 90) -> None:
    """Until Streamlit at ``url`` answers its health check. Raises ``DashboardDidNotStart``
    (with the end of the process's output, if it was captured) if ``proc`` exits first or
    ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        exited = proc.poll() is not None
        if exited or time.monotonic() > deadline:
            output = proc.stdout.read() if exited and proc.stdout else ""
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            what = f"exited with {proc.returncode}" if exited else f"did not answer at {url}"
            tail = f": {output[-500:].strip()}" if output.strip() else ""
            raise DashboardDidNotStart(f"the dashboard {what}{tail}")
        time.sleep(0.3)


def wait_until_run_finished(page: Any, timeout_ms: float | None = None) -> None:
    """Until the dashboard open in ``page`` (a Playwright page) has finished its run: no
    running indicator. A click or key made while the page re-runs can be lost, so browser
    tests and the browser bench wait for this before acting. ``timeout_ms`` defaults to the
    page's own timeout."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stStatusWidgetRunning\"]')",
        timeout=timeout_ms,
    )
