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
    """The dashboard over ``db_path`` with environment ``env``; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tagdraw", "--db", str(db_path), "dashboard", "--port", str(port)],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_healthy(url, proc)
        except DashboardDidNotStart as exc:
            pytest.fail(str(exc))
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we started: tagdraw and streamlit
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
