"""Helpers for the crawler tests: compare the warehouse with a replica's ground truth.

The comparison uses no product code (no ``warehouse.thai``, no ``scraper``): only SQL on
the contract's tables and the few text rules below, so a bug in the product's normaliser
or parser cannot hide on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.db import run

POST_FIELDS = (
    "url",
    "title",
    "author_username",
    "author_name",
    "book_slug",
    "created_at",
    "updated_at",
    "tags",
    "raw_tags",
    "body_text",
    "license_text",
    "comment_count_declared",
)
COMMENT_FIELDS = (
    "post_number",
    "position",
    "author_username",
    "author_name",
    "created_at",
    "body_text",
)
# Text a script in hostile comment markup would add if it ran (replica/drift.py).
INJECTED = "INJECTED"
_POST_URL = re.compile(r"/posts/(\d+)")


def squash(text: str) -> str:
    """Every run of whitespace (NBSP and newlines included) as one space, trimmed: how a
    browser shows text, whatever the markup's line breaks and ``&nbsp;``."""
    return " ".join(text.split())


def _visible(text: str) -> str:
    """Text as a reader sees it: format characters (zero-width...) are invisible."""
    return squash("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))


def normalise_field(field: str, value: Any) -> Any:
    """A stored or true value as the comparison sees it."""
    if value is None:
        return None
    if field in ("title", "body_text", "author_name", "license_text"):
        return squash(value)
    if field in ("created_at", "updated_at"):
        return value if isinstance(value, str) else value.isoformat()
    if field == "raw_tags":
        return [_visible(t) for t in value]
    if field == "tags":
        return list(value)
    if field == "url":
        match = _POST_URL.search(value)
        return f"/posts/{match.group(1)}" if match else value
    return value


@dataclass
class Comparison:
    """Every difference, and those excused by a recorded parse error in a run that did not
    say ``ok``."""

    problems: list[str] = field(default_factory=list)
    excused: list[str] = field(default_factory=list)
    excused_posts: set[int] = field(default_factory=set)
    last_status: str | None = None


def _read(con: Any) -> dict[str, Any]:
    cols = ", ".join(("post_number", "gone", "gone_reason", *POST_FIELDS))
    posts = {
        row[0]: dict(zip(("post_number", "gone", "gone_reason", *POST_FIELDS), row, strict=True))
        for row in con.execute(f"SELECT {cols} FROM posts").fetchall()
    }
    ccols = ", ".join(("comment_id", *COMMENT_FIELDS))
    comments = {
        row[0]: dict(zip(("comment_id", *COMMENT_FIELDS), row, strict=True))
        for row in con.execute(f"SELECT {ccols} FROM comments").fetchall()
    }
    last = con.execute(
        "SELECT run_id, status FROM crawl_runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    errors: list[tuple[str, str, str | None]] = []
    if last is not None:
        errors = con.execute(
            "SELECT url, error, saved_html_path FROM crawl_errors WHERE run_id = ?", [last[0]]
        ).fetchall()
    return {
        "posts": posts,
        "comments": comments,
        "status": last[1] if last else None,
        "errors": errors,
    }


def compare_warehouse(db_path: Path, truth: dict[str, Any]) -> Comparison:
    """The warehouse against the ground truth, field by field, posts and comments.

    A post whose page (or one of its comments pages) the last run recorded as a parse error
    with the saved page (the file must exist) may differ, but only when that run's status is not ``ok``: a crawler
    that cannot read a field must say so, never store a wrong value and report success."""
    data = run(_read, db_path)
    posts, comments = data["posts"], data["comments"]
    result = Comparison(last_status=data["status"])
    unreadable: dict[int, str] = {}
    if data["status"] not in (None, "ok"):
        for url, error, saved in data["errors"]:
            match = _POST_URL.search(url)
            if match and saved and Path(saved).is_file():
                unreadable.setdefault(int(match.group(1)), f"{url}: {error}")
    by_post: dict[int, list[str]] = {}

    def differ(number: int | None, text: str) -> None:
        by_post.setdefault(number if number is not None else -1, []).append(text)

    extra = set(posts) - {int(n) for n in truth["posts"]}
    if extra:
        differ(None, f"posts not in the ground truth: {sorted(extra)[:10]}")
    expected_comment_ids: set[int] = set()
    for key, want in truth["posts"].items():
        number = int(key)
        got = posts.get(number)
        if got is None:
            differ(number, f"post {number} ({want['state']}) missing")
            continue
        if want["state"] != "public":
            reason = "not_found" if want["state"] == "deleted" else "private"
            if not got["gone"] or got["gone_reason"] != reason:
                differ(number, f"post {number} should be gone ({reason}): gone={got['gone']}")
            continue
        if got["gone"]:
            differ(number, f"post {number} marked gone ({got['gone_reason']}) but is public")
        for name in POST_FIELDS:
            stored, wanted = normalise_field(name, got[name]), normalise_field(name, want[name])
            if stored != wanted:
                differ(number, f"post {number} {name}: stored {stored!r:.120} != {wanted!r:.120}")
        for comment in truth["comments"].get(key, []):
            cid = int(comment["comment_id"])
            expected_comment_ids.add(cid)
            stored_comment = comments.get(cid)
            if stored_comment is None:
                differ(number, f"comment {cid} of post {number} missing")
                continue
            for name in COMMENT_FIELDS:
                wanted = number if name == "post_number" else comment[name]
                if normalise_field(name, stored_comment[name]) != normalise_field(name, wanted):
                    differ(
                        number,
                        f"comment {cid} of post {number} {name}: stored "
                        f"{normalise_field(name, stored_comment[name])!r:.120} != {normalise_field(name, wanted)!r:.120}",
                    )
    # Comments of a post that went away are kept (never deleted); the truth omits them.
    gone_posts = {int(n) for n, p in truth["posts"].items() if p["state"] != "public"}
    for cid in sorted(set(comments) - expected_comment_ids):
        if comments[cid]["post_number"] not in gone_posts:
            differ(comments[cid]["post_number"], f"comment {cid} not in the ground truth")
    for number, texts in sorted(by_post.items()):
        if number in unreadable:
            result.excused += [f"{t} (parse error recorded: {unreadable[number]})" for t in texts]
            result.excused_posts.add(number)
        else:
            result.problems += texts
    return result


def warehouse_differences(db_path: Path, truth: dict[str, Any], limit: int = 40) -> list[str]:
    """Every way the warehouse differs from the replica's ground truth (empty = equal)."""
    return compare_warehouse(db_path, truth).problems[:limit]


def stored_texts(db_path: Path) -> list[tuple[str, str]]:
    """(where, text) for every stored text a reader of the warehouse sees."""

    def read(con: Any) -> list[tuple[str, str]]:
        rows = con.execute(
            "SELECT 'post ' || post_number, coalesce(title, '') || ' ' || coalesce(body_text, '')"
            " || ' ' || coalesce(author_name, '') || ' ' || array_to_string(tags, ' ') FROM posts"
        ).fetchall()
        rows += con.execute(
            "SELECT 'comment ' || comment_id, coalesce(body_text, '') || ' ' || "
            "coalesce(author_name, '') FROM comments"
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]

    return run(read, db_path)


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
