"""Helpers for the crawler tests: compare the warehouse with a replica's ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.db import run
from warehouse.thai import squash_whitespace

POST_FIELDS = (
    "title",
    "author_username",
    "author_name",
    "book_slug",
    "created_at",
    "updated_at",
    "tags",
    "raw_tags",
    "body_text",
    "comment_count_declared",
)
COMMENT_FIELDS = ("post_number", "author_username", "author_name", "created_at", "body_text")


def _norm(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in ("title", "body_text"):
        return squash_whitespace(value)
    if field in ("created_at", "updated_at"):
        return value if isinstance(value, str) else value.isoformat()
    if field in ("tags", "raw_tags"):
        return list(value)
    return value


def warehouse_differences(db_path: Path, truth: dict[str, Any], limit: int = 40) -> list[str]:
    """Every way the warehouse differs from the replica's ground truth (empty = equal)."""

    def read(con: Any) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
        cols = ", ".join(("post_number", "gone", "gone_reason", *POST_FIELDS))
        posts = {
            row[0]: dict(
                zip(("post_number", "gone", "gone_reason", *POST_FIELDS), row, strict=True)
            )
            for row in con.execute(f"SELECT {cols} FROM posts").fetchall()
        }
        ccols = ", ".join(("comment_id", *COMMENT_FIELDS))
        comments = {
            row[0]: dict(zip(("comment_id", *COMMENT_FIELDS), row, strict=True))
            for row in con.execute(f"SELECT {ccols} FROM comments").fetchall()
        }
        return posts, comments

    posts, comments = run(read, db_path)
    problems: list[str] = []
    expected_numbers = {int(n) for n in truth["posts"]}
    extra = set(posts) - expected_numbers
    if extra:
        problems.append(f"posts not in the ground truth: {sorted(extra)[:10]}")
    expected_comment_ids: set[int] = set()
    for key, want in truth["posts"].items():
        number = int(key)
        got = posts.get(number)
        if got is None:
            problems.append(f"post {number} ({want['state']}) missing")
            continue
        if want["state"] != "public":
            reason = "not_found" if want["state"] == "deleted" else "private"
            if not got["gone"] or got["gone_reason"] != reason:
                problems.append(f"post {number} should be gone ({reason}): {got['gone']}")
            continue
        if got["gone"]:
            problems.append(f"post {number} marked gone but is public")
        for field in POST_FIELDS:
            if _norm(field, got[field]) != _norm(field, want[field]):
                problems.append(
                    f"post {number} {field}: {_norm(field, got[field])!r:.80} != "
                    f"{_norm(field, want[field])!r:.80}"
                )
        for comment in truth["comments"].get(key, []):
            cid = int(comment["comment_id"])
            expected_comment_ids.add(cid)
            stored = comments.get(cid)
            if stored is None:
                problems.append(f"comment {cid} of post {number} missing")
                continue
            for field in COMMENT_FIELDS:
                want_value = number if field == "post_number" else comment[field]
                if _norm(field, stored[field]) != _norm(field, want_value):
                    problems.append(f"comment {cid} {field}: {stored[field]!r:.60}")
        if len(problems) > limit:
            break
    # Comments of a post that went away are kept (never deleted); the truth omits them.
    gone_posts = {int(n) for n, p in truth["posts"].items() if p["state"] != "public"}
    extra_comments = {
        cid
        for cid in set(comments) - expected_comment_ids
        if comments[cid]["post_number"] not in gone_posts
    }
    if extra_comments and len(problems) <= limit:
        problems.append(f"comments not in the ground truth: {sorted(extra_comments)[:10]}")
    return problems[:limit]


def post_paths(hits: dict[str, int]) -> dict[int, int]:
    """Post page hits by post number (comment pages and listings excluded)."""
    out: dict[int, int] = {}
    for path, count in hits.items():
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "posts" and parts[1].isdigit():
            out[int(parts[1])] = out.get(int(parts[1]), 0) + count
    return out


def fetched_post_numbers(hits: dict[str, int]) -> set[int]:
    """Posts whose page or comments were requested."""
    out: set[int] = set()
    for path in hits:
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "posts" and parts[1].isdigit():
            out.add(int(parts[1]))
    return out
