"""Thai text and date normalisation seen from the entries: a tag that looks like the keyword
makes a post a tagged candidate, and a deadline typed to the minute includes that minute."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from warehouse.campaigns import create_campaign
from warehouse.db import connect
from warehouse.entries import list_entries
from warehouse.models import ListingItem, Post
from warehouse.review.service import compute_suggestions
from warehouse.store import record_campaign_posts, store_posts
from warehouse.thai import BANGKOK, normalise_tag

KEYWORD = "ทำดีเพื่อสังคม"  # as the organiser typed it: SARA AM (U+0E33)
LOOKALIKES = {
    1002: "ท\u0e4d\u0e32ดีเพื่อสังคม",  # NIKHAHIT + SARA AA
    1003: "#ทำดีเพื่อสังคม\u202c",  # POP DIRECTIONAL FORMATTING
    1004: "\u2066ทำดีเพื่อสังคม\u2069",  # bidi isolates
    1005: "ทำดีเพื่อสังคม\u034f",  # COMBINING GRAPHEME JOINER
}
IN_WINDOW = datetime(2013, 8, 10, 12, 0, tzinfo=BANGKOK)
SEEN = datetime(2013, 9, 1, tzinfo=BANGKOK)


def post(n: int, raw_tag: str, created: datetime = IN_WINDOW) -> Post:
    # Tags stored as the crawler stores them (scraper.parse: normalise_tag of each raw tag).
    return Post(
        post_number=n,
        url=f"/posts/{n}",
        title=f"บันทึก {n}",
        author_username=f"u{n}",
        author_name=f"U{n}",
        book_slug=None,
        created_at=created,
        updated_at=None,
        tags=(normalise_tag(raw_tag),),
        raw_tags=(raw_tag,),
        body_text=f"เนื้อหา {n}",
        license_text=None,
        comment_count_declared=0,
    )


def campaign(db_path: Path, posts: list[Post], *, closes_at: str = "2013-08-31") -> None:
    with connect(db_path) as con:
        create_campaign(
            con,
            "c1",
            title="ทำดี",
            keywords=[KEYWORD],
            opens_at="2013-08-06",
            closes_at=closes_at,
            prizes=2,
            alternates=2,
            prize_description="หนังสือ",
            site_url="https://www.gotoknow.org",
        )
        store_posts(con, posts, seen_at=SEEN)


def test_lookalike_tags_make_tagged_candidates(db_path: Path) -> None:
    campaign(db_path, [post(1001, KEYWORD)] + [post(n, t) for n, t in LOOKALIKES.items()])
    with connect(db_path) as con:
        entries = {e.post_number: e for e in list_entries(con, "c1")}
    assert sorted(entries) == [1001, *sorted(LOOKALIKES)]
    for e in entries.values():
        assert e.facts.tagged, e.post_number
        assert e.facts.reasons() == [], e.post_number


def test_listed_lookalike_is_not_ruled_untagged(db_path: Path) -> None:
    posts = [post(1001, KEYWORD), post(1002, LOOKALIKES[1002])]
    campaign(db_path, posts)
    items = [ListingItem(p.post_number, p.url, p.title, p.author_username, p.author_name,
                         p.created_at.date(), 0) for p in posts]  # fmt: skip
    with connect(db_path) as con:
        record_campaign_posts(con, "c1", items, source="listing", seen_at=SEEN)
    compute_suggestions(str(db_path), "c1")
    with connect(db_path) as con:
        entries = {e.post_number: e for e in list_entries(con, "c1")}
    assert entries[1002].facts.tagged
    decision = entries[1002].decision
    assert decision is None or decision.reason != "untagged"
    assert entries[1002].status == entries[1001].status


def test_a_deadline_typed_to_the_minute_includes_that_minute(db_path: Path) -> None:
    # The site shows "31 ส.ค. 2556 23:59 น."; its <time datetime> carries 23:59:30.
    just_in = post(1001, KEYWORD, datetime(2013, 8, 31, 23, 59, 30, tzinfo=BANGKOK))
    too_late = post(1002, KEYWORD, datetime(2013, 9, 1, 0, 0, 0, tzinfo=BANGKOK))
    campaign(db_path, [just_in, too_late], closes_at="31 ส.ค. 2556 23:59 น.")
    with connect(db_path) as con:
        entries = {e.post_number: e for e in list_entries(con, "c1")}
    assert entries[1001].facts.reasons() == []
    assert entries[1001].facts.in_window
    assert entries[1002].facts.reasons() == ["late"]


def test_a_buddhist_era_iso_deadline_is_the_same_day(db_path: Path) -> None:
    on_the_day = post(1001, KEYWORD, datetime(2013, 8, 31, 20, 0, tzinfo=BANGKOK))
    campaign(db_path, [on_the_day], closes_at="2556-08-31")
    with connect(db_path) as con:
        (entry,) = list_entries(con, "c1")
        closes = con.execute("SELECT closes_at FROM campaigns WHERE slug = 'c1'").fetchone()[0]
    assert closes == datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
    assert entry.facts.reasons() == []
