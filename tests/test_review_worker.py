"""The review's second process is never forked from a thread.

``tagdraw schedule`` runs the review in a worker thread (APScheduler); a child forked from
a process with threads can deadlock on a lock another thread held at the fork.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime
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


def test_spam_worker_is_not_forked_from_the_scheduler_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    posts = _posts()
    serial = detect.review_posts(posts, with_passages=False)
    assert serial.spam  # the comparison below compares something
    used: list[str | None] = []
    real_get_context = multiprocessing.get_context

    def get_context(method: str | None = None) -> Any:
        used.append(method)
        return real_get_context(method)

    monkeypatch.setattr(detect, "PARALLEL_FROM", 1)
    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    results: list[detect.ReviewResult] = []
    worker = threading.Thread(
        target=lambda: results.append(detect.review_posts(posts, with_passages=False))
    )
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the review hung in its worker thread"
    assert used and all(method in ("forkserver", "spawn") for method in used), used
    (parallel,) = results
    assert {n: r.signals for n, r in parallel.spam.items()} == {
        n: r.signals for n, r in serial.spam.items()
    }
    assert parallel.suggestions == serial.suggestions
