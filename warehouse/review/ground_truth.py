"""The replica's ground truth as review input: plain posts for the detectors, or stored in a
warehouse the way a crawl would store it (for tests, the bench and trying things out)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb

from warehouse.campaigns import Campaign, create_campaign
from warehouse.models import Comment, ListingItem, Post
from warehouse.review.model import ReviewComment, ReviewPost
from warehouse.store import mark_gone, record_campaign_posts, store_posts
from warehouse.thai import normalise_tag


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def comments_from_ground_truth(gt: Mapping[str, Any], post_number: int) -> list[ReviewComment]:
    return [
        ReviewComment(
            comment_id=c["comment_id"],
            post_number=post_number,
            author_key=(c["author_username"] or None) and c["author_username"].lower(),
            author_name=c["author_name"],
            created_at=_when(c["created_at"]),
            body_text=c["body_text"],
        )
        for c in gt["comments"].get(str(post_number), [])
    ]


def posts_from_ground_truth(gt: Mapping[str, Any], *, public_only: bool = True) -> list[ReviewPost]:
    """Every (public) post of the ground truth, announcement included, by post number."""
    out = []
    for key in sorted(gt["posts"], key=int):
        p = gt["posts"][key]
        if public_only and p["state"] != "public":
            continue
        out.append(
            ReviewPost(
                post_number=p["post_number"],
                author_key=(p["author_username"] or "").lower() or None,
                author_name=p["author_name"],
                created_at=_when(p["created_at"]),
                title=p["title"],
                body_text=p["body_text"],
                tags=tuple(p["tags"]),
            )
        )
    return out


def store_ground_truth(
    con: duckdb.DuckDBPyConnection,
    gt: Mapping[str, Any],
    slug: str,
    *,
    max_entries_per_author: int | None = None,
    seen_at: datetime | None = None,
) -> Campaign:
    """Create the ground truth's campaign and store its posts, comments and listings as a
    complete crawl would (public posts stored, deleted/private ones marked gone)."""
    c = gt["campaign"]
    campaign = create_campaign(
        con,
        slug,
        keywords=c["keywords"],
        near_miss_tags=c.get("near_miss_tags", ()),
        opens_at=datetime.fromisoformat(c["opens"]),
        closes_at=datetime.fromisoformat(c["closes"]),
        prizes=int(c.get("prizes", 4)),
        excluded_authors=c.get("excluded_authors", ()),
        announcement_post=c.get("announcement_post"),
        max_entries_per_author=max_entries_per_author,
        site_url="http://replica.invalid",
    )
    seen = seen_at or campaign.closes_at + timedelta(days=1)
    keyword_tags = {normalise_tag(k) for k in c["keywords"]}
    near_tags = {normalise_tag(t) for t in c.get("near_miss_tags", ())}
    posts, gone, listed, near = [], [], [], []
    for key in sorted(gt["posts"], key=int):
        p = gt["posts"][key]
        n = p["post_number"]
        created = _when(p["created_at"])
        item = ListingItem(
            post_number=n,
            url=p["url"],
            title=p["title"],
            author_username=p["author_username"],
            author_name=p["author_name"],
            listed_on=created.date() if created else None,
            comment_count=p["comment_count_declared"],
        )
        if n in set(gt.get("listed", ())):
            listed.append(item)
        elif set(p["tags"]) & near_tags and not set(p["tags"]) & keyword_tags:
            near.append(item)
        if p["state"] != "public":
            gone.append((n, "not_found" if p["state"] == "deleted" else "private"))
            continue
        comments = tuple(
            Comment(
                comment_id=cm["comment_id"],
                post_number=n,
                position=i,
                author_username=cm["author_username"],
                author_name=cm["author_name"],
                created_at=_when(cm["created_at"]),
                body_text=cm["body_text"],
            )
            for i, cm in enumerate(gt["comments"].get(key, []), start=1)
        )
        posts.append(
            Post(
                post_number=n,
                url=p["url"],
                title=p["title"],
                author_username=p["author_username"],
                author_name=p["author_name"],
                book_slug=p["book_slug"],
                created_at=created,
                updated_at=_when(p["updated_at"]),
                tags=tuple(p["tags"]),
                raw_tags=tuple(p["raw_tags"]),
                body_text=p["body_text"],
                license_text=None,
                comment_count_declared=p["comment_count_declared"],
                comments=comments,
            )
        )
    record_campaign_posts(con, slug, listed, source="listing", seen_at=seen)
    if near:
        record_campaign_posts(con, slug, near, source="near_miss_listing", seen_at=seen)
    store_posts(con, posts, seen_at=seen)
    for reason in ("not_found", "private"):
        numbers = [n for n, r in gone if r == reason]
        if numbers:
            mark_gone(con, numbers, reason, seen_at=seen)
    return campaign
