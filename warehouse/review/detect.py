"""The review pipeline over plain data: duplicates, comment copies, spam and near misses
-> suggestions. No database here; ``warehouse.review.service`` reads and writes."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from warehouse.logs import kv
from warehouse.review.duplicates import (
    CommentCopy,
    DuplicateResult,
    TextDoc,
    find_comment_copies,
    find_duplicates,
)
from warehouse.review.model import ReviewComment, ReviewPost, Suggestion
from warehouse.review.near_miss import NearMiss, thread_answers, untagged_mentions
from warehouse.review.spam import SpamResult, score_signals
from warehouse.review.spam_worker import signals_of
from warehouse.settings import get_settings

log = logging.getLogger("tagdraw.review")

# From this many posts the spam signals run in a second process beside the duplicate search.
PARALLEL_FROM = get_settings().review_parallel_from


def _spam_signals_of(posts: Sequence[ReviewPost]) -> dict[int, dict[str, Any]]:
    """post number -> the spam signals that fired (posts with none left out)."""
    return signals_of((p.post_number, p.title, p.body_text) for p in posts)


class _SpamWorker:
    """The spam signals of ``posts`` computed in a fresh interpreter
    (``warehouse.review.spam_worker``) while this process searches for duplicates."""

    def __init__(self, posts: Sequence[ReviewPost]) -> None:
        self.posts = posts
        payload = pickle.dumps(
            [(p.post_number, p.title, p.body_text) for p in posts],
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "warehouse.review.spam_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.output: bytes = b""
        log.info("spam worker started %s", kv(pid=self.process.pid, posts=len(posts)))
        # communicate() in a thread: the pipes are served while this thread works.
        self.thread = threading.Thread(target=self._communicate, args=(payload,), daemon=True)
        self.thread.start()

    def _communicate(self, payload: bytes) -> None:
        self.output = self.process.communicate(payload)[0]

    def result(self) -> dict[int, dict[str, Any]]:
        self.thread.join()
        if self.process.returncode == 0:
            fired: dict[int, dict[str, Any]] = pickle.loads(self.output)  # our own child's
            log.info("spam worker done %s", kv(pid=self.process.pid, flagged=len(fired)))
            return fired
        log.warning("spam worker exited with %s; computing here", self.process.returncode)
        return _spam_signals_of(self.posts)


@dataclass(slots=True)
class ReviewResult:
    duplicates: DuplicateResult
    comment_copies: list[CommentCopy]
    spam: dict[int, SpamResult]  # flagged posts only
    near_misses: list[NearMiss]
    suggestions: list[Suggestion]
    timings: dict[str, float] = field(default_factory=dict)


def post_doc(post: ReviewPost) -> TextDoc:
    # The body is what gets copied; a post with an empty body is compared on its title.
    return TextDoc(post.post_number, post.author_key, post.created_at, post.body_text or post.title)


def duplicate_suggestions(
    result: DuplicateResult, entries: Collection[int] | None
) -> list[Suggestion]:
    out = []
    for cluster in result.clusters:
        for match in cluster.matches:
            if entries is not None and match.copy not in entries:
                continue
            similarity = (
                "an exact copy"
                if match.method == "exact"
                else f"a near copy (Jaccard {match.jaccard:.2f}, "
                f"{match.containment:.0%} of the shorter text shared)"
            )
            whose = "by another account" if match.cross_account else "by the same author"
            extra = (
                f"; the same text stands under {len(cluster.authors)} accounts"
                if cluster.cross_account
                else ""
            )
            out.append(
                Suggestion(
                    kind="duplicate",
                    score=round(match.jaccard, 4),
                    duplicate_of=match.original,
                    why=f"Post {match.copy} is {similarity} of post {match.original} {whose}{extra}.",
                    evidence={
                        **match.evidence(),
                        "cluster": list(cluster.members),
                        "cluster_authors": list(cluster.authors),
                    },
                    post_number=match.copy,
                )
            )
    return out


def comment_copy_suggestions(
    copies: Sequence[CommentCopy], announcement_post: int | None, entries: Collection[int] | None
) -> list[Suggestion]:
    out = []
    for copy in copies:
        if entries is not None and copy.post_number not in entries:
            continue
        whose = (
            "the author's own comment"
            if copy.same_author
            else f"a comment by {copy.comment_author or 'a guest'}"
        )
        out.append(
            Suggestion(
                kind="duplicate",
                score=round(copy.containment * (0.6 if copy.same_author else 1.0), 4),
                duplicate_of=announcement_post,
                why=(
                    f"Post {copy.post_number} copies {whose} from the announcement thread "
                    f"(comment {copy.comment_id}, {copy.containment:.0%} of it)."
                ),
                evidence={
                    "method": "announcement_comment",
                    "comment_id": copy.comment_id,
                    "comment_author": copy.comment_author,
                    "containment": round(copy.containment, 4),
                    "same_author": copy.same_author,
                    "passages": list(copy.passages),
                },
                post_number=copy.post_number,
            )
        )
    return out


def review_posts(
    posts: Sequence[ReviewPost],
    *,
    keywords: Sequence[str] = (),
    entry_posts: Collection[int] | None = None,
    announcement_post: int | None = None,
    announcement_comments: Sequence[ReviewComment] = (),
    organisers: Collection[str] = (),
    near_miss_listing: Collection[int] = (),
    near_miss_tags: Sequence[str] = (),
    entrants: Collection[str] | None = None,
    with_passages: bool = True,
) -> ReviewResult:
    """Everything the review computes for a campaign, from plain data.

    ``posts`` are all the posts to compare (entries, near-miss posts, the announcement);
    suggestions are made for ``entry_posts`` (default: all). ``entrants`` are the author
    keys with a tagged entry (default: authors of ``entry_posts``).
    """
    timings: dict[str, float] = {}
    entries = set(entry_posts) if entry_posts is not None else None
    organisers = {o.lower() for o in organisers}

    spam_targets = [
        p
        for p in posts
        if (entries is None or p.post_number in entries) and p.post_number != announcement_post
    ]
    # Large campaigns: the spam signals (independent of the duplicates) are computed in a
    # second process meanwhile, so both cores work. Small ones stay in this process.
    background = _SpamWorker(spam_targets) if len(spam_targets) >= PARALLEL_FROM else None

    t0 = time.perf_counter()
    docs = [post_doc(p) for p in posts if p.post_number != announcement_post]
    dup = find_duplicates(docs, with_passages=with_passages)
    timings["duplicates"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    comment_docs = [
        TextDoc(c.comment_id, c.author_key, c.created_at, c.body_text)
        for c in announcement_comments
    ]
    copies = (
        find_comment_copies(docs, comment_docs, compact_texts=dup.compact) if comment_docs else []
    )
    timings["comment_copies"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    accounts = {key: len(c.authors) for c in dup.clusters if c.cross_account for key in c.members}
    fired = background.result() if background is not None else _spam_signals_of(spam_targets)
    spam: dict[int, SpamResult] = {}
    for post in spam_targets:
        number = post.post_number
        signals = dict(fired.get(number, {}))
        if accounts.get(number, 1) >= 2:
            signals["cross_account_copy"] = accounts[number]
        if signals:
            result = SpamResult(score=score_signals(signals), signals=signals)
            if result.is_spam:
                spam[number] = result
    timings["spam"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    by_number = {p.post_number: p for p in posts}
    if entrants is None:
        entrants = {
            (by_number[n].author_key or "")
            for n in (entries if entries is not None else by_number)
            if n in by_number
        }
    misses = untagged_mentions(
        posts,
        keywords,
        near_miss_listing=set(near_miss_listing),
        near_miss_tags=near_miss_tags,
        exclude_posts={announcement_post} if announcement_post else set(),
        organisers=organisers,
    )
    misses += thread_answers(
        announcement_comments, organisers=organisers, entrants={e.lower() for e in entrants}
    )
    timings["near_misses"] = time.perf_counter() - t0

    suggestions = duplicate_suggestions(dup, entries)
    suggestions += comment_copy_suggestions(copies, announcement_post, entries)
    suggestions += [
        Suggestion(
            kind="spam",
            score=result.score,
            duplicate_of=None,
            why=result.why(),
            evidence={"signals": result.signals},
            post_number=number,
        )
        for number, result in sorted(spam.items())
    ]
    suggestions += [
        Suggestion(
            kind="near_miss",
            score=m.score,
            duplicate_of=None,
            why=m.why,
            evidence=m.evidence,
            post_number=m.post_number,
        )
        for m in misses
        if m.post_number is not None
    ]
    return ReviewResult(dup, copies, spam, misses, suggestions, timings)
