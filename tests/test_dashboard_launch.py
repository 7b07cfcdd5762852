"""The wait for the dashboard to answer, shared by the demo, the tests and the bench."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ports import free_port

from dashboard.launch import DashboardDidNotStart, wait_until_healthy


def test_a_server_that_exits_is_reported_with_its_last_words() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "print('port already in use'); raise SystemExit(3)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    with pytest.raises(DashboardDidNotStart, match=r"exited with 3: port already in use$"):
        wait_until_healthy(f"http://127.0.0.1:{free_port()}", proc, timeout_s=30)


def test_a_server_that_never_answers_is_given_up_on() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    url = f"http://127.0.0.1:{free_port()}"
    try:
        with pytest.raises(DashboardDidNotStart, match=f"did not answer at {url}$"):
            wait_until_healthy(url, proc, timeout_s=1)
    finally:
        proc.kill()
        proc.wait()
