"""The queries behind the dashboard's pages: plain functions over a DuckDB connection,
testable without Streamlit. Pages never write SQL; they call these (through
``Ctx.call``) and the warehouse's own functions.

The review queue reuses ``warehouse.entries.entries_sql()`` (the one definition of
candidates and rule facts) and pages in SQL, so it stays fast with 100k entries.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from warehouse import crawl_ledger, rules, search
from warehouse.campaigns import Campaign, get_campaign
from warehouse.decisions import Decision, decision_history, latest_decision
from warehouse.entries import Entry, RuleFacts, entries_sql
from warehouse.health import Health, crawl_health
from warehouse.thai import BANGKOK, as_bangkok

SUGGESTION_KINDS = ("duplicate", "spam", "rule", "near_miss")
DEFAULT_PAGE_SIZE = 50


# Per post: strongest suggestion score and the kinds present (migration 0002 makes the table).
_SUGGESTIONS_SQL = (
    "SELECT post_number, max(score) AS max_score, list_distinct(list(kind)) AS kinds, "
    "arg_max(kind, score) AS top_kind "
    "FROM suggestions WHERE campaign_slug = $slug AND post_number IS NOT NULL "
    "GROUP BY post_number"
)


# --- entry facts, cached per warehouse state ------------------------------------------------

# The warehouse's entries query (rule facts need the whole campaign: per-author counts,
# edits after close) takes seconds at 100k posts. Its result only changes when a crawl or a
# campaign edit changes its inputs, so the dashboard keeps the last result per campaign in
# memory (a few MB per 100k entries) with a cheap fingerprint of those inputs, read in the
# same transaction. Decisions and suggestions are not cached: they are joined on every read.
# The campaign row counts without ``decisions_version``, which every decision increments.
_FACTS_CACHE: dict[tuple[str, str], tuple[tuple[Any, ...], pa.Table]] = {}
_FACTS_LOCK = threading.Lock()
_FACTS_CACHE_SIZE = 8

_FINGERPRINT_SQL = """
SELECT
    (SELECT [count(*)::VARCHAR, max(last_fetched_at)::VARCHAR, count_if(gone)::VARCHAR,
             max(first_seen_at)::VARCHAR] FROM posts),
    (SELECT count(*) FROM post_versions),
    (SELECT [count(*)::VARCHAR, max(last_seen_at)::VARCHAR, count_if(listed)::VARCHAR]
     FROM campaign_posts WHERE campaign_slug = $slug),
    (SELECT hash(c) FROM (SELECT * EXCLUDE (decisions_version) FROM campaigns WHERE slug = $slug) c)
"""


def _database_key(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT coalesce(path, database_name) FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchall()
    return str(row[0][0]) if row else ""


def _facts_version(
    con: duckdb.DuckDBPyConnection, slug: str
) -> tuple[tuple[str, str], tuple[str, ...]]:
    """The facts cache's key for this warehouse and campaign, and the fingerprint of the
    inputs its entry must have been computed from."""
    rows = con.execute(_FINGERPRINT_SQL, {"slug": slug}).fetchall()
    return (_database_key(con), slug), tuple(str(v) for v in rows[0]) if rows else ()


def entry_facts(con: duckdb.DuckDBPyConnection, slug: str) -> pa.Table:
    """Every candidate of the campaign with its rule facts (``warehouse.entries.entries_sql()``
    plus ``post_created_at``), as an Arrow table; recomputed only when its inputs changed."""
    key, fingerprint = _facts_version(con, slug)
    hit = _FACTS_CACHE.get(key)
    if hit is not None and hit[0] == fingerprint:
        return hit[1]
    table = con.sql(
        f"SELECT e.*, p.created_at AS post_created_at FROM ({entries_sql()}) e "
        "LEFT JOIN posts p USING (post_number)",
        params={"slug": slug},
    ).to_arrow_table()
    with _FACTS_LOCK:
        if len(_FACTS_CACHE) >= _FACTS_CACHE_SIZE and key not in _FACTS_CACHE:
            _FACTS_CACHE.pop(next(iter(_FACTS_CACHE)))
        _FACTS_CACHE[key] = (fingerprint, table)
    return table


_BASE_CACHE: dict[tuple[str, str], tuple[tuple[Any, ...], pa.Table]] = {}


def queue_base(con: duckdb.DuckDBPyConnection, slug: str) -> pa.Table:
    """``entry_facts`` joined with each entry's suggestion summary (strongest score, kinds)
    and its count of rule problems: everything the queue sorts and filters on except the
    decisions, cached until the facts or the suggestions change."""
    facts = entry_facts(con, slug)
    found = con.execute(
        "SELECT count(*), max(computed_at)::VARCHAR FROM suggestions WHERE campaign_slug = ?",
        [slug],
    ).fetchall()
    marker: tuple[Any, ...] = tuple(found[0]) if found else ()
    key = (_database_key(con), slug)
    facts_entry = _FACTS_CACHE.get(key)
    version = (facts_entry[0] if facts_entry else None, marker)
    hit = _BASE_CACHE.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    with _Registered(con, facts) as facts_view:
        table = con.sql(
            f"""
            WITH s AS ({_SUGGESTIONS_SQL})
            SELECT f.post_number, f.title, f.author_username, f.author_name,
                   f.post_created_at AS created_at, f.url,
                   {_rule_flags_sql("f")},
                   s.kinds, s.top_kind, coalesce(s.max_score, 0) AS max_score,
                   s.max_score AS top_score
            FROM {facts_view} f LEFT JOIN s USING (post_number)
            """,
            params={"slug": slug},
        ).to_arrow_table()
    with _FACTS_LOCK:
        if len(_BASE_CACHE) >= _FACTS_CACHE_SIZE and key not in _BASE_CACHE:
            _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
        _BASE_CACHE[key] = (version, table)
    return table


def _rule_flags_sql(alias: str) -> str:
    """One column per rule of ``warehouse.rules`` (named by its code: does it apply?) and
    ``rule_count``, how many apply."""
    flags = [(rules.applies_sql(rule, alias), rule.code) for rule in rules.rules()]
    count = " + ".join(f"({sql})::INT" for sql, _ in flags) or "0"
    return ", ".join(f"{sql} AS {code}" for sql, code in flags) + f", ({count}) AS rule_count"


_REGISTER_LOCK = threading.Lock()
_register_seq = itertools.count()


class _Registered:
    """``con.register`` under a unique name for the duration of a ``with`` block."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        self.con = con
        self.table = table
        with _REGISTER_LOCK:
            self.name = f"_dash_entries_{next(_register_seq)}"

    def __enter__(self) -> str:
        self.con.register(self.name, self.table)
        return self.name

    def __exit__(self, *exc: object) -> None:
        self.con.unregister(self.name)


# --- the review queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    statuses: tuple[str, ...] = ()  # empty = any
    kinds: tuple[str, ...] = ()  # suggestion kinds; "none" = entries without suggestions
    author: str | None = None  # part of username or display name
    date_from: date | None = None  # created_at on or after (Asia/Bangkok)
    date_to: date | None = None  # created_at on or before
    text: str | None = None  # in title or body, case-insensitive


@dataclass(frozen=True)
class QueueRow:
    post_number: int
    title: str
    author_username: str | None
    author_name: str | None
    created_at: datetime | None
    status: str
    decision_id: int | None
    decided_by: str | None
    decision_source: str | None
    reason: str | None
    duplicate_of: int | None
    rule_reasons: tuple[str, ...]
    suggestion_kinds: tuple[str, ...]
    top_kind: str | None
    top_score: float | None
    url: str


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _queue_where(
    con: duckdb.DuckDBPyConnection, filters: QueueFilters, params: dict[str, Any]
) -> str:
    clauses = ["true"]
    if filters.statuses:
        params["statuses"] = list(filters.statuses)
        clauses.append("list_contains($statuses, status)")
    if filters.kinds:
        kinds = [k for k in filters.kinds if k != "none"]
        parts = []
        if kinds:
            params["kinds"] = kinds
            parts.append("list_has_any(coalesce(kinds, []::VARCHAR[]), $kinds)")
        if "none" in filters.kinds:
            parts.append("coalesce(len(kinds), 0) = 0")
        clauses.append("(" + " OR ".join(parts) + ")")
    if filters.author and filters.author.strip():
        params["author"] = f"%{filters.author.strip().lower()}%"
        clauses.append(
            "(lower(coalesce(author_username, '')) LIKE $author "
            "OR lower(coalesce(author_name, '')) LIKE $author)"
        )
    if filters.date_from:
        params["date_from"] = datetime.combine(filters.date_from, datetime.min.time(), BANGKOK)
        clauses.append("created_at >= $date_from")
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time(), BANGKOK)
        params["date_to"] = end
        clauses.append("created_at < $date_to")
    found = search.matches_sql(con, filters.text) if filters.text else None
    if found is not None:
        # The search index (warehouse.search): any 2+ character substring of the title,
        # body, author or a comment, normalised like the query.
        sql, values = found
        params.update(values)
        clauses.append(f"post_number IN (SELECT post_number FROM ({sql}))")
    elif filters.text and filters.text.strip():
        # Too short for the index (one character): ILIKE over titles and bodies.
        escaped = filters.text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["text"] = f"%{escaped}%"
        clauses.append(
            "(title ILIKE $text ESCAPE '\\' OR post_number IN "
            "(SELECT post_number FROM posts WHERE body_text ILIKE $text ESCAPE '\\'))"
        )
    return " AND ".join(clauses)


def review_queue(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    filters: QueueFilters | None = None,
    *,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> QueuePage:
    """One page of the campaign's entries, most in need of attention first: undecided
    entries before rule decisions before moderator decisions; within each, the strongest
    suggestion first, then rule problems, then oldest post."""
    filters = filters or QueueFilters()
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), 500))
    params: dict[str, Any] = {"slug": slug}
    where = _queue_where(con, filters, params)
    params["limit"] = page_size
    params["offset"] = (page - 1) * page_size
    with _Registered(con, queue_base(con, slug)) as entries_view:
        return _review_queue(con, slug, filters, entries_view, page, page_size, params, where)


def _review_queue(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    filters: QueueFilters,
    entries_view: str,
    page: int,
    page_size: int,
    params: dict[str, Any],
    where: str,
) -> QueuePage:
    base = f"""
    WITH d AS (
        SELECT post_number, max(decision_id) AS decision_id FROM decisions
        WHERE campaign_slug = $slug GROUP BY post_number
    ),
    q AS (
        SELECT e.*, coalesce(x.status, 'pending') AS status, x.decision_id, x.decided_by,
               x.source AS decision_source, x.reason, x.duplicate_of
        FROM {entries_view} e
        LEFT JOIN d USING (post_number)
        LEFT JOIN decisions x ON x.decision_id = d.decision_id
    )
    """
    # Two cheap statements (a count, and a top-N) instead of a window over every row.
    count_params = {k: v for k, v in params.items() if k not in ("limit", "offset")}
    total_rows = con.execute(
        f"{base} SELECT count(*) FROM q WHERE {where}", count_params
    ).fetchall()
    total = int(total_rows[0][0]) if total_rows else 0
    cursor = con.execute(
        f"""{base}
        SELECT * FROM q WHERE {where}
        ORDER BY
            CASE WHEN status = 'pending' THEN 0 WHEN decision_source = 'rule' THEN 1 ELSE 2 END,
            max_score DESC, rule_count DESC, created_at NULLS LAST, post_number
        LIMIT $limit OFFSET $offset
        """,
        params,
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return QueuePage(
        rows=[_queue_row(r) for r in rows], total=total, page=page, page_size=page_size
    )


def _queue_row(r: dict[str, Any]) -> QueueRow:
    return QueueRow(
        post_number=r["post_number"],
        title=r["title"] or "",
        author_username=r["author_username"],
        author_name=r["author_name"],
        created_at=as_bangkok(r["created_at"]),
        status=r["status"],
        decision_id=r["decision_id"],
        decided_by=r["decided_by"],
        decision_source=r["decision_source"],
        reason=r["reason"],
        duplicate_of=r["duplicate_of"],
        rule_reasons=tuple(code for code in rules.rule_codes() if r.get(code)),
        suggestion_kinds=tuple(sorted(r["kinds"] or ())),
        top_kind=r["top_kind"],
        top_score=r["top_score"],
        url=r["url"],
    )


@dataclass(frozen=True)
class SuggestionView:
    kind: str
    score: float
    duplicate_of: int | None
    why: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class CommentView:
    comment_id: int
    author_username: str | None
    author_name: str | None
    created_at: datetime | None
    body_text: str


@dataclass(frozen=True)
class EntryDetail:
    entry: Entry
    body_text: str
    raw_tags: tuple[str, ...]
    versions: int
    comments: list[CommentView]
    comments_total: int
    suggestions: list[SuggestionView]
    history: list[Decision]
    campaign_frozen: bool
    site_url: str


# --- one entry ------------------------------------------------------------------------------

# Opening one entry never computes the whole campaign's facts. When the queue has them
# cached for the warehouse's current state (the review page lists the queue before it
# opens an entry, so usually), the entry's row is looked up there. Otherwise the entry is
# computed alone: its rule facts need the rows of its author only (per-author counts and
# the over-the-limit rank are windows partitioned by author key; every other fact is the
# entry's own), so ``entries_sql()``, the one definition of the facts, runs unchanged over
# ``posts``, ``post_versions`` and ``campaign_posts`` narrowed to the entry, every post
# that names the same author key (as its author or on a listing) and the announcement post
# (whose author is an organiser).
_ONE_ENTRY_POSTS_SQL = """
WITH keys AS (
    SELECT lower(author_username) AS author_key FROM posts WHERE post_number = $post
    UNION
    SELECT lower(listing_author_username) FROM campaign_posts WHERE post_number = $post
)
SELECT post_number FROM posts WHERE lower(author_username) IN (SELECT author_key FROM keys)
UNION
SELECT post_number FROM campaign_posts
WHERE lower(listing_author_username) IN (SELECT author_key FROM keys)
UNION
SELECT announcement_post FROM campaigns WHERE slug = $slug AND announcement_post IS NOT NULL
UNION
SELECT $post
"""
_NARROWED_TABLES = ("posts", "post_versions", "campaign_posts")
# Row positions by post number in the cached facts table of the same fingerprint.
_FACTS_ROWS: dict[tuple[str, str], tuple[tuple[str, ...], dict[int, int]]] = {}


def cached_entry_row(
    con: duckdb.DuckDBPyConnection, slug: str, post_number: int
) -> tuple[bool, dict[str, Any] | None]:
    """(True, the entry's row or None if it is no candidate) from the cached facts when
    they are current; (False, None) when there are none to trust."""
    key, fingerprint = _facts_version(con, slug)
    hit = _FACTS_CACHE.get(key)
    if hit is None or hit[0] != fingerprint:
        return False, None
    table = hit[1]
    positions = _FACTS_ROWS.get(key)
    if positions is None or positions[0] != fingerprint:
        numbers = table.column("post_number").to_pylist()
        positions = (fingerprint, {n: i for i, n in enumerate(numbers)})
        with _FACTS_LOCK:
            if len(_FACTS_ROWS) >= _FACTS_CACHE_SIZE and key not in _FACTS_ROWS:
                _FACTS_ROWS.pop(next(iter(_FACTS_ROWS)))
            _FACTS_ROWS[key] = positions
    index = positions[1].get(post_number)
    return True, None if index is None else table.slice(index, 1).to_pylist()[0]


def computed_entry_row(
    con: duckdb.DuckDBPyConnection, slug: str, post_number: int
) -> dict[str, Any] | None:
    """The entry's row of ``entries_sql()`` computed from its author's rows alone (None: no
    candidate of the campaign); equal to its row in the whole campaign's result."""
    numbers = sorted(
        int(r[0])
        for r in con.execute(_ONE_ENTRY_POSTS_SQL, {"post": post_number, "slug": slug}).fetchall()
    )
    in_list = ", ".join(str(n) for n in numbers)  # integers read from the database
    narrowed = ", ".join(
        f"{name} AS NOT MATERIALIZED (SELECT * FROM main.{name} WHERE post_number IN ({in_list}))"
        for name in _NARROWED_TABLES
    )
    cursor = con.execute(
        f"WITH {narrowed} SELECT * FROM ({entries_sql()}) WHERE post_number = $post",
        {"slug": slug, "post": post_number},
    )
    names = [d[0] for d in cursor.description]
    found = cursor.fetchall()
    return dict(zip(names, found[0], strict=True)) if found else None


def entry_rule_row(
    con: duckdb.DuckDBPyConnection, slug: str, post_number: int
) -> dict[str, Any] | None:
    """One entry's row of ``warehouse.entries.entries_sql()`` (None: not a candidate)."""
    cached, row = cached_entry_row(con, slug, post_number)
    return row if cached else computed_entry_row(con, slug, post_number)


def _entry_from_row(slug: str, r: dict[str, Any], decision: Decision | None) -> Entry:
    return Entry(
        campaign_slug=slug,
        post_number=r["post_number"],
        url=r["url"],
        title=r["title"],
        author_username=r["author_username"],
        author_name=r["author_name"],
        author_key=r["author_key"],
        created_at=_named_time(r, "created_at"),
        updated_at=_named_time(r, "updated_at"),
        tags=tuple(r["tags"] or ()),
        comment_count=r["comment_count"],
        facts=RuleFacts.from_row(r),
        decision=decision,
        status=decision.status if decision else "pending",
        listed=bool(r.get("listed", False)),
        fetched=bool(r.get("fetched", True)),
    )


def get_entry_fast(con: duckdb.DuckDBPyConnection, slug: str, post_number: int) -> Entry | None:
    """One entry with its rule facts and current decision, without the whole campaign's."""
    row = entry_rule_row(con, slug, post_number)
    if row is None:
        return None
    return _entry_from_row(slug, row, latest_decision(con, slug, post_number))


def _named_time(row: dict[str, Any], name: str) -> datetime | None:
    """A time column of the entries query, as a datetime or as epoch microseconds."""
    if name in row:
        return as_bangkok(row[name])
    micros = row.get(name + "_us")
    if micros is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).astimezone(BANGKOK)


def entry_suggestions(
    con: duckdb.DuckDBPyConnection, slug: str, post_number: int
) -> list[SuggestionView]:
    # ``suggestions`` exists in every migrated warehouse (0002), and connect() migrates.
    rows = con.execute(
        "SELECT kind, score, duplicate_of, why, evidence FROM suggestions "
        "WHERE campaign_slug = ? AND post_number = ? ORDER BY score DESC, kind",
        [slug, post_number],
    ).fetchall()
    out = []
    for kind, score, duplicate_of, why, evidence in rows:
        if isinstance(evidence, str):
            try:
                evidence = json.loads(evidence)
            except ValueError:
                evidence = {"raw": evidence}
        out.append(SuggestionView(kind, float(score or 0), duplicate_of, why or "", evidence or {}))
    return out


def entry_detail(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    post_number: int,
    *,
    max_comments: int = 200,
) -> EntryDetail | None:
    """Everything the entry view shows, in one transaction: a few lookups of this entry's
    rows (its rule facts as ``entry_rule_row`` gives them)."""
    row = entry_rule_row(con, slug, post_number)
    if row is None:
        return None
    history = decision_history(con, slug, post_number)
    found = con.execute(
        "SELECT p.body_text, p.raw_tags, "
        "(SELECT count(*) FROM post_versions v WHERE v.post_number = $post), "
        "c.frozen_at IS NOT NULL, c.site_url "
        "FROM campaigns c LEFT JOIN posts p ON p.post_number = $post WHERE c.slug = $slug",
        {"post": post_number, "slug": slug},
    ).fetchall()
    body_text, raw_tags, versions, frozen, site_url = found[0] if found else ("", (), 0, False, "")
    comment_rows = con.execute(
        "SELECT comment_id, author_username, author_name, created_at, body_text, "
        "count(*) OVER () FROM comments WHERE post_number = ? "
        "ORDER BY position NULLS LAST, created_at, comment_id LIMIT ?",
        [post_number, max_comments],
    ).fetchall()
    return EntryDetail(
        entry=_entry_from_row(slug, row, history[-1] if history else None),
        body_text=body_text or "",
        raw_tags=tuple(raw_tags or ()),
        versions=int(versions or 0),
        comments=[
            CommentView(r[0], r[1], r[2], as_bangkok(r[3]), r[4] or "") for r in comment_rows
        ],
        comments_total=int(comment_rows[0][5]) if comment_rows else 0,
        suggestions=entry_suggestions(con, slug, post_number),
        history=history,
        campaign_frozen=bool(frozen),
        site_url=site_url or "",
    )


# --- text search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    post_number: int
    title: str
    author: str  # display name, or username
    score: float  # warehouse.search's rank: field weight x occurrences, summed
    fields: tuple[str, ...]  # where it matched: title, author, body, comment
    passage_field: str  # which text the passage is from
    passage: str  # the stored text around the first match
    passage_spans: tuple[tuple[int, int], ...]  # the matches within ``passage``


_PASSAGE_ORDER = ("title", "author", "body", "comment")


def search_entries(
    con: duckdb.DuckDBPyConnection, slug: str, text: str, *, limit: int = 20
) -> tuple[list[SearchResult], int]:
    """The campaign's entries matching ``text`` (any 2+ character substring of a title,
    body, author or comment), best first, with the passage that matched; and how many
    entries match in all."""
    with _Registered(con, entry_facts(con, slug)) as entries_view:
        hits, total = search.search_posts(
            con, text, post_numbers_sql=f"SELECT post_number FROM {entries_view}", limit=limit
        )
    if not hits:
        return [], total
    numbers = [h.post_number for h in hits]
    posts = {
        r[0]: r
        for r in con.execute(
            "SELECT post_number, title, body_text, author_username, author_name FROM posts "
            "WHERE post_number IN (SELECT unnest($numbers::BIGINT[]))",
            {"numbers": numbers},
        ).fetchall()
    }
    comment_ids = [c for h in hits for c in h.comment_ids[:3]]
    comments = dict(
        con.execute(
            "SELECT comment_id, body_text FROM comments "
            "WHERE comment_id IN (SELECT unnest($ids::BIGINT[]))",
            {"ids": comment_ids},
        ).fetchall()
    )
    results = []
    for hit in hits:
        _, title, body, username, name = posts.get(hit.post_number, (0, "", "", None, None))
        texts = {
            "title": [title or ""],
            "author": [" ".join(x for x in (username, name) if x)],
            "body": [body or ""],
            "comment": [comments.get(c, "") for c in hit.comment_ids[:3]],
        }
        shown, field_name = "", ""
        spans: list[tuple[int, int]] = []
        for candidate in _PASSAGE_ORDER:
            for value in texts[candidate] if candidate in hit.fields else ():
                shown, spans = search.passage(value, text)
                if spans:
                    field_name = candidate
                    break
            if field_name:
                break
        results.append(
            SearchResult(
                post_number=hit.post_number,
                title=title or "",
                author=name or username or "",
                score=hit.score,
                fields=hit.fields,
                passage_field=field_name,
                passage=shown,
                passage_spans=tuple(spans),
            )
        )
    return results, total


def undo_target(history: Sequence[Decision]) -> tuple[str, str | None, int | None]:
    """(status, reason, duplicate_of) that undoing the latest decision restores: what the
    latest decision superseded, or pending when there was nothing before it."""
    if not history:
        raise ValueError("nothing to undo")
    latest = history[-1]
    by_id = {d.decision_id: d for d in history}
    previous = by_id.get(latest.supersedes) if latest.supersedes is not None else None
    if previous is None:
        return ("pending", None, None)
    return (previous.status, previous.reason, previous.duplicate_of)


# --- overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    campaign: Campaign
    total: int
    by_status: dict[str, int]
    per_day: list[tuple[date, int]]
    undecided: int
    health: Health  # warehouse.health (the scheduler part's definition of stale etc.)
    suggestion_counts: dict[str, int] = field(default_factory=dict)


def crawl_errors(
    con: duckdb.DuckDBPyConnection, run_id: int, *, limit: int = 500
) -> list[dict[str, Any]]:
    """A run's errors (read through the crawl ledger)."""
    return crawl_ledger.run_errors(con, run_id, limit=limit)


def overview(con: duckdb.DuckDBPyConnection, slug: str) -> Overview:
    campaign = get_campaign(con, slug)
    facts = entry_facts(con, slug)
    with _Registered(con, facts) as entries_view:
        rows, per_day_rows = _overview_counts(con, slug, entries_view)
    by_status = {status: 0 for status in ("pending", "eligible", "duplicate", "spam", "ineligible")}
    for status, count in rows:
        by_status[status] = int(count)
    suggestion_counts = {
        kind: int(count)
        for kind, count in con.execute(
            "SELECT kind, count(DISTINCT post_number) FROM suggestions "
            "WHERE campaign_slug = ? GROUP BY ALL",
            [slug],
        ).fetchall()
    }
    return Overview(
        campaign=campaign,
        total=sum(by_status.values()),
        by_status=by_status,
        per_day=[(r[0], int(r[1])) for r in per_day_rows],
        undecided=by_status.get("pending", 0),
        health=crawl_health(con, slug),
        suggestion_counts=suggestion_counts,
    )


def _overview_counts(
    con: duckdb.DuckDBPyConnection, slug: str, entries_view: str
) -> tuple[list[Any], list[Any]]:
    rows = con.execute(
        f"""
        WITH e AS (SELECT * FROM {entries_view}),
        d AS (
            SELECT post_number, status FROM decisions WHERE campaign_slug = $slug
            QUALIFY row_number() OVER (PARTITION BY post_number ORDER BY decision_id DESC) = 1
        )
        SELECT coalesce(d.status, 'pending') AS status, count(*)
        FROM e LEFT JOIN d USING (post_number) GROUP BY ALL
        """,
        {"slug": slug},
    ).fetchall()
    per_day_rows = con.execute(
        f"""
        SELECT (post_created_at AT TIME ZONE 'Asia/Bangkok')::DATE AS day, count(*)
        FROM {entries_view} WHERE post_created_at IS NOT NULL GROUP BY ALL ORDER BY day
        """
    ).fetchall()
    return rows, per_day_rows


# --- duplicates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterMember:
    post_number: int
    title: str
    author_username: str | None
    author_name: str | None
    created_at: datetime | None
    status: str
    decision_id: int | None
    score: float | None  # similarity with the original (None for the original)
    passages: tuple[str, ...]  # shared passages, as the evidence gives them
    body_text: str


@dataclass(frozen=True)
class DuplicateCluster:
    original: ClusterMember
    copies: list[ClusterMember]


def duplicate_clusters(
    con: duckdb.DuckDBPyConnection, slug: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[DuplicateCluster], int]:
    """Clusters of duplicate suggestions (original = the suggestions' duplicate_of), clusters
    with undecided copies first; and how many clusters there are in all."""
    sug = con.execute(
        """
        WITH d AS (
            SELECT post_number, decision_id, status FROM decisions WHERE campaign_slug = $slug
            QUALIFY row_number() OVER (PARTITION BY post_number ORDER BY decision_id DESC) = 1
        ),
        s AS (
            SELECT post_number, duplicate_of, score, evidence FROM suggestions
            WHERE campaign_slug = $slug AND kind = 'duplicate' AND duplicate_of IS NOT NULL
              AND post_number IS NOT NULL
        ),
        c AS (
            SELECT duplicate_of AS original,
                   count(*) FILTER (WHERE coalesce(d.status, 'pending') = 'pending') AS open
            FROM s LEFT JOIN d USING (post_number) GROUP BY ALL
        ),
        picked AS (
            SELECT original, open, count(*) OVER () AS n_clusters FROM c
            ORDER BY open DESC, original LIMIT $limit OFFSET $offset
        )
        SELECT p.original, s.post_number, s.score, s.evidence, p.n_clusters, p.open
        FROM picked p JOIN s ON s.duplicate_of = p.original
        ORDER BY p.open DESC, p.original, s.post_number
        """,
        {"slug": slug, "limit": limit, "offset": offset},
    ).fetchall()
    if not sug:
        return [], 0
    n_clusters = int(sug[0][4])
    wanted = sorted({r[0] for r in sug} | {r[1] for r in sug})
    posts = {
        r[0]: r
        for r in con.execute(
            """
            WITH d AS (
                SELECT post_number, decision_id, status FROM decisions
                WHERE campaign_slug = $slug
                QUALIFY row_number() OVER (PARTITION BY post_number ORDER BY decision_id DESC) = 1
            )
            SELECT p.post_number, p.title, p.author_username, p.author_name, p.created_at,
                   coalesce(d.status, 'pending'), d.decision_id, p.body_text
            FROM posts p LEFT JOIN d USING (post_number)
            WHERE list_contains($wanted, p.post_number)
            """,
            {"slug": slug, "wanted": wanted},
        ).fetchall()
    }

    def member(number: int, score: float | None, evidence: Any) -> ClusterMember:
        row = posts.get(number)
        if isinstance(evidence, str):
            try:
                evidence = json.loads(evidence)
            except ValueError:
                evidence = {}
        passages = tuple(
            str(p.get("text", "") if isinstance(p, dict) else p).rstrip("…")
            for p in (evidence or {}).get("passages", ())
        )
        return ClusterMember(
            post_number=number,
            title=(row[1] if row else "") or "",
            author_username=row[2] if row else None,
            author_name=row[3] if row else None,
            created_at=as_bangkok(row[4]) if row else None,
            status=row[5] if row else "pending",
            decision_id=row[6] if row else None,
            score=score,
            passages=passages,
            body_text=(row[7] if row else "") or "",
        )

    clusters: dict[int, DuplicateCluster] = {}
    for original, number, score, evidence, _, _ in sug:
        if original not in clusters:
            clusters[original] = DuplicateCluster(original=member(original, None, {}), copies=[])
        clusters[original].copies.append(member(number, score, evidence))
    # The original shows every passage any copy shares with it.
    result = [
        DuplicateCluster(
            original=replace(c.original, passages=tuple(p for m in c.copies for p in m.passages)),
            copies=c.copies,
        )
        for c in clusters.values()
    ]
    return result, n_clusters


# --- audit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    campaign_slug: str | None = None  # None = every campaign and global actions
    include_global: bool = True  # with a campaign: also actions without one (users, ...)
    actor: str | None = None
    action: str | None = None  # prefix, e.g. "decision" or "user_"
    since: date | None = None
    until: date | None = None
    text: str | None = None  # in the details JSON


def audit_rows(
    con: duckdb.DuckDBPyConnection,
    filters: AuditFilters | None = None,
    *,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Audit rows, newest first, as plain dicts (at, actor, action, campaign_slug, details)."""
    filters = filters or AuditFilters()
    clauses = ["true"]
    params: list[Any] = []
    if filters.campaign_slug:
        clauses.append(
            "(campaign_slug = ? OR campaign_slug IS NULL)"
            if filters.include_global
            else "campaign_slug = ?"
        )
        params.append(filters.campaign_slug)
    if filters.actor and filters.actor.strip():
        clauses.append("lower(actor) LIKE ?")
        params.append(f"%{filters.actor.strip().lower()}%")
    if filters.action and filters.action.strip():
        clauses.append("starts_with(action, ?)")
        params.append(filters.action.strip())
    if filters.since:
        clauses.append('"at" >= ?')
        params.append(datetime.combine(filters.since, datetime.min.time(), BANGKOK))
    if filters.until:
        clauses.append('"at" < ?')
        params.append(
            datetime.combine(filters.until + timedelta(days=1), datetime.min.time(), BANGKOK)
        )
    if filters.text and filters.text.strip():
        clauses.append("lower(CAST(details AS VARCHAR)) LIKE ?")
        params.append(f"%{filters.text.strip().lower()}%")
    params.append(int(limit))
    rows = con.execute(
        'SELECT audit_id, "at", actor, action, campaign_slug, CAST(details AS VARCHAR) '
        f"FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY audit_id DESC LIMIT ?",
        params,
    ).fetchall()
    return [
        {
            "audit_id": r[0],
            "at": as_bangkok(r[1]),
            "actor": r[2],
            "action": r[3],
            "campaign_slug": r[4],
            "details": r[5] or "{}",
        }
        for r in rows
    ]


def audit_actions(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1").fetchall()
    ]


def csv_bytes(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """CSV in UTF-8 with a BOM (Excel shows Thai), formula-like cells neutralised: the
    exports' writer, so there is one definition of a safe cell."""
    from warehouse.exports import rows_csv

    plain = [
        {c: (v.isoformat() if isinstance(v := row.get(c), datetime) else v) for c in columns}
        for row in rows
    ]
    return rows_csv(columns, plain)


# --- small lookups for the shell ------------------------------------------------------------


def campaign_slugs(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute("SELECT slug FROM campaigns ORDER BY created_at DESC, slug").fetchall()
    ]


def campaign_frozen(con: duckdb.DuckDBPyConnection, slug: str) -> bool:
    row = con.execute(
        "SELECT frozen_at IS NOT NULL FROM campaigns WHERE slug = ?", [slug]
    ).fetchall()
    return bool(row and row[0][0])
