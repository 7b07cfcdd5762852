"""Near misses: people who meant to take part but did not make a valid entry, so that the
organisers can reach them before the deadline.

- Posts whose title or body mentions a campaign keyword (compact match: spaces and
  zero-width characters ignored) but whose tags do not carry it, and posts found on the
  campaign's near-miss tag listings (for example ``สรอ.``).
- Commenters who answered in the announcement thread instead of writing a tagged post:
  substantive comments on the announcement post by people who are not organisers and
  have no tagged entry. A comment posted several times counts once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse.review.model import ReviewComment, ReviewPost
from warehouse.thai import compact_text, normalise_tag, squash_whitespace

# A comment this long (compact characters) is an answer, not "thanks" or "is this the place?".
THREAD_ANSWER_MIN_CHARS = 50
# A comment that opens by thanking or addressing someone replies to them; one that asks
# (Thai question particles) is a question to the organisers. Neither is an answer.
REPLY_OPENINGS = ("ขอบคุณ", "ขอขอบคุณ", "ขอบใจ", "เรียน", "thank")
QUESTION_MARKERS = ("ไหม", "มั้ย", "หรือเปล่า", "หรือไม่คะ", "หรือไม่ครับ")


def is_answer(text: str, min_chars: int = THREAD_ANSWER_MIN_CHARS) -> bool:
    """Does a comment in the announcement thread read like an answer to the campaign?"""
    compact = compact_text(text)
    if len(compact) < min_chars:
        return False
    if compact.startswith(REPLY_OPENINGS):
        return False
    return not any(marker in compact for marker in QUESTION_MARKERS)


@dataclass(frozen=True, slots=True)
class NearMiss:
    kind: str  # 'untagged_post' | 'thread_answer'
    post_number: int | None  # the post (untagged_post) or None (thread_answer)
    comment_id: int | None
    author_key: str | None
    author_name: str | None
    created_at: datetime | None
    why: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    excerpt: str = ""


def _excerpt(text: str, limit: int = 200) -> str:
    text = squash_whitespace(text)
    return text if len(text) <= limit else text[:limit] + "…"


def mentions_keyword(text: str, keywords: Iterable[str]) -> list[str]:
    """Campaign keywords that stand in ``text`` (spaces, zero-width characters and case
    ignored)."""
    compact = compact_text(text)
    return [k for k in keywords if k and compact_text(k) in compact]


def untagged_mentions(
    posts: Sequence[ReviewPost],
    keywords: Sequence[str],
    *,
    near_miss_listing: Collection[int] = (),
    near_miss_tags: Sequence[str] = (),
    exclude_posts: Collection[int] = (),
    organisers: Collection[str] = (),
) -> list[NearMiss]:
    """Posts that mention a keyword or were listed under a near-miss tag, but do not carry
    a campaign keyword tag."""
    wanted = {normalise_tag(k) for k in keywords}
    near_tags = {normalise_tag(t) for t in near_miss_tags}
    found = []
    for post in posts:
        if post.post_number in exclude_posts or (post.author_key or "") in organisers:
            continue
        tags = {normalise_tag(t) for t in post.tags}  # as written -> as matched
        if tags & wanted:
            continue
        mentioned = mentions_keyword(f"{post.title}\n{post.body_text}", keywords)
        listed = post.post_number in near_miss_listing
        near = sorted(tags & near_tags)
        if not (mentioned or listed or near):
            continue
        parts = []
        if mentioned:
            parts.append(f"mentions {', '.join(mentioned)} in its text")
        if listed or near:
            parts.append(f"is tagged {', '.join(near) or 'with a near-miss tag'}")
        found.append(
            NearMiss(
                kind="untagged_post",
                post_number=post.post_number,
                comment_id=None,
                author_key=post.author_key,
                author_name=post.author_name,
                created_at=post.created_at,
                why=(
                    f"Post {post.post_number} {' and '.join(parts)} but does not carry the "
                    f"keyword tag: ask the author to add it."
                ),
                score=0.9 if mentioned else 0.6,
                evidence={
                    "mentioned": mentioned,
                    "near_miss_listing": listed,
                    "near_miss_tags": near,
                    "tags": sorted(tags),
                },
                excerpt=_excerpt(post.title),
            )
        )
    return found


def thread_answers(
    comments: Sequence[ReviewComment],
    *,
    organisers: Collection[str],
    entrants: Collection[str],
    min_chars: int = THREAD_ANSWER_MIN_CHARS,
) -> list[NearMiss]:
    """Substantive comments in the announcement thread by non-organisers without a tagged
    entry; a text repeated by the same person is one near miss (the first)."""
    found: list[NearMiss] = []
    seen: dict[tuple[str, str], NearMiss] = {}
    for comment in sorted(
        comments, key=lambda c: (c.created_at is None, c.created_at, c.comment_id)
    ):
        author = (comment.author_key or "").lower()
        if author and (author in organisers or author in entrants):
            continue
        if not is_answer(comment.body_text, min_chars):
            continue
        compact = compact_text(comment.body_text)
        digest = hashlib.sha256(compact.encode("utf-8")).hexdigest()
        key = (author or f"guest:{comment.author_name or ''}", digest)
        if key in seen:
            seen[key].evidence["repeats"].append(comment.comment_id)
            continue
        who = comment.author_name or comment.author_key or "a guest"
        miss = NearMiss(
            kind="thread_answer",
            post_number=None,
            comment_id=comment.comment_id,
            author_key=comment.author_key,
            author_name=comment.author_name,
            created_at=comment.created_at,
            why=(
                f"{who} answered in the announcement thread (comment {comment.comment_id}) "
                "but has no tagged post: invite them to post it with the keyword."
                + (" Guest comment: no account to check." if not author else "")
            ),
            score=0.7 if author else 0.5,
            evidence={"chars": len(compact), "repeats": [], "guest": not author},
            excerpt=_excerpt(comment.body_text),
        )
        seen[key] = miss
        found.append(miss)
    return found
