"""Idempotent batch writes: posts, comments, versions, gone, campaign listings."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse.campaigns import create_campaign
from warehouse.db import connect, migrate, run
from warehouse.decisions import record_decision
from warehouse.errors import UserError
from warehouse.models import Comment, ListingItem, Post
from warehouse.store import (
    mark_gone,
    mark_unlisted,
    record_campaign_posts,
    store_comments,
    store_posts,
)
from warehouse.thai import BANGKOK

T0 = datetime(2013, 8, 20, 9, 0, tzinfo=BANGKOK)


def make_post(n: int, *, comments: int = 2, **changes: Any) -> Post:
    post = Post(
        post_number=n,
        url=f"/posts/{n}",
        title=f"บันทึก {n}",
        author_username=f"user{n % 7}",
        author_name=f"ผู้เขียน {n % 7}",
        book_slug="book",
        created_at=T0 - timedelta(days=n % 5),
        updated_at=None,
        tags=("สังคมออนไลน์", "ราชการ"),
        raw_tags=("#สังคมออนไลน์", "ราชการ"),
        body_text=f"ย่อหน้าแรก {n}\u200b\n\nย่อหน้าสอง",
        license_text=None,
        comment_count_declared=comments,
        comments=tuple(
            Comment(n * 1000 + i, n, i, None if i == 1 else f"c{i}", f"คน {i}", T0, f"ชม {i}")
            for i in range(1, comments + 1)
        ),
    )
    return replace(post, **changes)


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in ("posts", "comments", "post_versions", "campaign_posts", "decisions")
    }


def test_the_same_batch_twice_gives_the_same_rows(db_path: Path) -> None:
    batch = [make_post(n) for n in range(1, 31)]
    with connect(db_path) as con:
        first = store_posts(con, batch, seen_at=T0)
        after_first = snapshot(con)
    with connect(db_path) as con:
        second = store_posts(con, batch, seen_at=T0)
        assert snapshot(con) == after_first
    assert first.new == list(range(1, 31)) and first.comments_new == 60
    assert second.unchanged == list(range(1, 31)) and second.comments_new == 0
    assert not second.new and not second.changed
    assert len(after_first["posts"]) == 30 and len(after_first["post_versions"]) == 30


def test_text_is_stored_as_given_with_zero_width_characters(db_path: Path) -> None:
    run(lambda con: store_posts(con, [make_post(5)], seen_at=T0), db_path)
    body, tags = run(
        lambda con: con.execute("SELECT body_text, tags FROM posts").fetchone(), db_path
    )
    assert body == "ย่อหน้าแรก 5\u200b\n\nย่อหน้าสอง"
    assert tags == ["สังคมออนไลน์", "ราชการ"]


def test_versions_grow_only_when_content_changes(db_path: Path) -> None:
    later = T0 + timedelta(days=1)
    with connect(db_path) as con:
        store_posts(con, [make_post(1)], seen_at=T0)
        # Same content, more comments declared: not a new version, but fields updated.
        result = store_posts(con, [make_post(1, comments=3)], seen_at=later)
        assert result.unchanged == [1] and result.comments_new == 1
        edited = make_post(1, comments=3, body_text="แก้ไขแล้ว", updated_at=later)
        assert store_posts(con, [edited], seen_at=later + timedelta(hours=1)).changed == [1]
        assert store_posts(con, [edited], seen_at=later + timedelta(hours=2)).unchanged == [1]
        versions = con.execute(
            "SELECT version_no, body_text, seen_at FROM post_versions ORDER BY version_no"
        ).fetchall()
        post = con.execute(
            "SELECT first_seen_at, last_seen_at, body_text, comment_count_declared FROM posts"
        ).fetchone()
    assert [(v[0], v[1]) for v in versions] == [(1, make_post(1).body_text), (2, "แก้ไขแล้ว")]
    assert versions[1][2] == later + timedelta(hours=1)
    assert post == (T0, later + timedelta(hours=2), "แก้ไขแล้ว", 3)


def test_tag_order_alone_is_not_an_edit(db_path: Path) -> None:
    with connect(db_path) as con:
        store_posts(con, [make_post(1)], seen_at=T0)
        swapped = make_post(1, tags=("ราชการ", "สังคมออนไลน์"))
        assert store_posts(con, [swapped], seen_at=T0).unchanged == [1]
        removed = make_post(1, tags=("ราชการ",))
        assert store_posts(con, [removed], seen_at=T0).changed == [1]


def test_comments_are_never_deleted(db_path: Path) -> None:
    later = T0 + timedelta(days=1)
    with connect(db_path) as con:
        store_posts(con, [make_post(1, comments=3)], seen_at=T0)
        store_posts(con, [make_post(1, comments=1)], seen_at=later)
        rows = con.execute(
            "SELECT c.comment_id, c.last_seen_at < p.last_seen_at AS not_shown_last_time "
            "FROM comments c JOIN posts p USING (post_number) ORDER BY 1"
        ).fetchall()
    assert rows == [(1001, False), (1002, True), (1003, True)]


def test_store_comments_adds_later_pages(db_path: Path) -> None:
    with connect(db_path) as con:
        store_posts(con, [make_post(1, comments=10)], seen_at=T0)
        more = [Comment(5000 + i, 1, 10 + i, "x", "X", T0, "อีก") for i in range(1, 4)]
        assert store_comments(con, more, seen_at=T0) == 3
        assert store_comments(con, more, seen_at=T0) == 0
        assert con.execute("SELECT count(*) FROM comments").fetchone() == (13,)


def test_mark_gone_never_deletes_and_a_returning_post_is_back(db_path: Path) -> None:
    later = T0 + timedelta(days=1)
    with connect(db_path) as con:
        create_campaign(
            con,
            "c",
            keywords=["สังคมออนไลน์"],
            opens_at="2013-08-01",
            closes_at="2013-08-31",
            prizes=1,
        )
        store_posts(con, [make_post(1), make_post(2)], seen_at=T0)
        record_campaign_posts(
            con,
            "c",
            [ListingItem(3, "/posts/3", "หายไป", "Someone", "ใครสักคน", None, 4)],
            source="listing",
            seen_at=T0,
        )
        record_decision(con, "c", 1, "eligible", decided_by="mod")
        assert mark_gone(con, [1, 3], "not_found", seen_at=later) == [1, 3]
        assert mark_gone(con, [2], "private", seen_at=later) == [2]
        rows = con.execute(
            "SELECT post_number, gone, gone_reason, title, author_username, content_hash IS NULL "
            "FROM posts ORDER BY 1"
        ).fetchall()
        assert rows == [
            (1, True, "not_found", "บันทึก 1", "user1", False),
            (2, True, "private", "บันทึก 2", "user2", False),
            (3, True, "not_found", "หายไป", "Someone", True),  # a stub from the listing
        ]
        assert con.execute("SELECT count(*) FROM comments").fetchone() == (4,)
        assert con.execute("SELECT count(*) FROM decisions").fetchone() == (1,)
        result = store_posts(con, [make_post(1), make_post(3)], seen_at=later)
        assert result.unchanged == [1] and result.new == [3]
        assert con.execute("SELECT count(*) FROM posts WHERE gone").fetchone() == (1,)
        with pytest.raises(UserError, match="gone reason"):
            mark_gone(con, [1], "vanished", seen_at=later)


def test_crawler_writes_never_touch_decisions(db_path: Path) -> None:
    with connect(db_path) as con:
        create_campaign(
            con,
            "c",
            keywords=["สังคมออนไลน์"],
            opens_at="2013-08-01",
            closes_at="2013-08-31",
            prizes=1,
        )
        store_posts(con, [make_post(1)], seen_at=T0)
        record_decision(con, "c", 1, "spam", decided_by="mod")
        before = con.execute("SELECT * FROM decisions").fetchall()
        store_posts(con, [make_post(1, title="ใหม่")], seen_at=T0 + timedelta(days=1))
        mark_gone(con, [1], "not_found", seen_at=T0 + timedelta(days=2))
        record_campaign_posts(
            con,
            "c",
            [ListingItem(1, "/posts/1", "x", "a", "A", None, 0)],
            source="listing",
            seen_at=T0,
        )
        mark_unlisted(con, "c", [])
        assert con.execute("SELECT * FROM decisions").fetchall() == before


def test_campaign_posts_keep_the_listing_source_and_unlisting(db_path: Path) -> None:
    def item(n: int, count: int | None = 1) -> ListingItem:
        return ListingItem(n, f"/posts/{n}", f"t{n}", f"u{n}", f"U{n}", T0.date(), count)

    later = T0 + timedelta(hours=1)
    with connect(db_path) as con:
        create_campaign(
            con,
            "c",
            keywords=["สังคมออนไลน์"],
            opens_at="2013-08-01",
            closes_at="2013-08-31",
            prizes=1,
        )
        record_campaign_posts(con, "c", [item(1), item(2)], source="listing", seen_at=T0)
        record_campaign_posts(
            con, "c", [item(2), item(3)], source="near_miss_listing", seen_at=later
        )
        record_campaign_posts(con, "c", [item(1, count=5)], source="listing", seen_at=later)
        rows = con.execute(
            "SELECT post_number, source, listed, listing_comment_count, first_seen_at, last_seen_at "
            "FROM campaign_posts ORDER BY 1"
        ).fetchall()
        assert rows == [
            (1, "listing", True, 5, T0, later),
            (2, "listing", True, 1, T0, later),
            (3, "near_miss_listing", False, 1, later, later),
        ]
        assert mark_unlisted(con, "c", [1]) == [2]
        assert mark_unlisted(con, "c", [1]) == []
        record_campaign_posts(con, "c", [item(2)], source="listing", seen_at=later)
        listed = con.execute("SELECT post_number FROM campaign_posts WHERE listed ORDER BY 1")
        assert listed.fetchall() == [(1,), (2,)]
        with pytest.raises(UserError, match="Unknown campaign"):
            record_campaign_posts(con, "nope", [item(1)], source="listing", seen_at=T0)
        with pytest.raises(UserError, match="Unknown source"):
            record_campaign_posts(con, "c", [item(1)], source="rss", seen_at=T0)


def test_naive_datetimes_are_refused(db_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"), connect(db_path) as con:
        store_posts(con, [make_post(1)], seen_at=datetime(2013, 8, 1))


def test_a_batch_naming_a_post_twice_keeps_the_last(db_path: Path) -> None:
    with connect(db_path) as con:
        result = store_posts(con, [make_post(1), make_post(1, title="ล่าสุด")], seen_at=T0)
        assert result.new == [1]
        assert con.execute("SELECT title FROM posts").fetchall() == [("ล่าสุด",)]


def test_a_thousand_posts_with_comments_store_in_one_batch(db_path: Path) -> None:
    batch = [make_post(n, comments=5) for n in range(1, 1001)]
    run(lambda con: None, db_path)  # migrate outside the timing
    # Timings are printed for information; speed targets live in bench/, not in tests.
    started, cpu = time.perf_counter(), time.process_time()
    with connect(db_path) as con:
        result = store_posts(con, batch, seen_at=T0)
    first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    with connect(db_path) as con:
        store_posts(con, [replace(p, title=p.title + "!") for p in batch], seen_at=T0)
    second, second_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"1,000 posts + 5,000 comments: first {first:.3f} s ({first_cpu:.3f} s CPU), "
        f"again with edits {second:.3f} s ({second_cpu:.3f} s CPU)"
    )
    assert len(result.new) == 1000 and result.comments_new == 5000


def test_tags_are_stored_as_written_with_the_normalised_form_beside_them(db_path: Path) -> None:
    # Written: 'ICT', 'e-Government', SARA AM typed as NIKHAHIT + SARA AA, Thai digits.
    written = ("ICT", "e-Government", "ท\u0e4d\u0e32ดี", "ปี๒๕๕๖")
    with connect(db_path) as con:
        store_posts(con, [make_post(1, tags=written)], seen_at=T0)
        post = con.execute("SELECT tags, tags_normalised FROM posts").fetchone()
        version = con.execute("SELECT tags, tags_normalised FROM post_versions").fetchone()
    assert post == version
    assert post == (list(written), ["ict", "e-government", "ทำดี", "ปี2556"])


def test_a_tag_written_in_another_case_is_not_an_edit(db_path: Path) -> None:
    with connect(db_path) as con:
        store_posts(con, [make_post(1, tags=("ICT", "ราชการ"))], seen_at=T0)
        result = store_posts(con, [make_post(1, tags=("ict", "ราชการ"))], seen_at=T0)
        assert result.unchanged == [1]
        # What the page shows now is what posts holds.
        assert con.execute("SELECT tags FROM posts").fetchone() == (["ict", "ราชการ"],)
        assert con.execute("SELECT count(*) FROM post_versions").fetchone() == (1,)


def test_migration_0009_keeps_stored_tags_and_fills_the_normalised_form(db_path: Path) -> None:
    con = duckdb.connect(str(db_path))
    try:
        con.execute("BEGIN")
        migrate(con, up_to=8)
        con.execute(
            "INSERT INTO posts (post_number, url, title, tags, content_hash, first_seen_at, "
            "last_seen_at) VALUES (1, '/posts/1', 't', ['ict', 'สังคมออนไลน์'], 'h', now(), now()), "
            "(2, '/posts/2', 't', [], NULL, now(), now())"
        )
        con.execute(
            "INSERT INTO post_versions (post_number, version_no, seen_at, title, body_text, tags, "
            "updated_at, content_hash) VALUES (1, 1, now(), 't', 'b', ['ict'], NULL, 'h')"
        )
        con.execute("COMMIT")
    finally:
        con.close()
    with connect(db_path) as con:  # migrates the rest
        assert con.execute(
            "SELECT post_number, tags, tags_normalised FROM posts ORDER BY 1"
        ).fetchall() == [(1, ["ict", "สังคมออนไลน์"], ["ict", "สังคมออนไลน์"]), (2, [], [])]
        assert con.execute("SELECT tags, tags_normalised FROM post_versions").fetchall() == [
            (["ict"], ["ict"])
        ]
