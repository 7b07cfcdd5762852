"""Entries: every candidate post of a campaign, with its rule facts and current decision,
computed in one SQL query.

Candidates are the posts a campaign's keyword listing named (``campaign_posts`` with
source ``listing``), plus every stored post whose tags (now, or in any earlier version)
include a campaign keyword, compared in their normalised form (``tags_normalised``, as the
keywords are stored; ``Entry.tags`` are the tags as written). The announcement post is a
candidate only if it carries the keyword (and then its author is an organiser).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import duckdb

from warehouse import rules
from warehouse.campaigns import get_campaign
from warehouse.decisions import Decision, current_decisions
from warehouse.thai import BANGKOK


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """An entry's computed facts (``warehouse.rules.facts()``: ``in_window``, ``early``,
    ``tagged``, ``author_entry_count`` ...), read as attributes: ``facts.early``."""

    values: tuple[tuple[str, bool | int], ...]  # (fact name, value), in registry order

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RuleFacts:
        """The facts of one row of the entries query, by column name."""
        return cls(tuple((f.name, row[f.name]) for f in rules.facts()))

    def __getattr__(self, name: str) -> bool | int:
        if name == "values":  # not set yet (while unpickling): no recursion
            raise AttributeError(name)
        for key, value in self.values:
            if key == name:
                return value
        raise AttributeError(name)

    def reasons(self) -> list[str]:
        """The rule reason codes these facts give (empty = nothing against the entry)."""
        values = dict(self.values)
        return [r.code for r in rules.rules() if r.refines is None and rules.applies(r, values)]

    def to_json(self) -> dict[str, Any]:
        return dict(self.values)


@dataclass(frozen=True)
class Entry:
    campaign_slug: str
    post_number: int
    url: str
    title: str
    author_username: str | None
    author_name: str | None
    author_key: str | None  # lower-cased username
    created_at: datetime | None
    updated_at: datetime | None
    tags: tuple[str, ...]  # as written
    comment_count: int | None
    facts: RuleFacts
    decision: Decision | None
    status: str  # the latest decision's status, or "pending"
    listed: bool = False  # on the keyword listing at the last crawl
    fetched: bool = True  # False: only known from a listing (its page never stored)

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign_slug": self.campaign_slug,
            "post_number": self.post_number,
            "url": self.url,
            "title": self.title,
            "author_username": self.author_username,
            "author_name": self.author_name,
            "author_key": self.author_key,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "tags": list(self.tags),
            "comment_count": self.comment_count,
            "facts": self.facts.to_json(),
            "rule_reasons": self.facts.reasons(),
            "decision": self.decision.to_json() if self.decision else None,
            "status": self.status,
            "listed": self.listed,
            "fetched": self.fetched,
        }


_ENTRIES_SQL_TEMPLATE = """
WITH c AS (
    SELECT * FROM campaigns WHERE slug = $slug
),
announcer AS (
    SELECT lower(p.author_username) AS author_key
    FROM posts p, c WHERE p.post_number = c.announcement_post AND p.author_username IS NOT NULL
),
listed AS (
    SELECT cp.* FROM campaign_posts cp WHERE cp.campaign_slug = $slug AND cp.source = 'listing'
),
ever_tagged AS (
    SELECT DISTINCT v.post_number FROM post_versions v, c
    WHERE list_has_any(v.tags_normalised, c.keywords)
),
edited_late AS (
    -- a version after the first, first seen after the close: the post changed after it
    SELECT DISTINCT v.post_number FROM post_versions v, c
    WHERE v.version_no > 1 AND v.seen_at > c.closes_at
),
candidates AS (
    SELECT post_number FROM listed
    UNION
    SELECT p.post_number FROM posts p, c WHERE list_has_any(p.tags_normalised, c.keywords)
    UNION
    SELECT post_number FROM ever_tagged
),
base AS (
    SELECT
        k.post_number,
        coalesce(p.url, l.listing_url, '/posts/' || k.post_number::VARCHAR) AS url,
        coalesce(nullif(p.title, ''), l.listing_title, '') AS title,
        coalesce(p.author_username, l.listing_author_username) AS author_username,
        coalesce(p.author_name, l.listing_author_name) AS author_name,
        lower(coalesce(p.author_username, l.listing_author_username)) AS author_key,
        p.created_at,
        p.updated_at,
        coalesce(p.tags, []::VARCHAR[]) AS tags,
        coalesce(p.comment_count_declared, l.listing_comment_count) AS comment_count,
        p.content_hash IS NOT NULL AS fetched,
        coalesce(l.listed, false) AS listed,
        et.post_number IS NOT NULL AS ever_tagged,
        {post_facts},
        c.max_entries_per_author
    FROM candidates k
    CROSS JOIN c
    LEFT JOIN posts p USING (post_number)
    LEFT JOIN listed l USING (post_number)
    LEFT JOIN ever_tagged et USING (post_number)
    LEFT JOIN edited_late el USING (post_number)
),
counted AS (
    SELECT *,
        tagged AND NOT gone AND in_window AND author_key IS NOT NULL AS counts
    FROM base
)
SELECT
    post_number, url, title, author_username, author_name, author_key,
    epoch_us(created_at) AS created_at_us, epoch_us(updated_at) AS updated_at_us,
    tags, comment_count, fetched, listed,
    {facts}
FROM counted
ORDER BY post_number
"""
# Columns of the entries query before the facts (``warehouse.rules.facts()``, in order).
FACTS_START = 12


def entries_sql() -> str:
    """The entries query (parameter ``$slug``): one row per candidate post, its columns up
    to ``FACTS_START``, then every fact of ``warehouse.rules.facts()`` by name."""
    return _entries_sql(rules.facts())


@cache
def _entries_sql(facts: tuple[rules.Fact, ...]) -> str:
    post_facts = ",\n        ".join(
        f"{f.sql} AS {f.name}" for f in facts if f.stage is rules.Stage.POST
    )
    selected = ",\n    ".join(
        f.name if f.stage is rules.Stage.POST else f"{f.sql} AS {f.name}" for f in facts
    )
    return _ENTRIES_SQL_TEMPLATE.format(post_facts=post_facts, facts=selected)


# Bangkok has kept UTC+07:00 since 1920, so adding to the epoch in Bangkok time is exact.
_EPOCH_BANGKOK = datetime(1970, 1, 1, tzinfo=UTC).astimezone(BANGKOK)


def from_epoch_us(value: int | None) -> datetime | None:
    """DuckDB's own TIMESTAMPTZ -> Python conversion goes through pytz and is slow for many
    rows; microseconds since the epoch are exact and quick."""
    return None if value is None else _EPOCH_BANGKOK + timedelta(microseconds=value)


def list_entries(con: duckdb.DuckDBPyConnection, slug: str) -> list[Entry]:
    """Every candidate post of the campaign, by post number, with rule facts and decision."""
    get_campaign(con, slug)
    decisions = current_decisions(con, slug)
    names = tuple(f.name for f in rules.facts())
    rows = con.execute(entries_sql(), {"slug": slug}).fetchall()
    facts_cache: dict[tuple[Any, ...], RuleFacts] = {}  # few distinct combinations
    entries: list[Entry] = []
    append = entries.append
    for row in rows:
        key = row[FACTS_START:]
        facts = facts_cache.get(key)
        if facts is None:
            facts = facts_cache[key] = RuleFacts(tuple(zip(names, key, strict=True)))
        post_number = row[0]
        decision = decisions.get(post_number)
        append(
            Entry(
                slug,
                post_number,
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                from_epoch_us(row[6]),
                from_epoch_us(row[7]),
                tuple(row[8]),
                row[9],
                facts,
                decision,
                decision.status if decision else "pending",
                row[11],
                row[10],
            )
        )
    return entries


def get_entry(con: duckdb.DuckDBPyConnection, slug: str, post_number: int) -> Entry | None:
    """One candidate (computed with the whole campaign, since author counts need it)."""
    for entry in list_entries(con, slug):
        if entry.post_number == post_number:
            return entry
    return None
