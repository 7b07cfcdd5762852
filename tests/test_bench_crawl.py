"""``bench/bench_crawl.py`` itself, on a small replica: it must measure what it says (both
sides fetch the same posts, the crawl is checked complete against the ground truth, the
floors cover the same pages and the same number of render checks). No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_bench_crawl_measures_a_complete_crawl_beside_plain_http(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            "bench/bench_crawl.py",
            "--posts",
            "60",
            "--seed",
            "5",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    crawl, plain = figures["tagdraw_crawl"], figures["plain_http"]
    assert crawl["complete"] is True and crawl["status"] == "ok", crawl
    assert crawl["differences"] == []
    # Both sides read the same posts; the crawl's requests include robots.txt and retries.
    assert crawl["posts"] == plain["posts"] > 0
    assert crawl["requests"] >= plain["requests"]
    assert figures["ratio"] == pytest.approx(crawl["posts_per_s"] / plain["posts_per_s"])
    assert crawl["peak_rss_mb"] > crawl["peak_uss_mb"] > 0  # Chromium was running
    assert figures["render_checks"] >= 1
    assert figures["parsing_alone"]["posts"] == plain["posts"]
    assert figures["render_checks_alone"]["checks"] == figures["render_checks"]
    assert "ratio:" in done.stdout and "floors, each measured alone" in done.stdout
    # Revalidation measured both ways: without validators every due post is read again;
    # with them the site answers 304 to the checks.
    plain_check, with_304 = figures["revalidation"], figures["revalidation_with_validators"]
    assert plain_check["posts_checked"] > 0 and plain_check["not_modified"] == 0
    assert with_304["posts_checked"] > 0
    assert with_304["not_modified"] > 0 and with_304["status"] == "ok"
    assert with_304["bytes_per_post"] < plain_check["bytes_per_post"]
    assert "the site sending ETag/Last-Modified" in done.stdout
