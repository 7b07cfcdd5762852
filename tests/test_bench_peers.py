"""The benchmark's own correctness checks (bench/peers): a fast run must also be complete.

No browser here: the plain-HTTP peer against a real replica, and ``verify`` catching an
incomplete or wrong crawl. The browser peers (Crawlee, Scrapy) need .venv-bench and run in
``python3 bench/compare.py``.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from replica.server import ReplicaServer
from replica.site import build_site

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from peers import plain_http  # noqa: E402
from peers.harness import (  # noqa: E402
    Check,
    Measured,
    Run,
    classify_hits,
    evaluate_targets,
    load_jsonl,
    verify,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site_and_truth():
    site = build_site(n_posts=60, seed=3)
    return site, site.ground_truth()


def _records_from_truth(truth: dict) -> dict[int, dict]:
    """A perfect crawl, built from the ground truth itself."""
    records = {}
    for number in truth["listed"]:
        post = copy.deepcopy(truth["posts"][str(number)])
        post["comments"] = copy.deepcopy(truth["comments"].get(str(number), []))
        records[int(number)] = post
    return records


def test_plain_http_peer_is_complete_and_counted_at_the_replica(site_and_truth, tmp_path):
    site, truth = site_and_truth
    with ReplicaServer(site) as server:
        start = f"{server.url}/posts?tag={quote(truth['keyword'])}"
        out = tmp_path / "items.jsonl"
        assert plain_http.main([start, "--out", str(out), "--concurrency", "4"]) == 0
        hits = classify_hits(server.hits())
    check = verify(load_jsonl(out), truth, check_fields=False)
    assert check.complete, check.problems
    assert check.posts_found == len(truth["listed"]) > 0
    assert check.comments_found == check.comments_expected > 0
    # Every listed post fetched exactly once, plus listing and comments pages.
    assert hits["post"] == len(truth["listed"])
    assert hits["listing"] >= len(truth["listed"]) // 20
    assert hits["comments"] > 0


def test_verify_accepts_a_perfect_crawl_and_flags_every_kind_of_gap(site_and_truth):
    _site, truth = site_and_truth
    perfect = _records_from_truth(truth)
    check = verify(perfect, truth, sample_every=1)
    assert check.complete, check.problems
    assert check.fields_checked > 0

    public = [n for n in truth["listed"] if truth["posts"][str(n)]["state"] == "public"]
    with_comments = next(n for n in public if truth["comments"].get(str(n)))

    missing_comment = copy.deepcopy(perfect)
    missing_comment[with_comments]["comments"].pop()
    assert not verify(missing_comment, truth).complete

    missing_post = copy.deepcopy(perfect)
    del missing_post[public[0]]
    assert not verify(missing_post, truth).complete

    wrong_title = copy.deepcopy(perfect)
    wrong_title[public[0]]["title"] = "something else"
    bad = verify(wrong_title, truth, sample_every=1)
    assert not bad.complete and "title" in bad.problems[0]

    wrong_body = copy.deepcopy(perfect)
    wrong_body[public[0]]["comments"] = [
        {**c, "body_text": c["body_text"] + " x"} for c in wrong_body[public[0]]["comments"]
    ]
    if wrong_body[public[0]]["comments"]:
        assert not verify(wrong_body, truth, sample_every=1).complete


def test_load_jsonl_reads_plain_http_records(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"post_number": 5, "state": "public", "comment_ids": [1, 2]}) + "\n")
    assert load_jsonl(path)[5]["comments"] == [{"comment_id": 1}, {"comment_id": 2}]


def _run(contender: str, phase: str, wall_s: float, requests: int, rss_mb: int) -> Run:
    measured = Measured(
        wall_s=wall_s, peak_rss_bytes=rss_mb * 2**20, cpu_s=1.0, cpu_rusage_s=1.0,
        cpu_sampled_s=1.0, peak_processes=1, cpu_by_process={}, exit_code=0, timed_out=False,
        stdout_tail="", log="",
    )  # fmt: skip
    check = Check(True, 2000, 2000, 9000, 9000, 1)
    return Run(contender, phase, 2, measured, {"total": requests}, check, (0.0, 0.0, 0.0))


@pytest.mark.parametrize(
    ("tagdraw_requests", "result", "figure"),
    [(3_247, "PASS", "3,247 vs 3,180 = 1.02x (rate 0.20x"), (3_300, "MISS", "= 1.04x")],
)
def test_the_request_target_counts_against_the_minimum_not_the_plain_http_rate(
    tagdraw_requests: int, result: str, figure: str
) -> None:
    # tagdraw at a fifth of plain HTTP's rate: no longer a target; its requests are.
    runs = [
        _run("plain-http", "full", 2.0, 3_180, 60),
        _run("tagdraw", "full", 10.0, tagdraw_requests, 900),
    ]
    targets = evaluate_targets(runs)
    assert not [t for t in targets if "plain-HTTP rate" in t["target"]]
    (requests,) = [t for t in targets if "1.03x the minimum" in t["target"]]
    assert requests["result"] == result and figure in requests["figure"], requests
