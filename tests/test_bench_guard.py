"""Regression guard for the moderator's loop (the small version of bench/bench_dashboard.py):
with 10,000 entries, opening one entry must stay within twice the time of listing a page
of the queue (searching within 3.5 times), measured in the same run, interleaved, through
the call path the pages use. A ratio, not an absolute time, so a busy machine slows all three."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard import queries, seed
from dashboard.context import call_db

SLUG = "guard"
N_POSTS = 10_000
ROUNDS = 15
MAX_RATIO = {"open an entry": 2.0, "search": 3.5}  # x listing a page (search: ~1.8 now)
SEARCHES = ("เคารพซึ่งกัน", "หมายเลข 5461", "user0012", "ขอบคุณสำหรับ", "ออนไลน์ที่ดี")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "guard.duckdb"
    seed.ensure_campaign(path, SLUG)
    posts = seed.make_posts(N_POSTS, comments_per_post=1)
    seed.store_batches(path, SLUG, posts, batch=5000)
    return path


def _medians(calls: dict[str, Callable[[int], object]]) -> dict[str, float]:
    """Median ms of each call over ROUNDS rounds, the calls interleaved within a round."""
    for fn in calls.values():
        fn(-1)  # warm up: the first call computes the queue's cached facts
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(ROUNDS):
        for name, fn in calls.items():
            started = time.perf_counter()
            fn(i)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def test_opening_an_entry_and_searching_cost_no_more_than_listing_a_page(
    warehouse: Path,
) -> None:
    rng = random.Random(1)
    numbers = [seed.FIRST_POST + i for i in range(N_POSTS)]
    medians = _medians(
        {
            "list a page": lambda i: call_db(warehouse, queries.review_queue, SLUG, page=1 + i % 5),
            "open an entry": lambda i: call_db(
                warehouse, queries.entry_detail, SLUG, rng.choice(numbers)
            ),
            "search": lambda i: call_db(
                warehouse, queries.search_entries, SLUG, SEARCHES[i % len(SEARCHES)]
            ),
        }
    )
    baseline = medians["list a page"]
    summary = ", ".join(f"{name} {ms:.1f} ms" for name, ms in medians.items())
    print(f"bench guard, medians of {ROUNDS} rounds: {summary}")
    for name, ratio in MAX_RATIO.items():
        assert medians[name] <= ratio * baseline, (
            f"{name} takes {medians[name] / baseline:.1f}x listing a page ({summary})"
        )
