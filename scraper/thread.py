"""Reading one post: its page (over plain HTTP, or in Chromium) and its whole comment
thread. Everything stored comes from what the server sent, parsed by ``scraper.parse``:
in Chromium the post's HTML response and the comments JSON responses the page's script
received are captured; a comments page the browser did not get is read over plain HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urljoin

from scraper.fetch import Captured, Fetched, Fetcher, FetchFailed
from scraper.parse import LOAD_MORE_LABEL, parse_comments_json, parse_post, renumber
from warehouse.models import Post

log = logging.getLogger("tagdraw.crawl")

Way = Literal["http", "render", "click"]


@dataclass
class _Rendered:
    """A post page as Chromium received it, and the responses its script received."""

    post: Post
    captured: dict[str, Captured]


def _parse_captured(text: str, url: str, captured: Mapping[str, Captured]) -> _Rendered:
    return _Rendered(parse_post(text, url), dict(captured))


async def load_post(
    fetcher: Fetcher, url: str, way: str
) -> tuple[Fetched[Post], dict[str, Captured] | None]:
    """The post page: over plain HTTP ('http'), navigated in Chromium with JavaScript off
    ('render'), or navigated and clicked through ('click'), with what the browser received
    captured. Raises ``FetchFailed``."""
    if way == "http":
        return await fetcher.get(url, parse_post, html=True), None
    async with fetcher.slot() as slot:
        if way == "click":
            rendered = await fetcher.load_with_clicks(slot, url, _parse_captured, LOAD_MORE_LABEL)
            page = rendered.value
            plain: Fetched[Post] = Fetched(
                rendered.url,
                rendered.final_url,
                rendered.status,
                rendered.text,
                page.post if page else None,
                rendered.gone_reason,
                rendered.attempts,
                validators=rendered.validators,
            )
            return plain, page.captured if page else {}
        return await fetcher.load(slot, url, parse_post), None


@dataclass
class ThreadRead:
    post: Post  # with every comment read, renumbered
    pages: int  # comment pages read (captured or fetched)
    error: str | None = None  # a comments page failed for good: the thread is incomplete
    http_status: int | None = None


async def read_thread(
    fetcher: Fetcher, site_url: str, post: Post, captured: Mapping[str, Captured]
) -> ThreadRead:
    """Follow the load-more chain (``data-next`` -> JSON ``next``): each page from what the
    browser received (``captured``), else over plain HTTP (the same request the page's
    script makes). Both are parsed by ``parse_comments_json``. A page that fails for good
    ends the chain with what was read and the error."""
    comments = list(post.comments)
    next_url = post.comments_next_url
    seen: set[str] = set()
    pages = 0
    error: str | None = None
    status: int | None = None

    def parse(text: str, _url: str) -> Any:
        return parse_comments_json(json.loads(text), post.post_number)

    while next_url:
        absolute = urljoin(site_url.rstrip("/") + "/", next_url)
        if absolute in seen:
            break
        seen.add(absolute)
        got = captured.get(absolute)
        page = None
        if got is not None and got.status == 200 and got.text is not None:
            try:
                page = parse(got.text, absolute)
            except ValueError as exc:
                log.info("post %d: captured %s unreadable (%s)", post.post_number, absolute, exc)
        if page is None:
            try:
                fetched = await fetcher.get(absolute, parse)
            except FetchFailed as exc:
                error, status = f"comments page {absolute}: {exc.reason}", exc.status
                break
            page = fetched.value
            if page is None:
                error = f"comments page {absolute}: {fetched.gone_reason}"
                status = fetched.status
                break
        pages += 1
        comments.extend(page.comments)
        next_url = page.next_url
    whole = replace(post, comments=renumber(comments), comments_next_url=None)
    return ThreadRead(whole, pages, error, status)
