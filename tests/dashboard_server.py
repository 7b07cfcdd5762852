"""The real ``tagdraw dashboard`` server for browser tests: started in its own process group
on a free port, waited for until Streamlit answers its health check, and stopped (the whole
group: tagdraw and streamlit) at the end, whatever happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from ports import free_port

from dashboard.launch import DashboardDidNotStart, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_dashboard(db_path: Path, env: Mapping[str, str]) -> Iterator[str]:
    """The dashboard over ``db_path`` with environment ``env``; yields its URL. Its output
    goes to ``dashboard.log`` beside the database: a pipe nobody reads while the test runs
    would stop the server once it filled."""
    port = free_port()
    log_path = db_path.parent / "dashboard.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tagdraw",
                "--db",
                str(db_path),
                "dashboard",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_healthy(url, proc)
        except DashboardDidNotStart as exc:
            output = log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"{exc}; its output: {output}")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we started: tagdraw and streamlit
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
