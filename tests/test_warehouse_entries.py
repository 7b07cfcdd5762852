"""Entries and their rule facts, computed from stored posts, listings and decisions."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from warehouse.campaigns import create_campaign
from warehouse.db import connect, run
from warehouse.decisions import record_decision
from warehouse.entries import Entry, list_entries
from warehouse.errors import UserError
from warehouse.models import ListingItem, Post
from warehouse.store import mark_gone, record_campaign_posts, store_posts
from warehouse.thai import BANGKOK

KW = "สังคมออนไลน์"
OPENS = datetime(2013, 8, 6, tzinfo=BANGKOK)
CLOSES = datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
IN = datetime(2013, 8, 20, 10, 0, tzinfo=BANGKOK)


def post(n: int, author: str = "alice", *, created: datetime = IN, **changes: object) -> Post:
    base = Post(
        post_number=n,
        url=f"/posts/{n}",
        title=f"บันทึก {n}",
        author_username=author,
        author_name=author.title(),
        book_slug=None,
        created_at=created,
        updated_at=None,
        tags=(KW,),
        raw_tags=("#" + KW,),
        body_text="เนื้อหา",
        license_text=None,
        comment_count_declared=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def item(n: int, author: str = "alice") -> ListingItem:
    return ListingItem(n, f"/posts/{n}", f"บันทึก {n}", author, author.title(), None, 0)


@pytest.fixture
def scenario(db_path: Path) -> Path:
    crawl = datetime(2013, 8, 25, tzinfo=BANGKOK)
    after_close = datetime(2013, 9, 3, tzinfo=BANGKOK)
    with connect(db_path) as con:
        create_campaign(
            con,
            "demo",
            keywords=["#" + KW],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=2,
            excluded_authors=["Staff1"],
            announcement_post=100,
            max_entries_per_author=1,
        )
        posts = [
            post(100, "jantawan", created=datetime(2013, 8, 6, 15, 0, tzinfo=BANGKOK), tags=()),
            post(1, "alice"),
            post(2, "Bob", created=datetime(2013, 8, 5, 23, 59, tzinfo=BANGKOK)),  # early
            post(3, "carol", created=datetime(2013, 9, 1, 0, 0, tzinfo=BANGKOK)),  # late
            post(4, "staff1"),  # excluded author
            post(5, "jantawan"),  # the announcement's author
            post(6, "dave", tags=("อื่น",)),  # listed but untagged
            post(7, "erin"),  # keyword removed later
            post(8, "frank"),  # edited after close
            post(9, "alice", created=IN + timedelta(days=1)),  # alice's second entry
            post(10, "bob", created=IN + timedelta(days=2)),  # Bob's in-window entry
            post(11, "gina"),  # gone later
            post(12, "hank", tags=("อื่น",)),  # not a candidate at all
            post(13, "ivy", created=CLOSES),  # the last second still counts
        ]
        store_posts(con, posts, seen_at=crawl)
        record_campaign_posts(
            con,
            "demo",
            [item(n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13)] + [item(14, "ghost")],
            source="listing",
            seen_at=crawl,
        )
        record_campaign_posts(
            con, "demo", [item(100, "jantawan")], source="announcement", seen_at=crawl
        )
        store_posts(con, [post(7, "erin", tags=("อื่น",))], seen_at=crawl + timedelta(days=1))
        store_posts(con, [post(8, "frank", body_text="แก้")], seen_at=after_close)
        mark_gone(con, [11, 14], "not_found", seen_at=after_close)
        record_decision(con, "demo", 1, "eligible", decided_by="mod")
        record_decision(con, "demo", 9, "ineligible", reason="over_author_limit", decided_by="mod")
    return db_path


def by_number(db_path: Path) -> dict[int, Entry]:
    return {e.post_number: e for e in run(lambda con: list_entries(con, "demo"), db_path)}


def test_candidates_are_listed_or_tagged_posts(scenario: Path) -> None:
    entries = by_number(scenario)
    assert sorted(entries) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14]
    assert 100 not in entries and 12 not in entries


def test_rule_facts(scenario: Path) -> None:
    e = by_number(scenario)
    assert e[1].facts.reasons() == [] and e[1].facts.in_window
    assert e[2].facts.early and not e[2].facts.in_window and e[2].facts.reasons() == ["early"]
    assert e[3].facts.late and e[3].facts.reasons() == ["late"]
    assert e[13].facts.in_window and not e[13].facts.late
    assert e[4].facts.organiser and e[5].facts.organiser
    assert not e[1].facts.organiser
    assert not e[6].facts.tagged and not e[6].facts.keyword_removed
    assert e[6].facts.reasons() == ["untagged"]
    assert not e[7].facts.tagged and e[7].facts.keyword_removed
    assert e[8].facts.edited_after_close and not e[1].facts.edited_after_close
    assert e[11].facts.gone and e[11].facts.reasons() == ["gone"]
    assert e[14].facts.gone and not e[14].fetched and e[14].author_key == "ghost"


def test_author_counts_and_limit(scenario: Path) -> None:
    e = by_number(scenario)
    assert e[1].author_key == "alice" and e[1].facts.author_entry_count == 2
    assert not e[1].facts.over_author_limit and e[9].facts.over_author_limit
    # Bob's early post does not use up his one entry.
    assert e[2].author_key == "bob" and e[10].author_key == "bob"
    assert e[10].facts.author_entry_count == 1 and not e[10].facts.over_author_limit
    assert not e[2].facts.over_author_limit


def test_decisions_and_status(scenario: Path) -> None:
    e = by_number(scenario)
    assert e[1].status == "eligible" and e[1].decision and e[1].decision.decided_by == "mod"
    assert e[9].status == "ineligible" and e[9].decision.reason == "over_author_limit"
    assert e[2].status == "pending" and e[2].decision is None


def test_entries_json_is_plain(scenario: Path) -> None:
    e = by_number(scenario)
    data = e[2].to_json()
    assert data["rule_reasons"] == ["early"] and data["created_at"].endswith("+07:00")
    assert data["status"] == "pending" and data["decision"] is None


def test_unknown_campaign(db_path: Path) -> None:
    with pytest.raises(UserError, match="Unknown campaign 'nope'"):
        run(lambda con: list_entries(con, "nope"), db_path)


@pytest.mark.slow
def test_a_hundred_thousand_posts_in_one_query(db_path: Path) -> None:
    with connect(db_path) as con:
        create_campaign(
            con,
            "big",
            keywords=[KW],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=4,
            max_entries_per_author=2,
        )
        # Set-based fixture: 100k posts, most tagged, a few thousand authors, versions,
        # listings and decisions.
        con.execute(
            f"""
            INSERT INTO posts (post_number, url, title, author_username, author_name,
                created_at, tags, tags_normalised, body_text, content_hash, gone,
                first_seen_at, last_seen_at)
            SELECT i, '/posts/' || i, 'title ' || i, 'user' || (i % 5000), 'User',
                TIMESTAMPTZ '2013-08-01 00:00:00+07' + to_minutes(i % 50000),
                CASE WHEN i % 10 = 0 THEN ['อื่น'] ELSE ['{KW}', 'X'] END,
                CASE WHEN i % 10 = 0 THEN ['อื่น'] ELSE ['{KW}', 'x'] END,
                'body', md5(i::VARCHAR), i % 97 = 0, now(), now()
            FROM range(1, 100001) t(i)
            """
        )
        con.execute(
            "INSERT INTO post_versions (post_number, version_no, seen_at, title, body_text, "
            "tags, tags_normalised, updated_at, content_hash) SELECT post_number, 1, now(), "
            "title, body_text, tags, tags_normalised, updated_at, content_hash FROM posts"
        )
        con.execute(
            "INSERT INTO campaign_posts (campaign_slug, post_number, source, first_seen_at, "
            "last_seen_at) SELECT 'big', post_number, 'listing', now(), now() FROM posts "
            "WHERE post_number % 3 = 0"
        )
        con.execute(
            "INSERT INTO decisions (campaign_slug, post_number, status, decided_by, source) "
            "SELECT 'big', post_number, 'eligible', 'mod', 'moderator' FROM posts "
            "WHERE post_number % 7 = 0"
        )
    started, cpu_started = time.perf_counter(), time.process_time()
    entries = run(lambda con: list_entries(con, "big"), db_path)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"list_entries over 100,000 posts: {len(entries)} entries, {wall:.2f} s wall, {cpu:.2f} s CPU"
    )
    assert len(entries) == 100000 - 10000 + 3333  # tagged, plus listed-but-untagged


def test_tags_as_written_match_the_keyword_in_its_normalised_form(db_path: Path) -> None:
    crawl = datetime(2013, 8, 25, tzinfo=BANGKOK)
    with connect(db_path) as con:
        create_campaign(
            con, "ict", keywords=["#ICT"], opens_at="2013-08-06", closes_at="2013-08-31", prizes=1
        )
        store_posts(
            con,
            [
                post(1, "alice", tags=("ICT",)),
                post(2, "bob", tags=("Ict", "อื่น")),
                post(3, "carol", tags=("ict",)),  # its keyword goes later
                post(4, "dave", tags=("ICT-2013",)),
            ],
            seen_at=crawl,
        )
        store_posts(con, [post(3, "carol", tags=("อื่น",))], seen_at=crawl + timedelta(days=1))
    entries = {e.post_number: e for e in run(lambda con: list_entries(con, "ict"), db_path)}
    assert sorted(entries) == [1, 2, 3]
    assert entries[1].facts.tagged and entries[2].facts.tagged
    assert entries[1].tags == ("ICT",) and entries[2].tags == ("Ict", "อื่น")  # as written
    assert not entries[3].facts.tagged and entries[3].facts.keyword_removed


def test_entries_report_lines_carry_the_entries_json(scenario: Path) -> None:
    from warehouse.review import entries_report

    with connect(scenario, read_only=True) as con:
        report = entries_report(con, "demo")
        entries = list_entries(con, "demo")
        pending = entries_report(con, "demo", status="pending")
    assert [line["post_number"] for line in report] == [e.post_number for e in entries]
    for line, entry in zip(report, entries, strict=True):
        data = entry.to_json()
        assert {key: line[key] for key in data} == data
        assert line["author"] == entry.author_username
        assert line["suggestions"] == []
    lines = {line["post_number"]: line for line in report}
    assert lines[9]["reasons"] == ["over_author_limit"]  # the decision's, not repeated
    assert lines[9]["decision"]["decided_by"] == "mod"
    assert lines[2]["reasons"] == ["early"] and lines[2]["decision"] is None
    assert lines[1]["status"] == "eligible" and lines[1]["reasons"] == []
    assert {line["status"] for line in pending} == {"pending"}
    assert 1 not in {line["post_number"] for line in pending}
