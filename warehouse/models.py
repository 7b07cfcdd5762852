"""Dataclasses that cross the line between the crawler and the warehouse.

Parsers (``scraper.parse``) return these; ``warehouse.store`` upserts them.
Text fields hold text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class ListingItem:
    post_number: int
    url: str
    title: str
    author_username: str | None
    author_name: str | None
    listed_on: date | None  # the short date shown on the listing
    comment_count: int | None


@dataclass(frozen=True, slots=True)
class ListingPage:
    tag: str  # the tag as the page names it
    page: int
    items: tuple[ListingItem, ...]
    next_url: str | None  # rel="next"; None on the last page
    result_count: int | None  # "พบ N บันทึก", when shown


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    post_number: int
    position: int  # 1 = oldest
    author_username: str | None  # None for guests (ผู้อ่านทั่วไป)
    author_name: str | None
    created_at: datetime | None
    body_text: str


@dataclass(frozen=True, slots=True)
class Post:
    post_number: int
    url: str
    title: str
    author_username: str | None
    author_name: str | None
    book_slug: str | None
    created_at: datetime | None
    updated_at: datetime | None
    tags: tuple[str, ...]  # as written: no "#", NFC, invisible characters removed, case kept
    raw_tags: tuple[str, ...]  # as shown
    body_text: str
    license_text: str | None
    comment_count_declared: int | None
    comments: tuple[Comment, ...] = field(default=())
    # Where the remaining comments come from (the button's data-next), if any.
    comments_next_url: str | None = None


@dataclass(frozen=True, slots=True)
class CommentsPage:
    post_number: int
    page: int
    total: int | None
    next_url: str | None
    comments: tuple[Comment, ...]
