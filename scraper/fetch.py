"""The fetching layer: the only module that drives Playwright (and the only one that speaks
HTTP to the site).

Two ways to fetch, one politeness policy. Plain HTTP (aiohttp: keep-alive, at most
``concurrency`` connections, the crawler's User-Agent) reads robots.txt, listings, post pages
and the comments JSON: the same bytes a browser's navigation receives and the same requests
the page's own script makes. Chromium, driven by Playwright, renders pages: started only on
the first ``slot()`` (the crawler's sampled render checks, or every post in the render/click
modes), each slot a browser context with one page, images/fonts/media/stylesheets blocked,
contexts replaced every ``context_recycle_pages`` pages so memory stays flat. Every request
of either kind passes one rate limiter (1/s by default; unthrottled only for
127.0.0.1/localhost when asked), honours Retry-After on 429/503, and is retried with
exponential backoff and jitter on 5xx, timeouts, dropped connections and truncated bodies.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp
from yarl import URL

from scraper.browser import BLOCKED_RESOURCE_TYPES, find_browser, launch
from scraper.errors import SiteUnreachable
from scraper.parse import LOGIN_PATH, ParseError, classify_response, looks_truncated
from warehouse.settings import Settings

log = logging.getLogger("tagdraw.crawl")
T = TypeVar("T")

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Chromium's words for a connection that never produced an answer.
_UNREACHABLE_MARKERS = (
    "ERR_CONNECTION_REFUSED",
    "ERR_NAME_NOT_RESOLVED",
    "ERR_ADDRESS_UNREACHABLE",
    "ERR_INTERNET_DISCONNECTED",
    "ECONNREFUSED",
    "ENOTFOUND",
    "getaddrinfo",
)


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def request_interval(site_url: str, settings: Settings, unthrottled: bool = False) -> float:
    """Seconds between requests: 0 only for a local site when asked, else 1/rate_per_s."""
    if is_local(site_url) and (unthrottled or settings.unthrottled_local):
        return 0.0
    rate = settings.rate_per_s if settings.rate_per_s > 0 else 1.0
    return 1.0 / rate


class RateLimiter:
    """Spaces request starts by ``interval`` seconds across every worker; can be paused
    (Retry-After) for everyone."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next_at = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause_until(self, when: float) -> None:
        self._paused_until = max(self._paused_until, when)

    async def wait(self) -> None:
        if self.interval <= 0 and self._paused_until <= time.monotonic():
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at, self._paused_until)
            if start > now:
                await asyncio.sleep(start - now)
            self._next_at = start + self.interval


@dataclass
class Fetched(Generic[T]):
    url: str
    final_url: str
    status: int
    text: str
    value: T | None = None  # what the parser made of it (None when gone or not modified)
    gone_reason: str | None = None  # 'not_found' | 'private'
    attempts: int = 1
    not_modified: bool = False  # 304 to a conditional request: nothing parsed
    validators: Validators | None = None  # what the server sent to revalidate with


@dataclass(frozen=True)
class Validators:
    """HTTP validators of a response (ETag, Last-Modified), sent back as If-None-Match /
    If-Modified-Since to ask whether a page changed."""

    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> Validators | None:
        etag, modified = headers.get("etag"), headers.get("last-modified")
        return cls(etag, modified) if etag or modified else None

    def request_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class Captured:
    """A response the browser received while the page ran (the comments JSON): status and
    body as the server sent them, parsed by the same functions as the plain-HTTP path."""

    url: str
    status: int
    text: str | None  # None when the body could not be read


class FetchFailed(Exception):
    """A URL that could not be fetched (or parsed) after every attempt, or failed for good."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        text: str | None = None,
        attempts: int = 0,
        unreachable: bool = False,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.text = text
        self.attempts = attempts
        self.unreachable = unreachable


@dataclass
class FetchStats:
    requests: int = 0
    pages: int = 0  # browser navigations
    http_requests: int = 0  # plain HTTP GETs (robots, listing, post pages, comments JSON)
    bytes_received: int = 0  # response bodies (as sent), both ways of fetching
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def _retry_after(headers: dict[str, str], now: float) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Slot:
    """One browser context with one page; replaced every ``recycle_after`` pages."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.context: Any = None
        self.page: Any = None
        self.uses = 0

    async def open(self) -> None:
        f = self.fetcher
        self.context = await f.browser.new_context(
            user_agent=f.settings.user_agent,
            java_script_enabled=f.javascript,
            service_workers="block",
        )
        self.context.set_default_timeout(f.settings.request_timeout_s * 1000)
        self.context.set_default_navigation_timeout(f.settings.request_timeout_s * 1000)
        self.page = await self.context.new_page()
        # Only URLs that look like images, fonts, media or stylesheets reach the Python
        # handler (which checks the resource type); documents are never intercepted, so a
        # page load costs no extra round trip through the driver.
        await self.page.route(HEAVY_URL, _block_heavy_resources)
        # Calls the crawl never reads (the read count /posts/N/views): never sent.
        await self.page.route(NOT_NEEDED_URL, _abort)
        self.uses = 0

    async def close(self) -> None:
        if self.context is not None:
            with suppress(_playwright().Error):
                await self.context.close()
        self.context = self.page = None

    async def recycle_if_due(self) -> None:
        if self.uses >= self.fetcher.settings.context_recycle_pages:
            await self.close()
            await self.open()


HEAVY_URL = re.compile(
    r"\.(png|jpe?g|gif|webp|avif|bmp|ico|svg|woff2?|ttf|otf|eot|css|mp4|webm|ogg|mp3|wav|m4a)"
    r"(\?.*)?$",
    re.IGNORECASE,
)


# A post's sub-resources other than its comments endpoint (the read count /posts/N/views).
NOT_NEEDED_URL = re.compile(r"/posts/[0-9]+/(?!comments(?:[?#]|$))[^?#]*(?:[?#].*)?$")


async def _abort(route: Any) -> None:
    await route.abort()


async def _block_heavy_resources(route: Any) -> None:
    if route.request.resource_type in BLOCKED_RESOURCE_TYPES:
        await route.abort()
    else:
        await route.continue_()


# How many comments the DOM shows (a confirmation only: nothing stored comes from a DOM
# that page scripts have run on).
DOM_COMMENT_COUNT = 'document.querySelectorAll("[id^=comment-]").length'
# After a click: until the DOM shows more comments than ``before`` or the button is gone.
CLICK_SETTLED = """
([before, label]) => document.querySelectorAll("[id^=comment-]").length > before ||
  ![...document.querySelectorAll("button")].some((b) => b.textContent.includes(label))
"""
MAX_CLICKS = 10_000


class _TransportError(Exception):
    """An attempt that produced no response (refused, dropped, timed out), from aiohttp or
    from the browser."""

    def __init__(self, message: str, *, unreachable: bool) -> None:
        super().__init__(message)
        self.unreachable = unreachable

    @classmethod
    def from_browser(cls, exc: Exception) -> _TransportError:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return cls(message, unreachable=any(m in message for m in _UNREACHABLE_MARKERS))


def _playwright() -> Any:
    """``playwright.async_api``, imported on first use: a crawl that renders nothing (an
    unchanged re-crawl) does not pay for loading it."""
    import playwright.async_api

    return playwright.async_api


class Fetcher:
    """``async with Fetcher(settings, site_url) as f:`` then ``await f.get(url, parse)`` for
    plain HTTP, or ``async with f.slot() as s: await f.load(s, url, parse)`` for Chromium.

    Chromium (and Playwright's driver) start on the first ``slot()``, so a crawl that needs
    no rendering (an unchanged re-crawl reads only robots.txt and the listing) never pays
    for them; ``browser_slots`` contexts at most are opened, one at a time as needed.
    """

    def __init__(
        self,
        settings: Settings,
        site_url: str,
        *,
        unthrottled: bool = False,
        javascript: bool = False,
        browser_slots: int = 1,
    ) -> None:
        self.settings = settings
        self.site_url = site_url.rstrip("/")
        self.javascript = javascript
        self.browser_slots = max(1, browser_slots)
        self.limiter = RateLimiter(request_interval(site_url, settings, unthrottled))
        self.stats = FetchStats()
        self.robots: RobotFileParser | None = None
        self.session: aiohttp.ClientSession | None = None
        self._pw_cm: Any = None
        self.playwright: Any = None
        self.browser: Any = None
        self._browser_lock = asyncio.Lock()
        self._slots: asyncio.Queue[Slot] = asyncio.Queue()
        self._all_slots: list[Slot] = []

    async def __aenter__(self) -> Fetcher:
        # Fail before anything is fetched when no Chromium exists (the render check and
        # the click mode need it), with the one-line how-to-get-one.
        find_browser()
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": self.settings.user_agent},
            connector=aiohttp.TCPConnector(limit=max(1, self.settings.concurrency)),
            timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout_s),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for slot in self._all_slots:
            await slot.close()
        if self.browser is not None:
            with suppress(_playwright().Error):
                await self.browser.close()
        if self._pw_cm is not None:
            await self._pw_cm.__aexit__(None, None, None)
        if self.session is not None:
            await self.session.close()

    async def start_browser(self) -> None:
        async with self._browser_lock:
            if self.browser is not None:
                return
            started = time.monotonic()
            self._pw_cm = _playwright().async_playwright()
            self.playwright = await self._pw_cm.__aenter__()
            self.browser = await launch(self.playwright)
            log.info("Chromium started in %.1f s", time.monotonic() - started)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """A browser context with a page, opened on first need, up to ``browser_slots``."""
        await self.start_browser()
        if self._slots.empty() and len(self._all_slots) < self.browser_slots:
            slot = Slot(self)
            self._all_slots.append(slot)
            await slot.open()
        else:
            slot = await self._slots.get()
        try:
            await slot.recycle_if_due()
            yield slot
        finally:
            self._slots.put_nowait(slot)

    # --- robots.txt -----------------------------------------------------------------------

    async def load_robots(self) -> RobotFileParser:
        """Fetch and parse robots.txt. Missing (4xx) means everything is allowed; a site that
        cannot be reached raises ``SiteUnreachable`` before anything is written."""
        url = urljoin(self.site_url + "/", "/robots.txt")
        parser = RobotFileParser(url)
        try:
            fetched = await self.get(url, lambda text, _u: text, allow_status=True)
        except FetchFailed as exc:
            raise SiteUnreachable(
                f"Cannot reach {self.site_url} ({exc.reason}); nothing was written. "
                "Check the campaign's site URL and the network, then run the crawl again."
            ) from None
        if 400 <= fetched.status < 500:
            # As robotparser.read() does for a 4xx answer: everything is allowed.
            parser.allow_all = True  # type: ignore[attr-defined]  # set by read(), not in the stubs
        else:
            parser.parse(fetched.text.splitlines())
        self.robots = parser
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay and self.limiter.interval > 0:
            self.limiter.interval = max(self.limiter.interval, float(delay))
        return parser

    def allowed(self, url: str) -> bool:
        return self.robots is None or self.robots.can_fetch(self.settings.user_agent, url)

    # --- requests -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base = self.settings.retry_backoff_s * (2 ** (attempt - 1))
        return min(base, 60.0) * random.uniform(0.5, 1.5)

    async def _attempts(
        self,
        url: str,
        do: Callable[[], Any],
        parse: Callable[[str, str], T],
        *,
        html: bool,
        allow_status: bool = False,
        conditional: bool = False,
    ) -> Fetched[T]:
        """The retry loop shared by browser page loads and plain HTTP GETs. ``conditional``:
        the request carried validators, so a 304 means unchanged (nothing is parsed)."""
        last_reason = "no attempt made"
        last_status: int | None = None
        last_text: str | None = None
        unreachable_only = True
        max_attempts = max(1, self.settings.max_attempts)
        for attempt in range(1, max_attempts + 1):
            await self.limiter.wait()
            self.stats.requests += 1
            delay = self._backoff(attempt)
            try:
                status, final_url, text, headers = await do()
            except _TransportError as exc:
                last_reason = str(exc)
                unreachable_only &= exc.unreachable
                log.debug("attempt %d of %s failed: %s", attempt, url, last_reason)
            else:
                unreachable_only = False
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                last_status, last_text = status, text
                if conditional and status == 304:
                    return Fetched(
                        url, final_url, status, "", None, None, attempt, not_modified=True
                    )
                verdict = classify_response(status, url, final_url)
                if allow_status and verdict.kind in ("gone", "failed"):
                    return Fetched(url, final_url, status, text, None, None, attempt)
                if verdict.kind == "gone":
                    return Fetched(url, final_url, status, text, None, verdict.reason, attempt)
                if verdict.kind == "failed":
                    raise FetchFailed(
                        url,
                        verdict.reason or f"HTTP {status}",
                        status=status,
                        text=text,
                        attempts=attempt,
                    )
                if verdict.kind == "retry":
                    last_reason = verdict.reason or f"HTTP {status}"
                    if status in (429, 503):
                        wait = _retry_after(headers, time.time())
                        if wait is not None:
                            if wait > self.settings.max_retry_after_s:
                                raise FetchFailed(
                                    url,
                                    f"HTTP {status} with Retry-After {wait:.0f} s",
                                    status=status,
                                    attempts=attempt,
                                )
                            delay = max(delay, wait)
                        # Slow everyone down, not just this worker.
                        self.limiter.pause_until(time.monotonic() + delay)
                elif html and looks_truncated(text):
                    last_reason = "truncated page (no </html>)"
                else:
                    try:
                        value = parse(text, final_url)
                    except (ParseError, ValueError) as exc:
                        last_reason = f"parse error: {exc}"
                    else:
                        return Fetched(
                            url,
                            final_url,
                            status,
                            text,
                            value,
                            None,
                            attempt,
                            validators=Validators.from_headers(headers),
                        )
            if attempt < max_attempts:
                self.stats.retries += 1
                await asyncio.sleep(delay)
        raise FetchFailed(
            url,
            f"{last_reason} (after {max_attempts} attempts)",
            status=last_status,
            text=last_text,
            attempts=max_attempts,
            unreachable=unreachable_only,
        )

    async def get(
        self,
        url: str,
        parse: Callable[[str, str], T],
        *,
        html: bool = False,
        allow_status: bool = False,
        validators: Validators | None = None,
    ) -> Fetched[T]:
        """A plain HTTP GET (keep-alive, redirects followed): what a browser's navigation
        would receive, without rendering it. With ``validators``, a conditional GET: a 304
        comes back as ``not_modified`` with nothing parsed."""
        assert self.session is not None, "use the Fetcher as an async context manager"
        session = self.session
        # The crawler's URLs are already percent-encoded (Thai tags): send them as they are.
        target = URL(url, encoded=True)
        extra = validators.request_headers() if validators else {}

        async def do() -> tuple[int, str, str, dict[str, str]]:
            self.stats.http_requests += 1
            current = target
            try:
                for _hop in range(MAX_REDIRECTS + 1):
                    async with session.get(current, allow_redirects=False, headers=extra) as r:
                        headers = {k.lower(): v for k, v in r.headers.items()}
                        location = headers.get("location")
                        if r.status in REDIRECTS and location:
                            current = r.url.join(URL(location))
                            if LOGIN_PATH.match(current.path):
                                # A login wall (a private post): known without asking for
                                # the login page itself.
                                return r.status, str(current), "", headers
                            continue
                        body = await r.read()
                        self.stats.bytes_received += len(body)
                        return (r.status, str(r.url), body.decode("utf-8", "replace"), headers)
                raise _TransportError(f"more than {MAX_REDIRECTS} redirects", unreachable=False)
            except aiohttp.ClientConnectorError as exc:  # refused, DNS, unroutable
                raise _TransportError(f"cannot connect: {exc}", unreachable=True) from None
            except aiohttp.ClientPayloadError:
                raise _TransportError("truncated body", unreachable=False) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                raise _TransportError(reason, unreachable=False) from None

        return await self._attempts(
            url, do, parse, html=html, allow_status=allow_status, conditional=bool(extra)
        )

    async def load(self, slot: Slot, url: str, parse: Callable[[str, str], T]) -> Fetched[T]:
        """A real browser navigation to ``url``; ``parse`` reads the raw HTML the server sent
        (so a truncated body is seen as truncated, not repaired by the DOM)."""

        async def navigate() -> tuple[int, str, str, dict[str, str]]:
            response, raw, headers = await self._navigate(slot, url)
            return response.status, response.url, raw, headers

        return await self._attempts(url, self._in_browser(slot, navigate), parse, html=True)

    async def load_with_clicks(
        self,
        slot: Slot,
        url: str,
        parse: Callable[[str, str, Mapping[str, Captured]], T],
        button_text: str,
    ) -> Fetched[T]:
        """Like ``load``, then click the button named ``button_text`` until it is gone (the
        page's own script fetches the next comments and appends them). ``parse`` gets the
        raw HTML the server sent and every fetch/XHR response the page received, by URL, as
        sent: never the DOM. Clicking stops at the first comments response that is not a
        200 (the caller reads the rest of the chain itself). Needs ``javascript=True``."""
        captured: dict[str, Captured] = {}

        async def navigate_and_click() -> tuple[int, str, str, dict[str, str]]:
            captured.clear()
            response, raw, headers = await self._navigate(slot, url)
            if response.status != 200 or looks_truncated(raw):
                return response.status, response.url, raw, headers
            for item in await self._click_until_gone(slot, button_text):
                captured[item.url] = item
            return response.status, response.url, raw, headers

        return await self._attempts(
            url,
            self._in_browser(slot, navigate_and_click),
            lambda text, final_url: parse(text, final_url, dict(captured)),
            html=True,
        )

    async def _click_until_gone(self, slot: Slot, button_text: str) -> list[Captured]:
        """Click the last button named ``button_text`` (the page's own load-more button
        follows the comments, a look-alike inside a comment comes before it) until it is
        gone, a comments response is not a 200, or a click loads nothing in time; the
        responses received, in order. What clicking did not get, the caller reads over
        plain HTTP."""
        page = slot.page
        timeout_ms = self.settings.request_timeout_s * 1000
        button = page.locator("button", has_text=button_text).last
        out: list[Captured] = []

        def is_call(response: Any) -> bool:
            return response.request.resource_type in ("fetch", "xhr")

        for _click in range(MAX_CLICKS):
            if not await button.count():
                return out
            before = await page.evaluate(DOM_COMMENT_COUNT)
            try:
                async with page.expect_response(is_call, timeout=timeout_ms) as info:
                    await button.click(timeout=timeout_ms)
                response = await info.value
            except _playwright().TimeoutError:
                log.info("%s: a click loaded nothing; the rest over plain HTTP", page.url)
                return out
            self.stats.requests += 1
            try:
                sent = await response.body()
                self.stats.bytes_received += len(sent)
                body: str | None = sent.decode("utf-8", "replace")
            except _playwright().Error:
                body = None
            out.append(Captured(response.url, response.status, body))
            if response.status != 200 or body is None:
                return out  # the caller asks for this page again over plain HTTP
            try:
                await page.wait_for_function(
                    CLICK_SETTLED, arg=[before, button_text], timeout=timeout_ms
                )
            except _playwright().TimeoutError:
                return out
        raise _TransportError(f"still a button after {MAX_CLICKS} clicks", unreachable=False)

    async def _navigate(self, slot: Slot, url: str) -> tuple[Any, str, dict[str, str]]:
        """Navigate the slot's page to ``url``: the response, the raw body the server sent,
        and its headers (no round trip; Retry-After is among them)."""
        if slot.page is None:
            await slot.open()
        self.stats.pages += 1
        slot.uses += 1
        response = await slot.page.goto(url, wait_until="domcontentloaded")
        if response is None:
            raise _TransportError("navigation produced no response", unreachable=False)
        body = await response.body()
        self.stats.bytes_received += len(body)
        raw = body.decode("utf-8", "replace")
        return response, raw, {k.lower(): v for k, v in response.headers.items()}

    @staticmethod
    def _in_browser(
        slot: Slot,
        step: Callable[[], Awaitable[tuple[int, str, str, dict[str, str]]]],
    ) -> Callable[[], Awaitable[tuple[int, str, str, dict[str, str]]]]:
        """``step`` with Playwright's errors (navigation failed, timed out) made transport
        errors, which the retry loop retries, each retry on a fresh page: after a
        navigation times out, every later ``goto`` on that page fails at once
        (net::ERR_ABORTED), so a post that stalled once would be lost."""

        async def attempt() -> tuple[int, str, str, dict[str, str]]:
            try:
                return await step()
            except _playwright().Error as exc:
                await slot.close()  # reopened by the next navigation
                raise _TransportError.from_browser(exc) from None

        return attempt
