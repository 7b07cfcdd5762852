"""Idempotent batch writes of what the crawler collected (crawler-owned tables only).

Storing the same batch twice leaves the same rows. A post that disappears is marked
``gone``, never deleted; comments are never deleted either (a comment whose
``last_seen_at`` is older than its post's ``last_seen_at`` was not shown at the last
crawl). Nothing here touches ``decisions``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import duckdb

from warehouse.campaigns import get_campaign
from warehouse.errors import UserError
from warehouse.models import Comment, ListingItem, Post
from warehouse.search import index_comments, index_posts
from warehouse.thai import normalise_tag

LISTING_SOURCES: Final = ("listing", "near_miss_listing", "announcement")
GONE_REASONS: Final = ("not_found", "private")


@dataclass
class StoreResult:
    new: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)  # a new post_versions row was added
    unchanged: list[int] = field(default_factory=list)
    comments_new: int = 0


def normalised_tags(tags: Sequence[str]) -> list[str]:
    """The tags as matched against campaign keywords (``normalise_tag``), each once, in the
    order first written; empty ones dropped."""
    return list(dict.fromkeys(t for t in map(normalise_tag, tags) if t))


def content_hash(
    title: str, body_text: str, tags: Sequence[str], updated_at: datetime | None
) -> str:
    """SHA-256 over what makes a new post version: title, body, the set of normalised tags
    (writing a tag in another case is not an edit; tags may be given in either form),
    updated_at."""
    keys = sorted(set(normalised_tags(tags)))
    payload = json.dumps(
        [title, body_text, keys, updated_at.isoformat() if updated_at else None],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")
    return value


def _iso(value: datetime | date | None, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        _aware(value, what)
    return value.isoformat()


def _load(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, tuple[str, list[Any]]]
) -> None:
    """Materialise Python lists as a temporary table in one statement (the lists are
    zipped by ``unnest``). Times travel as ISO text: exact, and no pandas import (pyarrow's
    conversions import pandas, which takes seconds on a busy machine)."""
    parts = []
    for col, (sql_type, _) in columns.items():
        if sql_type in ("TIMESTAMPTZ", "DATE"):
            parts.append(f"unnest(${col}::VARCHAR[])::{sql_type} AS {col}")
        else:
            parts.append(f"unnest(${col}::{sql_type}[]) AS {col}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(parts)}",
        {col: values for col, (_, values) in columns.items()},
    )


def _load_posts(
    con: duckdb.DuckDBPyConnection, posts: Sequence[Post], seen_at: datetime
) -> list[str]:
    normalised = [normalised_tags(p.tags) for p in posts]
    hashes = [
        content_hash(p.title or "", p.body_text or "", tags, p.updated_at)
        for p, tags in zip(posts, normalised, strict=True)
    ]
    seen = _iso(seen_at, "seen_at")
    _load(
        con,
        "_incoming_posts",
        {
            "post_number": ("BIGINT", [p.post_number for p in posts]),
            "url": ("VARCHAR", [p.url for p in posts]),
            "title": ("VARCHAR", [p.title or "" for p in posts]),
            "author_username": ("VARCHAR", [p.author_username for p in posts]),
            "author_name": ("VARCHAR", [p.author_name for p in posts]),
            "book_slug": ("VARCHAR", [p.book_slug for p in posts]),
            "created_at": ("TIMESTAMPTZ", [_iso(p.created_at, "created_at") for p in posts]),
            "updated_at": ("TIMESTAMPTZ", [_iso(p.updated_at, "updated_at") for p in posts]),
            "tags": ("VARCHAR[]", [list(p.tags) for p in posts]),
            "tags_normalised": ("VARCHAR[]", normalised),
            "raw_tags": ("VARCHAR[]", [list(p.raw_tags) for p in posts]),
            "body_text": ("VARCHAR", [p.body_text or "" for p in posts]),
            "license_text": ("VARCHAR", [p.license_text for p in posts]),
            "comment_count_declared": ("INTEGER", [p.comment_count_declared for p in posts]),
            "comments_collected": ("INTEGER", [len(p.comments) for p in posts]),
            "content_hash": ("VARCHAR", hashes),
            "seen_at": ("TIMESTAMPTZ", [seen] * len(posts)),
        },
    )
    return hashes


def _load_comments(
    con: duckdb.DuckDBPyConnection, comments: Sequence[Comment], seen_at: datetime
) -> None:
    seen = _iso(seen_at, "seen_at")
    _load(
        con,
        "_incoming_comments",
        {
            "comment_id": ("BIGINT", [c.comment_id for c in comments]),
            "post_number": ("BIGINT", [c.post_number for c in comments]),
            "position": ("INTEGER", [c.position for c in comments]),
            "author_username": ("VARCHAR", [c.author_username for c in comments]),
            "author_name": ("VARCHAR", [c.author_name for c in comments]),
            "created_at": ("TIMESTAMPTZ", [_iso(c.created_at, "created_at") for c in comments]),
            "body_text": ("VARCHAR", [c.body_text or "" for c in comments]),
            "seen_at": ("TIMESTAMPTZ", [seen] * len(comments)),
        },
    )


def _unique_last(items: Sequence[Any], key: str) -> list[Any]:
    """Later items win when a batch names the same key twice."""
    return list({getattr(item, key): item for item in items}.values())


def store_posts(
    con: duckdb.DuckDBPyConnection, posts: Sequence[Post], *, seen_at: datetime
) -> StoreResult:
    """Upsert posts and their ``post.comments`` in a few set-based statements.

    A post is *new* the first time its content is stored, *changed* when its content hash
    (title, body, tags, updated_at) differs from the stored one (a ``post_versions`` row is
    appended), else *unchanged*. ``first_seen_at`` is kept, ``last_seen_at`` and
    ``last_fetched_at`` become ``seen_at``, ``gone`` is cleared.
    """
    _aware(seen_at, "seen_at")
    result = StoreResult()
    batch = _unique_last(posts, "post_number")
    if not batch:
        return result
    hashes = _load_posts(con, batch, seen_at)
    try:
        # What we had: content_hash NULL means only a listing/gone stub existed.
        known = dict(
            con.execute(
                "SELECT p.post_number, p.content_hash FROM posts p "
                "JOIN _incoming_posts i USING (post_number)"
            ).fetchall()
        )
        for post, new_hash in zip(batch, hashes, strict=True):
            old_hash = known.get(post.post_number)
            if old_hash is None:
                result.new.append(post.post_number)
            elif old_hash != new_hash:
                result.changed.append(post.post_number)
            else:
                result.unchanged.append(post.post_number)
        # Versions first, while posts still holds the old hashes.
        con.execute(
            """
            INSERT INTO post_versions
                (post_number, version_no, seen_at, title, body_text, tags, tags_normalised,
                 updated_at, content_hash)
            SELECT i.post_number,
                   coalesce(v.max_version, 0) + 1,
                   i.seen_at, i.title, i.body_text, i.tags, i.tags_normalised, i.updated_at,
                   i.content_hash
            FROM _incoming_posts i
            LEFT JOIN (SELECT post_number, max(version_no) AS max_version,
                              arg_max(content_hash, version_no) AS last_hash
                       FROM post_versions
                       WHERE post_number IN (SELECT post_number FROM _incoming_posts)
                       GROUP BY post_number) v USING (post_number)
            WHERE v.last_hash IS DISTINCT FROM i.content_hash
            """
        )
        con.execute(
            """
            INSERT INTO posts (post_number, url, title, author_username, author_name, book_slug,
                created_at, updated_at, tags, tags_normalised, raw_tags, body_text, license_text,
                comment_count_declared, comments_collected, content_hash, gone, gone_reason,
                first_seen_at, last_seen_at, last_fetched_at)
            SELECT post_number, url, title, author_username, author_name, book_slug,
                created_at, updated_at, tags, tags_normalised, raw_tags, body_text, license_text,
                comment_count_declared, comments_collected, content_hash, false, NULL,
                seen_at, seen_at, seen_at
            FROM _incoming_posts
            ON CONFLICT (post_number) DO UPDATE SET
                url = excluded.url, title = excluded.title,
                author_username = excluded.author_username, author_name = excluded.author_name,
                book_slug = excluded.book_slug, created_at = excluded.created_at,
                updated_at = excluded.updated_at, tags = excluded.tags,
                tags_normalised = excluded.tags_normalised,
                raw_tags = excluded.raw_tags, body_text = excluded.body_text,
                license_text = excluded.license_text,
                comment_count_declared = excluded.comment_count_declared,
                comments_collected = excluded.comments_collected,
                content_hash = excluded.content_hash, gone = false, gone_reason = NULL,
                last_seen_at = excluded.last_seen_at, last_fetched_at = excluded.last_fetched_at
            """
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _incoming_posts")
    comments = _unique_last([c for p in batch for c in p.comments], "comment_id")
    if comments:
        result.comments_new = store_comments(con, comments, seen_at=seen_at)
    index_posts(con, [p.post_number for p in batch])
    return result


def store_comments(
    con: duckdb.DuckDBPyConnection, comments: Sequence[Comment], *, seen_at: datetime
) -> int:
    """Upsert comments (e.g. from a later comments page); returns how many were new."""
    _aware(seen_at, "seen_at")
    batch = _unique_last(comments, "comment_id")
    if not batch:
        return 0
    _load_comments(con, batch, seen_at)
    try:
        row = con.execute(
            "SELECT count(*) FROM _incoming_comments i "
            "WHERE NOT EXISTS (SELECT 1 FROM comments c WHERE c.comment_id = i.comment_id)"
        ).fetchone()
        con.execute(
            """
            INSERT INTO comments (comment_id, post_number, position, author_username,
                author_name, created_at, body_text, first_seen_at, last_seen_at)
            SELECT comment_id, post_number, position, author_username, author_name, created_at,
                body_text, seen_at, seen_at
            FROM _incoming_comments
            ON CONFLICT (comment_id) DO UPDATE SET
                post_number = excluded.post_number, position = excluded.position,
                author_username = excluded.author_username, author_name = excluded.author_name,
                created_at = excluded.created_at, body_text = excluded.body_text,
                last_seen_at = excluded.last_seen_at
            """
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _incoming_comments")
    index_comments(con, [c.comment_id for c in batch])
    return int(row[0]) if row else 0


def mark_gone(
    con: duckdb.DuckDBPyConnection,
    post_numbers: Sequence[int],
    reason: str,
    *,
    seen_at: datetime,
) -> list[int]:
    """Mark posts deleted (``not_found``) or private; never deletes anything.

    A post never stored before (seen only on a listing) gets a stub row (``content_hash``
    NULL) built from what a campaign listing showed. Returns the post numbers marked.
    """
    if reason not in GONE_REASONS:
        raise UserError(f"Unknown gone reason {reason!r}; use one of: {', '.join(GONE_REASONS)}.")
    _aware(seen_at, "seen_at")
    numbers = sorted({int(n) for n in post_numbers})
    if not numbers:
        return []
    con.execute(
        """
        INSERT INTO posts (post_number, url, title, author_username, author_name, gone,
            gone_reason, first_seen_at, last_seen_at, last_fetched_at)
        SELECT n.post_number,
               coalesce(l.listing_url, '/posts/' || n.post_number::VARCHAR),
               coalesce(l.listing_title, ''), l.listing_author_username, l.listing_author_name,
               true, $reason, $seen, $seen, $seen
        FROM (SELECT unnest($numbers::BIGINT[]) AS post_number) n
        LEFT JOIN (SELECT post_number, any_value(listing_url) AS listing_url,
                          any_value(listing_title) AS listing_title,
                          any_value(listing_author_username) AS listing_author_username,
                          any_value(listing_author_name) AS listing_author_name
                   FROM campaign_posts GROUP BY post_number) l USING (post_number)
        ON CONFLICT (post_number) DO UPDATE SET
            gone = true, gone_reason = excluded.gone_reason,
            last_fetched_at = excluded.last_fetched_at
        """,
        {"numbers": numbers, "reason": reason, "seen": seen_at},
    )
    return numbers


def record_campaign_posts(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    items: Sequence[ListingItem],
    *,
    source: str,
    seen_at: datetime,
) -> None:
    """Remember which posts a campaign's listings (or its announcement) named.

    ``listing`` wins over the other sources: a post once on the keyword listing keeps
    source ``listing``; ``listed`` is true only for posts seen on the keyword listing.
    """
    if source not in LISTING_SOURCES:
        raise UserError(f"Unknown source {source!r}; use one of: {', '.join(LISTING_SOURCES)}.")
    _aware(seen_at, "seen_at")
    get_campaign(con, slug)
    batch = _unique_last(items, "post_number")
    if not batch:
        return
    _load(
        con,
        "_incoming_items",
        {
            "post_number": ("BIGINT", [i.post_number for i in batch]),
            "url": ("VARCHAR", [i.url for i in batch]),
            "title": ("VARCHAR", [i.title for i in batch]),
            "author_username": ("VARCHAR", [i.author_username for i in batch]),
            "author_name": ("VARCHAR", [i.author_name for i in batch]),
            "listed_on": ("DATE", [_iso(i.listed_on, "listed_on") for i in batch]),
            "comment_count": ("INTEGER", [i.comment_count for i in batch]),
        },
    )
    try:
        con.execute(
            """
            INSERT INTO campaign_posts (campaign_slug, post_number, source, listed,
                listing_comment_count, listing_title, first_seen_at, last_seen_at,
                listing_url, listing_author_username, listing_author_name, listing_date)
            SELECT $slug, post_number, $source, $source = 'listing', comment_count, title,
                $seen, $seen, url, author_username, author_name, listed_on
            FROM _incoming_items
            ON CONFLICT (campaign_slug, post_number) DO UPDATE SET
                source = CASE WHEN campaign_posts.source = 'listing' THEN 'listing'
                              ELSE excluded.source END,
                listed = campaign_posts.listed AND campaign_posts.source = 'listing'
                         OR excluded.source = 'listing',
                listing_comment_count = coalesce(excluded.listing_comment_count,
                                                 campaign_posts.listing_comment_count),
                listing_title = coalesce(excluded.listing_title, campaign_posts.listing_title),
                listing_url = coalesce(excluded.listing_url, campaign_posts.listing_url),
                listing_author_username = coalesce(excluded.listing_author_username,
                                                   campaign_posts.listing_author_username),
                listing_author_name = coalesce(excluded.listing_author_name,
                                               campaign_posts.listing_author_name),
                listing_date = coalesce(excluded.listing_date, campaign_posts.listing_date),
                last_seen_at = excluded.last_seen_at
            """,
            {"slug": slug, "source": source, "seen": seen_at},
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _incoming_items")


def mark_unlisted(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    seen_post_numbers: Sequence[int],
    source: str = "listing",
) -> list[int]:
    """After a COMPLETE pass over a listing: the posts of ``source`` not seen on it get
    ``listed = false`` (rows are kept). Returns the post numbers newly unlisted."""
    if source not in LISTING_SOURCES:
        raise UserError(f"Unknown source {source!r}; use one of: {', '.join(LISTING_SOURCES)}.")
    get_campaign(con, slug)
    rows = con.execute(
        """
        UPDATE campaign_posts SET listed = false
        WHERE campaign_slug = $slug AND source = $source AND listed
          AND post_number NOT IN (SELECT unnest($seen::BIGINT[]))
        RETURNING post_number
        """,
        {"slug": slug, "source": source, "seen": sorted({int(n) for n in seen_post_numbers})},
    ).fetchall()
    return sorted(r[0] for r in rows)
