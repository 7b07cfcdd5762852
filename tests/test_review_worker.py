"""The review's second process is a fresh interpreter: never a fork (``tagdraw schedule``
runs the review in a worker thread, and a child forked from a threaded process can
deadlock on a lock another thread held), and never a re-run of the caller's main script
(multiprocessing's spawn and forkserver re-run it: under Streamlit, the dashboard app)."""

from __future__ import annotations

import os
import sys
import threading
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from warehouse.review import detect
from warehouse.review.model import ReviewPost

SPAMMY = "โปรโมชั่น สมัครเลย ฟรีเครดิต คลิก https://spam.example/x https://spam.example/y"


def _posts() -> list[ReviewPost]:
    when = datetime(2013, 8, 10, tzinfo=UTC)
    return [
        ReviewPost(n, f"user{n}", when, f"title {n}", SPAMMY if n % 3 == 0 else f"บันทึกที่ {n}")
        for n in range(1, 40)
    ]


def test_spam_worker_is_neither_forked_nor_a_rerun_of_the_main_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    posts = _posts()
    serial = detect.review_posts(posts, with_passages=False)
    assert serial.spam  # the comparison below compares something

    def no_fork() -> Any:
        raise AssertionError("os.fork called")

    # A main script that must not run again in the child (as the dashboard app under
    # Streamlit: it fails outside its server).
    app = tmp_path / "app.py"
    app.write_text("raise SystemExit('the main script ran again')\n", "utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(app)
    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(detect, "PARALLEL_FROM", 1)
    started: list[detect._SpamWorker] = []
    real_worker = detect._SpamWorker

    def worker(batch: Any) -> detect._SpamWorker:
        started.append(real_worker(batch))
        return started[-1]

    monkeypatch.setattr(detect, "_SpamWorker", worker)
    results: list[detect.ReviewResult] = []
    thread = threading.Thread(
        target=lambda: results.append(detect.review_posts(posts, with_passages=False))
    )
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the review hung in its worker thread"
    assert started and started[0].process.returncode == 0  # computed there, no fallback
    (parallel,) = results
    assert {n: r.signals for n, r in parallel.spam.items()} == {
        n: r.signals for n, r in serial.spam.items()
    }
    assert parallel.suggestions == serial.suggestions
