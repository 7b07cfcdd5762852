"""The crawl's plan: which post pages to fetch, decided from data alone (no database, no
network). ``scraper.crawl`` reads the inputs, calls ``plan_fetches`` and writes the result.

A post is fetched when:

- it is new, or ``full`` is asked;
- its last fetch did not finish (frontier pending/failed) or kept fewer comments than
  the page declared;
- what the listing shows (title, comment count) differs from the last listing or from
  what is stored;
- the tags stored disagree with the listing it is on (a keyword added or put back);
- it vanished from a completely read keyword listing (is it gone, or did it lose the tag?);
- it is stored gone but still listed (a stale index) and was last fetched
  ``recheck_gone_after`` ago (the 404 may have passed, a private post may be public again);
- it is due for revalidation: a stored keyword-listed post last fetched
  ``revalidate_after`` ago or longer (a post deleted while the stale index keeps its title
  and count looks unchanged on the listing). Revalidation is spread over runs: at most
  ``revalidate_limit`` such fetches per run, the longest unchecked first, starting once a
  post is half-way to due so that the work does not all fall on one run;
- it is the campaign's announcement post and not on the listing (nothing says whether its
  thread grew);
- ``verify`` is asked and it is on (or was on) the keyword listing.

A page an interrupted run already finished is not fetched again, unless its listing facts
changed since that run read them, or it vanished.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warehouse.models import ListingItem
from warehouse.thai import normalise_tag, squash_whitespace

# Why a post is fetched (the frontier's "source" of a post; also how it is stored).
LISTING = "listing"
NEAR_MISS = "near_miss_listing"
VANISHED = "vanished"
ANNOUNCEMENT = "announcement"
REVALIDATE = "revalidate"
VERIFY = "verify"


@dataclass(frozen=True)
class ListedBefore:
    """What the campaign's last crawl recorded about a post's listing (campaign_posts)."""

    title: str | None
    comment_count: int | None
    listed: bool
    source: str


@dataclass(frozen=True)
class StoredPost:
    """What the warehouse holds about a post (posts)."""

    content_hash: str | None  # None: only a listing/gone stub
    comment_count_declared: int | None
    comments_collected: int | None
    gone: bool
    tags: tuple[str, ...]
    last_fetched_at: datetime | None


@dataclass(frozen=True)
class FetchPlan:
    to_fetch: dict[int, str]  # post number -> why (one of the constants above)
    vanished: list[int] = field(default_factory=list)
    done_before: set[int] = field(default_factory=set)  # finished by the interrupted run
    revalidated: list[int] = field(default_factory=list)  # fetched only to revalidate
    # What is stored about the live posts fetched to revalidate or verify: a page that shows
    # the same content and comment count needs no comment pages.
    known: dict[int, StoredPost] = field(default_factory=dict)


def same_tagging(keywords: Iterable[str], stored_tags: Iterable[str]) -> bool:
    """Whether stored tags carry one of the keywords, both compared normalised (the one
    place the planner compares tags; stored tags are as the author wrote them)."""
    wanted = {normalise_tag(k) for k in keywords}
    return bool(wanted & {normalise_tag(t) for t in stored_tags})


def plan_fetches(
    *,
    keywords: Iterable[str],
    keyword_items: Mapping[int, ListingItem],
    near_miss_items: Mapping[int, ListingItem],
    keyword_complete: bool,
    previous: Mapping[int, ListedBefore],
    stored: Mapping[int, StoredPost],
    frontier: Mapping[int, str],
    now: datetime,
    recheck_gone_after: timedelta,
    full: bool = False,
    resuming: bool = False,
    announcement_post: int | None = None,
    revalidate_after: timedelta | None = None,
    revalidate_limit: int = 0,
    verify: bool = False,
) -> FetchPlan:
    """Decide which post pages to fetch (see the module's docstring for the rules)."""
    keywords = tuple(keywords)
    done_before = (
        {n for n, state in frontier.items() if state in ("done", "gone")} if resuming else set()
    )
    stale_before = now - recheck_gone_after
    changed_since_listed: set[int] = set()

    def needs_fetch(item: ListingItem, *, on_keyword_listing: bool) -> bool:
        number = item.post_number
        old = previous.get(number)
        listing_changed = (
            old is None
            or squash_whitespace(old.title or "") != squash_whitespace(item.title)
            or old.comment_count != item.comment_count
        )
        if listing_changed:
            changed_since_listed.add(number)
        if full or frontier.get(number) in ("pending", "failed"):
            return True
        facts = stored.get(number)
        if facts is None:
            return True
        if facts.gone:
            return (
                listing_changed
                or facts.last_fetched_at is None
                or facts.last_fetched_at < stale_before
            )
        if facts.content_hash is None:
            return True
        if same_tagging(keywords, facts.tags) != on_keyword_listing:
            return True
        if item.comment_count is None or item.comment_count != facts.comment_count_declared:
            return True
        return listing_changed or (facts.comments_collected or 0) < (
            facts.comment_count_declared or 0
        )

    to_fetch: dict[int, str] = {}
    for number, item in keyword_items.items():
        if needs_fetch(item, on_keyword_listing=True):
            to_fetch[number] = LISTING
    for number, item in near_miss_items.items():
        if number not in keyword_items and needs_fetch(item, on_keyword_listing=False):
            to_fetch[number] = NEAR_MISS
    vanished: list[int] = []
    if keyword_complete:
        for number, before in previous.items():
            if before.source == LISTING and before.listed and number not in keyword_items:
                vanished.append(number)
                to_fetch.setdefault(number, VANISHED)
    if announcement_post and announcement_post not in keyword_items:
        to_fetch.setdefault(announcement_post, ANNOUNCEMENT)

    candidates = set(keyword_items) | {
        n for n, before in previous.items() if before.source == LISTING and before.listed
    }
    if verify:
        for number in sorted(candidates):
            to_fetch.setdefault(number, VERIFY)
    revalidated = _due_for_revalidation(
        candidates - set(to_fetch), stored, now, revalidate_after, revalidate_limit
    )
    for number in revalidated:
        to_fetch[number] = REVALIDATE

    for number in done_before:
        if number not in changed_since_listed and to_fetch.get(number) != VANISHED:
            to_fetch.pop(number, None)
    return FetchPlan(
        to_fetch=to_fetch,
        vanished=vanished,
        done_before=done_before,
        revalidated=[n for n in revalidated if n in to_fetch],
        known={
            n: stored[n]
            for n, why in to_fetch.items()
            if why in (REVALIDATE, VERIFY) and n in stored and not stored[n].gone
        },
    )


def _due_for_revalidation(
    numbers: Iterable[int],
    stored: Mapping[int, StoredPost],
    now: datetime,
    after: timedelta | None,
    limit: int,
) -> list[int]:
    """Stored live posts fetched ``after / 2`` ago or longer, the longest unchecked first,
    at most ``limit``. Starting at half the period spreads the checks over the runs of a
    period instead of letting every post fall due in the same run."""
    if after is None or limit <= 0:
        return []
    start = now - after / 2
    ages = []
    for number in numbers:
        facts = stored.get(number)
        if facts is None or facts.gone or facts.content_hash is None:
            continue
        fetched = facts.last_fetched_at
        if fetched is None or fetched <= start:
            ages.append((fetched or datetime.min.replace(tzinfo=now.tzinfo), number))
    ages.sort()
    return [number for _, number in ages[:limit]]
