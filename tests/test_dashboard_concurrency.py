"""While a crawl writes post batches to the same warehouse file (another process),
moderators' decisions made through the dashboard's own call path all succeed, none is
lost, and no lock error surfaces."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard import actions, queries, seed
from dashboard.context import call_db
from warehouse.db import run
from warehouse.decisions import decision_history

ROOT = Path(__file__).resolve().parent.parent
SLUG = "demo"

WRITER = r"""
import sys, time
from datetime import datetime
from pathlib import Path
from dashboard import seed
from warehouse.db import run
from warehouse.store import record_campaign_posts, store_posts
from warehouse.thai import BANGKOK

path, stop_file = Path(sys.argv[1]), Path(sys.argv[2])
give_up = time.monotonic() + 180
batch = 0
while not stop_file.exists() and time.monotonic() < give_up:
    posts = seed.make_posts(40, first=700_000 + batch * 40, seed=batch)
    seen = datetime.now(BANGKOK)
    def write(con, posts=posts, seen=seen):
        store_posts(con, posts, seen_at=seen)
        record_campaign_posts(con, "demo", seed.listing_items(posts), source="listing", seen_at=seen)
    run(write, path)
    batch += 1
    time.sleep(0.05)
print(batch)
"""


@pytest.mark.slow
def test_decisions_succeed_while_a_crawl_writes(db_path: Path) -> None:
    seed.ensure_campaign(db_path, SLUG)
    info = seed.seed_small(db_path, SLUG, n=40, hostile=False)
    posts = [info["first"] + i for i in range(8)]
    stop_file = db_path.parent / "stop-writer"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(stop_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    made: dict[int, int] = {}
    errors: list[str] = []
    try:
        time.sleep(1.0)  # let the writer get going
        for index, post in enumerate(posts):
            status = ("eligible", "spam", "ineligible")[index % 3]
            started = time.monotonic()
            try:
                # Exactly what the review page does: read the entry, then decide on what it showed.
                detail = call_db(db_path, queries.entry_detail, SLUG, post)
                shown = detail.entry.decision.decision_id if detail.entry.decision else None
                decision = call_db(
                    db_path,
                    actions.decide,
                    SLUG,
                    post,
                    status,
                    decided_by=f"mod{index % 2}",
                    shown_decision_id=shown,
                    reason="other" if status == "ineligible" else None,
                )
                call_db(db_path, queries.review_queue, SLUG, page=1)
                made[post] = decision.decision_id
            except Exception as exc:  # any failure, including a lock error, fails the test
                errors.append(f"{post}: {type(exc).__name__}: {exc}")
            latencies.append(time.monotonic() - started)
            assert writer.poll() is None, "the writer stopped early"
    finally:
        stop_file.touch()
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-2000:]
    batches = int(out.strip() or 0)
    assert batches >= 2, "the writer should have written several batches meanwhile"
    assert errors == []
    assert len(made) == len(posts)
    # None lost: every decision is the entry's latest, exactly once.
    for post, decision_id in made.items():
        history = run(lambda con, post=post: decision_history(con, SLUG, post), db_path)
        assert [d.decision_id for d in history] == [decision_id]
    written = run(
        lambda con: con.execute(
            "SELECT count(*) FROM posts WHERE post_number >= 700000"
        ).fetchone(),
        db_path,
    )[0]
    assert written == batches * 40
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else latencies[0]
    print(
        f"\n{len(made)} decisions during {batches} writer batches; p95 read+decide+queue {p95:.3f} s"
    )
