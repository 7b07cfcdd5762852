"""scraper.plan.plan_fetches and scraper.render_policy.RenderPolicy: pure decisions, tested
without a database or a network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scraper.plan import (
    ANNOUNCEMENT,
    LISTING,
    NEAR_MISS,
    REVALIDATE,
    VANISHED,
    VERIFY,
    ListedBefore,
    StoredPost,
    plan_fetches,
)
from scraper.render_policy import RenderPolicy
from warehouse.models import ListingItem

NOW = datetime(2013, 8, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
KEYWORD = "สังคมออนไลน์"


def item(number: int, title: str = "t", comments: int | None = 3) -> ListingItem:
    return ListingItem(number, f"/posts/{number}", title, "u", "U", None, comments)


def stored(
    *,
    comments: int = 3,
    collected: int | None = None,
    tags: tuple[str, ...] = (KEYWORD,),
    gone: bool = False,
    fetched: datetime = NOW - timedelta(hours=1),
    content_hash: str | None = "h",
) -> StoredPost:
    return StoredPost(
        content_hash, comments, comments if collected is None else collected, gone, tags, fetched
    )


def before(title: str = "t", comments: int | None = 3, *, listed: bool = True) -> ListedBefore:
    return ListedBefore(title, comments, listed, LISTING)


def plan(**kw: Any) -> dict[int, str]:
    values: dict[str, Any] = {
        "keywords": [KEYWORD],
        "keyword_items": {},
        "near_miss_items": {},
        "keyword_complete": True,
        "previous": {},
        "stored": {},
        "frontier": {},
        "now": NOW,
        "recheck_gone_after": DAY,
    }
    values.update(kw)
    return plan_fetches(**values).to_fetch


def test_new_posts_are_fetched_and_unchanged_ones_are_not() -> None:
    items = {1: item(1), 2: item(2)}
    assert plan(keyword_items=items) == {1: LISTING, 2: LISTING}
    assert (
        plan(
            keyword_items=items,
            previous={1: before(), 2: before()},
            stored={1: stored(), 2: stored()},
        )
        == {}
    )


@pytest.mark.parametrize(
    ("listing", "facts", "why"),
    [
        (item(1, title="new title"), stored(), "title changed on the listing"),
        (item(1, comments=4), stored(), "comment count grew"),
        (item(1, comments=None), stored(), "count not shown"),
        (item(1), stored(collected=2), "thread short of its declared count"),
        (item(1), stored(tags=("อื่น",)), "the keyword was put back"),
        (item(1), stored(content_hash=None), "only a stub stored"),
    ],
)
def test_what_makes_a_listed_post_fetched(
    listing: ListingItem, facts: StoredPost, why: str
) -> None:
    assert plan(keyword_items={1: listing}, previous={1: before()}, stored={1: facts}) == {
        1: LISTING
    }, why


def test_stored_tags_are_compared_normalised() -> None:
    """Tags are stored as the author wrote them: '#ICT' carries the keyword 'ict'."""
    facts = stored(tags=("#ICT\u200b",))
    assert (
        plan(
            keywords=["ict"], keyword_items={1: item(1)}, previous={1: before()}, stored={1: facts}
        )
        == {}
    )


def test_unfinished_frontier_rows_and_full_are_fetched() -> None:
    kw = {"keyword_items": {1: item(1)}, "previous": {1: before()}, "stored": {1: stored()}}
    assert plan(**kw, frontier={1: "failed"}) == {1: LISTING}
    assert plan(**kw, frontier={1: "pending"}) == {1: LISTING}
    assert plan(**kw, full=True) == {1: LISTING}


def test_a_post_gone_from_a_complete_listing_is_fetched_once_to_learn_why() -> None:
    kw = {"previous": {1: before()}, "stored": {1: stored()}}
    assert plan(**kw) == {1: VANISHED}
    assert plan(**kw, keyword_complete=False) == {}
    assert plan(previous={1: before(listed=False)}, stored={1: stored()}) == {}


def test_a_gone_post_still_listed_is_looked_at_again_after_a_day() -> None:
    gone = {"keyword_items": {1: item(1)}, "previous": {1: before()}}
    recent = stored(gone=True, fetched=NOW - timedelta(hours=2))
    old = stored(gone=True, fetched=NOW - timedelta(hours=25))
    assert plan(**gone, stored={1: recent}) == {}
    assert plan(**gone, stored={1: old}) == {1: LISTING}


def test_near_miss_and_announcement() -> None:
    assert plan(near_miss_items={5: item(5)}, stored={5: stored(tags=("อื่น",))}) == {5: NEAR_MISS}
    # A near-miss post found carrying the keyword: fetched to read its tags.
    assert plan(near_miss_items={5: item(5)}, previous={5: before()}, stored={5: stored()}) == {
        5: NEAR_MISS
    }
    assert plan(announcement_post=9) == {9: ANNOUNCEMENT}
    assert plan(announcement_post=9, keyword_items={9: item(9)}) == {9: LISTING}


def test_a_resumed_run_skips_what_the_interrupted_run_finished() -> None:
    kw = {
        "keyword_items": {1: item(1), 2: item(2, title="renamed since")},
        "previous": {1: before(), 2: before()},
        "stored": {},
        "frontier": {1: "done", 2: "done"},
        "resuming": True,
    }
    result = plan_fetches(
        keywords=[KEYWORD],
        near_miss_items={},
        keyword_complete=True,
        now=NOW,
        recheck_gone_after=DAY,
        **kw,
    )
    assert result.to_fetch == {2: LISTING} and result.done_before == {1, 2}


def test_revalidation_checks_the_longest_unchecked_first_within_the_budget() -> None:
    hours = {1: 30, 2: 13, 3: 20, 4: 2, 5: 11}  # since the last fetch
    kw = {
        "keyword_items": {n: item(n) for n in hours},
        "previous": {n: before() for n in hours},
        "stored": {n: stored(fetched=NOW - timedelta(hours=h)) for n, h in hours.items()},
    }
    assert plan(**kw) == {}  # no revalidation asked
    assert plan(**kw, revalidate_after=DAY, revalidate_limit=10) == {
        1: REVALIDATE,
        3: REVALIDATE,
        2: REVALIDATE,
    }  # from half the period on (12 h)
    assert plan(**kw, revalidate_after=DAY, revalidate_limit=2) == {1: REVALIDATE, 3: REVALIDATE}
    # Gone posts and posts fetched for another reason are not counted in the budget.
    kw["stored"][1] = stored(gone=True, fetched=NOW - timedelta(hours=5))
    kw["keyword_items"][3] = item(3, comments=9)
    assert plan(**kw, revalidate_after=DAY, revalidate_limit=1) == {3: LISTING, 2: REVALIDATE}


def test_revalidation_spreads_a_campaign_over_the_runs_of_a_period() -> None:
    """2,000 posts all fetched at once, an hourly schedule, 300 checks a run: every post is
    checked again within 24 h and no run checks more than 300."""
    n = 2000
    fetched_at = dict.fromkeys(range(1, n + 1), NOW)
    items = {k: item(k) for k in fetched_at}
    previous = {k: before() for k in fetched_at}
    worst = timedelta(0)
    for hour in range(1, 24 * 4):
        now = NOW + timedelta(hours=hour)
        to_fetch = plan(
            keyword_items=items,
            previous=previous,
            stored={k: stored(fetched=t) for k, t in fetched_at.items()},
            now=now,
            revalidate_after=DAY,
            revalidate_limit=300,
        )
        assert len(to_fetch) <= 300
        for k in to_fetch:
            worst = max(worst, now - fetched_at[k])
            fetched_at[k] = now
        worst = max(worst, max(now - t for t in fetched_at.values()))
    assert worst <= DAY


def test_verify_checks_every_candidate_now() -> None:
    kw = {
        "keyword_items": {1: item(1), 2: item(2)},
        "previous": {1: before(), 2: before(), 3: before(listed=False)},
        "stored": {1: stored(), 2: stored(comments=1), 3: stored()},
    }
    assert plan(**kw, verify=True) == {1: VERIFY, 2: LISTING}


# --- the render policy ---------------------------------------------------------------------


def test_render_policy_samples_then_switches_once() -> None:
    policy = RenderPolicy("adaptive", check_first=2, check_every=5)
    assert policy.way() == "http" and policy.uses_javascript
    due = [policy.read_over_http(n, LISTING, comment_pages=1 if n < 4 else 0) for n in range(1, 11)]
    assert due == [True, True, False, False, True, False, False, False, False, True]
    first, again = policy.switch_to_click("differs")
    assert first and set(again) == set(range(1, 11))
    assert policy.way() == "click" and policy.clicking_everything
    # Already switched: only what was read over HTTP since is handed back.
    policy.read_over_http(11, LISTING, comment_pages=0)
    assert policy.switch_to_click("again") == (False, {11: LISTING})


def test_render_policy_fixed_modes() -> None:
    assert RenderPolicy("render").way() == "render"
    assert not RenderPolicy("render").uses_javascript
    assert RenderPolicy("click").way() == "click"
    assert RenderPolicy("click").switch_to_click("x") == (False, {})
    with pytest.raises(ValueError, match="comments_mode"):
        RenderPolicy("fast")


def test_a_skipped_check_samples_another_post() -> None:
    policy = RenderPolicy("adaptive", check_first=1, check_every=1000)
    assert policy.read_over_http(1, LISTING, comment_pages=1)
    policy.check_skipped(checks_made=0)
    assert policy.read_over_http(2, LISTING, comment_pages=1)
    assert not policy.read_over_http(3, LISTING, comment_pages=1)


def test_what_is_known_of_posts_checked_again() -> None:
    """Revalidated and verified live posts carry their stored facts (a page showing the same
    needs no comment pages); a stored-gone post does not (it must be stored again if live)."""
    result = plan_fetches(
        keywords=[KEYWORD],
        keyword_items={1: item(1), 2: item(2)},
        near_miss_items={},
        keyword_complete=True,
        previous={1: before(), 2: before()},
        stored={1: stored(), 2: stored(gone=True)},
        frontier={},
        now=NOW,
        recheck_gone_after=DAY,
        verify=True,
    )
    assert result.to_fetch == {1: VERIFY, 2: VERIFY}
    assert set(result.known) == {1}
