"""Reading a tag listing to its last page: the crawl's first stage. Fetching only; what
the listing named is planned by ``scraper.plan`` and written by ``scraper.crawl``."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

from scraper.fetch import Fetcher, FetchFailed
from scraper.parse import parse_listing
from warehouse.models import ListingItem, ListingPage

log = logging.getLogger("tagdraw.crawl")

# How many extra passes over a listing when it names fewer posts than its "พบ N บันทึก"
# count (a post deleted while we page shifts the rest up by one and hides one from us).
LISTING_REPASSES = 2
_PAGE_TWO = re.compile(r"([?&]page=)2(?=&|#|$)")


def listing_url(site_url: str, tag: str) -> str:
    return f"{site_url.rstrip('/')}/posts?tag={quote(tag, safe='')}&page=1"


@dataclass
class ListingProblem:
    """A listing page that failed (``permanent``: the listing is unfinished), or a note."""

    url: str
    reason: str
    permanent: bool = True
    http_status: int | None = None


@dataclass
class ListingWalk:
    items: dict[int, ListingItem] = field(default_factory=dict)
    complete: bool = True  # read to its last page: what it did not name is not on it
    pages: int = 0  # listing pages read
    problems: list[ListingProblem] = field(default_factory=list)


async def walk_listing(fetcher: Fetcher, start_url: str, tag: str) -> ListingWalk:
    """Follow rel=next from page 1 to the last page. The whole listing is read every time,
    by design: it is sorted by creation date, so a new comment or an edit on an old post
    shows up only deep in the listing, and a deleted post shifts every later page. Stopping
    at the first known page would miss both; the listing is cheap (20 posts a request) next
    to the post pages it lets us skip."""
    walk = ListingWalk()
    expected: int | None = None
    for _pass in range(1 + LISTING_REPASSES):
        url: str | None = start_url
        seen_urls: set[str] = set()
        ahead: dict[str, asyncio.Task[Any]] = {}
        walk.complete = True
        try:
            while url and url not in seen_urls:
                seen_urls.add(url)
                if not fetcher.allowed(url):
                    walk.problems.append(
                        ListingProblem(url, "robots.txt forbids this listing page")
                    )
                    walk.complete = False
                    break
                try:
                    task = ahead.pop(url, None)
                    fetched = await (task if task else fetcher.get(url, parse_listing, html=True))
                except FetchFailed as exc:
                    walk.problems.append(ListingProblem(url, exc.reason, http_status=exc.status))
                    walk.complete = False
                    break
                if not ahead and fetched.value is not None and fetched.value.page == 1:
                    ahead = _read_ahead(fetcher, url, fetched.value)
                walk.pages += 1
                if fetched.gone_reason:
                    # Page 1 of an unknown tag may answer 404: no posts carry it. A later
                    # page that rel=next named cannot vanish on its own: the listing is
                    # unfinished, so nothing past it may count as unlisted.
                    if len(seen_urls) > 1:
                        walk.problems.append(
                            ListingProblem(
                                url,
                                f"listing page named by rel=next answered {fetched.gone_reason}",
                            )
                        )
                        walk.complete = False
                    break
                page = fetched.value
                assert isinstance(page, ListingPage)  # what the parse function given returns
                if page.page == 1 and page.result_count is not None:
                    expected = page.result_count
                for item in page.items:
                    walk.items.setdefault(item.post_number, item)
                log.info("listing %s page %d: %d posts", tag, page.page, len(page.items))
                url = urljoin(url, page.next_url) if page.next_url else None
        finally:
            for task in ahead.values():
                task.cancel()
            await asyncio.gather(*ahead.values(), return_exceptions=True)
        if not walk.complete or expected is None or len(walk.items) >= expected:
            break
        log.info(
            "listing %s named %d posts but %d were found; reading it again",
            tag,
            expected,
            len(walk.items),
        )
    if walk.complete and expected is not None and len(walk.items) < expected:
        walk.problems.append(
            ListingProblem(
                start_url,
                f"the listing says {expected} posts but only {len(walk.items)} could be found",
                permanent=False,
            )
        )
    return walk


def _read_ahead(fetcher: Fetcher, url: str, first: ListingPage) -> dict[str, asyncio.Task[Any]]:
    """Start fetching the pages the first page's "พบ N บันทึก" predicts (same URL, page=k),
    so that the listing is read with the crawl's concurrency. The walk itself still follows
    rel=next and uses a prefetched page only when rel=next names its URL."""
    if not first.next_url or not first.result_count or not first.items:
        return {}
    per_page = len(first.items)
    last_page = min(-(-first.result_count // per_page), 10_000)
    second = urljoin(url, first.next_url)
    if not _PAGE_TWO.search(second):
        return {}
    return {
        page_url: asyncio.create_task(fetcher.get(page_url, parse_listing, html=True))
        for k in range(2, last_page + 1)
        if fetcher.allowed(page_url := _PAGE_TWO.sub(rf"\g<1>{k}", second))
    }
