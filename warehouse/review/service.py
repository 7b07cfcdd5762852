"""The review over the warehouse: read in one short transaction, compute with no
connection open, write in one short transaction.

Writes: the campaign's rows of ``suggestions``, ``duplicate_clusters`` and ``near_misses``
are replaced (derived data); rule decisions are appended through
``warehouse.decisions.record_decision`` only where the log does not already say so, never
over a moderator's decision (and not at all while the campaign is frozen).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from warehouse.campaigns import Campaign, get_campaign
from warehouse.db import run
from warehouse.decisions import StaleDecision, record_decision
from warehouse.entries import Entry, list_entries
from warehouse.review.detect import ReviewResult, review_posts
from warehouse.review.model import ReviewComment, ReviewPost, Suggestion
from warehouse.review.near_miss import NearMiss
from warehouse.review.rules import (
    RULE_ACTOR,
    PlannedDecision,
    PostVersion,
    edited_after_close_suggestion,
    over_limit_suggestion,
    plan_rule_decisions,
)
from warehouse.thai import BANGKOK, as_bangkok

# Posts written this long before the window opens are still compared (an original may
# predate the campaign) and scanned for near misses.
LOOKBACK = timedelta(days=30)


@dataclass
class ReviewSummary:
    campaign_slug: str
    posts: int = 0
    entries: int = 0
    suggestions: dict[str, int] = field(default_factory=dict)  # kind -> count
    duplicate_clusters: int = 0
    near_misses: int = 0
    rule_decisions: int = 0  # written by this run
    rule_decisions_skipped: int = 0  # a moderator decided meanwhile (stale), or frozen
    frozen: bool = False
    duration_s: float = 0.0
    computed_at: datetime | None = None

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.suggestions.items())) or "none"
        text = (
            f"{self.campaign_slug}: {self.entries} entries, {self.posts} posts compared; "
            f"suggestions: {kinds}; {self.duplicate_clusters} duplicate clusters; "
            f"{self.near_misses} near misses; {self.rule_decisions} rule decisions written"
        )
        if self.rule_decisions_skipped:
            text += f" ({self.rule_decisions_skipped} skipped)"
        if self.frozen:
            text += "; campaign frozen: no rule decisions"
        return text + f" ({self.duration_s:.1f} s)"

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign_slug": self.campaign_slug,
            "posts": self.posts,
            "entries": self.entries,
            "suggestions": self.suggestions,
            "duplicate_clusters": self.duplicate_clusters,
            "near_misses": self.near_misses,
            "rule_decisions": self.rule_decisions,
            "rule_decisions_skipped": self.rule_decisions_skipped,
            "frozen": self.frozen,
            "duration_s": round(self.duration_s, 3),
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
        }


@dataclass
class ReviewInput:
    """Everything the review reads, as plain data."""

    campaign: Campaign
    entries: list[Entry]
    posts: list[ReviewPost]
    announcement_comments: list[ReviewComment]
    announcement_author: str | None
    near_miss_listing: set[int]
    versions: dict[int, list[PostVersion]]


def read_review_input(con: duckdb.DuckDBPyConnection, slug: str) -> ReviewInput:
    """One read of everything the review needs (call inside one short transaction)."""
    campaign = get_campaign(con, slug)
    entries = list_entries(con, slug)
    entry_numbers = [e.post_number for e in entries]
    rows = con.execute(
        """
        SELECT p.post_number, lower(p.author_username), p.author_name, p.created_at, p.title,
               p.body_text, p.tags
        FROM posts p
        WHERE p.content_hash IS NOT NULL AND (
            p.post_number IN (SELECT unnest($entries::BIGINT[]))
            OR p.post_number IN (SELECT post_number FROM campaign_posts WHERE campaign_slug = $slug)
            OR p.post_number = $announcement
            OR p.created_at BETWEEN $since AND $until)
        ORDER BY p.post_number
        """,
        {
            "entries": entry_numbers,
            "slug": slug,
            "announcement": campaign.announcement_post or -1,
            "since": campaign.opens_at - LOOKBACK,
            "until": campaign.closes_at + timedelta(days=campaign.crawl_after_close_days),
        },
    ).fetchall()
    posts = [
        ReviewPost(
            post_number=r[0],
            author_key=r[1],
            author_name=r[2],
            created_at=as_bangkok(r[3]),
            title=r[4] or "",
            body_text=r[5] or "",
            tags=tuple(r[6] or ()),
        )
        for r in rows
    ]
    comments: list[ReviewComment] = []
    announcement_author = None
    if campaign.announcement_post:
        comments = [
            ReviewComment(
                comment_id=r[0],
                post_number=campaign.announcement_post,
                author_key=r[1],
                author_name=r[2],
                created_at=as_bangkok(r[3]),
                body_text=r[4] or "",
            )
            for r in con.execute(
                "SELECT comment_id, lower(author_username), author_name, created_at, body_text "
                "FROM comments WHERE post_number = ? ORDER BY position NULLS LAST, comment_id",
                [campaign.announcement_post],
            ).fetchall()
        ]
        row = con.execute(
            "SELECT lower(author_username) FROM posts WHERE post_number = ?",
            [campaign.announcement_post],
        ).fetchone()
        announcement_author = row[0] if row else None
    near_listing = {
        r[0]
        for r in con.execute(
            "SELECT post_number FROM campaign_posts "
            "WHERE campaign_slug = ? AND source = 'near_miss_listing'",
            [slug],
        ).fetchall()
    }
    edited = [e.post_number for e in entries if e.facts.edited_after_close]
    versions: dict[int, list[PostVersion]] = defaultdict(list)
    if edited:
        for r in con.execute(
            "SELECT post_number, version_no, seen_at, title, body_text, tags, updated_at "
            "FROM post_versions WHERE post_number IN (SELECT unnest($n::BIGINT[])) "
            "ORDER BY post_number, version_no",
            {"n": edited},
        ).fetchall():
            versions[r[0]].append(
                PostVersion(r[1], as_bangkok(r[2]), r[3], r[4], tuple(r[5] or ()), as_bangkok(r[6]))
            )
    return ReviewInput(
        campaign, entries, posts, comments, announcement_author, near_listing, dict(versions)
    )


def organisers_of(data: ReviewInput) -> set[str]:
    found = {a.lower() for a in data.campaign.excluded_authors}
    if data.announcement_author:
        found.add(data.announcement_author)
    return found


@dataclass
class ReviewPlan:
    result: ReviewResult
    suggestions: list[Suggestion]
    decisions: list[PlannedDecision]
    posts: list[ReviewPost]


def plan_review(data: ReviewInput) -> ReviewPlan:
    """All the computing, with no connection open."""
    campaign = data.campaign
    entry_numbers = {e.post_number for e in data.entries}
    entrants = {
        e.author_key
        for e in data.entries
        if e.author_key and e.facts.tagged and not e.facts.gone and not e.facts.organiser
    }
    result = review_posts(
        data.posts,
        keywords=campaign.keywords,
        entry_posts=entry_numbers,
        announcement_post=campaign.announcement_post,
        announcement_comments=data.announcement_comments,
        organisers=organisers_of(data),
        near_miss_listing=data.near_miss_listing,
        near_miss_tags=campaign.near_miss_tags,
        entrants=entrants,
    )
    suggestions = list(result.suggestions)
    by_author: dict[str, list[int]] = defaultdict(list)
    for e in sorted(
        data.entries,
        key=lambda e: (e.created_at or datetime.max.replace(tzinfo=BANGKOK), e.post_number),
    ):
        if (
            e.author_key
            and e.facts.author_entry_count
            and e.facts.tagged
            and e.facts.in_window
            and not e.facts.gone
        ):
            by_author[e.author_key].append(e.post_number)
    for e in data.entries:
        if e.facts.edited_after_close:
            suggestions.append(
                edited_after_close_suggestion(
                    e.post_number, data.versions.get(e.post_number, []), campaign.closes_at
                )
            )
        if e.facts.over_author_limit:
            suggestions.append(
                over_limit_suggestion(
                    e.post_number,
                    e.author_key,
                    by_author.get(e.author_key or "", [e.post_number]),
                    campaign.max_entries_per_author,
                )
            )
    facts = {e.post_number: e.facts for e in data.entries}
    current = {e.post_number: e.decision for e in data.entries if e.decision is not None}
    decisions = plan_rule_decisions(facts, current)
    return ReviewPlan(result, suggestions, decisions, data.posts)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    slug: str,
    frame: pd.DataFrame,
    json_cols: Sequence[str],
) -> None:
    con.execute(f"DELETE FROM {table} WHERE campaign_slug = ?", [slug])
    if frame.empty:
        return
    columns = list(frame.columns)
    select = ", ".join(f"{c}::JSON" if c in json_cols else c for c in columns)
    con.register("review_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM review_rows")
    finally:
        con.unregister("review_rows")


def write_review(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    plan: ReviewPlan,
    summary: ReviewSummary,
    computed_at: datetime,
) -> None:
    """One write: replace the derived rows, append the rule decisions (call inside one
    short transaction)."""
    suggestion_rows = pd.DataFrame(
        [
            {
                "campaign_slug": slug,
                "post_number": s.post_number,
                "comment_id": s.comment_id,
                "kind": s.kind,
                "score": float(s.score),
                "duplicate_of": s.duplicate_of,
                "why": s.why,
                "evidence": _json(s.evidence),
                "computed_at": computed_at,
            }
            for s in plan.suggestions
        ],
        columns=[
            "campaign_slug", "post_number", "comment_id", "kind", "score", "duplicate_of",
            "why", "evidence", "computed_at",
        ],
    )  # fmt: skip
    for col in ("post_number", "comment_id", "duplicate_of"):
        suggestion_rows[col] = suggestion_rows[col].astype("Int64")
    _replace_rows(con, "suggestions", slug, suggestion_rows, ["evidence"])

    cluster_rows: list[dict[str, Any]] = []
    for cluster in plan.result.duplicates.clusters:
        authors = {m.copy: m for m in cluster.matches}
        for number in cluster.members:
            match = authors.get(number)
            cluster_rows.append(
                {
                    "campaign_slug": slug,
                    "cluster_id": cluster.cluster_id,
                    "post_number": number,
                    "is_original": number == cluster.original,
                    "author_key": None,
                    "method": match.method if match else "original",
                    "jaccard": float(match.jaccard) if match else 1.0,
                    "cross_account": cluster.cross_account,
                    "computed_at": computed_at,
                }
            )
    authors_by_post = {p.post_number: p.author_key for p in plan.posts}
    for row in cluster_rows:
        row["author_key"] = authors_by_post.get(row["post_number"])
    frame = pd.DataFrame(
        cluster_rows,
        columns=[
            "campaign_slug", "cluster_id", "post_number", "is_original", "author_key",
            "method", "jaccard", "cross_account", "computed_at",
        ],
    )  # fmt: skip
    _replace_rows(con, "duplicate_clusters", slug, frame, [])

    frame = pd.DataFrame(
        [_near_miss_row(slug, m, computed_at) for m in plan.result.near_misses],
        columns=[
            "campaign_slug", "kind", "post_number", "comment_id", "author_username",
            "author_name", "created_at", "score", "why", "excerpt", "evidence", "computed_at",
        ],
    )  # fmt: skip
    for col in ("post_number", "comment_id"):
        frame[col] = frame[col].astype("Int64")
    _replace_rows(con, "near_misses", slug, frame, ["evidence"])

    campaign = get_campaign(con, slug)
    if campaign.frozen_at is not None:
        summary.frozen = True
        summary.rule_decisions_skipped += len(plan.decisions)
    else:
        for planned in plan.decisions:
            try:
                record_decision(
                    con,
                    slug,
                    planned.post_number,
                    planned.status,
                    decided_by=RULE_ACTOR,
                    reason=planned.reason,
                    note=planned.note,
                    source="rule",
                    expected_current=planned.expected_current,
                )
                summary.rule_decisions += 1
            except StaleDecision:
                summary.rule_decisions_skipped += 1  # a moderator decided meanwhile
    con.execute(
        "INSERT INTO review_runs (campaign_slug, computed_at, posts, entries, suggestions, "
        "duplicate_clusters, near_misses, rule_decisions, duration_s, summary) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::JSON)",
        [
            slug,
            computed_at,
            summary.posts,
            summary.entries,
            sum(summary.suggestions.values()),
            summary.duplicate_clusters,
            summary.near_misses,
            summary.rule_decisions,
            summary.duration_s,
            _json(summary.to_json()),
        ],
    )


def _near_miss_row(slug: str, m: NearMiss, computed_at: datetime) -> dict[str, Any]:
    return {
        "campaign_slug": slug,
        "kind": m.kind,
        "post_number": m.post_number,
        "comment_id": m.comment_id,
        "author_username": m.author_key,
        "author_name": m.author_name,
        "created_at": m.created_at,
        "score": float(m.score),
        "why": m.why,
        "excerpt": m.excerpt,
        "evidence": _json(m.evidence),
        "computed_at": computed_at,
    }


def compute_suggestions(
    db_path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None, slug: str
) -> ReviewSummary:
    """Compute the review of a campaign and store it; returns what was found and written.

    ``db_path`` is the warehouse file (``None``: the configured one). Passing an open
    connection runs everything in the caller's transaction instead (for callers that
    already hold one; the computing then happens with it open).
    """
    started = time.perf_counter()
    if isinstance(db_path, duckdb.DuckDBPyConnection):
        data = read_review_input(db_path, slug)
    else:
        data = run(lambda con: read_review_input(con, slug), db_path)
    plan = plan_review(data)
    summary = ReviewSummary(campaign_slug=slug, posts=len(data.posts), entries=len(data.entries))
    for s in plan.suggestions:
        summary.suggestions[s.kind] = summary.suggestions.get(s.kind, 0) + 1
    summary.duplicate_clusters = len(plan.result.duplicates.clusters)
    summary.near_misses = len(plan.result.near_misses)
    computed_at = datetime.now(BANGKOK)
    summary.computed_at = computed_at
    summary.duration_s = time.perf_counter() - started

    def write(con: duckdb.DuckDBPyConnection) -> None:
        summary.rule_decisions = summary.rule_decisions_skipped = 0  # a retried transaction
        write_review(con, slug, plan, summary, computed_at)

    if isinstance(db_path, duckdb.DuckDBPyConnection):
        write(db_path)
    else:
        run(write, db_path)
    summary.duration_s = time.perf_counter() - started
    return summary


# --- reading the results ----------------------------------------------------------------


def _evidence(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)


def list_suggestions(con: duckdb.DuckDBPyConnection, slug: str) -> dict[int, list[Suggestion]]:
    """The stored suggestions of a campaign's posts: post_number -> suggestions, strongest
    first (thread answers, which have no post, are in ``list_near_misses``)."""
    rows = con.execute(
        "SELECT post_number, comment_id, kind, score, duplicate_of, why, evidence "
        "FROM suggestions WHERE campaign_slug = ? AND post_number IS NOT NULL "
        "ORDER BY post_number, score DESC, kind",
        [slug],
    ).fetchall()
    out: dict[int, list[Suggestion]] = defaultdict(list)
    for post_number, comment_id, kind, score, duplicate_of, why, evidence in rows:
        out[post_number].append(
            Suggestion(
                kind=kind,
                score=score,
                duplicate_of=duplicate_of,
                why=why,
                evidence=_evidence(evidence),
                post_number=post_number,
                comment_id=comment_id,
            )
        )
    return dict(out)


def list_near_misses(con: duckdb.DuckDBPyConnection, slug: str) -> list[NearMiss]:
    """People to reach before the deadline: untagged posts that mention the keyword (or
    carry a near-miss tag) and answers in the announcement thread without a tagged post."""
    rows = con.execute(
        "SELECT kind, post_number, comment_id, author_username, author_name, created_at, why, "
        "score, evidence, excerpt FROM near_misses WHERE campaign_slug = ? "
        "ORDER BY kind DESC, created_at NULLS LAST, post_number, comment_id",
        [slug],
    ).fetchall()
    return [
        NearMiss(
            kind=r[0],
            post_number=r[1],
            comment_id=r[2],
            author_key=r[3],
            author_name=r[4],
            created_at=as_bangkok(r[5]),
            why=r[6],
            score=r[7],
            evidence=_evidence(r[8]),
            excerpt=r[9] or "",
        )
        for r in rows
    ]


def list_duplicate_clusters(con: duckdb.DuckDBPyConnection, slug: str) -> list[dict[str, Any]]:
    """Stored clusters: ``{cluster_id, original, members, cross_account}``, by original."""
    rows = con.execute(
        "SELECT cluster_id, list(post_number ORDER BY post_number), "
        "any_value(cross_account) FROM duplicate_clusters WHERE campaign_slug = ? "
        "GROUP BY cluster_id ORDER BY cluster_id",
        [slug],
    ).fetchall()
    return [
        {"cluster_id": r[0], "original": r[0], "members": list(r[1]), "cross_account": r[2]}
        for r in rows
    ]


def last_review(con: duckdb.DuckDBPyConnection, slug: str) -> dict[str, Any] | None:
    """The latest review run of a campaign (``summary`` JSON plus ``computed_at``)."""
    row = con.execute(
        "SELECT computed_at, summary FROM review_runs WHERE campaign_slug = ? "
        "ORDER BY computed_at DESC LIMIT 1",
        [slug],
    ).fetchone()
    if row is None:
        return None
    return {**_evidence(row[1]), "computed_at": as_bangkok(row[0]).isoformat()}


def _reasons(entry: Entry) -> list[str]:
    reasons: list[str] = []
    if entry.decision is not None and entry.decision.reason:
        reasons.append(entry.decision.reason)
    for code in entry.facts.reasons():
        if code not in reasons:
            reasons.append(code)
    return reasons


def entries_report(
    con: duckdb.DuckDBPyConnection, slug: str, *, status: str | None = None
) -> list[dict[str, Any]]:
    """The ``entries`` lines of the design: one dict per candidate post, by post number.

    ``status``: the latest decision's status, or ``pending``. ``reasons``: the reason code
    of the latest decision first, then every rule fact that applies. ``suggestions``:
    ``{kind, score, duplicate_of, why}`` strongest first. ``author``: the username. Then
    every key of ``Entry.to_json`` (the facts, the decision, the post's fields).
    """
    suggestions = list_suggestions(con, slug)
    out = []
    for entry in list_entries(con, slug):
        if status is not None and entry.status != status:
            continue
        out.append(
            {
                "post_number": entry.post_number,
                "status": entry.status,
                "reasons": _reasons(entry),
                "suggestions": [s.brief() for s in suggestions.get(entry.post_number, [])],
                "author": entry.author_username,
                **entry.to_json(),
            }
        )
    return out
