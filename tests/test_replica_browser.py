"""In a real Chromium, the post page's own script appends every further comment page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_replica_drift import read_date

from replica.drift import PostStyle
from replica.server import ReplicaServer
from replica.site import SHOWCASE_COMMENTS, SHOWCASE_POST, build_site


@pytest.mark.browser
def test_clicking_load_more_appends_all_57_comments(page: Any, artifacts_dir: Path) -> None:
    site = build_site(n_posts=30, seed=7)
    expected_ids = [f"comment-{c.comment_id}" for c in site.comments(SHOWCASE_POST)]
    assert len(expected_ids) == SHOWCASE_COMMENTS == 57
    with ReplicaServer(site) as server:
        page.goto(f"{server.url}/posts/{SHOWCASE_POST}")
        assert page.locator("li.comment").count() == 10
        button = page.get_by_role("button", name="ดูความเห็นเพิ่มเติม")
        clicks = 0
        while button.count():
            before = page.locator("li.comment").count()
            button.click()
            page.wait_for_function(
                "n => document.querySelectorAll('li.comment').length > n", arg=before
            )
            clicks += 1
            assert clicks <= 10
        assert clicks == 5
        ids = page.eval_on_selector_all("li.comment", "els => els.map(e => e.id)")
        assert ids == expected_ids
        # Appended comments have the same structure as the server-rendered ones.
        last = page.locator("li.comment").last
        assert last.locator(".comment-body p").count() >= 1
        assert last.locator(".comment-meta").inner_text().startswith("เขียนเมื่อ")
        assert page.locator("time.timeago").first.inner_text() != ""
        hits = server.hits()
        assert [hits[f"/posts/{SHOWCASE_POST}/comments?page={p}"] for p in range(2, 7)] == [1] * 5
        page.screenshot(path=str(artifacts_dir / "replica-57-comments.png"), full_page=True)


@pytest.mark.browser
def test_a_drifting_page_shows_every_comment_in_bangkok_time(page: Any) -> None:
    """On a drifting page whose comments JSON gives UTC times, the page's own script shows
    each appended comment with its author (typed guest names too) and its Bangkok time."""
    seed = next(
        s
        for s in range(1, 200)
        if PostStyle.for_post(
            site := build_site(30, s, drift=s), site.posts[SHOWCASE_POST]
        ).time_style
        == "utc"
    )
    site = build_site(30, seed, drift=seed)
    truth = site.ground_truth()["comments"][str(SHOWCASE_POST)]
    with ReplicaServer(site, fail_once=False) as server:
        page.goto(f"{server.url}/posts/{SHOWCASE_POST}")
        button = page.locator("button[data-next]")
        while button.count():
            before = page.locator("li[id^=comment-]").count()
            button.click()
            page.wait_for_function(
                "n => document.querySelectorAll('li[id^=comment-]').length > n", arg=before
            )
        shown = page.eval_on_selector_all(
            "li[id^=comment-]", "els => els.map(e => [e.id, e.innerText])"
        )
    assert [i for i, _ in shown] == [f"comment-{c['comment_id']}" for c in truth]
    for (_, text), want in zip(shown, truth, strict=True):
        assert want["author_name"] in text
        assert read_date(text.split("เขียนเมื่อ", 1)[1]) == datetime.fromisoformat(
            want["created_at"]
        ), (text, want)
