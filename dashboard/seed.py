"""Synthetic warehouse content for the dashboard's tests and bench (not for production).

``seed_campaign`` writes a campaign, posts (through ``warehouse.store.store_posts``, as a
crawl would), the listing rows, and, when the review part's ``suggestions`` table exists,
a few duplicate and spam suggestions with evidence.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from warehouse.campaigns import create_campaign, find_campaign
from warehouse.db import run
from warehouse.models import Comment, ListingItem, Post
from warehouse.store import record_campaign_posts, store_posts
from warehouse.thai import BANGKOK

KEYWORD = "สังคมออนไลน์"
OPENS = datetime(2013, 8, 6, tzinfo=BANGKOK)
CLOSES = datetime(2013, 8, 31, 23, 59, 59, tzinfo=BANGKOK)
FIRST_POST = 545_000
HOSTILE_TITLE = "<script>window.__pwned=1;alert('x')</script> **bold** [link](javascript:alert(1))"
HOSTILE_BODY = (
    "<img src=x onerror=\"window.__pwned=1;alert('img')\">\n\n"
    "<script>window.__pwned=1</script>\n\n"
    "![tracker](http://evil.invalid/x.png) [click](javascript:alert(1)) $x^2$ :red[red]\n\n"
    "<b>not bold</b> &amp; # heading? | table | row |\n\n"
)
_PARAGRAPHS = [
    "การใช้สังคมออนไลน์อย่างสร้างสรรค์ช่วยให้เราได้เรียนรู้จากผู้อื่น",
    "ครูควรแนะนำนักเรียนให้รู้เท่าทันข่าวลวงในโลกออนไลน์",
    "การแบ่งปันความรู้ผ่านบันทึกเป็นวิธีที่ดีในการพัฒนาตนเอง",
    "ชุมชนออนไลน์ที่ดีต้องมีความเคารพซึ่งกันและกัน",
    "เราควรระวังการเปิดเผยข้อมูลส่วนตัวบนอินเทอร์เน็ต",
    "การเขียนบันทึกทุกวันช่วยให้ความคิดเป็นระเบียบมากขึ้น",
]


def _body(rng: random.Random, number: int) -> str:
    picked = rng.sample(_PARAGRAPHS, k=3)
    return "\n\n".join(picked) + f"\n\nบันทึกหมายเลข {number} เขียนเพื่อร่วมกิจกรรม"


def make_posts(
    n: int, *, first: int = FIRST_POST, seed: int = 7, comments_per_post: int = 2
) -> list[Post]:
    """``n`` tagged posts inside the window, by ~n/3 authors, with a few comments each."""
    rng = random.Random(seed)
    posts = []
    span = (CLOSES - OPENS).total_seconds()
    for i in range(n):
        number = first + i
        created = OPENS + timedelta(seconds=int(span * (i + 1) / (n + 2)))
        author = f"user{rng.randrange(max(1, n // 3)):05d}"
        comments = tuple(
            Comment(
                comment_id=number * 100 + k,
                post_number=number,
                position=k + 1,
                author_username=None if k % 2 else f"reader{k}",
                author_name=f"ผู้อ่าน {k}",
                created_at=created + timedelta(hours=k + 1),
                body_text=f"ขอบคุณสำหรับบันทึกนี้ครับ ({k})",
            )
            for k in range(comments_per_post)
        )
        posts.append(
            Post(
                post_number=number,
                url=f"/posts/{number}",
                title=f"บันทึกเรื่องสังคมออนไลน์ ตอนที่ {i + 1}",
                author_username=author,
                author_name=f"ครู {author}",
                book_slug=None,
                created_at=created,
                updated_at=None,
                tags=(KEYWORD,),
                raw_tags=(KEYWORD,),
                body_text=_body(rng, number),
                license_text=None,
                comment_count_declared=len(comments),
                comments=comments,
            )
        )
    return posts


def hostile_post(number: int, *, body_bytes: int = 1_000_000) -> Post:
    """A post whose title and body try script, HTML and markdown injection, ~1 MB long."""
    filler = "ข้อความยาวมาก " * (body_bytes // len("ข้อความยาวมาก ".encode()) + 1)
    body = HOSTILE_BODY + filler
    while len(body.encode()) > body_bytes:
        body = body[: len(body) - 1000]
    return Post(
        post_number=number,
        url=f"/posts/{number}",
        title=HOSTILE_TITLE,
        author_username="attacker",
        author_name="<img src=x onerror=alert(2)>",
        book_slug=None,
        created_at=OPENS + timedelta(days=1),
        updated_at=None,
        tags=(KEYWORD,),
        raw_tags=("<b>#" + KEYWORD + "</b>",),
        body_text=body,
        license_text=None,
        comment_count_declared=1,
        comments=(
            Comment(
                comment_id=number * 100,
                post_number=number,
                position=1,
                author_username=None,
                author_name="<script>window.__pwned=1</script>",
                created_at=OPENS + timedelta(days=1, hours=1),
                body_text='<img src=x onerror="window.__pwned=1"> [x](javascript:alert(1))',
            ),
        ),
    )


def listing_items(posts: Sequence[Post]) -> list[ListingItem]:
    return [
        ListingItem(
            post_number=p.post_number,
            url=p.url,
            title=p.title,
            author_username=p.author_username,
            author_name=p.author_name,
            listed_on=p.created_at.date() if p.created_at else None,
            comment_count=p.comment_count_declared,
        )
        for p in posts
    ]


def store_batches(db_path: Path, slug: str, posts: Sequence[Post], *, batch: int = 2000) -> None:
    seen = datetime(2013, 9, 1, tzinfo=BANGKOK)
    for start in range(0, len(posts), batch):
        chunk = posts[start : start + batch]

        def write(con: duckdb.DuckDBPyConnection, chunk: Sequence[Post] = chunk) -> None:
            store_posts(con, chunk, seen_at=seen)
            record_campaign_posts(con, slug, listing_items(chunk), source="listing", seen_at=seen)

        run(write, db_path)


def ensure_campaign(db_path: Path, slug: str = "demo") -> None:
    def create(con: duckdb.DuckDBPyConnection) -> None:
        if find_campaign(con, slug) is None:
            create_campaign(
                con,
                slug,
                title="ประกวดบันทึก สังคมออนไลน์",
                keywords=[KEYWORD],
                opens_at=OPENS,
                closes_at=CLOSES,
                prizes=3,
                alternates=2,
                site_url="http://127.0.0.1:9",
                actor="seed",
            )

    run(create, db_path)


def seed_suggestions(
    db_path: Path,
    slug: str,
    rows: Sequence[tuple[int, str, float, int | None, str, dict[str, Any]]],
) -> bool:
    """Insert suggestion rows (post, kind, score, duplicate_of, why, evidence) when the
    review part's ``suggestions`` table exists; False otherwise."""

    def insert(con: duckdb.DuckDBPyConnection) -> bool:
        columns = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'suggestions'"
            ).fetchall()
        }
        if not columns:
            return False
        wanted = [
            "campaign_slug",
            "post_number",
            "kind",
            "score",
            "duplicate_of",
            "why",
            "evidence",
        ]
        for post_number, kind, score, duplicate_of, why, evidence in rows:
            values: dict[str, object] = {
                "campaign_slug": slug,
                "post_number": post_number,
                "kind": kind,
                "score": score,
                "duplicate_of": duplicate_of,
                "why": why,
                "evidence": json.dumps(evidence, ensure_ascii=False),
            }
            present = [c for c in wanted if c in columns]
            if "computed_at" in columns:
                present.append("computed_at")
                values["computed_at"] = datetime.now(BANGKOK)
            con.execute(
                f"INSERT INTO suggestions ({', '.join(present)}) "
                f"VALUES ({', '.join('?' for _ in present)})",
                [values[c] for c in present],
            )
        return True

    return run(insert, db_path)


def seed_small(
    db_path: Path, slug: str = "demo", *, n: int = 30, hostile: bool = True
) -> dict[str, Any]:
    """A small campaign for AppTest and browser tests. Returns the interesting post numbers."""
    ensure_campaign(db_path, slug)
    posts = make_posts(n)
    # A copy of the first post under another account (duplicate pair).
    original = posts[0]
    copy_number = FIRST_POST + n
    original_created = original.created_at
    assert original_created is not None  # make_posts dates every post
    copy = Post(
        post_number=copy_number,
        url=f"/posts/{copy_number}",
        title="สำเนา " + original.title,
        author_username="copycat",
        author_name="นักลอก",
        book_slug=None,
        created_at=original_created + timedelta(days=2),
        updated_at=None,
        tags=original.tags,
        raw_tags=original.raw_tags,
        body_text=original.body_text,
        license_text=None,
        comment_count_declared=0,
    )
    all_posts = [*posts, copy]
    hostile_number = FIRST_POST + n + 1
    if hostile:
        all_posts.append(hostile_post(hostile_number))
    store_batches(db_path, slug, all_posts)
    first_paragraph = original.body_text.split("\n\n")[0]
    suggestions: list[tuple[int, str, float, int | None, str, dict[str, Any]]] = [
        (
            copy_number,
            "duplicate",
            0.99,
            original.post_number,
            "same text as an earlier post by another account",
            {"method": "exact", "passages": [{"text": first_paragraph}]},
        ),
        (
            posts[5].post_number,
            "spam",
            0.7,
            None,
            "LINE ID and gambling terms",
            {"signals": ["line_id", "gambling_weak"]},
        ),
    ]
    if hostile:
        suggestions.append(
            (
                hostile_number,
                "spam",
                0.95,
                None,
                "<script>alert(1)</script> suspicious",
                {"passages": [{"text": "<script>window.__pwned=1</script>"}]},
            )
        )
    seed_suggestions(db_path, slug, suggestions)
    return {
        "slug": slug,
        "first": FIRST_POST,
        "original": original.post_number,
        "copy": copy_number,
        "hostile": hostile_number if hostile else None,
        "spam": posts[5].post_number,
    }
