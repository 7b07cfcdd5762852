"""Text search that finds Thai at scale (warehouse/search.py): any substring of two or more
characters of a title, body, author or comment, over a crawled replica campaign, kept in
step as posts are stored and re-crawled, ranked, and mapped back onto the stored text."""

from __future__ import annotations

import random
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from replica_warehouse import ReplicaCampaign, crawl_replica_campaign

from replica.site import Site
from warehouse import search
from warehouse.db import connect, migrate, run
from warehouse.models import Comment, Post
from warehouse.store import store_posts
from warehouse.thai import BANGKOK, compact_text

UNSPACED = "เมื่อวานนี้ครอบครัวของเราเดินทางไปเที่ยวตลาดน้ำอัมพวาแล้วก็กินขนมไทยอร่อยมาก"
WORD = "อัมพวา"
OLD_WORD = "ตลาดน้ำ"
NEW_TEXT = "หลังแก้ไขบันทึกนี้เล่าเรื่องการปลูกผักสวนครัวริมระเบียงบ้าน"
NEW_WORD = "ผักสวนครัว"


def _all(con, query: str) -> set[int]:  # type: ignore[no-untyped-def]
    hits, total = search.search_posts(con, query, limit=1_000_000)
    assert total == len(hits)
    return {h.post_number for h in hits}


def _brute_force(con, query: str) -> set[int]:  # type: ignore[no-untyped-def]
    """Posts whose stored title, body, author or comment contains the query, by reading
    every text (not the index). Posts whose page was never stored (only a listing's title,
    kept when the post was gone before its first fetch) are not indexed."""
    needle = compact_text(query)
    found = set()
    for number, title, body, username, name in con.execute(
        "SELECT post_number, title, body_text, author_username, author_name FROM posts "
        "WHERE content_hash IS NOT NULL"
    ).fetchall():
        author = " ".join(x for x in (username, name) if x)
        if any(needle in compact_text(t or "") for t in (title, body, author)):
            found.add(number)
    for number, body in con.execute("SELECT post_number, body_text FROM comments").fetchall():
        if needle in compact_text(body or ""):
            found.add(number)
    return found


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site, int]:
    work = tmp_path_factory.mktemp("replica-search")
    path = work / "template.duckdb"
    chosen: dict[str, int] = {}

    def change(site: Site) -> None:
        public = [n for n, p in site.ground_truth()["posts"].items() if p["state"] == "public"]
        number = int(public[7])
        chosen["post"] = number
        site.edit_post(number, body_text=UNSPACED)

    site = crawl_replica_campaign(path, work, n_posts=60, seed=9, change_site=change)
    return path, site, chosen["post"]


@pytest.fixture(params=["postings", "scan"])
def candidates_from(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a search finds its candidates: from the rarest bigrams' postings (a rare
    query) and by reading every text (a query whose bigrams are in most texts)."""
    monkeypatch.setattr(search, "SCAN_SHARE", 0 if request.param == "postings" else 10**9)
    return str(request.param)


@pytest.mark.browser
@pytest.mark.slow
def test_finds_substrings_of_bodies_authors_and_comments(
    crawled: tuple[Path, Site, int], db_path: Path, candidates_from: str
) -> None:
    template, _site, edited = crawled
    shutil.copy(template, db_path)
    with connect(db_path) as con:
        # A Thai word inside a run of unspaced text, also typed with a zero-width space
        # and with SARA AM as NIKHAHIT + SARA AA (the normaliser makes them the same).
        assert _all(con, WORD) == {edited} == _brute_force(con, WORD)
        assert _all(con, "อัม\u200bพวา") == {edited}
        assert _all(con, "ตลาดน\u0e49\u0e4d\u0e32") == {edited}
        # A post by a substring of its author's display name.
        number, name = con.execute(
            "SELECT post_number, author_name FROM posts WHERE length(author_name) >= 6 "
            "ORDER BY post_number LIMIT 1"
        ).fetchone()
        part = name[2:5]
        assert number in _all(con, part)
        assert _all(con, part) == _brute_force(con, part)
        # A comment's text.
        number, comment_id, body = con.execute(
            "SELECT post_number, comment_id, body_text FROM comments "
            "WHERE length(body_text) >= 30 ORDER BY comment_id LIMIT 1"
        ).fetchone()
        part = body[10:22]
        hits, _ = search.search_posts(con, part, limit=1000)
        hit = next(h for h in hits if h.post_number == number)
        assert comment_id in hit.comment_ids and "comment" in hit.fields
        assert {h.post_number for h in hits} == _brute_force(con, part)
        # Any substring of 2+ characters: random ones, checked against reading every text.
        rng = random.Random(4)
        texts = [
            r[0]
            for r in con.execute(
                "SELECT title FROM posts UNION ALL SELECT body_text FROM posts "
                "UNION ALL SELECT body_text FROM comments UNION ALL SELECT author_name FROM posts"
            ).fetchall()
            if r[0] and len(r[0]) > 8
        ]
        for _ in range(25):
            text = rng.choice(texts)
            size = rng.randint(2, 7)
            start = rng.randrange(len(text) - size)
            query = text[start : start + size]
            if len(compact_text(query)) < 2:
                continue
            assert _all(con, query) == _brute_force(con, query), query
        # Too short to search, and a text nobody wrote.
        assert search.search_posts(con, "ก") == ([], 0)
        assert search.search_posts(con, "ซซซฬฬฬ") == ([], 0)


@pytest.mark.browser
@pytest.mark.slow
def test_kept_in_step_when_a_recrawl_changes_the_text(db_path: Path, tmp_path: Path) -> None:
    """The replica changes a post and the crawler stores it again: the old words no longer
    find it, the new ones do."""
    with ReplicaCampaign(db_path, tmp_path, n_posts=30, seed=9) as campaign:
        campaign.crawl()
        public = [
            n for n, p in campaign.site.ground_truth()["posts"].items() if p["state"] == "public"
        ]
        edited = int(public[3])
        campaign.site.edit_post(edited, body_text=UNSPACED)
        campaign.crawl(full=True)
        assert run(lambda con: _all(con, WORD), db_path) == {edited}
        campaign.site.edit_post(edited, body_text=NEW_TEXT)
        campaign.crawl(full=True)
    with connect(db_path) as con:
        assert edited not in _all(con, WORD) | _all(con, OLD_WORD)
        assert _all(con, NEW_WORD) == {edited} == _brute_force(con, NEW_WORD)
        # The replaced bodies' docs are kept, not current.
        rows = con.execute(
            "SELECT count(*) FILTER (WHERE current), count(*) FROM search_docs "
            "WHERE post_number = ? AND field = 'body'",
            [edited],
        ).fetchone()
        assert rows == (1, 3)


IN_WINDOW = datetime(2013, 8, 20, 10, 0, tzinfo=BANGKOK)


def _post(number: int, title: str, body: str, author: str, comments: tuple[str, ...] = ()) -> Post:
    return Post(
        post_number=number,
        url=f"/posts/{number}",
        title=title,
        author_username=author,
        author_name=f"คุณ {author}",
        book_slug=None,
        created_at=IN_WINDOW,
        updated_at=None,
        tags=("สังคมออนไลน์",),
        raw_tags=("สังคมออนไลน์",),
        body_text=body,
        license_text=None,
        comment_count_declared=len(comments),
        comments=tuple(
            Comment(number * 10 + i, number, i + 1, None, "ผู้อ่าน", IN_WINDOW, text)
            for i, text in enumerate(comments)
        ),
    )


def test_ranked_title_before_body_and_more_occurrences_first(db_path: Path) -> None:
    seen = datetime(2013, 9, 1, tzinfo=BANGKOK)
    posts = [
        _post(1, "เรื่องทั่วไป", "มีคำว่าภูเขาหนึ่งครั้ง", "aa"),
        _post(2, "ภูเขาสูง", "ไม่มีอะไร", "bb"),
        _post(3, "เรื่องทั่วไป", "ภูเขาภูเขาภูเขา", "cc"),
        _post(4, "เรื่องทั่วไป", "ไม่มี", "dd", comments=("ชอบภูเขามาก",)),
        _post(5, "เรื่องอื่น", "ไม่เกี่ยว", "ee"),
    ]
    run(lambda con: store_posts(con, posts, seen_at=seen), db_path)
    hits, total = run(lambda con: search.search_posts(con, "ภูเขา"), db_path)
    assert total == 4
    assert [h.post_number for h in hits] == [2, 3, 1, 4]
    assert hits[0].fields == ("title",) and hits[-1].fields == ("comment",)
    # Limited to some posts (a campaign's entries), still ranked.
    limited, total = run(
        lambda con: search.search_posts(con, "ภูเขา", post_numbers_sql="SELECT unnest([1, 4, 5])"),
        db_path,
    )
    assert [h.post_number for h in limited] == [1, 4] and total == 2


def _warehouse_at(db_path: Path, *, migration: int, post: int) -> duckdb.DuckDBPyConnection:
    """A warehouse left at ``migration`` holding one post (body ``UNSPACED``), in an open
    transaction, as an earlier tagdraw wrote it."""
    con = duckdb.connect(str(db_path))
    con.execute("BEGIN TRANSACTION")
    migrate(con, up_to=migration)
    con.execute(
        "INSERT INTO posts (post_number, url, title, author_username, author_name, body_text, "
        "first_seen_at, last_seen_at) VALUES (?, ?, 'หัวข้อ', 'old', 'คนเก่า', ?, now(), now())",
        [post, f"/posts/{post}", UNSPACED],
    )
    return con


def test_migration_back_fills_posts_stored_before_it(db_path: Path) -> None:
    """Posts written before migration 0013 existed are found once it has run."""
    con = _warehouse_at(db_path, migration=12, post=7)
    con.execute(
        "INSERT INTO comments (comment_id, post_number, body_text, first_seen_at, last_seen_at) "
        "VALUES (70, 7, 'ความเห็นเรื่องมะม่วงหาวมะนาวโห่', now(), now())"
    )
    con.execute("COMMIT")
    con.close()
    with connect(db_path) as con:  # applies 0013, which queues the stored posts
        assert con.execute("SELECT count(*) FROM search_pending").fetchone() == (1,)
        assert _all(con, WORD) == {7}
        assert _all(con, "หาวมะนาว") == {7}
        assert _all(con, "คนเก") == {7}
        assert con.execute("SELECT count(*) FROM search_pending").fetchone() == (0,)


def test_match_spans_point_at_the_stored_text() -> None:
    stored = "ไปตลาดน\u200b\u0e49\u0e4d\u0e32อัมพวา  กับ   ครอบครัว"
    spans = search.match_spans(stored, "ตลาดน้ำ")
    assert [stored[a:b] for a, b in spans] == ["ตลาดน\u200b\u0e49\u0e4d\u0e32"]
    assert [stored[a:b] for a, b in search.match_spans(stored, "กับครอบ")] == ["กับ   ครอบ"]
    assert search.match_spans(stored, "ก") == [] and search.match_spans(stored, "ไม่มี") == []
    text, inside = search.passage("ก" * 200 + "ภูเขา" + "ข" * 200, "ภูเขา", width=10)
    assert text.startswith("…") and text.endswith("…")
    assert [text[a:b] for a, b in inside] == ["ภูเขา"]


THAI = [chr(cp) for cp in range(0x0E01, 0x0E5C)]
ASCII = [chr(cp) for cp in range(0x80)]
OTHER = ["é", "中", "😀", "\u00a0", "ß", "\u0e80"]  # outside both ranges (incl. Lao)


def test_search_code_matches_exactly_where_the_text_matches() -> None:
    """A coded query is found in a coded text exactly when the query is in the text: no
    match can start inside another character's bytes (Thai, ASCII pairs and UTF-8 mixed)."""
    alphabet = THAI + ASCII + OTHER
    for needle in alphabet:  # every single character against every single character
        coded = search.search_code(needle)
        for text in alphabet:
            assert (coded in search.search_code(text)) == (needle == text), (needle, text)
    rng = random.Random(15)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        start = rng.randint(0, len(text))
        # half the needles from the text itself, half made up
        needle = (
            text[start : start + rng.randint(1, 4)]
            if rng.random() < 0.5
            else "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        )
        assert (search.search_code(needle) in search.search_code(text)) == (needle in text), (
            needle,
            text,
        )


def test_an_index_of_the_earlier_form_is_rebuilt_by_migration_0015(db_path: Path) -> None:
    """A warehouse indexed before migration 0015 (UTF-8 texts in search_docs) is emptied,
    re-queued and rebuilt: its posts are found, and no old-form text is left."""
    con = _warehouse_at(db_path, migration=14, post=8)
    con.execute("DELETE FROM search_pending")
    con.execute(
        "INSERT INTO search_docs (post_number, field, search_text) VALUES (8, 'body', ?)",
        [compact_text(UNSPACED)],
    )
    con.execute("COMMIT")
    con.close()
    with connect(db_path) as con:
        assert _all(con, WORD) == {8}
        codes = con.execute("SELECT search_code FROM search_docs WHERE current").fetchall()
        assert compact_text(UNSPACED) not in {c[0] for c in codes}
        assert search.search_code(compact_text(UNSPACED)) in {c[0] for c in codes}
