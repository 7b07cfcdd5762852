"""Three real processes share one warehouse file for 20+ seconds: a crawler-like writer
(a batch of posts every 100 ms), a moderator (a decision every 200 ms) and a reader
(entries). Every operation must succeed and every write must be there at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import pytest

from warehouse.campaigns import create_campaign
from warehouse.db import connect
from warehouse.models import Post
from warehouse.store import store_posts
from warehouse.thai import BANGKOK

ROOT = Path(__file__).resolve().parent.parent
DURATION_S = 20.0
SEEDED = 50
BATCH = 10

WORKER = textwrap.dedent(
    """
    import json, sys, time, traceback
    from datetime import datetime
    from pathlib import Path
    from warehouse.db import run
    from warehouse.decisions import record_decision
    from warehouse.entries import list_entries
    from warehouse.models import Comment, Post
    from warehouse.store import store_posts
    from warehouse.thai import BANGKOK

    role, db, duration, out, start_file = sys.argv[1:6]
    duration = float(duration)
    Path(out + ".ready").write_text("ready")
    while not Path(start_file).exists():
        time.sleep(0.005)
    end = float(Path(start_file).read_text()) + duration
    while time.time() < end - duration:
        time.sleep(0.001)
    now = datetime(2013, 8, 20, 10, 0, tzinfo=BANGKOK)
    latencies, failures, done = [], [], []
    statuses = ["eligible", "spam", "pending", "ineligible"]
    i = 0
    interval = {"writer": 0.1, "moderator": 0.2, "reader": 0.1}[role]
    while time.time() < end:
        if role == "writer":
            numbers = [1_000_000 + i * 10 + k for k in range(10)]
            posts = [Post(n, f"/posts/{n}", f"t{n}", f"u{n % 37}", "U", None, now, None,
                          ("kw",), ("#kw",), "body " * 40, None, 2,
                          tuple(Comment(n * 10 + c, n, c, None, "g", now, "hi") for c in (1, 2)))
                     for n in numbers]
            op = lambda con: store_posts(con, posts, seen_at=now)
        elif role == "moderator":
            status = statuses[i % 4]
            reason = "other" if status == "ineligible" else None
            op = lambda con: record_decision(con, "stress", 1 + i % 50, status, reason=reason,
                                             decided_by="mod")
        else:
            op = lambda con: (len(list_entries(con, "stress")),
                              con.execute("SELECT count(*) FROM posts").fetchone()[0])
        started = time.perf_counter()
        try:
            result = run(op, db, read_only=(role == "reader"))
            done.append(numbers if role == "writer" else result.decision_id
                        if role == "moderator" else result)
        except Exception:
            failures.append(traceback.format_exc(limit=3))
        elapsed = time.perf_counter() - started
        latencies.append(elapsed)
        i += 1
        time.sleep(max(0.0, interval - elapsed) if role != "writer" else interval)
    Path(out).write_text(json.dumps({"latencies": latencies, "failures": failures, "done": done}))
    """
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.mark.slow
def test_three_processes_share_the_warehouse_without_failures(
    db_path: Path, tmp_path: Path
) -> None:
    now = datetime(2013, 8, 20, tzinfo=BANGKOK)
    with connect(db_path) as con:
        create_campaign(
            con, "stress", keywords=["kw"], opens_at="2013-08-01", closes_at="2013-08-31", prizes=3
        )
        seed = [
            Post(
                n, f"/posts/{n}", "t", f"u{n}", "U", None, now, None, ("kw",), ("kw",), "b", None, 0
            )
            for n in range(1, SEEDED + 1)
        ]
        store_posts(con, seed, seen_at=now)

    start_file = tmp_path / "start"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    roles = ("writer", "moderator", "reader")
    outputs = {role: tmp_path / f"{role}.json" for role in roles}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                role,
                str(db_path),
                str(DURATION_S),
                str(outputs[role]),
                str(start_file),
            ],
            cwd=ROOT,
            env=env,
        )
        for role in roles
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(Path(str(o) + ".ready").exists() for o in outputs.values()):
            assert all(p.poll() is None for p in procs), "a worker died during start-up"
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.05)
        # Written under another name and renamed: a worker that sees the file must never
        # read it half-written (it waits for the name to exist, then reads it at once).
        pending = tmp_path / "start.tmp"
        pending.write_text(str(time.time() + 0.2))
        pending.replace(start_file)
        for proc in procs:
            proc.wait(timeout=DURATION_S + 120)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [p.returncode for p in procs] == [0, 0, 0]
    results = {role: json.loads(outputs[role].read_text()) for role in roles}

    all_latencies: list[float] = []
    for role in roles:
        lat = results[role]["latencies"]
        all_latencies += lat
        print(
            f"{role:9s}: {len(lat):4d} ops, failed {len(results[role]['failures'])}, "
            f"p50 {_percentile(lat, 0.5) * 1000:6.0f} ms, p95 {_percentile(lat, 0.95) * 1000:6.0f} ms, "
            f"max {max(lat) * 1000:6.0f} ms"
        )
    print(
        f"all      : {len(all_latencies)} ops, p95 {_percentile(all_latencies, 0.95) * 1000:.0f} ms"
    )
    for role in roles:
        assert results[role]["failures"] == [], results[role]["failures"][:1]

    written_batches = results["writer"]["done"]
    decisions = results["moderator"]["done"]
    # How many operations fit in the time depends on how busy the machine is.
    assert min(len(written_batches), len(decisions), len(results["reader"]["done"])) >= 3
    with connect(db_path, read_only=True) as con:
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        comments = con.execute("SELECT count(*) FROM comments").fetchone()[0]
        stored_ids = [
            r[0] for r in con.execute("SELECT decision_id FROM decisions ORDER BY 1").fetchall()
        ]
        stored_posts = {r[0] for r in con.execute("SELECT post_number FROM posts").fetchall()}
    assert posts == SEEDED + BATCH * len(written_batches)
    assert {n for batch in written_batches for n in batch} <= stored_posts
    assert comments == 2 * BATCH * len(written_batches)
    assert stored_ids == sorted(decisions)
